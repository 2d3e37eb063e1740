// SPDX-License-Identifier: GPL-2.0
/*
 * Times an attached XDP program with BPF_PROG_TEST_RUN on one IPv4 UDP
 * packet: progtime PROG_ID DPORT [REPEAT [ROUNDS]]. Prints the best ns/packet
 * of ROUNDS runs (the least disturbed one on a noisy machine).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	unsigned char pkt[64] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, /* Ethernet */
		0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, /* IPv4 */
		0x9c, 0x40, 0, 0, 0, 30, 0, 0, /* UDP from 40000, no checksum */
	};
	unsigned int repeat, rounds, dport;
	double best = -1;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: progtime PROG_ID DPORT [REPEAT [ROUNDS]]\n");
		return 2;
	}
	dport = (unsigned int)strtoul(argv[2], NULL, 0);
	repeat = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 0) : 100000;
	rounds = argc > 4 ? (unsigned int)strtoul(argv[4], NULL, 0) : 5;
	pkt[36] = (unsigned char)(dport >> 8);
	pkt[37] = (unsigned char)dport;
	fd = bpf_prog_get_fd_by_id((__u32)strtoul(argv[1], NULL, 0));
	if (fd < 0) {
		fprintf(stderr, "progtime: program %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (unsigned int r = 0; r < rounds; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .repeat = repeat);

		if (bpf_prog_test_run_opts(fd, &opts)) {
			fprintf(stderr, "progtime: test run: %s\n", strerror(errno));
			return 1;
		}
		if (best < 0 || opts.duration < best)
			best = opts.duration;
	}
	printf("%.1f\n", best);
	close(fd);
	return 0;
}
