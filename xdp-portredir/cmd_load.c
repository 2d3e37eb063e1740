// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir load: attach the program to interfaces. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "log.h"
#include "maps.h"
#include "scope_maps.h"
#include "object.h"
#include "params.h"
#include "pins.h"
#include "output.h"
#include "report.h"

struct load_settings {
	int mode;
	long priority;
	unsigned int chain;
	bool no_reply_translation;
	bool no_action_totals;
	long flow_table_size;
	const char **ifnames;
	int n_ifnames;
};

static const struct pr_opt load_opts[] = {
	{ .name = "mode", .short_name = 'm', .type = PR_OPT_ENUM,
	  .offset = offsetof(struct load_settings, mode), .metavar = "mode", .values = pr_mode_values,
	  .help = "Attach mode; default: the mode of programs already on the interface, else "
		  "native where the driver supports it, skb otherwise. hw is refused" },
	{ .name = "priority", .short_name = 'p', .type = PR_OPT_UINT,
	  .offset = offsetof(struct load_settings, priority), .metavar = "n", .min = 0,
	  .max = PR_PRIORITY_MAX,
	  .help = "Run priority in the libxdp dispatcher; lower runs first (default "
		  PR_STR(PR_DEFAULT_PRIORITY) ", before xdp-filter's 10)" },
	{ .name = "chain-call-actions", .short_name = 'c', .type = PR_OPT_ENUM_LIST,
	  .offset = offsetof(struct load_settings, chain), .metavar = "list",
	  .values = pr_chain_action_values,
	  .help = "Return codes after which the dispatcher runs the next program (default pass)" },
	{ .name = "no-reply-translation", .short_name = 'n', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct load_settings, no_reply_translation),
	  .help = "Rewrite requests only: no TC egress program, replies keep the new port" },
	{ .name = "no-action-totals", .short_name = 'A', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct load_settings, no_action_totals),
	  .help = "Do not count every frame in the per-action totals (status, metrics): "
		  "a miss or a non-IP frame then costs about half. Rule counters stay" },
	{ .name = "flow-table-size", .short_name = 'f', .type = PR_OPT_UINT,
	  .offset = offsetof(struct load_settings, flow_table_size), .metavar = "n",
	  .min = PR_FLOW_TABLE_MIN, .max = PR_FLOW_TABLE_MAX,
	  .help = "Flows remembered for reply translation, shared by all interfaces "
		  "(default " PR_STR(PR_FLOW_TABLE_DEFAULT) ")" },
	{ .name = "<ifname>...", .type = PR_OPT_ARGS,
	  .offset = offsetof(struct load_settings, ifnames),
	  .count_offset = offsetof(struct load_settings, n_ifnames), .min = 1,
	  .help = "Interfaces to load on. All share one rule table. If loading fails on any of\n"
		  "them, the ones already done by this command are unloaded again." },
	{ 0 },
};

static void load_defaults(void *p)
{
	struct load_settings *s = p;

	s->mode = PR_MODE_ANY;
	s->priority = -1;
	s->chain = PR_CHAIN_DEFAULT;
}

/*
 * The flow table is made once and shared; while no interface uses it, its
 * entries are worthless and it can be made again at another size.
 */
static int resize_flow_table(struct pr_maps *m, unsigned int size, struct pr_errbuf *err)
{
	__u32 have = pr_object_pinned_max_entries(pr_pin_dir(), PR_MAP_FLOWS);
	int attached;

	if (!have || have == size)
		return 0;
	attached = pr_iface_count_attached(NULL, err);
	if (attached < 0)
		return -1;
	if (attached)
		return pr_err_set(err,
				  "the flow table already exists with %u entries, shared by every "
				  "interface; unload everywhere first to change --flow-table-size",
				  have);
	return pr_maps_remake_flows(m, size, err);
}

static int load_run(void *p)
{
	struct load_settings *s = p;
	struct pr_iface_state *done;
	struct pr_maps maps = PR_MAPS_INIT;
	struct pr_load_opts o = {
		.mode = (enum pr_mode)s->mode,
		.priority = s->priority,
		.chain_actions = s->chain,
		.no_reply_translation = s->no_reply_translation,
		.no_action_totals = s->no_action_totals,
		.flow_table_size = (unsigned int)s->flow_table_size,
	};
	struct pr_errbuf err;
	int lock, ret = PR_EXIT_OK, n_done = 0;
	bool had_state;

	if (s->mode == PR_MODE_HW)
		return pr_fail_usage(
			"load", "hw mode is not supported: %s; use --mode native or --mode skb",
			pr_mode_hw_refused);
	if (pr_bpffs_ensure(&err))
		return pr_fail("load", "%s", err.msg);
	lock = pr_lock(30, &err);
	if (lock < 0)
		return pr_fail("load", "%s", err.msg);
	had_state = pr_state_exists();
	/* Scoped rules follow their interface's name: resolve it before attaching. */
	if (pr_maps_create(&maps, (unsigned int)s->flow_table_size, &err) ||
	    (s->flow_table_size &&
	     resize_flow_table(&maps, (unsigned int)s->flow_table_size, &err)) ||
	    pr_scopes_refresh(&maps, &err)) {
		ret = pr_fail("load", "%s", err.msg);
		goto out;
	}
	done = calloc((size_t)s->n_ifnames, sizeof(*done));
	for (int i = 0; done && i < s->n_ifnames; i++) {
		if (pr_iface_attach(s->ifnames[i], &o, &maps, &done[n_done], &err)) {
			ret = pr_fail("load", "%s", err.msg);
			break;
		}
		n_done++;
	}
	if (!done)
		ret = pr_fail("load", "out of memory");
	if (ret != PR_EXIT_OK) {
		/* All or nothing: take back what this command attached. */
		for (int i = n_done - 1; i >= 0; i--) {
			if (pr_iface_detach(&done[i], &maps, &err))
				pr_complain("load", "could not undo %s: %s", done[i].name, err.msg);
			else
				pr_complain("load", "unloaded %s again", done[i].name);
		}
	} else {
		out_init(stdout, false);
		for (int i = 0; i < n_done; i++)
			report_loaded(&done[i], "xdp-portredir ");
		out_finish();
	}
	free(done);
out:
	pr_maps_close(&maps);
	/* A failed load leaves no pins behind that were not there before. */
	if (ret != PR_EXIT_OK && !had_state && pr_pins_remove(&err))
		pr_complain("load", "%s", err.msg);
	pr_unlock(lock);
	return ret;
}

const struct pr_cmd pr_cmd_load = {
	.name = "load",
	.summary = "Attach the port-redirect program to interfaces",
	.description = "Attach the port-redirect program to one or more interfaces through libxdp,\n"
		       "so it runs in a dispatcher beside other XDP programs (xdp-filter, ...) where\n"
		       "the kernel supports one. Rules ('xdp-portredir redirect') apply on every\n"
		       "interface it is loaded on.",
	.opts = load_opts,
	.settings_size = sizeof(struct load_settings),
	.defaults = load_defaults,
	.run = load_run,
};
