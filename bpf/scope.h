/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scoped rules on the hot path. Only a port whose rule entry names a scope
 * set comes here; it scans that set (at most PR_SCOPE_SET_SIZE entries, most
 * specific first) for the first entry whose interface and destination prefix
 * match the packet. A scan reads one array element: no hashing, no trie walk.
 */
#ifndef PR_SCOPE_H
#define PR_SCOPE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "portredir_abi.h"
#include "maps.h"
#include "parse.h"

/*
 * Does entry e cover an IPv4 packet whose (daddr << 32 | ifindex) is key?
 * to 0 is an entry being cleared: it never matches.
 */
static __always_inline bool pr_scope_match4(const struct pr_scope_ent *e, __u64 key)
{
	return e->to && !((key ^ e->key4) & e->mask4);
}

/*
 * The same for IPv6. An entry of the other family never matches; an
 * any-address entry has an all-zero mask and address (lib/scope.c), so the
 * masked compare passes it.
 */
static __always_inline bool pr_scope_match6(const struct pr_scope_ent *e, __u32 ifindex,
					    const __be32 *daddr)
{
	if (!e->to || (e->ifindex && e->ifindex != ifindex) || e->family == 4)
		return false;
	return !(((daddr[0] ^ e->addr[0]) & e->mask[0]) | ((daddr[1] ^ e->addr[1]) & e->mask[1]) |
		 ((daddr[2] ^ e->addr[2]) & e->mask[2]) | ((daddr[3] ^ e->addr[3]) & e->mask[3]));
}

/*
 * The fast path's scan: the first entry of set set_idx that covers an IPv4
 * packet (header iph, proven in bounds), or NULL. The caller reads the
 * target, its checksum delta and the id from the entry itself, with no
 * packing into one return value and out again.
 */
static __always_inline const struct pr_scope_ent *
pr_scope_find4(__u32 set_idx, const struct iphdr *iph, const struct xdp_md *ctx)
{
	struct pr_scope_set *set = bpf_map_lookup_elem(&pr_scope_sets, &set_idx);
	const struct pr_scope_ent *e;
	__u32 n, i;
	__u64 key;

	if (!set)
		return NULL;
	n = set->n;
	key = (__u64)iph->daddr << 32 | ctx->ingress_ifindex;
	for (i = 0; i < PR_SCOPE_SET_SIZE && i < n; i++) {
		e = &set->e[i];
		if (pr_scope_match4(e, key))
			return e;
	}
	return NULL;
}

/*
 * The first scoped rule of set set_idx that matches the packet (a port's
 * set lists them most specific first): returns its id << 16 | its target
 * for port (network order), or 0 if none does and the unscoped rule, if
 * any, applies. One loop per family, each reading the address straight from
 * the header; the result comes back in a register, not through the caller's
 * rule, which kept that rule on the stack.
 */
static __always_inline __u32 pr_scope_pick(const struct pr_pkt *pkt, __u32 ifindex, __u16 port,
					   __u32 set_idx)
{
	struct pr_scope_set *set = bpf_map_lookup_elem(&pr_scope_sets, &set_idx);
	const struct pr_scope_ent *e;
	__u32 n, i;

	if (!set)
		return 0;
	n = set->n;
	if (!pkt->ipv6) {
		struct iphdr *iph = pkt->l3;
		__u64 key;

		/* Proven by the parser, but 6.1's verifier loses it here. */
		if ((void *)(iph + 1) > pkt->data_end)
			return 0;
		key = (__u64)iph->daddr << 32 | ifindex;
		for (i = 0; i < PR_SCOPE_SET_SIZE && i < n; i++) {
			e = &set->e[i];
			if (pr_scope_match4(e, key))
				return (__u32)e->id << 16 | bpf_htons((__u16)(port + e->delta));
		}
	} else {
		struct ipv6hdr *ip6h = pkt->l3;

		if ((void *)(ip6h + 1) > pkt->data_end)
			return 0;
		for (i = 0; i < PR_SCOPE_SET_SIZE && i < n; i++) {
			e = &set->e[i];
			if (pr_scope_match6(e, ifindex, ip6h->daddr.in6_u.u6_addr32))
				return (__u32)e->id << 16 | bpf_htons((__u16)(port + e->delta));
		}
	}
	return 0;
}

#endif /* PR_SCOPE_H */
