// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir status: interfaces, rules with counters, per-action totals. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "attach.h"
#include "commands.h"
#include "drain.h"
#include "maps.h"
#include "output.h"
#include "params.h"
#include "pins.h"
#include "rules.h"
#include "state.h"
#include "scope_maps.h"
#include "totals.h"

struct status_settings {
	bool json;
};

static const struct pr_opt status_opts[] = {
	{ .name = "json", .short_name = 'j', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct status_settings, json),
	  .help = "Print JSON (the same information as the text form)" },
	{ 0 },
};

static void chain_array(unsigned int mask)
{
	out_arr_begin("chain-call");
	for (const struct pr_enum_val *v = pr_chain_action_values; v->name; v++)
		if (mask & v->value)
			out_str(NULL, v->name);
	out_arr_end();
}

static const char *iface_state(const struct pr_iface_state *st)
{
	if (st->attached)
		return "loaded";
	if (st->opaque)
		return "unknown";
	if (!st->exists)
		return "interface-gone";
	return "not-attached";
}

static void print_iface(const struct pr_iface_state *st)
{
	out_obj_begin(NULL);
	out_label("name", st->name);
	out_u64("ifindex", (unsigned long long)st->ifindex);
	out_str("state", iface_state(st));
	if (st->attached) {
		out_str("mode", pr_mode_name(pr_mode_of(st->skb_mode)));
		out_bool("dispatcher", st->dispatcher);
		out_u64("priority", st->self.priority);
		chain_array(st->self.chain_actions);
		out_u64("program-id", st->self.id);
		out_str("program", st->self.name);
		out_bool("frags", st->self.frags);
		out_str("tc-attach", st->tc_tcx ? "tcx" : "clsact");
		out_u64("tc-ingress-id", st->tc_ingress_id);
		out_bool("checksum-fixup", st->tc_ingress_id != 0);
		if (!st->tc_ingress_id)
			out_str("checksum-fixup-off",
				st->meta_refused ? "libxdp-dispatcher-older-than-1.5.5" :
				!strcmp(st->self.name, PR_PROG_NAME_NOMETA) ? "hardware-nic" :
									      "tc-ingress-missing");
		out_u64("tc-egress-id", st->tc_egress_id);
		out_bool("reply-translation", st->tc_egress_id != 0);
		out_bool("action-totals", !st->no_action_totals);
		out_arr_begin("other-programs");
		for (int i = 0; i < st->n_others; i++) {
			out_obj_begin(NULL);
			out_label("name", st->others[i].name);
			out_u64("id", st->others[i].id);
			out_u64("priority", st->others[i].priority);
			out_obj_end();
		}
		out_arr_end();
	} else if (st->tc_ingress_id || st->tc_egress_id) {
		/* Left without their XDP program, e.g. by an unload that was killed. */
		out_str("tc-attach", st->tc_tcx ? "tcx" : "clsact");
		out_u64("tc-ingress-id", st->tc_ingress_id);
		out_bool("checksum-fixup", st->tc_ingress_id != 0);
		out_u64("tc-egress-id", st->tc_egress_id);
	}
	out_obj_end();
}

/* Opens a rule's object: its description, then (JSON only) its parts. */
static void rule_fields(const char *desc, const struct pr_rule_spec *r, const char *ifname,
			const char *dst)
{
	out_obj_begin(NULL);
	out_label("rule", desc);
	out_json_str("proto", pr_proto_name(r->proto));
	out_json_u64("first", r->first);
	out_json_u64("last", r->last);
	out_json_u64("to", r->to);
	out_json_u64("to-last", (unsigned long long)r->to + (r->last - r->first));
	out_json_str("interface", ifname);
	out_json_str("dst", dst);
}

struct rule_ctx {
	int stats_fd;
	const struct pr_drain_group *groups;
	int n_groups;
};

/* Flows to the rule's ports that still go where an earlier rule sent them. */
static unsigned long long draining_in(const struct rule_ctx *ctx, const struct pr_rule_spec *r)
{
	unsigned long long n = 0;

	for (int i = 0; i < ctx->n_groups; i++)
		if (ctx->groups[i].proto == r->proto && ctx->groups[i].port >= r->first &&
		    ctx->groups[i].port <= r->last)
			n += ctx->groups[i].flows;
	return n;
}

