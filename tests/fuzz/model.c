// SPDX-License-Identifier: GPL-2.0
/*
 * The reference model. It is deliberately naive: every bounds check is an
 * explicit "does this read fit in len", and the checksum is recomputed from
 * the bytes present in the frame, never updated incrementally, so it cannot
 * share a mistake with an RFC 1624 implementation.
 *
 * Checksum, from scratch. Let Sb be the sum of the 16-bit words of the L4
 * bytes present in the frame before the rewrite (checksum field included), and
 * Sa the same sum after the port is changed, with the checksum field set to 0.
 * The pseudo-header is the same before and after, so it cancels out and is
 * left out of both sums. A one's complement sum is addition modulo 0xffff,
 * so keeping the verification sum unchanged means the new field F satisfies
 *	Sa + F == Sb  (mod 0xffff)
 * which fixes F modulo 0xffff: F = (Sb - Sa) mod 0xffff, a value 0..0xfffe.
 * Only when that residue is 0 are there two 16-bit encodings, 0x0000 and
 * 0xffff (+0 and -0). The spec picks: UDP writes 0xffff (0 would mean "no
 * checksum"), TCP writes 0x0000. Every other residue has exactly one encoding,
 * so the model's output is unique and any difference is a real disagreement.
 *
 * Because the verification sum always includes the nonzero protocol number
 * of the pseudo-header, "the same verification sum" and "congruent modulo
 * 0xffff" are the same statement: a folded sum of nonzero data is never
 * 0x0000, so there is no +0/-0 ambiguity on the verification side.
 */
#include <string.h>

#include "model.h"

#define ETH_HDR 14
#define VLAN_HDR 4
#define TPID_8021Q 0x8100
#define TPID_8021AD 0x88a8
#define ETYPE_IPV4 0x0800
#define ETYPE_IPV6 0x86dd
#define IP4_MIN_HDR 20
#define IP6_HDR 40
#define IPP_HOPOPTS 0
#define IPP_TCP 6
#define IPP_UDP 17
#define IPP_ROUTING 43
#define IPP_FRAGMENT 44
#define IPP_AH 51
#define IPP_DSTOPTS 60
#define MAX_EXT 8

static const char *const outcome_names[PRM_NUM_OUTCOMES] = {
	[PRM_REWRITTEN] = "rewritten",
	[PRM_NO_RULE] = "no-rule",
	[PRM_SHORT_ETH] = "short-eth",
	[PRM_SHORT_VLAN] = "short-vlan",
	[PRM_THIRD_TAG] = "third-vlan-tag",
	[PRM_NOT_IP] = "not-ip",
	[PRM_SHORT_L3] = "short-l3",
	[PRM_BAD_VERSION] = "bad-ip-version",
	[PRM_BAD_IHL] = "bad-ihl",
	[PRM_V4_FRAGMENT] = "v4-non-first-fragment",
	[PRM_SHORT_EXT] = "short-ext-header",
	[PRM_V6_FRAGMENT] = "v6-non-first-fragment",
	[PRM_TOO_MANY_EXT] = "too-many-ext-headers",
	[PRM_NOT_L4] = "not-udp-tcp",
	[PRM_SHORT_L4] = "short-l4",
};

const char *prm_outcome_name(enum prm_outcome o)
{
	return o < PRM_NUM_OUTCOMES ? outcome_names[o] : "?";
}

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static void set16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Does a read of n bytes at off stay inside a frame of len bytes? */
static int fits(size_t off, size_t n, size_t len)
{
	return off <= len && n <= len - off;
}

static int is_ext_header(unsigned int nh)
{
	return nh == IPP_HOPOPTS || nh == IPP_ROUTING || nh == IPP_DSTOPTS || nh == IPP_AH ||
	       nh == IPP_FRAGMENT;
}

/* Sum of the big-endian 16-bit words of p[0..n), an odd last byte as the high half. */
static uint64_t word_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint64_t)p[n - 1] << 8;
	return s;
}

uint16_t prm_lookup(const struct prm_rules *rules, uint8_t ipproto, uint16_t port)
{
	for (int i = 0; i < rules->n; i++) {
		const struct prm_rule *r = &rules->r[i];

		if (!r->ifindex && !r->family && r->ipproto == ipproto && port >= r->first &&
		    port <= r->last)
			return (uint16_t)(r->to + (port - r->first));
	}
	return 0;
}

/* Does daddr lie in the rule's prefix? Bit by bit, the way the spec says it. */
static int in_prefix(const struct prm_rule *r, const uint8_t daddr[16])
{
	for (unsigned int bit = 0; bit < r->plen; bit++) {
		unsigned int mask = 0x80u >> (bit % 8);

		if ((daddr[bit / 8] & mask) != (r->addr[bit / 8] & mask))
			return 0;
	}
	return 1;
}

/* How specific a rule's scope is: higher wins. */
static unsigned int specificity(const struct prm_rule *r)
{
	if (r->ifindex && r->family)
		return 1000 + r->plen;
	if (r->family)
		return 500 + r->plen;
	return r->ifindex ? 100 : 0;
}

const struct prm_rule *prm_pick(const struct prm_rules *rules, uint8_t ipproto, uint16_t port,
				uint32_t ifindex, int ipv6, const uint8_t daddr[16])
{
	const struct prm_rule *best = NULL;

	for (int i = 0; i < rules->n; i++) {
		const struct prm_rule *r = &rules->r[i];

		if (r->ipproto != ipproto || port < r->first || port > r->last)
			continue;
		if (r->ifindex && r->ifindex != ifindex)
			continue;
		if (r->family && (r->family != (ipv6 ? 6 : 4) || !in_prefix(r, daddr)))
			continue;
		if (!best || specificity(r) > specificity(best))
			best = r;
	}
	return best;
}

