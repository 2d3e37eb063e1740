/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scoped rules: a rule limited to some interfaces (--interface, by name) and
 * to a destination address or prefix (--dst). This file is the pure model:
 * parsing and printing a scope, the precedence between scopes, and compiling
 * the scoped rules into the per-port sets the data path scans. The map side
 * is in scope_maps.h.
 *
 * Precedence, most specific first: interface and address, then address, then
 * interface, then the unscoped rule; among address scopes of the same kind a
 * longer prefix wins. Two rules of the same protocol and scope may not share
 * a port; rules of different scopes may.
 */
#ifndef PR_SCOPE_USER_H
#define PR_SCOPE_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bpf/portredir_abi.h"
#include "errbuf.h"
#include "rules.h"

/* Every scoped rule, indexed by id (slot 0 is never used). */
struct pr_scope_table {
	struct pr_scope_rule r[PR_MAX_SCOPED_RULES];
};

/* The sets compiled from a table: set_of[PR_RULE_KEY()] is 1..n_sets or 0. */
struct pr_scope_compiled {
	uint16_t set_of[PR_RULE_SLOTS];
	struct pr_scope_set sets[PR_SCOPE_SETS];
	unsigned int n_sets; /* sets[1..n_sets] are used */
};

/* "198.51.100.7", "198.51.100.0/24", "2001:db8::7/64": into rule's address fields. */
int pr_scope_parse_dst(const char *s, struct pr_scope_rule *rule, struct pr_errbuf *err);
/* An interface name as the kernel would accept it (it need not exist yet). */
int pr_scope_parse_ifname(const char *s, struct pr_scope_rule *rule, struct pr_errbuf *err);
/* The destination as given, masked: "198.51.100.7" or "198.51.100.0/24" ("" if none). */
void pr_scope_format_dst(const struct pr_scope_rule *rule, char *buf, size_t len);
/* " on eth0 to 198.51.100.7": the scope part of a rule's description. */
void pr_scope_format_scope(const struct pr_scope_rule *rule, char *buf, size_t len);
/* "tcp 80 -> 8080 on eth0 to 198.51.100.7" */
void pr_scope_format(const struct pr_scope_rule *rule, char *buf, size_t len);

void pr_scope_spec(const struct pr_scope_rule *rule, struct pr_rule_spec *spec);
void pr_scope_from_spec(struct pr_scope_rule *rule, const struct pr_rule_spec *spec);
bool pr_scope_is_scoped(const struct pr_scope_rule *rule);
bool pr_scope_same(const struct pr_scope_rule *a, const struct pr_scope_rule *b);
/* Higher is more specific; equal ranks never both match one packet unless same scope. */
int pr_scope_rank(const struct pr_scope_rule *rule);

/* Finds a used rule of table with rule's protocol and scope whose ports overlap. */
unsigned int pr_scope_table_overlap(const struct pr_scope_table *t,
				    const struct pr_scope_rule *rule);
/* The rule with rule's protocol, scope and first port (and last, and to if nonzero). */
unsigned int pr_scope_table_find(const struct pr_scope_table *t, const struct pr_scope_rule *rule);
/* A free id, 0 if the table is full. */
unsigned int pr_scope_table_free_id(const struct pr_scope_table *t);
size_t pr_scope_table_count(const struct pr_scope_table *t);

/*
 * Compiles the table. A rule with an interface that was absent when last
 * resolved (ifindex 0) is left out: it cannot match until it is resolved.
 * Fails, naming the port, if a port would need more than PR_SCOPE_SET_SIZE
 * entries, or if the sets would not fit.
 */
int pr_scope_compile(const struct pr_scope_table *t, struct pr_scope_compiled *out,
		     struct pr_errbuf *err);

/*
 * Is daddr (network order; IPv4 in the first word; family 4 or 6) inside
 * rule's destination? True where the rule has none.
 */
bool pr_scope_dst_matches(const struct pr_scope_rule *rule, int family, const uint32_t daddr[4]);

/*
 * What the data path does, in userspace, for the fuzzer's model and the
 * tests: the scoped rule the packet would hit, or 0.
 */
unsigned int pr_scope_match(const struct pr_scope_table *t, enum pr_proto proto, uint16_t port,
			    uint32_t ifindex, int family, const uint32_t daddr[4]);

#endif
