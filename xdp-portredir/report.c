// SPDX-License-Identifier: GPL-2.0
/*
 * What load and apply say: the sentence about an interface they attached to,
 * one for both, and apply's sentence for each change of its plan.
 */
#include <stdio.h>

#include "config.h"
#include "output.h"
#include "report.h"

void report_loaded(const struct pr_iface_state *st, const char *prefix)
{
	const char *mode = pr_mode_name(pr_mode_of(st->skb_mode));
	char chain[128], line[320];

	pr_chain_format(st->self.chain_actions, chain, sizeof(chain));
	snprintf(line, sizeof(line), "%sloaded on %s (%s mode, priority %u, chain-call %s%s%s%s%s)",
		 prefix, st->name, mode, st->self.priority, chain,
		 st->dispatcher ? ", libxdp dispatcher" : "",
		 st->tc_egress_id ? ", reply translation" : "",
		 st->no_action_totals ? ", no action totals" : "",
		 st->csum_fixup	  ? "" :
		 st->meta_refused ? ", no checksum fix-up" :
				    ", no checksum fix-up needed (hardware NIC)");
	out_note("%s", line);
	out_json_str("text", line);
	out_json_str("interface", st->name);
	out_json_str("mode", mode);
	out_json_u64("priority", st->self.priority);
	out_json_str("chain-call-actions", chain);
	out_json_bool("dispatcher", st->dispatcher);
	out_json_bool("reply-translation", st->tc_egress_id != 0);
	out_json_bool("checksum-fixup", st->csum_fixup);
	out_json_bool("action-totals", !st->no_action_totals);
	if (st->meta_refused)
		out_note(
			"note: the kernel refused xdp-portredir's checksum fix-up in libxdp's "
			"dispatcher (libxdp older than 1.5.5 on a kernel that checks whether an XDP "
			"extension changes packet data), so it runs without: checksums of locally "
			"generated packets forwarded through %s are not fixed up; upgrade libxdp "
			"to 1.5.5 or later and load again.",
			st->name);
	if (!st->dispatcher)
		out_note(
			"note: this kernel refused the libxdp dispatcher, so xdp-portredir is "
			"attached to %s as its only XDP program: no other XDP program can share %s "
			"while it is loaded, and --priority and --chain-call-actions have no effect.",
			st->name, st->name);
}

/* Native <-> skb: the kernel cannot swap those atomically (pr_iface_reload()). */
static bool reload_changes_mode(const struct pr_config_step *st)
{
	return st->iface->mode != PR_MODE_ANY && st->iface->mode != st->old->mode;
}

void report_describe(const struct pr_config_step *st, bool would, char *buf, size_t len)
{
	char what[160];

	switch (st->op) {
	case PR_CONFIG_RULE_DEL:
	case PR_CONFIG_RULE_ADD:
		pr_config_rule_format(&st->rule->spec, &st->rule->scope, what, sizeof(what));
		snprintf(buf, len, "%s rule %s",
			 st->op == PR_CONFIG_RULE_DEL ? (would ? "would remove" : "removed") :
							(would ? "would add" : "added"),
			 what);
		break;
	case PR_CONFIG_DETACH:
		snprintf(buf, len, "%s %s (%s)", would ? "would unload from" : "unloaded from",
			 st->iface->name, st->why);
		break;
	case PR_CONFIG_FLOWS_RESIZE:
		snprintf(buf, len, "%s the flow table: %u -> %u entries",
			 would ? "would remake" : "remade", st->flows[0], st->flows[1]);
		break;
	case PR_CONFIG_ATTACH:
		pr_config_iface_format(st->iface, what, sizeof(what));
		snprintf(buf, len, "%s %s%s%s%s", would ? "would load on" : "loaded on",
			 st->iface->name, what[0] ? " (" : "", what, what[0] ? ")" : "");
		break;
	case PR_CONFIG_RELOAD:
		snprintf(buf, len, "%s %s (%s)%s", would ? "would reload" : "reloaded",
			 st->iface->name, st->why,
			 reload_changes_mode(st) ?
				 ", without a gap (a TC program holds the rewrite while the XDP "
				 "mode changes)" :
				 ", without a gap");
		break;
	}
}

static const char *const op_names[] = {
	[PR_CONFIG_RULE_DEL] = "remove-rule", [PR_CONFIG_RULE_ADD] = "add-rule",
	[PR_CONFIG_DETACH] = "unload",	      [PR_CONFIG_FLOWS_RESIZE] = "resize-flow-table",
	[PR_CONFIG_ATTACH] = "load",	      [PR_CONFIG_RELOAD] = "reload",
};

void report_step(const struct pr_config_step *st, bool would, const struct pr_iface_state *loaded)
{
	char line[384], what[160];

	out_json_obj_begin(NULL);
	out_json_str("action", op_names[st->op]);
	out_json_bool("done", !would);
	if (st->op == PR_CONFIG_RULE_ADD || st->op == PR_CONFIG_RULE_DEL) {
		pr_config_rule_format(&st->rule->spec, &st->rule->scope, what, sizeof(what));
		out_json_str("rule", what);
	} else if (st->op == PR_CONFIG_FLOWS_RESIZE) {
		out_json_u64("from", st->flows[0]);
		out_json_u64("to", st->flows[1]);
	} else if (!loaded) {
		out_json_str("interface", st->iface->name);
	}
	if (loaded) {
		report_loaded(loaded, "");
	} else {
		report_describe(st, would, line, sizeof(line));
		out_note("%s", line);
		out_json_str("text", line);
	}
	out_json_obj_end();
}
