// SPDX-License-Identifier: GPL-2.0
/*
 * What the parser, the writer and the planner share: the configuration's
 * memory, the system's state read as a configuration, and how an
 * interface's settings and status are put in words.
 */
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

void *pr_config_grow(void *array, int n, size_t size)
{
	void *bigger;

	if (n > 8 && (n & (n - 1)))
		return array;
	bigger = realloc(array, (size_t)(n < 8 ? 8 : 2 * n) * size);
	if (!bigger)
		free(array);
	return bigger;
}

void pr_config_free(struct pr_config *cfg)
{
	free(cfg->ifaces);
	free(cfg->rules);
	memset(cfg, 0, sizeof(*cfg));
}

static int collect_rule(const struct pr_rule_spec *rule, void *ctx)
{
	struct pr_config *cfg = ctx;

	cfg->rules = pr_config_grow(cfg->rules, cfg->n_rules, sizeof(*cfg->rules));
	if (!cfg->rules) {
		cfg->n_rules = 0;
		return -1;
	}
	memset(&cfg->rules[cfg->n_rules], 0, sizeof(cfg->rules[0]));
	cfg->rules[cfg->n_rules].spec = *rule;
	cfg->n_rules++;
	return 0;
}

int pr_config_from_state(const struct pr_iface_state *list, int n,
			 const struct pr_rule_table *table, unsigned int flow_table_size,
			 struct pr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flow_table_size = flow_table_size;
	for (int i = 0; i < n; i++) {
		const struct pr_iface_state *st = &list[i];
		struct pr_config_iface ifc = {
			.priority = PR_CONFIG_PRIORITY_UNSET,
			.chain_actions = PR_CONFIG_CHAIN_UNSET,
			.ref = i,
		};

		snprintf(ifc.name, sizeof(ifc.name), "%s", st->name);
		ifc.mode = pr_mode_of(st->skb_mode);
		if (st->attached) {
			ifc.priority = st->self.priority;
			ifc.chain_actions = st->self.chain_actions;
			ifc.no_reply_translation = !st->tc_egress_id;
			ifc.no_action_totals = st->no_action_totals;
			ifc.status = st->recorded ? PR_CONFIG_IFACE_OK : PR_CONFIG_IFACE_UNRECORDED;
		} else {
			ifc.status = st->exists ? PR_CONFIG_IFACE_DETACHED : PR_CONFIG_IFACE_GONE;
		}
		cfg->ifaces = pr_config_grow(cfg->ifaces, cfg->n_ifaces, sizeof(*cfg->ifaces));
		if (!cfg->ifaces) {
			cfg->n_ifaces = 0;
			goto nomem;
		}
		cfg->ifaces[cfg->n_ifaces++] = ifc;
	}
	if (table && pr_rule_table_foreach(table, collect_rule, cfg))
		goto nomem;
	return 0;
nomem:
	pr_config_free(cfg);
	return -1;
}

void pr_config_iface_format(const struct pr_config_iface *ifc, char *buf, size_t len)
{
	char chain[96];
	size_t used = 0;

	buf[0] = '\0';
	if (ifc->mode != PR_MODE_ANY)
		used += (size_t)snprintf(buf + used, len - used, " mode %s", pr_mode_name(ifc->mode));
	if (used < len && ifc->priority != PR_CONFIG_PRIORITY_UNSET)
		used += (size_t)snprintf(buf + used, len - used, " priority %ld", ifc->priority);
	if (used < len && ifc->chain_actions != PR_CONFIG_CHAIN_UNSET) {
		pr_chain_format(ifc->chain_actions, chain, sizeof(chain));
		used += (size_t)snprintf(buf + used, len - used, " chain-call-actions %s", chain);
	}
	if (used < len && ifc->no_reply_translation)
		used += (size_t)snprintf(buf + used, len - used, " no-reply-translation");
	if (used < len && ifc->no_action_totals)
		snprintf(buf + used, len - used, " no-action-totals");
	/* Callers print it after the name, so drop the leading blank. */
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
}

const char *pr_config_status_reason(enum pr_config_iface_status s)
{
	switch (s) {
	case PR_CONFIG_IFACE_UNRECORDED:
		return "attached, but not recorded in the pin directory, so it does not use the "
		       "pinned rules";
	case PR_CONFIG_IFACE_DETACHED:
		return "recorded, but the program is no longer attached";
	case PR_CONFIG_IFACE_GONE:
		return "the interface no longer exists";
	default:
		return "";
	}
}
