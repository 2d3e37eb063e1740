// SPDX-License-Identifier: GPL-2.0
/* A TC program that is not xdp-portredir's: tests put it beside ours. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_other_pass(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
