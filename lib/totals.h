/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-action totals as users see them. The data path counts a rewrite
 * once, in its rule's counter, and counts in pr_action_stats only the
 * frames no rule counts; the XDP_PASS total is the sum of both. So a rule's
 * counts must outlive the rule: removing it, or resetting its slot for a new
 * rule, moves them to pr_rule_stats' retired slot, and the total never goes
 * back.
 */
#ifndef PR_TOTALS_H
#define PR_TOTALS_H

#include <stdbool.h>

#include "maps.h"
#include "rules.h"

/*
 * Moves the counts in stats_fd's slot key (pr_rule_stats or pr_scope_stats)
 * into the retired slot of pr_rule_stats (rule_stats_fd), and zeroes the
 * slot. The caller holds the state lock. -1 with errno set on failure.
 */
int pr_counter_retire(int rule_stats_fd, int stats_fd, __u32 key);

/*
 * The per-action totals: c[a] and have[a] for each XDP action a. rules is
 * the rule table as read from m->rules (the caller has it already); scoped
 * rules are read here. Takes no lock: a concurrent retire is seen whole
 * (a sequence count, bounded retries).
 */
void pr_action_totals_read(const struct pr_maps *m, const struct pr_rule_table *rules,
			   struct pr_counter c[PR_ACTION_SLOTS], bool have[PR_ACTION_SLOTS]);

#endif
