// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir unload: take the program off interfaces, and the pins when unused. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "commands.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "pins.h"

struct unload_settings {
	bool keep_maps;
	bool all;
	const char **ifnames;
	int n_ifnames;
};

static const struct pr_opt unload_opts[] = {
	{ .name = "all", .short_name = 'a', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct unload_settings, all),
	  .help = "Unload from every interface, and remove all state" },
	{ .name = "keep-maps", .short_name = 'k', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct unload_settings, keep_maps),
	  .help = "Keep the pinned rules and counters even if no interface uses them" },
	{ .name = "<ifname>...", .type = PR_OPT_ARGS,
	  .offset = offsetof(struct unload_settings, ifnames),
	  .count_offset = offsetof(struct unload_settings, n_ifnames),
	  .help = "Interfaces to unload from (or --all). Other XDP programs on them keep running.\n"
		  "When no interface uses the rules any more they are removed, unless --keep-maps." },
	{ 0 },
};

static struct pr_iface_state *find(struct pr_iface_state *list, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return &list[i];
	return NULL;
}

static int unload_run(void *p)
{
	struct unload_settings *s = p;
	struct pr_maps maps = PR_MAPS_INIT;
	struct pr_iface_state *list = NULL, **todo = NULL;
	int n = 0, n_todo = 0, lock, ret = PR_EXIT_OK, remaining = 0;
	bool have_maps;
	struct pr_err err;

	if (s->all == (s->n_ifnames > 0)) {
		return pr_fail_usage("unload", "give either interface names or --all");
	}
	if (!pr_bpffs_mounted() && s->all) {
		/* No pins can exist; still take our programs off where the kernel shows them. */
		pr_verbose("bpffs is not mounted at %s: no pinned state to remove\n",
			   PR_BPFFS_ROOT);
	} else if (pr_bpffs_ensure(&err)) {
		return pr_fail("unload", "%s", err.msg);
	}
	lock = pr_bpffs_mounted() ? pr_lock(30, &err) : -1;
	if (pr_bpffs_mounted() && lock < 0)
		return pr_fail("unload", "%s", err.msg);
	have_maps = !pr_maps_open(&maps, &err);
	if (pr_iface_list(have_maps ? &maps : NULL, &list, &n, &err)) {
		ret = pr_fail("unload", "%s", err.msg);
		goto out;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, as meant */
	todo = calloc((size_t)n + 1, sizeof(*todo));
	if (!todo) {
		ret = pr_fail("unload", "out of memory");
		goto out;
	}
	if (s->all) {
		/* Not what libxdp cannot look into: nothing of ours is known to be there. */
		for (int i = 0; i < n; i++)
			if (list[i].attached || list[i].recorded || list[i].tc_ingress_id ||
			    list[i].tc_egress_id)
				todo[n_todo++] = &list[i];
	} else {
		/* Check every name before touching anything. */
		for (int i = 0; i < s->n_ifnames; i++) {
			struct pr_iface_state *st = find(list, n, s->ifnames[i]);

			if (!st) {
				ret = pr_fail("unload", "xdp-portredir is not loaded on '%s'%s",
					      s->ifnames[i],
					      if_nametoindex(s->ifnames[i]) ?
						      "" :
						      " (no such interface)");
				goto out;
			}
			todo[n_todo++] = st;
		}
	}
	for (int i = 0; i < n_todo; i++) {
		struct pr_iface_state *st = todo[i];

		if (pr_iface_detach(st, have_maps ? &maps : NULL, &err)) {
			ret = pr_fail("unload", "%s", err.msg);
			goto out;
		}
		if (st->attached)
			printf("xdp-portredir unloaded from %s\n", st->name);
		else
			printf("forgot %s (ifindex %d): %s\n", st->name, st->ifindex,
			       st->exists ? "the program was no longer attached" :
					    "the interface no longer exists");
		st->attached = st->recorded = false;
	}
	for (int i = 0; i < n; i++)
		remaining += list[i].attached || list[i].recorded;
	if (!remaining && !s->keep_maps && pr_pin_dir_exists()) {
		pr_maps_close(&maps);
		if (pr_pins_remove(&err))
			ret = pr_fail("unload", "%s", err.msg);
		else
			pr_verbose("removed %s\n", pr_pin_dir());
	}
out:
	free(todo);
	free(list);
	pr_maps_close(&maps);
	pr_unlock(lock);
	return ret;
}

const struct pr_cmd pr_cmd_unload = {
	.name = "unload",
	.summary = "Detach the program from interfaces",
	.description = "Detach xdp-portredir from interfaces. Only xdp-portredir is removed: other\n"
		       "programs in the same libxdp dispatcher keep running.",
	.opts = unload_opts,
	.settings_size = sizeof(struct unload_settings),
	.run = unload_run,
};
