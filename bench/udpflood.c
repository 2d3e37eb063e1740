// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end benchmark's sender: UDP datagrams to one address and port,
 * as fast as sendmmsg() goes, for a bounded time. One flow (fixed source
 * port), small datagrams: the per-packet cost of the receive path is what is
 * measured, not bandwidth.
 *
 * Usage: udpflood --dst ADDR --port PORT [--seconds S] [--size BYTES] [--batch N]
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

static void usage(FILE *out)
{
	fprintf(out, "usage: udpflood --dst ADDR --port PORT [--seconds S (default 2, max 60)]\n"
		     "                [--size BYTES (default 64)] [--batch N (default 64)]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dst", required_argument, NULL, 'd' },   { "port", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' }, { "size", required_argument, NULL, 'z' },
		{ "batch", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static char buf[MAX_SIZE];
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	const char *dst = NULL, *port = NULL;
	double seconds = 2, size = 64, batch = 64, start, end, now;
	unsigned long long sent = 0, errors = 0;
	int c, fd, n, i;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 'p': port = optarg; break;
		case 's': seconds = bu_parse_pos(optarg, 60); break;
		case 'z': size = bu_parse_pos(optarg, MAX_SIZE); break;
		case 'b': batch = bu_parse_pos(optarg, MAX_BATCH); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!dst || !port || optind != argc || seconds < 0 || size < 0 || batch < 1) {
		usage(stderr);
		return 2;
	}
	if (getaddrinfo(dst, port, &hints, &ai)) {
		fprintf(stderr, "udpflood: invalid address %s port %s\n", dst, port);
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	/* Connected: the route and the neighbour are looked up once, not per send. */
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("udpflood: socket/connect");
		return 1;
	}
	freeaddrinfo(ai);

	memset(buf, 'x', sizeof(buf));
	iov.iov_base = buf;
	iov.iov_len = (size_t)size;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < (int)batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	start = bu_now();
	end = start + seconds;
	do {
		n = sendmmsg(fd, msgs, (unsigned int)batch, 0);
		if (n < 0)
			errors++; /* ECONNREFUSED/ENOBUFS: the receiver is not there yet or full */
		else
			sent += (unsigned long long)n;
		now = bu_now();
	} while (now < end);

	printf("udpflood sent=%llu errors=%llu seconds=%.3f pps=%.0f\n", sent, errors, now - start,
	       (double)sent / (now - start));
	close(fd);
	return 0;
}
