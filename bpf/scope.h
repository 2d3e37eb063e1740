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

/* The packet's destination address, IPv4 in [0]; false if it cannot be read. */
static __always_inline bool pr_pkt_daddr(const struct pr_pkt *pkt, __be32 daddr[4])
{
	if (pkt->ipv6) {
		struct ipv6hdr *ip6h = pkt->l3;

		if ((void *)(ip6h + 1) > pkt->data_end)
			return false;
		__builtin_memcpy(daddr, &ip6h->daddr, 16);
	} else {
		struct iphdr *iph = pkt->l3;

		if ((void *)(iph + 1) > pkt->data_end)
			return false;
		daddr[0] = iph->daddr;
		/* Read only for IPv6 entries, but no verifier may see them unset. */
		daddr[1] = 0;
		daddr[2] = 0;
		daddr[3] = 0;
	}
	return true;
}

/*
 * Replaces rule's target by the first matching scoped rule of port's set and
 * returns that rule's id, or returns 0 and leaves rule alone (the unscoped
 * rule, if any, applies).
 */
static __always_inline __u32 pr_scope_pick(const struct pr_pkt *pkt, __u32 ifindex, __u16 port,
					   struct pr_rule *rule)
{
	__u32 idx = rule->scope_set;
	struct pr_scope_set *set = bpf_map_lookup_elem(&pr_scope_sets, &idx);
	__u8 family = pkt->ipv6 ? 6 : 4;
	__be32 daddr[4];
	__u32 n, i;

	if (!set || !pr_pkt_daddr(pkt, daddr))
		return 0;
	n = set->n;
#pragma unroll
	for (i = 0; i < PR_SCOPE_SET_SIZE; i++) {
		const struct pr_scope_ent *e = &set->e[i];

		if (i >= n)
			break;
		/* to 0: an entry being cleared; it never matches. */
		if (!e->to || (e->ifindex && e->ifindex != ifindex))
			continue;
		if (e->family &&
		    (e->family != family || (daddr[0] & e->mask[0]) != e->addr[0] ||
		     (family == 6 && (((daddr[1] & e->mask[1]) ^ e->addr[1]) |
				      ((daddr[2] & e->mask[2]) ^ e->addr[2]) |
				      ((daddr[3] & e->mask[3]) ^ e->addr[3])))))
			continue;
		rule->to_port = bpf_htons((__u16)(e->to + (__u16)(port - e->first)));
		rule->first_port = e->first;
		return e->id;
	}
	return 0;
}

#endif /* PR_SCOPE_H */
