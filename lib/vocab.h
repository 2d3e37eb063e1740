/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tool's words, each spelled once: attach modes and chain-call actions,
 * as the option tables, the config file, messages and JSON all write them.
 * Limits and map names live beside the maps in bpf/portredir_abi.h.
 */
#ifndef PR_VOCAB_H
#define PR_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <xdp/libxdp.h>

#include "../bpf/portredir_abi.h"
#include "params.h"

/* A number macro as a string, for help texts built from the limits. */
#define PR_STR(x) PR_STR_(x)
#define PR_STR_(x) #x

enum pr_mode {
	PR_MODE_ANY = 0, /* not given: the mode of programs already there, else native, else skb */
	PR_MODE_NATIVE,
	PR_MODE_SKB,
	PR_MODE_HW, /* accepted by the parsers only to be refused with pr_mode_hw_refused */
};

/* "native", "skb" and "hw", for option tables and the config parser. */
extern const struct pr_enum_val pr_mode_values[];
/* Why hw mode is refused; callers say how to ask for another mode. */
extern const char pr_mode_hw_refused[];
/* "native", "skb"; "any" for PR_MODE_ANY. */
const char *pr_mode_name(enum pr_mode mode);
/* The mode an attached program runs in. */
static inline enum pr_mode pr_mode_of(bool skb)
{
	return skb ? PR_MODE_SKB : PR_MODE_NATIVE;
}
enum xdp_attach_mode pr_mode_to_xdp(enum pr_mode mode);

/* Chain-call actions: bits 1 << XDP_*. */
#define PR_CHAIN_DEFAULT 0xffffffffU /* not given: the object's XDP_RUN_CONFIG */
/* What XDP_RUN_CONFIG in bpf/portredir.bpf.c sets; test_vocab checks they agree. */
#define PR_CHAIN_OBJECT (1U << XDP_PASS)
/* "none", "aborted", "drop", "pass", "tx", "redirect". */
extern const struct pr_enum_val pr_chain_action_values[];
/* "pass,drop", or "none" for 0: how load, apply, status and save all print them. */
void pr_chain_format(unsigned int mask, char *buf, size_t len);
int pr_chain_parse(const char *list, unsigned int *mask);

/* An XDP return code as the kernel names it ("XDP_PASS"), for the per-action counters. */
const char *pr_xdp_action_name(unsigned int action);

#endif
