/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hash that places a flow in the per-CPU flow cache (flows.h), in plain
 * C so bench/progcost.c can choose flows that do not share a slot.
 */
#ifndef PR_FLOW_HASH_H
#define PR_FLOW_HASH_H

#include <linux/types.h>

#include "portredir_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define PR_FLOW_CACHE_BITS 12
#define PR_FLOW_CACHE_SLOTS (1U << PR_FLOW_CACHE_BITS)

/*
 * The flow's slot: a multiplicative hash over the key's five 64-bit words
 * (half the steps of hashing ten 32-bit words; a 64-bit multiply costs no
 * more than a 32-bit one), its top bits. A multiply carries a bit only
 * upwards, so only the top bits depend on every bit of the key: the low
 * ones never saw the server port (bits 48-63 of the first word), and the
 * two flows of one client to two ports always shared a slot. The last fold
 * and multiply spread ports that differ only in their low bits.
 */
static __always_inline __u32 pr_flow_cache_slot_of(const struct pr_flow_key *key)
{
	const __u64 *w = (const __u64 *)key;
	__u64 h = 0;
	int i;

#ifdef __clang__
#pragma unroll
#endif
	for (i = 0; i < (int)(sizeof(*key) / sizeof(__u64)); i++)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ULL;
	/* Fold the high half down and multiply once more, so the top bits also mix the low half's. */
	return (__u32)(((h ^ (h >> 32)) * 0x9e3779b97f4a7c15ULL) >> (64 - PR_FLOW_CACHE_BITS));
}

#endif /* PR_FLOW_HASH_H */
