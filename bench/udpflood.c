// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end benchmark's sender: UDP datagrams to one address, as fast
 * as sendmmsg() goes, for a bounded time. Small datagrams, one flow per
 * destination port: the per-packet cost of the receive path is what is
 * measured, not bandwidth.
 *
 * With several ports (--port 7999,7998) it sends to each in turn for
 * --phase-ms, so two variants share one time window and whatever else the
 * machine does at that moment; the first payload byte says which port a
 * datagram was sent to (0, 1, ...), for udpsink to count them apart.
 *
 * Usage: udpflood --dst ADDR --port PORT[,PORT...] [--seconds S] [--size BYTES]
 *                 [--batch N] [--phase-ms MS]
 * Prints: udpflood sent=N errors=N seconds=S pps=P
 */
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "benchutil.h"

#define MAX_BATCH 256
#define MAX_SIZE 1472
#define MAX_PORTS 8

static void usage(FILE *out)
{
	fprintf(out, "usage: udpflood --dst ADDR --port PORT[,PORT...] [--seconds S (default 2, max 60)]\n"
		     "                [--size BYTES (default 64)] [--batch N (default 64)]\n"
		     "                [--phase-ms MS (default 10): time on each port in turn]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dst", required_argument, NULL, 'd' },     { "port", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' }, { "size", required_argument, NULL, 'z' },
		{ "batch", required_argument, NULL, 'b' },   { "phase-ms", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },          { 0 },
	};
	static char bufs[MAX_PORTS][MAX_SIZE];
	struct mmsghdr msgs[MAX_PORTS][MAX_BATCH];
	struct iovec iov[MAX_PORTS];
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char ports[128], *tok, *save = NULL;
	const char *dst = NULL, *port_list = NULL;
	double seconds = 2, size = 64, batch = 64, phase_ms = 10, start, end, now;
	unsigned long long sent = 0, errors = 0;
	int fds[MAX_PORTS], nports = 0, c, n, i, k;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 'p': port_list = optarg; break;
		case 's': seconds = bu_parse_pos(optarg, 60); break;
		case 'z': size = bu_parse_pos(optarg, MAX_SIZE); break;
		case 'b': batch = bu_parse_pos(optarg, MAX_BATCH); break;
		case 'm': phase_ms = bu_parse_pos(optarg, 10000); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!dst || !port_list || optind != argc || seconds < 0 || size < 1 || batch < 1 ||
	    phase_ms < 0 || strlen(port_list) >= sizeof(ports)) {
		usage(stderr);
		return 2;
	}
	strcpy(ports, port_list);
	for (tok = strtok_r(ports, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct addrinfo *ai;

		if (nports == MAX_PORTS || getaddrinfo(dst, tok, &hints, &ai)) {
			fprintf(stderr, "udpflood: invalid address %s or port %s\n", dst, tok);
			return 2;
		}
		fds[nports] = socket(ai->ai_family, SOCK_DGRAM, 0);
		/* Connected: the route and the neighbour are looked up once, not per send. */
		if (fds[nports] < 0 || connect(fds[nports], ai->ai_addr, ai->ai_addrlen)) {
			perror("udpflood: socket/connect");
			return 1;
		}
		freeaddrinfo(ai);
		memset(bufs[nports], 'x', sizeof(bufs[nports]));
		bufs[nports][0] = (char)nports;
		iov[nports].iov_base = bufs[nports];
		iov[nports].iov_len = (size_t)size;
		memset(msgs[nports], 0, sizeof(msgs[nports]));
		for (i = 0; i < (int)batch; i++) {
			msgs[nports][i].msg_hdr.msg_iov = &iov[nports];
			msgs[nports][i].msg_hdr.msg_iovlen = 1;
		}
		nports++;
	}
	if (!nports) {
		usage(stderr);
		return 2;
	}

	start = bu_now();
	end = start + seconds;
	now = start;
	do {
		/* Equal turns by the clock, so each port gets the same share of time. */
		k = (int)((now - start) * 1000 / phase_ms) % nports;
		n = sendmmsg(fds[k], msgs[k], (unsigned int)batch, 0);
		if (n < 0)
			errors++; /* ECONNREFUSED/ENOBUFS: the receiver is not there yet or full */
		else
			sent += (unsigned long long)n;
		now = bu_now();
	} while (now < end);

	printf("udpflood sent=%llu errors=%llu seconds=%.3f pps=%.0f\n", sent, errors, now - start,
	       (double)sent / (now - start));
	for (k = 0; k < nports; k++)
		close(fds[k]);
	return 0;
}
