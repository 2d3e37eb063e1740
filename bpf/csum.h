/* SPDX-License-Identifier: GPL-2.0 */
/* Incremental Internet checksum update (RFC 1624). */
#ifndef PR_CSUM_H
#define PR_CSUM_H

#include <linux/types.h>

/*
 * RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'). One's complement sums do not care
 * about byte order, so the 16-bit words are used exactly as they sit in the
 * packet. Recomputing over the whole segment instead would cost time
 * proportional to its length and fight the verifier.
 */
static __always_inline __u16 pr_csum_replace16(__u16 check, __u16 from, __u16 to)
{
	/* x ^ 0xffff is ~x for a 16-bit x, without the mask ~ would need. */
	__u32 sum = (check ^ 0xffff) + (from ^ 0xffff) + (__u32)to;

	/* The first fold leaves at most 0x10001, so the second cannot carry. */
	sum = (sum & 0xffff) + (sum >> 16);
	sum += sum >> 16;
	return (__u16)~sum;
}

#endif /* PR_CSUM_H */
