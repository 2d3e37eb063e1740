// SPDX-License-Identifier: GPL-2.0
/*
 * TC ingress: finish the checksum update of packets the XDP program rewrote.
 *
 * Why: packets made by local sockets (lo, a container's veth) reach XDP with
 * their L4 checksum still pending (CHECKSUM_PARTIAL): the field holds only
 * the pseudo-header sum and is completed later over the segment, which
 * already includes the new port. The XDP program cannot see that state, so
 * it updates the field as if it were complete, which is right for packets
 * from the wire and wrong by exactly the port delta for pending ones: they
 * are delivered locally (the kernel trusts them) but a router that completes
 * them produces a bad checksum.
 *
 * Here the packet is an skb, whose checksum state can be read. Where the
 * kernel lets a TC program read it (bpf_cast_to_kern_ctx(), 6.3+), put back
 * the field the XDP program saw only if the checksum is pending
 * (tc_portredir_in_kctx). Elsewhere (6.1), put the field back and let
 * bpf_l4_csum_replace() redo the port change (tc_portredir_in): that helper
 * knows the state, leaves a pending checksum alone (the completion will cover
 * the port) and updates a complete one, including the UDP zero rule.
 *
 * Options weighed and not taken: deciding "pending" in XDP from the field
 * alone, when it equals the pseudo-header sum (wrong for 1 in 65,536
 * complete checksums, which would then be dropped; here the same test only
 * spares the helpers where the answer is certain, see pr_maybe_pending());
 * XDP rx-metadata kfuncs (no checksum hint on 6.1/6.18 and
 * they need device-bound programs, which a dispatcher cannot hold); doing the
 * rewrite itself in TC (it would run after every XDP program and lose the
 * ordering the dispatcher gives beside xdp-filter).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include "portredir_abi.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"

/*
 * Can a packet's checksum still be pending? A pending field holds the
 * pseudo-header sum (addresses, protocol, L4 length), which the completion
 * needs as its seed; seed is the field as the XDP program found it. If it
 * differs, the checksum was complete, and the two helpers below (~25 ns a
 * packet, measured with kernel.bpf_stats_enabled on veth) can be skipped.
 * If it matches, the checksum is pending or complete by a 1 in 65,536
 * chance, and bpf_l4_csum_replace(), which knows which, does the right
 * thing for both.
 * The length is the skb's, not the header's: a BIG TCP packet has 0 there.
 * Frames padded on the wire come out longer; theirs are never pending.
 * Only a header without options or extension headers is summed: an IPv4
 * source route or an IPv6 Routing header puts the final destination, not
 * daddr, in the pseudo-header (RFC 768, RFC 8200), so those keep the
 * helpers. Linux's own IPv4 sender sums the first hop there instead (seen
 * through a router in netns, no XDP loaded: every datagram captured behind
 * it had a bad checksum), so no local sender can make the case for a test.
 */
static __always_inline bool pr_maybe_pending(const struct pr_pkt *pkt, __u32 skb_len, __u16 seed)
{
	__u32 l4_len = skb_len - pkt->l4_off;
	__u16 sum;

	if (pkt->ipv6) {
		const struct ipv6hdr *ip6 = pkt->l3;

		if (pkt->l4_off != pkt->l3_off + sizeof(*ip6) || (void *)(ip6 + 1) > pkt->data_end)
			return true;
		sum = pr_csum_pseudo6(ip6->saddr.in6_u.u6_addr32, ip6->daddr.in6_u.u6_addr32,
				      ip6->nexthdr, l4_len);
	} else {
		const struct iphdr *iph = pkt->l3;

		if (pkt->l4_off != pkt->l3_off + sizeof(*iph) || (void *)(iph + 1) > pkt->data_end)
			return true;
		sum = pr_csum_pseudo4(iph->saddr, iph->daddr, iph->protocol, l4_len);
	}
	/* 0 and 0xffff are the same number in ones' complement. */
	return seed == sum || (seed == 0 && sum == 0xffff) || (seed == 0xffff && sum == 0);
}

/*
 * Is the skb's checksum pending (CHECKSUM_PARTIAL)? The kernel's own answer,
 * read from the sk_buff through bpf_cast_to_kern_ctx() (Linux 6.3+), where
 * pr_maybe_pending() can only say "maybe". Only the instance of the object
 * that loads tc_portredir_in_kctx calls it: pr_object_open() loads that
 * program where the kernel has the kfunc, tc_portredir_in elsewhere (6.1).
 */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

struct sk_buff {
	__u8 ip_summed : 2;
} __attribute__((preserve_access_index));

#define PR_CHECKSUM_PARTIAL 3 /* include/linux/skbuff.h */

static __always_inline bool pr_skb_pending(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return BPF_CORE_READ_BITFIELD(kskb, ip_summed) == PR_CHECKSUM_PARTIAL;
}

/*
 * kctx (a constant): the skb's checksum state is known (pr_skb_pending()).
 * A pending checksum then needs only its field back, since
 * bpf_l4_csum_replace() changes nothing in a pending field (without
 * BPF_F_PSEUDO_HDR), and any other needs nothing: the XDP program's update is
 * the one the helper would make, and it keeps a complete skb->csum valid (the
 * port and the field change by opposite amounts). That spares the helper,
 * ~25 ns of a pending packet's ~30 (bench/README.md, "In the receive path").
 */
static __always_inline int pr_fixup(struct __sk_buff *skb, const bool kctx)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct pr_meta *meta = (void *)(long)skb->data_meta;
	__u64 flags = sizeof(__u16);
	struct pr_pkt pkt;
	__be16 new_port, old_port;
	__u16 old_check;
	__u32 csum_off;

	if ((void *)(meta + 1) > data || meta->magic != PR_META_MAGIC)
		return PR_TC_NEXT;
	old_port = meta->old_port;
	old_check = meta->old_check;
	if (pr_parse(data, data_end, &pkt) != PR_PARSE_OK)
		return PR_TC_NEXT;

	new_port = *(__be16 *)(pkt.l4 + 2);
	if (pkt.proto == PR_PROTO_UDP) {
		csum_off = pkt.l4 + offsetof(struct udphdr, check) - data;
		flags |= BPF_F_MARK_MANGLED_0;
	} else {
		csum_off = pkt.l4 + offsetof(struct tcphdr, check) - data;
	}
	/*
	 * Consume the mark, so nothing after us takes it for its own; the
	 * hold (portredir.bpf.c) still sees that an XDP program rewrote it.
	 */
	meta->magic = PR_META_DONE;

	if (kctx) {
		if (pr_skb_pending(skb))
			bpf_skb_store_bytes(skb, csum_off, &old_check, sizeof(old_check), 0);
		return PR_TC_NEXT;
	}
	/* Complete: the XDP program's update is the right one already. */
	if (!pr_maybe_pending(&pkt, skb->len, old_check))
		return PR_TC_NEXT;
	/*
	 * Through the helper, not a store through the packet pointer: with a
	 * plain store, complete checksums came out wrong after
	 * bpf_l4_csum_replace() (tests/integration/40-forward-checksum.sh).
	 */
	if (bpf_skb_store_bytes(skb, csum_off, &old_check, sizeof(old_check), 0))
		return PR_TC_NEXT;
	bpf_l4_csum_replace(skb, csum_off, old_port, new_port, flags);
	return PR_TC_NEXT;
}

SEC("tc")
int tc_portredir_in(struct __sk_buff *skb)
{
	return pr_fixup(skb, false);
}

SEC("tc")
int tc_portredir_in_kctx(struct __sk_buff *skb)
{
	return pr_fixup(skb, true);
}

char _license[] SEC("license") = "GPL";
