/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runs one frame through an XDP program with BPF_PROG_TEST_RUN and hands back
 * the frame as the stack would see it: metadata the program put in front of
 * the packet (bpf_xdp_adjust_meta) is reported separately, not as packet bytes.
 * Shared by the unit tests, the fuzzer and the benchmark.
 */
#ifndef XDPRUN_H
#define XDPRUN_H

#include <stddef.h>
#include <stdint.h>

struct xdprun_result {
	uint32_t retval;
	size_t len; /* packet bytes written to out */
	size_t meta_len; /* metadata bytes, copied to meta (up to 64) */
	uint8_t meta[64];
};

/* Returns 0, or -errno from the kernel. out must hold in_len + 256 bytes. */
int xdprun(int prog_fd, const void *in, size_t in_len, void *out, struct xdprun_result *res);

/*
 * Like xdprun(), with meta_len bytes of metadata in front of the packet, as
 * an XDP program ahead of this one in a dispatcher leaves them (meta_len a
 * multiple of 4, at most 32).
 */
int xdprun_meta(int prog_fd, const void *meta, size_t meta_len, const void *in, size_t in_len,
		void *out, struct xdprun_result *res);
/* Times repeat runs of one frame; returns mean ns per run, or -1. */
double xdprun_time(int prog_fd, const void *in, size_t in_len, unsigned int repeat);

#endif
