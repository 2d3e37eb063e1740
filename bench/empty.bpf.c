// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the program-cost benchmark: an XDP program that does nothing.
 * Whatever BPF_PROG_TEST_RUN spends around a program (the loop, the timer,
 * the context set-up) is in this figure too, so dividing by it leaves what
 * the measured program adds.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
