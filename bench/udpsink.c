// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end benchmark's receiver: counts the UDP datagrams delivered to
 * its socket with recvmmsg(). It waits (bounded) for the first datagram,
 * lets the flow settle for a warm-up, then counts over a fixed window, and
 * reads the machine's softirq time (/proc/stat) at both ends of that window
 * so the receive path's CPU cost per delivered packet can be estimated.
 *
 * Datagrams are also counted by their first payload byte (udpflood's tag
 * for the port they were sent to), for windows that mix two variants.
 *
 * Usage: udpsink --port PORT [--bind ADDR] [--seconds S] [--warmup S]
 *                [--wait S] [--ready-file PATH]
 * Prints: udpsink packets=N seconds=S pps=P softirq_ticks=T hz=H softirq_ns_per_pkt=X
 *         tag0=N tag1=N ...
 * (pps=0 if nothing arrived within --wait).
 */
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "benchutil.h"

#define BATCH 64
#define SLOT 2048
#define TAGS 8

/* Softirq time of all CPUs, in USER_HZ ticks; -1 if unreadable. */
static long long softirq_ticks(void)
{
	unsigned long long v[7];
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &v[6]);
	fclose(f);
	return n == 7 ? (long long)v[6] : -1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: udpsink --port PORT [--bind ADDR (default 0.0.0.0)] [--seconds S (default 2)]\n"
		     "               [--warmup S (default 0.3)] [--wait S (default 5)] [--ready-file PATH]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },  { "bind", required_argument, NULL, 'a' },
		{ "seconds", required_argument, NULL, 's' }, { "warmup", required_argument, NULL, 'w' },
		{ "wait", required_argument, NULL, 't' },  { "ready-file", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },        { 0 },
	};
	static char bufs[BATCH][SLOT];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct timeval tv = { .tv_usec = 50000 };
	struct addrinfo *ai;
	const char *port = NULL, *bind_addr = "0.0.0.0", *ready = NULL;
	double seconds = 2, warmup = 0.3, wait_s = 5, t0, t_start = 0, t_end, now;
	unsigned long long packets = 0, tags[TAGS] = { 0 };
	long long si0 = -1, si1 = -1;
	int c, fd, n, i, rcvbuf = 8 << 20, counting = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': port = optarg; break;
		case 'a': bind_addr = optarg; break;
		case 's': seconds = bu_parse_pos(optarg, 60); break;
		case 'w': warmup = bu_parse_pos(optarg, 60); break;
		case 't': wait_s = bu_parse_pos(optarg, 60); break;
		case 'r': ready = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!port || optind != argc || seconds < 0 || warmup < 0 || wait_s < 0) {
		usage(stderr);
		return 2;
	}
	if (getaddrinfo(bind_addr, port, &hints, &ai)) {
		fprintf(stderr, "udpsink: invalid address %s port %s\n", bind_addr, port);
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("udpsink: socket/bind");
		return 1;
	}
	freeaddrinfo(ai);
	/* A deep queue, so what is measured is the stack, not the buffer size. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* recvmmsg() wakes up at least this often, so every wait is bounded. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = SLOT;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (rfd >= 0)
			close(rfd);
	}

	/* Phase 1: the first datagram. */
	t0 = bu_now();
	for (;;) {
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		now = bu_now();
		if (n > 0)
			break;
		if (now - t0 > wait_s) {
			printf("udpsink packets=0 seconds=0 pps=0 softirq_ticks=-1 hz=%ld "
			       "softirq_ns_per_pkt=-1 note=nothing-arrived-within-%.1fs\n",
			       sysconf(_SC_CLK_TCK), wait_s);
			return 0;
		}
	}
	/* Phase 2: warm-up, then phase 3: the counted window. */
	t_end = now + warmup + seconds;
	for (;;) {
		if (!counting && now >= t_end - seconds) {
			/* Counted from now on, even if a busy machine kept us away. */
			t_end = now + seconds;
			counting = 1;
			packets = 0;
			memset(tags, 0, sizeof(tags));
			si0 = softirq_ticks();
			t_start = now;
		}
		if (now >= t_end)
			break;
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n > 0) {
			packets += (unsigned long long)n;
			for (i = 0; i < n; i++) {
				if (msgs[i].msg_len && (unsigned char)bufs[i][0] < TAGS)
					tags[(unsigned char)bufs[i][0]]++;
			}
		}
		now = bu_now();
	}
	si1 = softirq_ticks();
	{
		double dt = now - t_start > 0 ? now - t_start : 1e-9;
		long hz = sysconf(_SC_CLK_TCK);
		long long ticks = si0 >= 0 && si1 >= 0 ? si1 - si0 : -1;
		double per = ticks >= 0 && packets ? (double)ticks * 1e9 / (double)hz / (double)packets : -1;

		printf("udpsink packets=%llu seconds=%.3f pps=%.0f softirq_ticks=%lld hz=%ld "
		       "softirq_ns_per_pkt=%.1f",
		       packets, dt, (double)packets / dt, ticks, hz, per);
		for (i = 0; i < TAGS; i++)
			printf(" tag%d=%llu", i, tags[i]);
		printf("\n");
	}
	close(fd);
	return 0;
}
