/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule model: what a rule is, how it is written on the command line, how
 * it is checked, and how it is encoded into (and read back from) the
 * port-indexed pr_rules map. The CLI, the config loader and the tests all go
 * through here, so a rule means the same thing everywhere.
 */
#ifndef PR_RULES_H
#define PR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/portredir_abi.h"
#include "errbuf.h"
#include "params.h"

/* One rule: ports first..last of proto go to to..to+(last-first). */
struct pr_rule_spec {
	enum pr_proto proto;
	uint16_t first;
	uint16_t last;
	uint16_t to;
};

#define PR_PROTO_MASK(p) (1U << (p))
#define PR_PROTO_MASK_ALL (PR_PROTO_MASK(PR_PROTO_UDP) | PR_PROTO_MASK(PR_PROTO_TCP))

/* The whole map, as userspace sees it: PR_RULE_SLOTS entries. */
struct pr_rule_table {
	struct pr_rule entry[PR_RULE_SLOTS];
};

const char *pr_proto_name(enum pr_proto proto);
/* "udp" and "tcp" as PR_PROTO_MASK() bits, for option tables. */
extern const struct pr_enum_val pr_proto_values[];
int pr_proto_from_name(const char *name, enum pr_proto *proto);

/* "udp", "tcp", "udp,tcp" -> mask of PR_PROTO_MASK() bits. */
int pr_rule_parse_protos(const char *list, unsigned int *mask, struct pr_errbuf *err);
/* "8000" or "8000-8099"; to may be NULL (then spec->to is 0). */
int pr_rule_parse(const char *range, const char *to, enum pr_proto proto,
		  struct pr_rule_spec *spec, struct pr_errbuf *err);
int pr_rule_parse_port(const char *s, uint16_t *port, struct pr_errbuf *err);

/* Checks a rule on its own: range order, target range fits, no self-redirect. */
int pr_rule_validate(const struct pr_rule_spec *spec, struct pr_errbuf *err);

/* Same protocol, ports and target? */
bool pr_rule_spec_eq(const struct pr_rule_spec *a, const struct pr_rule_spec *b);

/* "udp 8000-8099 -> 9000-9099" */
void pr_rule_format(const struct pr_rule_spec *spec, char *buf, size_t len);

/* Table operations (pure, no kernel): */
/* Finds an existing rule whose ports overlap spec's; returns true if found. */
bool pr_rule_table_overlap(const struct pr_rule_table *t, const struct pr_rule_spec *spec,
			   struct pr_rule_spec *existing);
/*
 * May spec be added to t? The one overlap check, used by pr_rules_add() and by
 * callers that check several rules before changing any. 0 if no rule is in
 * the way. If present is given, the very same rule already there sets it and
 * returns 0 (re-adding a rule is not an error); else that is an overlap too.
 * An overlap returns -1 with err naming the rule in the way.
 */
int pr_rule_table_check_add(const struct pr_rule_table *t, const struct pr_rule_spec *spec,
			    bool *present, struct pr_errbuf *err);
/* The rule that owns (proto, port), if any. */
bool pr_rule_table_get(const struct pr_rule_table *t, enum pr_proto proto, uint16_t port,
		       struct pr_rule_spec *rule);
void pr_rule_table_set(struct pr_rule_table *t, const struct pr_rule_spec *spec);
void pr_rule_table_unset(struct pr_rule_table *t, const struct pr_rule_spec *spec);
/* Calls fn for every rule in (proto, first port) order; stops on nonzero. */
int pr_rule_table_foreach(const struct pr_rule_table *t,
			  int (*fn)(const struct pr_rule_spec *rule, void *ctx), void *ctx);
size_t pr_rule_table_count(const struct pr_rule_table *t);

/* The map entry for one port of a rule. */
struct pr_rule pr_rule_encode(const struct pr_rule_spec *spec, uint16_t port);

/* Map operations. rules_fd is pr_rules, stats_fd pr_rule_stats (may be -1). */
int pr_rules_read(int rules_fd, struct pr_rule_table *t, struct pr_errbuf *err);
/*
 * Checks spec against the map's current rules and writes it. Refuses
 * overlaps naming the existing rule. Resets the rule's counters first, so a
 * rule re-added starts from zero (what they held moves to the totals'
 * retired slot, lib/totals.h; stats_fd -1: no counters).
 */
int pr_rules_add(int rules_fd, int stats_fd, const struct pr_rule_spec *spec,
		 struct pr_errbuf *err);
/*
 * Removes the rule that exactly matches spec (spec->to 0 matches any
 * target); its counts move to the totals' retired slot (stats_fd -1: none).
 */
int pr_rules_remove(int rules_fd, int stats_fd, const struct pr_rule_spec *spec,
		    struct pr_errbuf *err);
/* Reads the entries of ports first..last (1..65535) of proto into out, in one batch. */
int pr_rules_read_range(int rules_fd, enum pr_proto proto, unsigned int first, unsigned int last,
			struct pr_rule *out, struct pr_errbuf *err);
/* Writes n entries (keys[i] <- vals[i]) in one batch; says how many got written. */
int pr_rules_write_batch(int rules_fd, __u32 *keys, struct pr_rule *vals, __u32 n,
			 struct pr_errbuf *err);
/* Writes the given ports' entries of spec (or zeros when clear) in one batch. */
int pr_rules_write_entries(int rules_fd, const struct pr_rule_spec *spec, bool clear,
			   struct pr_errbuf *err);

#endif /* PR_RULES_H */
