/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scoped rules in the pinned maps: the rules as set (pr_scope_rules), the
 * sets the data path scans (pr_scope_sets) and the scope_set field of the
 * rule entries (pr_rules). Every change rewrites what changed and nothing
 * else, in an order that never shows a packet a half-written set.
 *
 * Interface names are resolved to indexes when a rule is set and again on
 * every load and apply (pr_scopes_refresh): a rule for an interface that does
 * not exist yet waits, and one whose interface was renamed or recreated
 * follows the name at the next refresh.
 */
#ifndef PR_SCOPE_MAPS_H
#define PR_SCOPE_MAPS_H

#include "errbuf.h"
#include "maps.h"
#include "scope.h"

int pr_scopes_read(const struct pr_maps *m, struct pr_scope_table *t, struct pr_errbuf *err);
/* Allocates *t and reads it; the caller frees it (also on failure, NULL then). */
int pr_scopes_read_new(const struct pr_maps *m, struct pr_scope_table **t, struct pr_errbuf *err);
/* Adds (or with remove, removes) one scoped rule given as a spec and a scope. */
int pr_scopes_change(const struct pr_maps *m, const struct pr_rule_spec *spec,
		     const struct pr_scope_rule *scope, bool remove, struct pr_errbuf *err);
/* Looks every interface name up again; returns how many rules changed index. */
int pr_scopes_resolve(struct pr_scope_table *t);
/* Makes the maps say t, where they said old (as read). */
int pr_scopes_commit(const struct pr_maps *m, const struct pr_scope_table *old,
		     const struct pr_scope_table *t, struct pr_errbuf *err);
/*
 * Adds rules[0..n) at once: refuses, changing nothing, if one overlaps a rule
 * of the same protocol and scope (naming it) or if the sets would not fit.
 * Each added rule's counters start from zero.
 */
int pr_scopes_add(const struct pr_maps *m, const struct pr_scope_rule *rules, int n,
		  struct pr_errbuf *err);
/*
 * Removes the rules matching rules[0..n) (same protocol, scope and first
 * port; last and to when nonzero) at once; the removed rules are copied back
 * into rules. Changes nothing if one is missing.
 */
int pr_scopes_remove(const struct pr_maps *m, struct pr_scope_rule *rules, int n,
		     struct pr_errbuf *err);
/* Resolves the interface names again and commits if an index changed. */
int pr_scopes_refresh(const struct pr_maps *m, struct pr_errbuf *err);

#endif