static int print_rule(const struct pr_rule_spec *r, void *p)
{
	struct rule_ctx *ctx = p;
	struct pr_counter c;
	char desc[80];

	pr_rule_format(r, desc, sizeof(desc));
	pr_counter_read(ctx->stats_fd, PR_RULE_KEY(r->proto, r->first), &c);
	rule_fields(desc, r, "", "");
	out_u64("packets", c.packets);
	out_u64("bytes", c.bytes);
	out_u64("draining-flows", draining_in(ctx, r));
	out_obj_end();
	return 0;
}

/* Every group of draining flows, the removed rules' ones included. */
static void print_draining(const struct pr_drain_group *g, int n)
{
	out_arr_begin("draining");
	for (int i = 0; i < n; i++) {
		char desc[64];

		snprintf(desc, sizeof(desc), "%s %u -> %u", pr_proto_name(g[i].proto), g[i].port,
			 g[i].to);
		out_obj_begin(NULL);
		out_label("flows-of", desc);
		out_json_str("proto", pr_proto_name(g[i].proto));
		out_json_u64("port", g[i].port);
		out_json_u64("to", g[i].to);
		out_u64("flows", g[i].flows);
		out_obj_end();
	}
	out_arr_end();
}

/* Whether a scoped rule's interface is where the rule was last resolved. */
static const char *scope_state(const struct pr_scope_rule *r)
{
	unsigned int now;

	if (!r->ifname[0])
		return "active";
	now = if_nametoindex(r->ifname);
	if (!now)
		return "no-such-interface";
	if (!r->ifindex)
		return "waiting-for-load";
	/* Renamed or recreated since: the next load or apply follows the name. */
	return now == r->ifindex ? "active" : "stale";
}

static void print_scoped_rule(const struct pr_scope_rule *r, unsigned int id, int stats_fd)
{
	struct pr_rule_spec spec;
	struct pr_counter c;
	char desc[160], dst[64];

	pr_scope_format(r, desc, sizeof(desc));
	pr_scope_format_dst(r, dst, sizeof(dst));
	pr_counter_read(stats_fd, id, &c);
	pr_scope_spec(r, &spec);
	rule_fields(desc, &spec, r->ifname, dst);
	if (r->ifname[0]) {
		out_u64("ifindex", r->ifindex);
		out_str("scope-state", scope_state(r));
	}
	out_u64("packets", c.packets);
	out_u64("bytes", c.bytes);
	out_obj_end();
}

static const struct pr_scope_table *sort_table;

static int by_port_then_scope(const void *a, const void *b)
{
	const struct pr_scope_rule *x = &sort_table->r[*(const unsigned int *)a];
	const struct pr_scope_rule *y = &sort_table->r[*(const unsigned int *)b];

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->first != y->first)
		return x->first - y->first;
	if (pr_scope_rank(x) != pr_scope_rank(y))
		return pr_scope_rank(y) - pr_scope_rank(x);
	return strcmp(x->ifname, y->ifname);
}

/* Scoped rules by protocol and first port, the most specific first. */
static int print_scoped_rules(const struct pr_maps *maps)
{
	struct pr_scope_table *t = malloc(sizeof(*t));
	unsigned int ids[PR_MAX_SCOPED_RULES], n = 0;
	struct pr_errbuf err;

	if (!t || pr_scopes_read(maps, t, &err)) {
		free(t);
		return -1;
	}
	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++)
		if (t->r[id].used)
			ids[n++] = id;
	sort_table = t;
	qsort(ids, n, sizeof(ids[0]), by_port_then_scope);
	for (unsigned int i = 0; i < n; i++)
		print_scoped_rule(&t->r[ids[i]], ids[i], maps->scope_stats);
	free(t);
	return 0;
}