static enum prm_outcome parse(const uint8_t *in, size_t len, struct prm_result *res)
{
	size_t off;
	unsigned int type, proto;
	int tags;

	if (!fits(0, ETH_HDR, len))
		return PRM_SHORT_ETH;
	type = get16(in + 12);
	off = ETH_HDR;
	for (tags = 0; type == TPID_8021Q || type == TPID_8021AD; tags++) {
		if (tags == 2)
			return PRM_THIRD_TAG;
		/* TCI, then the type of what follows the tag. */
		if (!fits(off, VLAN_HDR, len))
			return PRM_SHORT_VLAN;
		type = get16(in + off + 2);
		off += VLAN_HDR;
		res->vlan_tags = tags + 1;
	}

	if (type == ETYPE_IPV4) {
		unsigned int ihl;

		if (!fits(off, IP4_MIN_HDR, len))
			return PRM_SHORT_L3;
		if (in[off] >> 4 != 4)
			return PRM_BAD_VERSION;
		ihl = in[off] & 0x0f;
		if (ihl < 5)
			return PRM_BAD_IHL;
		if (get16(in + off + 6) & 0x1fff)
			return PRM_V4_FRAGMENT;
		proto = in[off + 9];
		memcpy(res->daddr, in + off + 16, 4);
		res->daddr_off = off + 16;
		off += (size_t)ihl * 4;
		res->ipv6 = 0;
	} else if (type == ETYPE_IPV6) {
		unsigned int nh, nh_next;
		int n;

		if (!fits(off, IP6_HDR, len))
			return PRM_SHORT_L3;
		if (in[off] >> 4 != 6)
			return PRM_BAD_VERSION;
		nh = in[off + 6];
		memcpy(res->daddr, in + off + 24, 16);
		res->daddr_off = off + 24;
		off += IP6_HDR;
		for (n = 0; n < MAX_EXT && is_ext_header(nh); n++) {
			if (nh == IPP_FRAGMENT) {
				if (!fits(off, 8, len))
					return PRM_SHORT_EXT;
				if (get16(in + off + 2) >> 3)
					return PRM_V6_FRAGMENT;
				nh = in[off];
				off += 8;
			} else {
				unsigned int hdrlen;

				if (!fits(off, 2, len))
					return PRM_SHORT_EXT;
				hdrlen = in[off + 1];
				nh_next = in[off];
				/* AH counts 4-byte units minus 2, the others 8-byte units minus 1. */
				if (nh == IPP_AH)
					off += ((size_t)hdrlen + 2) * 4;
				else
					off += ((size_t)hdrlen + 1) * 8;
				nh = nh_next;
			}
			res->ext_headers = n + 1;
		}
		if (is_ext_header(nh))
			return PRM_TOO_MANY_EXT;
		proto = nh;
		res->ipv6 = 1;
	} else {
		return PRM_NOT_IP;
	}

	res->ipproto = (uint8_t)proto;
	res->l4_off = off;
	if (proto == IPP_UDP) {
		if (!fits(off, 8, len))
			return PRM_SHORT_L4;
	} else if (proto == IPP_TCP) {
		if (!fits(off, 20, len))
			return PRM_SHORT_L4;
	} else {
		return PRM_NOT_L4;
	}
	return PRM_NO_RULE;
}

void prm_run(const struct prm_rules *rules, uint32_t ifindex, const uint8_t *in, size_t len,
	     uint8_t *out, struct prm_result *res)
{
	const struct prm_rule *rule;
	size_t l4, csum_off;
	uint64_t sum_before, sum_after, field;

	memset(res, 0, sizeof(*res));
	res->verdict = PRM_XDP_PASS;
	memcpy(out, in, len);
	res->outcome = parse(in, len, res);
	if (res->outcome != PRM_NO_RULE)
		return;

	l4 = res->l4_off;
	res->old_port = (uint16_t)get16(in + l4 + 2);
	rule = prm_pick(rules, res->ipproto, (uint16_t)res->old_port, ifindex, res->ipv6,
			res->daddr);
	if (!rule)
		return;
	res->new_port = (uint16_t)(rule->to + (res->old_port - rule->first));
	res->scoped = rule->ifindex || rule->family;
	res->outcome = PRM_REWRITTEN;
	csum_off = l4 + (res->ipproto == IPP_UDP ? 6 : 16);
	res->old_csum = (uint16_t)get16(in + csum_off);

	set16(out + l4 + 2, res->new_port);
	/* IPv4 UDP without a checksum stays without one. */
	if (res->ipproto == IPP_UDP && !res->ipv6 && res->old_csum == 0) {
		res->new_csum = 0;
		return;
	}
	sum_before = word_sum(in + l4, len - l4);
	set16(out + csum_off, 0);
	sum_after = word_sum(out + l4, len - l4);
	field = (sum_before % 0xffff + 0xffff - sum_after % 0xffff) % 0xffff;
	if (field == 0) {
		res->csum_zero_class = 1;
		field = res->ipproto == IPP_UDP ? 0xffff : 0x0000;
	}
	res->new_csum = (uint16_t)field;
	set16(out + csum_off, (unsigned int)field);
}
