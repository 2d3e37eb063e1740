/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An independent reference model of the XDP rewrite, written from the
 * data-path specification alone. It shares no code (and no headers) with
 * bpf/: when the real program and this model disagree on a frame, one of
 * two independent readings of the spec is wrong, and the fuzzer says so.
 */
#ifndef PR_FUZZ_MODEL_H
#define PR_FUZZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define PRM_XDP_PASS 2U /* the only verdict the program may return */
#define PRM_MAX_RULES 8

/*
 * A rule, optionally scoped: to the interface with index ifindex (0: any)
 * and to destinations in addr/plen of family 4 or 6 (family 0: any). Where
 * several rules cover a packet, the most specific wins: interface and
 * address, then address, then interface, then unscoped; among address scopes
 * of one kind the longer prefix. Rules of one protocol and one scope do not
 * overlap.
 */
struct prm_rule {
	uint8_t ipproto; /* 6 (TCP) or 17 (UDP) */
	uint16_t first, last, to;
	uint32_t ifindex;
	int family;
	unsigned int plen;
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
};

struct prm_rules {
	struct prm_rule r[PRM_MAX_RULES];
	int n;
};

/* Why a frame came out the way it did; the fuzzer counts these. */
enum prm_outcome {
	PRM_REWRITTEN,
	PRM_NO_RULE,
	PRM_SHORT_ETH,
	PRM_SHORT_VLAN,
	PRM_THIRD_TAG,
	PRM_NOT_IP,
	PRM_SHORT_L3,
	PRM_BAD_VERSION,
	PRM_BAD_IHL,
	PRM_V4_FRAGMENT,
	PRM_SHORT_EXT,
	PRM_V6_FRAGMENT,
	PRM_TOO_MANY_EXT,
	PRM_NOT_L4,
	PRM_SHORT_L4,
	PRM_NUM_OUTCOMES,
};

struct prm_result {
	uint32_t verdict;
	enum prm_outcome outcome;
	int ipv6;
	int vlan_tags; /* tags walked */
	int ext_headers; /* IPv6 extension headers walked */
	uint8_t ipproto;
	size_t l4_off; /* valid from PRM_NO_RULE on */
	uint16_t old_port, new_port;
	uint16_t old_csum, new_csum; /* valid for PRM_REWRITTEN */
	int csum_zero_class; /* rewritten checksum field is a one's complement zero */
	uint8_t daddr[16]; /* valid from PRM_NO_RULE on */
	size_t daddr_off; /* where daddr is in the frame; 0 before the IP header parsed */
	int scoped; /* the rule that applied is a scoped one */
};

const char *prm_outcome_name(enum prm_outcome o);

/* The new port for (ipproto, port) by the unscoped rules, or 0 when none covers it. */
uint16_t prm_lookup(const struct prm_rules *rules, uint8_t ipproto, uint16_t port);

/* The rule that applies to a packet, scoped or not; NULL if none. */
const struct prm_rule *prm_pick(const struct prm_rules *rules, uint8_t ipproto, uint16_t port,
				uint32_t ifindex, int ipv6, const uint8_t daddr[16]);

/*
 * Computes the frame the program must hand back for in[0..len), arriving on
 * interface ifindex: out gets len bytes (the frame length never changes).
 * Never reads outside in[0..len).
 */
void prm_run(const struct prm_rules *rules, uint32_t ifindex, const uint8_t *in, size_t len,
	     uint8_t *out, struct prm_result *res);

#endif