static int status_run(void *p)
{
	struct status_settings *s = p;
	bool mounted = pr_bpffs_mounted();
	const struct pr_iface_state *first = NULL, *list;
	int n, ret = PR_EXIT_OK, n_groups = 0;
	struct pr_drain_group *groups = NULL;
	struct pr_counter totals[PR_ACTION_SLOTS];
	bool have_total[PR_ACTION_SLOTS] = { 0 };
	struct pr_errbuf err;
	struct pr_sys sys;

	if (pr_sys_read(&sys, &err))
		return pr_fail("status", "%s", err.msg);
	list = sys.list;
	n = sys.n;
	for (int i = 0; i < n && !first; i++)
		if (list[i].attached || list[i].opaque)
			first = &list[i];
	if (first && (!mounted || (first->opaque && !sys.have_maps))) {
		/* Programs run, but their state is out of reach. */
		if (mounted)
			ret = pr_fail(
				"status",
				"cannot tell whether xdp-portredir is among the XDP programs on "
				"%s: libxdp keeps their dispatcher's state in bpffs, and it is "
				"not in the bpffs at %s (another instance); run status from the "
				"mount namespace they were loaded in",
				first->name, PR_BPFFS_ROOT);
		else if (first->attached)
			ret = pr_fail(
				"status",
				"xdp-portredir is attached to %s, but bpffs is not mounted at %s, "
				"so its rules and counters cannot be read; mount it with: mount -t "
				"bpf bpf %s",
				first->name, PR_BPFFS_ROOT, PR_BPFFS_ROOT);
		else
			ret = pr_fail(
				"status",
				"cannot tell whether xdp-portredir is among the XDP programs on "
				"%s: libxdp keeps their dispatcher's state in bpffs, which is not "
				"mounted at %s; mount it with: mount -t bpf bpf %s",
				first->name, PR_BPFFS_ROOT, PR_BPFFS_ROOT);
		pr_sys_release(&sys);
		return ret;
	}

	out_init(stdout, s->json);
	out_obj_begin(NULL);
	out_str("pin-dir", sys.have_maps ? pr_pin_dir() : "none");
	out_arr_begin("interfaces");
	for (int i = 0; i < n; i++)
		print_iface(&list[i]);
	out_arr_end();

	if (sys.have_maps && pr_drain_groups(&sys.maps, &groups, &n_groups, &err))
		ret = PR_EXIT_ERROR;
	out_arr_begin("rules");
	if (sys.have_maps) {
		struct rule_ctx ctx = { sys.maps.rule_stats, groups, n_groups };

		pr_rule_table_foreach(sys.table, print_rule, &ctx);
		if (print_scoped_rules(&sys.maps))
			ret = PR_EXIT_ERROR;
	}
	out_arr_end();
	print_draining(groups, n_groups);

	if (sys.have_maps) {
		struct pr_flow_census c;
		struct pr_counter replies;

		if (!pr_flow_census(sys.maps.flows, &c, &err)) {
			pr_counter_read(sys.maps.reply_stats, 0, &replies);
			out_obj_begin("flows");
			out_u64("live", c.live);
			out_u64("closing", c.closing);
			out_u64("local-connections", c.local);
			out_u64("entries", c.entries);
			out_u64("capacity", c.capacity);
			out_u64("replies-translated", replies.packets);
			out_obj_end();
		}
	}

	out_arr_begin("actions");
	if (sys.have_maps)
		pr_action_totals_read(&sys.maps, sys.table, totals, have_total);
	for (__u32 a = 0; sys.have_maps && a < PR_ACTION_SLOTS; a++) {
		if (!have_total[a])
			continue;
		out_obj_begin(NULL);
		out_label("action", pr_xdp_action_name(a));
		out_u64("packets", totals[a].packets);
		out_u64("bytes", totals[a].bytes);
		out_obj_end();
	}
	out_arr_end();
	out_obj_end();
	for (int i = 0; i < n; i++) {
		if (list[i].attached && !list[i].dispatcher)
			out_note("note: %s runs xdp-portredir without a libxdp dispatcher (the kernel "
				 "refused it): no other XDP program can share %s.",
				 list[i].name, list[i].name);
		if (!list[i].attached && (list[i].tc_ingress_id || list[i].tc_egress_id))
			out_note("note: %s has xdp-portredir's TC programs but not its XDP program "
				 "(an interrupted load or unload); 'xdp-portredir unload --all' "
				 "removes them.",
				 list[i].name);
		if (list[i].recorded && !list[i].exists)
			out_note("note: interface %s (ifindex %d) is gone; 'xdp-portredir unload "
				 "--all' forgets it.",
				 list[i].name, list[i].ifindex);
	}
	if (!mounted)
		out_note("note: bpffs is not mounted at %s; nothing is loaded.", PR_BPFFS_ROOT);
	out_finish();
	if (ret)
		ret = pr_fail("status", "%s", err.msg);
	free(groups);
	pr_sys_release(&sys);
	return ret;
}

const struct pr_cmd pr_cmd_status = {
	.name = "status",
	.summary = "Show interfaces, rules, and counters",
	.description = "Show every interface xdp-portredir is loaded on (mode, priority, chain-call\n"
		       "actions, dispatcher, the other XDP programs there), every rule with its\n"
		       "packet and byte counters, and the per-action totals.",
	.opts = status_opts,
	.settings_size = sizeof(struct status_settings),
	.run = status_run,
};
