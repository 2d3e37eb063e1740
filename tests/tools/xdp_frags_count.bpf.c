// SPDX-License-Identifier: GPL-2.0
/*
 * An XDP program that is not xdp-portredir's and declares multi-buffer
 * (frags) support, which no xdp-filter in Debian 12 or 13 does: the jumbo
 * dispatcher test puts it beside ours at MTU 9000. It counts the frames
 * longer than a page that reach it, so the test can tell that the jumbo
 * datagrams ran through both programs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} frags_seen SEC(".maps");

/* After xdp-portredir (priority 5) in the dispatcher's chain. */
struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_frags_count);

SEC("xdp.frags")
int xdp_frags_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n;

	if (bpf_xdp_get_buff_len(ctx) <= 4096)
		return XDP_PASS;
	n = bpf_map_lookup_elem(&frags_seen, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
