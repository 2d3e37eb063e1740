/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow table shared by the XDP rewrite (which records flows) and the TC
 * egress program (which translates their replies). Keys are always built as
 * the server sees the flow after the rewrite, so a reply's key is its
 * request's key and one exact-match lookup finds it.
 */
#ifndef PR_FLOWS_H
#define PR_FLOWS_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>

#include "portredir_abi.h"
#include "maps.h"
#include "parse.h"

/*
 * Fills key for a packet travelling client -> server (to_server) or
 * server -> client (!to_server). The ports are passed in, since the XDP
 * program keys on the port it writes, not the one it read.
 */
static __always_inline void pr_flow_key_make(struct pr_flow_key *key, const struct pr_pkt *pkt,
					     bool to_server, __be16 client_port,
					     __be16 server_port, __u8 kind)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->proto = pkt->proto == PR_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	key->kind = kind;
	key->ipv6 = pkt->ipv6;
	key->client_port = client_port;
	key->server_port = server_port;
	if (pkt->ipv6) {
		struct ipv6hdr *ip6h = pkt->l3;

		__builtin_memcpy(key->client_addr, to_server ? &ip6h->saddr : &ip6h->daddr, 16);
		__builtin_memcpy(key->server_addr, to_server ? &ip6h->daddr : &ip6h->saddr, 16);
	} else {
		struct iphdr *iph = pkt->l3;

		key->client_addr[0] = to_server ? iph->saddr : iph->daddr;
		key->server_addr[0] = to_server ? iph->daddr : iph->saddr;
	}
}

static __always_inline __u8 pr_tcp_flags(const struct pr_pkt *pkt)
{
	return ((__u8 *)pkt->l4)[13];
}

#define PR_TCP_FIN 0x01
#define PR_TCP_SYN 0x02
#define PR_TCP_RST 0x04
#define PR_TCP_ACK 0x10

static __always_inline __u64 *pr_port_flags_of(enum pr_proto proto, __be16 port)
{
	__u32 key = PR_RULE_KEY(proto, bpf_ntohs(port));

	return bpf_map_lookup_elem(&pr_port_flags, &key);
}

static __always_inline void pr_port_flag_set(__u64 *flags, __u64 bit)
{
	if (flags && !(*flags & bit))
		__sync_fetch_and_or(flags, bit);
}

static __always_inline void pr_flow_touch(struct pr_flow *flow, __u64 now)
{
	if (now - flow->last_seen_ns > PR_FLOW_REFRESH_NS)
		flow->last_seen_ns = now;
}

static __always_inline void pr_flow_insert(struct pr_flow_key *key, __be16 orig_port, __u64 now)
{
	struct pr_flow flow = { .orig_port = orig_port, .last_seen_ns = now };

	bpf_map_update_elem(&pr_flows, key, &flow, BPF_ANY);
}

#endif /* PR_FLOWS_H */
