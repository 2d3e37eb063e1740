// SPDX-License-Identifier: GPL-2.0
/*
 * A TC program that is not xdp-portredir's and counts the packets it sees:
 * tests attach it beside ours (clsact filter or TCX link, tc_other.c) to
 * prove that it stays attached and keeps running.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} other_seen SEC(".maps");

SEC("tc")
int tc_other_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&other_seen, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	/* No verdict (TCX_NEXT): whatever comes after it runs as well. */
	return TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "GPL";
