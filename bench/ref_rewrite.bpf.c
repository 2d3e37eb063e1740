// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's reference: the job itself and nothing else. Ethernet,
 * IPv4 (with options), UDP; one array lookup by destination port; the port
 * written and the UDP checksum updated (RFC 1624, keeping "no checksum" and
 * the 0 -> 0xffff rule). No VLAN, no IPv6, no TCP, no counters, no
 * metadata, no flows. Non-first fragments are left alone, since rewriting
 * payload bytes would be wrong, not merely slower.
 *
 * What xdp-portredir adds over this program is what its features cost; the
 * benchmark reports every figure as a multiple of this program's added cost.
 * Deliberately self-contained: a change to bpf/ must not move the reference.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Destination port (host order) -> new port (network order); 0 = no rule. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u16);
} ref_ports SEC(".maps");

SEC("xdp")
int xdp_ref_rewrite(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;
	__u16 *to, old;
	__u32 key, sum;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->protocol != IPPROTO_UDP || ip->ihl < 5 || (ip->frag_off & bpf_htons(0x1fff)))
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	key = bpf_ntohs(udp->dest);
	to = bpf_map_lookup_elem(&ref_ports, &key);
	if (!to || !*to)
		return XDP_PASS;
	old = udp->dest;
	udp->dest = *to;
	if (udp->check) {
		sum = (__u16)~udp->check + (__u16)~old + (__u32)*to;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (__u16) ~((sum & 0xffff) + (sum >> 16));
		udp->check = sum ? sum : 0xffff;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
