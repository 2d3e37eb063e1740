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
 * (tc_portredir_in_kctx, tc_csum_fixup_kctx.bpf.c). Elsewhere (6.1), put the
 * field back and let bpf_l4_csum_replace() redo the port change
 * (tc_portredir_in): that helper knows the state, leaves a pending checksum
 * alone (the completion will cover the port) and updates a complete one,
 * including the UDP zero rule.
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

#include "portredir_abi.h"
#include "parse.h"
#include "csum.h"
#include "csum_fixup.h"

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

SEC("tc")
int tc_portredir_in(struct __sk_buff *skb)
{
	struct pr_meta *meta = pr_fixup_mark(skb);
	struct pr_fixup f;

	if (!meta || !pr_fixup_begin(skb, meta, &f))
		return PR_TC_NEXT;
	/* Complete: the XDP program's update is the right one already. */
	if (!pr_maybe_pending(&f.pkt, skb->len, f.old_check))
		return PR_TC_NEXT;
	/*
	 * Through the helper, not a store through the packet pointer: with a
	 * plain store, complete checksums came out wrong after
	 * bpf_l4_csum_replace() (tests/integration/40-forward-checksum.sh).
	 */
	if (bpf_skb_store_bytes(skb, f.csum_off, &f.old_check, sizeof(f.old_check), 0))
		return PR_TC_NEXT;
	bpf_l4_csum_replace(skb, f.csum_off, f.old_port, f.new_port, f.csum_flags);
	return PR_TC_NEXT;
}

char _license[] SEC("license") = "GPL";
