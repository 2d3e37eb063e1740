/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Incremental Internet checksum update (RFC 1624), split in two so the part
 * that depends only on the ports can be computed once, when a rule is
 * written (struct pr_rule's csum_delta), instead of on every packet. Shared
 * by the BPF programs and lib/rules.c.
 */
#ifndef PR_CSUM_H
#define PR_CSUM_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * ~m + m' of RFC 1624, eqn. 3, folded to 16 bits. One's complement sums do
 * not care about byte order, so the 16-bit words are used exactly as they
 * sit in the packet. For from != to it is never 0 (that would take ~from and
 * to both 0, and port 0 is no rule's target), so 0 can mean "not computed".
 */
static __always_inline __u16 pr_csum_delta(__u16 from, __u16 to)
{
	/* x ^ 0xffff is ~x for a 16-bit x, without the mask ~ would need. */
	__u32 sum = (__u32)(from ^ 0xffff) + to;

	return (__u16)((sum & 0xffff) + (sum >> 16));
}

/*
 * HC' = ~(~HC + delta). Both terms are 16 bits, so one fold cannot carry.
 * The result is that of eqn. 3 summed in one go: end-around carry addition
 * gives the same value in any grouping. Recomputing over the whole segment
 * instead would cost time proportional to its length and fight the verifier.
 */
static __always_inline __u16 pr_csum_apply(__u16 check, __u16 delta)
{
	__u32 sum = (__u32)(check ^ 0xffff) + delta;

	return (__u16)(((sum & 0xffff) + (sum >> 16)) ^ 0xffff);
}

/*
 * The IPv4 pseudo-header sum of UDP or TCP (addresses as in the header,
 * protocol, L4 length), folded, not inverted: what the checksum field of a
 * packet whose checksum is still pending offload holds. The length may take
 * more than 16 bits (BIG TCP), as in the kernel's own sum. The result is in
 * the packet's byte order, like the field; 0 and 0xffff are the same number.
 */
static __always_inline __u16 pr_csum_pseudo4(__be32 saddr, __be32 daddr, __u8 proto,
					     __u32 l4_len)
{
	__u64 sum = (__u64)saddr + daddr;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	sum += ((__u64)l4_len + proto) << 8;
#else
	sum += (__u64)l4_len + proto;
#endif
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)((sum & 0xffff) + (sum >> 16));
}

#endif /* PR_CSUM_H */
