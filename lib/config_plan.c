// SPDX-License-Identifier: GPL-2.0
/* The steps from the configuration the system has to the one wanted. */
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "config_impl.h"

static long eff_priority(const struct pr_config_iface *ifc)
{
	return ifc->priority == PR_CONFIG_PRIORITY_UNSET ? PR_DEFAULT_PRIORITY : ifc->priority;
}

static unsigned int eff_chain(const struct pr_config_iface *ifc)
{
	return ifc->chain_actions == PR_CONFIG_CHAIN_UNSET ? PR_CHAIN_OBJECT : ifc->chain_actions;
}

/* Says what differs between a wanted and a running interface; empty if nothing. */
static void iface_diff(const struct pr_config_iface *want, const struct pr_config_iface *have,
		       char *buf, size_t len)
{
	char a[96], b[96];
	size_t used = 0;

#define ADD(...)                                                                                  \
	do {                                                                                      \
		if (used < len)                                                                   \
			used += (size_t)snprintf(buf + used, len - used, "%s", used ? ", " : ""); \
		if (used < len)                                                                   \
			used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__);            \
	} while (0)

	buf[0] = '\0';
	if (want->mode != PR_MODE_ANY && want->mode != have->mode)
		ADD("mode %s -> %s", pr_mode_name(have->mode), pr_mode_name(want->mode));
	if (eff_priority(want) != have->priority)
		ADD("priority %ld -> %ld", have->priority, eff_priority(want));
	if (eff_chain(want) != have->chain_actions) {
		pr_chain_format(have->chain_actions, a, sizeof(a));
		pr_chain_format(eff_chain(want), b, sizeof(b));
		ADD("chain-call-actions %s -> %s", a, b);
	}
	if (want->no_reply_translation != have->no_reply_translation)
		ADD("reply translation %s -> %s", have->no_reply_translation ? "off" : "on",
		    want->no_reply_translation ? "off" : "on");
	if (want->no_action_totals != have->no_action_totals)
		ADD("action totals %s -> %s", have->no_action_totals ? "off" : "on",
		    want->no_action_totals ? "off" : "on");
#undef ADD
}

static struct pr_config_step *add_step(struct pr_config_plan *plan, enum pr_config_op op)
{
	struct pr_config_step *s;

	plan->steps = pr_config_grow(plan->steps, plan->n, sizeof(*plan->steps));
	if (!plan->steps) {
		plan->n = 0;
		return NULL;
	}
	s = &plan->steps[plan->n++];
	memset(s, 0, sizeof(*s));
	s->op = op;
	return s;
}

static bool same_rule(const struct pr_rule_spec *a, const struct pr_rule_spec *b)
{
	return a->proto == b->proto && a->first == b->first && a->last == b->last && a->to == b->to;
}

static bool has_rule(const struct pr_config *cfg, const struct pr_config_rule *r)
{
	for (int i = 0; i < cfg->n_rules; i++)
		if (same_rule(&cfg->rules[i].spec, &r->spec) &&
		    pr_scope_same(&cfg->rules[i].scope, &r->scope))
			return true;
	return false;
}

static const struct pr_config_iface *find_iface(const struct pr_config *cfg, const char *name,
						bool only_ok)
{
	for (int i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, name) &&
		    (!only_ok || cfg->ifaces[i].status == PR_CONFIG_IFACE_OK))
			return &cfg->ifaces[i];
	return NULL;
}

int pr_config_diff(const struct pr_config *want, const struct pr_config *have,
		   struct pr_config_plan *plan)
{
	struct pr_config_step *s;
	char why[sizeof(s->why)];
	/* The table is shared and sized when made: every interface lets go of it first. */
	bool resize = want->flow_table_size && have->flow_table_size &&
		      want->flow_table_size != have->flow_table_size;

	memset(plan, 0, sizeof(*plan));
	for (int i = 0; i < have->n_rules; i++) {
		if (has_rule(want, &have->rules[i]))
			continue;
		if (!(s = add_step(plan, PR_CONFIG_RULE_DEL)))
			goto nomem;
		s->rule = &have->rules[i];
	}
	for (int i = 0; i < want->n_rules; i++) {
		if (has_rule(have, &want->rules[i]))
			continue;
		if (!(s = add_step(plan, PR_CONFIG_RULE_ADD)))
			goto nomem;
		s->rule = &want->rules[i];
	}
	for (int i = 0; i < have->n_ifaces; i++) {
		const struct pr_config_iface *h = &have->ifaces[i];
		const struct pr_config_iface *w = find_iface(want, h->name, false);

		if (h->status != PR_CONFIG_IFACE_OK)
			snprintf(why, sizeof(why), "%s", pr_config_status_reason(h->status));
		else if (!w)
			snprintf(why, sizeof(why), "not in the configuration");
		else
			iface_diff(w, h, why, sizeof(why));
		if (!why[0] && resize)
			snprintf(why, sizeof(why), "flow table size %u -> %u",
				 have->flow_table_size, want->flow_table_size);
		if (!why[0])
			continue;
		/* Still wanted, with other settings: swapped in place (no gap). */
		if (!(s = add_step(plan, h->status == PR_CONFIG_IFACE_OK && w && !resize ?
						 PR_CONFIG_RELOAD :
						 PR_CONFIG_DETACH)))
			goto nomem;
		s->iface = s->op == PR_CONFIG_RELOAD ? w : h;
		s->old = h;
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
	if (resize) {
		if (!(s = add_step(plan, PR_CONFIG_FLOWS_RESIZE)))
			goto nomem;
		s->flows[0] = have->flow_table_size;
		s->flows[1] = want->flow_table_size;
	}
	for (int i = 0; i < want->n_ifaces; i++) {
		const struct pr_config_iface *w = &want->ifaces[i];
		const struct pr_config_iface *h = find_iface(have, w->name, true);

		if (h && !resize)
			continue; /* it matches, or the loop above reloads it */
		if (!(s = add_step(plan, PR_CONFIG_ATTACH)))
			goto nomem;
		s->iface = w;
	}
	return 0;
nomem:
	pr_config_plan_free(plan);
	return -1;
}

void pr_config_plan_free(struct pr_config_plan *plan)
{
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}
