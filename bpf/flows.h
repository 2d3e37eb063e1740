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
#include "flow_hash.h"

/*
 * Fills key for a packet travelling client -> server (to_server) or
 * server -> client (!to_server). The ports are passed in, since the XDP
 * program keys on the port it writes, not the one it read. False if the
 * addresses cannot be read.
 */
static __always_inline bool pr_flow_key_make(struct pr_flow_key *key, const struct pr_pkt *pkt,
					     bool to_server, __be16 client_port,
					     __be16 server_port, __u8 kind)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->proto = pkt->proto == PR_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	key->kind = kind;
	key->ipv6 = pkt->ipv6;
	key->client_port = client_port;
	key->server_port = server_port;
	if (to_server)
		return pr_pkt_addrs(pkt, key->client_addr, key->server_addr);
	return pr_pkt_addrs(pkt, key->server_addr, key->client_addr);
}

/*
 * UDP has no handshake, so every redirected datagram must make sure its
 * flow is in pr_flows. A shared-table lookup costs ~35 ns here (hashing a
 * 40-byte key), more than the rest of the hit path. This per-CPU,
 * direct-mapped cache of recently confirmed flows answers "already recorded"
 * for steady flows with a cheap hash and one compare; the table itself is
 * consulted again every PR_FLOW_CACHE_RECHECK datagrams or after a second.
 * That is safe because UDP entries only leave the table by LRU eviction.
 */
#define PR_FLOW_CACHE_RECHECK 16

struct pr_flow_cache_slot {
	struct pr_flow_key key;
	__u64 checked_ns;
	__be16 orig_port;
	__u16 hits;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PR_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct pr_flow_cache_slot);
} pr_flow_cache __weak SEC(".maps"); /* weak: see maps.h */

static __always_inline bool pr_flow_key_eq(const struct pr_flow_key *a,
					   const struct pr_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/* Does the cache slot hold this flow, redirected from orig_port? */
static __always_inline bool pr_flow_cache_holds(const struct pr_flow_cache_slot *slot,
						const struct pr_flow_key *key, __be16 orig_port)
{
	return slot && slot->orig_port == orig_port && pr_flow_key_eq(&slot->key, key);
}

/*
 * Does the per-CPU cache hold this plain-IPv4 UDP datagram's flow (the
 * REDIRECT key the general path's pr_udp_flow_note() builds: client sport,
 * server the new port to), and is this datagram not one on which the note
 * would look at the table again? Then it counts the datagram in the slot
 * and the flow needs nothing more; otherwise the general path does the note.
 */
static __always_inline bool pr_udp_flow_cached4(const struct iphdr *iph, __be16 sport,
						__be16 orig_port, __be16 to)
{
	struct pr_flow_key key = {
		.proto = IPPROTO_UDP,
		.kind = PR_FLOW_REDIRECT,
		.client_port = sport,
		.server_port = to,
		.client_addr = { iph->saddr },
		.server_addr = { iph->daddr },
	};
	__u32 idx = pr_flow_cache_slot_of(&key);
	struct pr_flow_cache_slot *slot = bpf_map_lookup_elem(&pr_flow_cache, &idx);

	if (!pr_flow_cache_holds(slot, &key, orig_port) ||
	    !((__u16)(slot->hits + 1) % PR_FLOW_CACHE_RECHECK))
		return false;
	slot->hits++;
	return true;
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

/*
 * Records a new redirected flow (key: its REDIRECT key) and the FORWARD
 * entry that finds it again by the original port once its rule is gone.
 * Only new flows pay for the second entry.
 */
static __always_inline void pr_flow_insert_redirect(struct pr_flow_key *key, __be16 orig_port,
						    __u32 ifindex, __u64 now)
{
	struct pr_flow flow = {
		.orig_port = orig_port,
		.to_port = key->server_port,
		.ifindex = ifindex,
		.last_seen_ns = now,
	};

	bpf_map_update_elem(&pr_flows, key, &flow, BPF_ANY);
	key->kind = PR_FLOW_FORWARD;
	key->server_port = orig_port;
	bpf_map_update_elem(&pr_flows, key, &flow, BPF_ANY);
	key->kind = PR_FLOW_REDIRECT;
	key->server_port = flow.to_port;
}

/*
 * Is this packet part of a flow recorded earlier, even if the rule that
 * redirected it is gone or points elsewhere now? Then *to is the port the
 * flow was sent to. New flows (a TCP SYN, a UDP flow idle past its timeout)
 * get false: the current rules decide for them.
 */
static __always_inline bool pr_flow_follow(const struct pr_pkt *pkt, __be16 dport, __be16 *to)
{
	struct pr_flow_key key;
	struct pr_flow *fwd, *flow;

	if (pkt->proto == PR_PROTO_TCP &&
	    (pr_tcp_flags(pkt) & (PR_TCP_SYN | PR_TCP_ACK)) == PR_TCP_SYN)
		return false;
	if (!pr_flow_key_make(&key, pkt, true, *(__be16 *)pkt->l4, dport, PR_FLOW_FORWARD))
		return false;
	fwd = bpf_map_lookup_elem(&pr_flows, &key);
	if (!fwd)
		return false;
	key.kind = PR_FLOW_REDIRECT;
	key.server_port = fwd->to_port;
	flow = bpf_map_lookup_elem(&pr_flows, &key);
	if (!flow)
		return false; /* it ended (FIN/RST) or was evicted */
	if (pkt->proto == PR_PROTO_UDP &&
	    bpf_ktime_get_coarse_ns() - flow->last_seen_ns > PR_FLOW_UDP_TIMEOUT_S * 1000000000ULL)
		return false;
	*to = key.server_port;
	return true;
}

#endif /* PR_FLOWS_H */
