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
 * Does entry e cover a packet to daddr on ifindex? An entry of the other
 * family never does; an any-address entry has an all-zero mask and address
 * (lib/scope.c), so the masked compare passes it without a family test. to 0
 * is an entry being cleared: it never matches.
 */
static __always_inline bool pr_scope_match4(const struct pr_scope_ent *e, __u32 ifindex,
					    __u64 daddr)
{
	if (!e->to || (e->ifindex && e->ifindex != ifindex) || e->family == 6)
		return false;
	/* In 64 bits: a 32-bit result would be zero-extended before the test. */
	return !((daddr ^ (__u64)e->addr[0]) & (__u64)e->mask[0]);
}

static __always_inline bool pr_scope_match6(const struct pr_scope_ent *e, __u32 ifindex,
					    const __be32 *daddr)
{
	if (!e->to || (e->ifindex && e->ifindex != ifindex) || e->family == 4)
		return false;
	return !(((daddr[0] ^ e->addr[0]) & e->mask[0]) | ((daddr[1] ^ e->addr[1]) & e->mask[1]) |
		 ((daddr[2] ^ e->addr[2]) & e->mask[2]) | ((daddr[3] ^ e->addr[3]) & e->mask[3]));
}

/*
 * Replaces rule's target by the first matching scoped rule of port's set and
 * returns that rule's id, or returns 0 and leaves rule alone (the unscoped
 * rule, if any, applies). One loop per family, each reading the address
 * straight from the header: a shared loop kept a four-word copy on the stack
 * and made a scoped hit execute 67 instructions more than an unscoped one;
 * this makes it 41 (bench/progcost's insns column).
 */
static __always_inline __u32 pr_scope_pick(const struct pr_pkt *pkt, __u32 ifindex, __u16 port,
					   struct pr_rule *rule)
{
	__u32 idx = rule->scope_set;
	struct pr_scope_set *set = bpf_map_lookup_elem(&pr_scope_sets, &idx);
	const struct pr_scope_ent *hit = NULL;
	__u32 n, i;

	if (!set)
		return 0;
	n = set->n;
	if (!pkt->ipv6) {
		struct iphdr *iph = pkt->l3;
		__u64 daddr;

		/* Proven by the parser, but 6.1's verifier loses it here. */
		if ((void *)(iph + 1) > pkt->data_end)
			return 0;
		daddr = iph->daddr;
		for (i = 0; i < PR_SCOPE_SET_SIZE; i++) {
			if (i >= n)
				break;
			if (pr_scope_match4(&set->e[i], ifindex, daddr)) {
				hit = &set->e[i];
				break;
			}
		}
	} else {
		struct ipv6hdr *ip6h = pkt->l3;

		if ((void *)(ip6h + 1) > pkt->data_end)
			return 0;
		for (i = 0; i < PR_SCOPE_SET_SIZE; i++) {
			if (i >= n)
				break;
			if (pr_scope_match6(&set->e[i], ifindex, ip6h->daddr.in6_u.u6_addr32)) {
				hit = &set->e[i];
				break;
			}
		}
	}
	if (!hit)
		return 0;
	rule->to_port = bpf_htons((__u16)(hit->to + (__u16)(port - hit->first)));
	rule->first_port = hit->first;
	return hit->id;
}

#endif /* PR_SCOPE_H */
