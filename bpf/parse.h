/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet parsing shared by the BPF programs: Ethernet, up to two VLAN tags,
 * IPv4 (with options) or IPv6 (with its extension header chain), down to the
 * UDP or TCP header. Every read is bounds-checked against data_end first.
 */
#ifndef PR_PARSE_H
#define PR_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>

#include "portredir_abi.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define PR_MAX_VLAN_TAGS 2
/* Extension headers walked before giving up; real traffic carries one or two. */
#define PR_MAX_EXTHDRS 8

#define PR_IP6_FRAG_OFFSET_MASK 0xfff8
#define PR_IP4_FRAG_OFFSET_MASK 0x1fff

/* Why a packet was not handed to the rule lookup. */
enum pr_parse_result {
	PR_PARSE_OK = 0, /* UDP or TCP header found and complete */
	PR_PARSE_NOT_IP, /* ethertype is neither IPv4 nor IPv6 */
	PR_PARSE_NOT_L4, /* IP, but not (first-fragment) UDP or TCP */
	PR_PARSE_FRAGMENT, /* non-first fragment: no L4 header here */
	PR_PARSE_MALFORMED, /* truncated or invalid header */
};

struct pr_pkt {
	void *l3; /* IPv4 or IPv6 header */
	void *l4; /* UDP or TCP header, complete up to its checksum */
	void *data_end;
	/*
	 * l3 and l4 as offsets from the frame's start: what a global function
	 * can be given (a packet pointer it cannot).
	 */
	__u16 l3_off;
	__u16 l4_off;
	__u8 proto; /* enum pr_proto */
	__u8 ipv6;
};

struct pr_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct pr_ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct pr_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

static __always_inline int pr_parse_l4(void *l4, __u32 l4_off, void *data_end, __u8 ipproto,
				       struct pr_pkt *pkt)
{
	if (ipproto == IPPROTO_UDP) {
		if (l4 + sizeof(struct udphdr) > data_end)
			return PR_PARSE_MALFORMED;
		pkt->proto = PR_PROTO_UDP;
	} else if (ipproto == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > data_end)
			return PR_PARSE_MALFORMED;
		pkt->proto = PR_PROTO_TCP;
	} else {
		return PR_PARSE_NOT_L4;
	}
	pkt->l4 = l4;
	pkt->l4_off = l4_off;
	return PR_PARSE_OK;
}

static __always_inline int pr_parse_ipv4(void *l3, __u32 l3_off, void *data_end, struct pr_pkt *pkt)
{
	struct iphdr *iph = l3;
	__u8 ver_ihl;

	if ((void *)(iph + 1) > data_end)
		return PR_PARSE_MALFORMED;
	/*
	 * Version 4 and IHL >= 5 is the byte range 0x45-0x4f: one load and two
	 * compares, where the bitfields cost two loads, shifts and masks.
	 */
	ver_ihl = *(__u8 *)iph;
	if (ver_ihl < 0x45 || ver_ihl > 0x4f)
		return PR_PARSE_MALFORMED;
	if (iph->frag_off & bpf_htons(PR_IP4_FRAG_OFFSET_MASK))
		return PR_PARSE_FRAGMENT;

	pkt->l3 = iph;
	pkt->l3_off = l3_off;
	pkt->ipv6 = 0;
	return pr_parse_l4(l3 + (ver_ihl & 0xf) * 4, l3_off + (ver_ihl & 0xf) * 4, data_end,
			   iph->protocol, pkt);
}

static __always_inline int pr_parse_ipv6(void *l3, __u32 l3_off, void *data_end, struct pr_pkt *pkt)
{
	struct ipv6hdr *ip6h = l3;
	void *cur = ip6h + 1;
	__u32 off = l3_off + sizeof(*ip6h);
	__u8 nexthdr;
	int i;

	if (cur > data_end)
		return PR_PARSE_MALFORMED;
	if (ip6h->version != 6)
		return PR_PARSE_MALFORMED;
	nexthdr = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < PR_MAX_EXTHDRS; i++) {
		struct pr_ipv6_opt_hdr *opt = cur;
		struct pr_ipv6_frag_hdr *frag = cur;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(opt + 1) > data_end)
				return PR_PARSE_MALFORMED;
			nexthdr = opt->nexthdr;
			off += (opt->hdrlen + 1) * 8;
			cur += (opt->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			/* AH counts its length in 4-byte units, minus two. */
			if ((void *)(opt + 1) > data_end)
				return PR_PARSE_MALFORMED;
			nexthdr = opt->nexthdr;
			off += (opt->hdrlen + 2) * 4;
			cur += (opt->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(frag + 1) > data_end)
				return PR_PARSE_MALFORMED;
			if (frag->frag_off & bpf_htons(PR_IP6_FRAG_OFFSET_MASK))
				return PR_PARSE_FRAGMENT;
			nexthdr = frag->nexthdr;
			off += sizeof(*frag);
			cur += sizeof(*frag);
			break;
		default:
			goto chain_done;
		}
	}
	/* After PR_MAX_EXTHDRS headers nexthdr may still name another one;
	 * pr_parse_l4() then reports PR_PARSE_NOT_L4 and the packet passes.
	 */
