// SPDX-License-Identifier: GPL-2.0
/*
 * The floors of the program-cost benchmark: an XDP program and a TC program
 * that do nothing. Whatever BPF_PROG_TEST_RUN spends around a program (the
 * loop, the timer, the context set-up) is in these figures too, so dividing
 * by them leaves what the measured program adds. XDP and TC runs are set up
 * differently (an xdp_buff, an skb), so each kind has its own floor.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int tc_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
