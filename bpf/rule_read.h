/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a pr_rules entry from a program: the XDP program (the rewrite) and
 * the TC egress program (reply translation) both need it.
 */
#ifndef PR_RULE_READ_H
#define PR_RULE_READ_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "portredir_abi.h"
#include "maps.h"

/*
 * Copies the rule for key with one 64-bit load: userspace may rewrite the
 * entry at any moment, and two loads could see an old to_port and then a
 * cleared one (a rewrite to port 0). True for any nonzero entry, a drain mark
 * (lib/drain.h) included.
 */
static __always_inline bool pr_rule_word64(__u32 *key, __u64 *word)
{
	__u64 *entry = bpf_map_lookup_elem(&pr_rules, key);

	if (!entry)
		return false;
	*word = *(volatile __u64 *)entry;
	return *word != 0;
}

/*
 * A field of the word pr_rule_word64() read (off: its offsetof() in struct
 * pr_rule). Shifts, not a union: clang splits a union into its fields and
 * then, where a branch told it a field, builds the word anew for whoever
 * takes it whole.
 */
static __always_inline __u16 pr_rule_field(__u64 word, unsigned int off)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u16)(word >> (off * 8));
#else
	return (__u16)(word >> (48 - off * 8));
#endif
}

/*
 * pr_rule_field() for first_port, the rule counter's key, in two shifts.
 * Left alone, clang extracts it with a mask of 0xffff0000, which takes a
 * 64-bit immediate and one instruction more on every hit; the empty asm
 * keeps it from folding the shifts back into that mask.
 */
static __always_inline __u32 pr_rule_first_port(__u64 word)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u64 v = word << (48 - 8 * offsetof(struct pr_rule, first_port));
#else
	__u64 v = word << (8 * offsetof(struct pr_rule, first_port));
#endif

	asm volatile("" : "+r"(v));
	return v >> 48;
}

/* The same as a struct pr_rule. */
static __always_inline bool pr_rule_word(__u32 *key, struct pr_rule *rule)
{
	union {
		struct pr_rule rule;
		__u64 word;
	} snap;
	bool ret = pr_rule_word64(key, &snap.word);

	*rule = snap.rule;
	return ret;
}

/* Like pr_rule_word(), but false for a drain mark: only a rule, scoped or not. */
static __always_inline bool pr_rule_read(__u32 *key, struct pr_rule *rule)
{
	return pr_rule_word(key, rule) && (rule->to_port != 0 || rule->scope_set != 0);
}

#endif /* PR_RULE_READ_H */