chain_done:
	pkt->l3 = ip6h;
	pkt->l3_off = l3_off;
	pkt->ipv6 = 1;
	return pr_parse_l4(cur, off, data_end, nexthdr, pkt);
}

static __always_inline int pr_parse(void *data, void *data_end, struct pr_pkt *pkt)
{
	struct ethhdr *eth = data;
	void *cur = eth + 1;
	__u32 off = sizeof(*eth);
	__be16 proto;
	int i;

	if (cur > data_end)
		return PR_PARSE_MALFORMED;
	/*
	 * One 16-bit load: struct ethhdr is packed, so eth->h_proto compiles to
	 * two byte loads and a shift. Frames start 2-byte aligned in practice,
	 * and the architectures XDP runs on load unaligned halves anyway.
	 */
	proto = *(__be16 *)(data + offsetof(struct ethhdr, h_proto));
	pkt->data_end = data_end;
	/* Plain IPv4, the common case, skips the VLAN tag walk. */
	if (proto == bpf_htons(ETH_P_IP))
		return pr_parse_ipv4(cur, sizeof(*eth), data_end, pkt);

#pragma unroll
	for (i = 0; i < PR_MAX_VLAN_TAGS; i++) {
		struct pr_vlan_hdr *vlan = cur;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return PR_PARSE_MALFORMED;
		proto = vlan->encap_proto;
		cur = vlan + 1;
		off += sizeof(*vlan);
	}

	if (proto == bpf_htons(ETH_P_IP))
		return pr_parse_ipv4(cur, off, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pr_parse_ipv6(cur, off, data_end, pkt);
	return PR_PARSE_NOT_IP;
}

/*
 * Readers of a parsed packet's fields that check the bounds again. The
 * parser proved them, but older verifiers (6.1) do not always connect a
 * branch on pkt->ipv6 or pkt->proto, read back from the stack, with the
 * bounds proven for that case, and reject the read; the check is cheap.
 */
static __always_inline bool pr_pkt_addrs(const struct pr_pkt *pkt, __be32 saddr[4], __be32 daddr[4])
{
	if (pkt->ipv6) {
		struct ipv6hdr *ip6h = pkt->l3;

		if ((void *)(ip6h + 1) > pkt->data_end)
			return false;
		__builtin_memcpy(saddr, &ip6h->saddr, 16);
		__builtin_memcpy(daddr, &ip6h->daddr, 16);
	} else {
		struct iphdr *iph = pkt->l3;

		if ((void *)(iph + 1) > pkt->data_end)
			return false;
		saddr[0] = iph->saddr;
		daddr[0] = iph->daddr;
	}
	return true;
}

/* TCP flags byte; 0 for a packet that is not TCP (or too short to say). */
/*
 * A parse as a global function's arguments: the headers' offsets and a
 * kind (the protocol, PR_KIND_IPV6 for IPv6). A global function is checked
 * by the verifier once for any offsets, where code after an inlined parse
 * is checked again for each way the parse can end (tags, IPv4 options,
 * IPv6 extension headers, each protocol).
 */
#define PR_KIND_IPV6 0x100
/* Beyond any header chain the parser accepts (2 tags, 8 extension headers). */
#define PR_MAX_HDR_OFF 0x7fff

static __always_inline __u32 pr_pkt_kind(const struct pr_pkt *pkt)
{
	return pkt->proto | (pkt->ipv6 ? PR_KIND_IPV6 : 0);
}

/*
 * The parse back from its offsets, in the global function. False if the
 * headers are not there, which the caller's parse proved they are: the
 * checks are what the verifier lets this code rely on.
 */
static __always_inline bool pr_pkt_at(struct pr_pkt *pkt, void *data, void *data_end, __u32 l3_off,
				      __u32 l4_off, __u32 kind)
{
	/*
	 * A no-op for the parser's offsets; a mask, not a compare, because
	 * the verifier keeps its bound through whatever clang makes of it.
	 */
	pkt->l3 = data + (l3_off & PR_MAX_HDR_OFF);
	pkt->l4 = data + (l4_off & PR_MAX_HDR_OFF);
	pkt->l3_off = l3_off;
	pkt->l4_off = l4_off;
	pkt->data_end = data_end;
	pkt->proto = kind & 0xff;
	pkt->ipv6 = !!(kind & PR_KIND_IPV6);
	if (pkt->l3 + (pkt->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) > data_end)
		return false;
	if (pkt->proto == PR_PROTO_UDP)
		return pkt->l4 + sizeof(struct udphdr) <= data_end;
	return pkt->proto == PR_PROTO_TCP && pkt->l4 + sizeof(struct tcphdr) <= data_end;
}

static __always_inline __u8 pr_tcp_flags(const struct pr_pkt *pkt)
{
	__u8 *tcp = pkt->l4;

	if (pkt->proto != PR_PROTO_TCP || (void *)(tcp + 14) > pkt->data_end)
		return 0;
	return tcp[13];
}

#endif /* PR_PARSE_H */
