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
 * The same update as HC + ~delta (subtracting delta in ones' complement):
 * equal to pr_csum_apply() modulo 0xffff, so a receiver's sum is the same.
 * With end-around carry, a sum is 0 only if both terms are, so for any
 * check != 0 the result is in 1..0xffff: exactly pr_csum_apply() with UDP's
 * 0 -> 0xffff rule, which then needs no test (a UDP hit executes 7
 * instructions fewer). TCP keeps pr_csum_apply(): the two cost the same
 * there, and its 0x0000 is what a full computation gives.
 */
static __always_inline __u16 pr_csum_sub(__u16 check, __u16 delta)
{
	__u32 sum = (__u32)check + (delta ^ 0xffff);

	return (__u16)(sum + (sum >> 16));
}

/*
 * The pseudo-header's protocol and L4 length, ready to add to a sum of
 * address words read in the packet's byte order. Both sit in the low bytes
 * of big-endian fields, and in ones' complement arithmetic a value shifted
 * by 8 is that value byte-swapped. The length may take more than 16 bits
 * (BIG TCP), as in the kernel's own sum.
 */
static __always_inline __u64 pr_csum_pseudo_tail(__u8 proto, __u32 l4_len)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return ((__u64)l4_len + proto) << 8;
#else
	return (__u64)l4_len + proto;
#endif
}

/* Folds a sum of up to 2^48 to 16 bits (not inverted). */
static __always_inline __u16 pr_csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)((sum & 0xffff) + (sum >> 16));
}

/*
 * The pseudo-header sum of UDP or TCP (addresses as in the header,
 * protocol, L4 length), folded, not inverted: what the checksum field of a
 * packet whose checksum is still pending offload holds. The result is in
 * the packet's byte order, like the field; 0 and 0xffff are the same number.
 */
static __always_inline __u16 pr_csum_pseudo4(__be32 saddr, __be32 daddr, __u8 proto, __u32 l4_len)
{
	return pr_csum_fold64((__u64)saddr + daddr + pr_csum_pseudo_tail(proto, l4_len));
}

/* The same for IPv6 (RFC 8200, 8.1): saddr and daddr are 4 words each. */
static __always_inline __u16 pr_csum_pseudo6(const __be32 *saddr, const __be32 *daddr, __u8 proto,
					     __u32 l4_len)
{
	__u64 sum = pr_csum_pseudo_tail(proto, l4_len);

	for (int i = 0; i < 4; i++)
		sum += (__u64)saddr[i] + daddr[i];
	return pr_csum_fold64(sum);
}

#endif /* PR_CSUM_H */
