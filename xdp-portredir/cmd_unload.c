// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir unload: take the program off interfaces, and the pins when unused. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "drain.h"
#include "log.h"
#include "maps.h"
#include "params.h"
#include "pins.h"

/* unload --drain without a number, and the systemd unit's stop. */
#define PR_DRAIN_DEFAULT_S 30

struct unload_settings {
	long drain; /* 0: no; -1: the default bound; else seconds */
	bool keep_maps;
	bool all;
	const char **ifnames;
	int n_ifnames;
};

static const struct pr_opt unload_opts[] = {
	{ .name = "all", .short_name = 'a', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct unload_settings, all),
	  .help = "Unload from every interface, and remove all state" },
	{ .name = "drain", .type = PR_OPT_UINT_OPTIONAL, .metavar = "seconds",
	  .offset = offsetof(struct unload_settings, drain), .min = 1, .max = 3600,
	  .help = "Redirect no new flows, wait until the flows already redirected there end\n"
		  "(at most this long; default " PR_STR(PR_DRAIN_DEFAULT_S) " s), then unload" },
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

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static long live_on(const struct pr_maps *m, struct pr_iface_state **todo, int n)
{
	long live = 0;

	for (int i = 0; i < n; i++)
		live += pr_flows_live_on(m->flows, (__u32)todo[i]->ifindex);
	return live;
}

/*
 * unload --drain: the programs on todo take no new flows; wait (bounded)
 * until their redirected flows end. Nonzero if interrupted: the programs
 * are switched back and nothing is unloaded.
 */
static int drain(const struct pr_maps *m, struct pr_iface_state **todo, int n, long seconds)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec start, now;
	long live, last_told = -1;
	struct pr_errbuf err;

	for (int i = 0; i < n; i++)
		if (todo[i]->attached && pr_prog_set_draining(todo[i]->self.id, true, &err))
			pr_complain("unload", "%s: %s; its flows are cut", todo[i]->name, err.msg);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		live = live_on(m, todo, n);
		if (!live || interrupted || now.tv_sec - start.tv_sec >= seconds)
			break;
		/* Progress every 5 s, and at the start. */
		if (last_told < 0 || now.tv_sec - last_told >= 5) {
			printf("draining: %ld live flow%s left, waiting up to %ld s more\n", live,
			       live == 1 ? "" : "s", seconds - (now.tv_sec - start.tv_sec));
			fflush(stdout);
			last_told = now.tv_sec;
		}
		usleep(200000);
	}
	if (interrupted) {
		for (int i = 0; i < n; i++)
			if (todo[i]->attached)
				pr_prog_set_draining(todo[i]->self.id, false, &err);
		return -1;
	}
	if (live)
		printf("drain time is up after %ld s: cutting %ld live flow%s\n", seconds, live,
		       live == 1 ? "" : "s");
	else
		printf("drained: no live flows left\n");
	return 0;
}

static int unload_run(void *p)
{
	struct unload_settings *s = p;
	struct pr_maps maps = PR_MAPS_INIT;
	struct pr_iface_state *list = NULL, **todo = NULL;
	int n = 0, n_todo = 0, lock, ret = PR_EXIT_OK, remaining = 0;
	bool have_maps;
	struct pr_errbuf err;

	if (s->all == (s->n_ifnames > 0)) {
		return pr_fail_usage("unload", "give either interface names or --all");
	}
	/*
	 * Never mount bpffs here: no pins can exist without it, and a failed
	 * unload must leave the system as it was. Programs the kernel shows are
	 * still taken off.
	 */
	if (!pr_bpffs_mounted())
		pr_verbose("bpffs is not mounted at %s: no pinned state to remove\n",
			   PR_BPFFS_ROOT);
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
	if (s->drain && have_maps &&
	    drain(&maps, todo, n_todo, s->drain < 0 ? PR_DRAIN_DEFAULT_S : s->drain)) {
		ret = pr_fail("unload", "interrupted while draining: nothing was unloaded");
		goto out;
	}
	for (int i = 0; i < n_todo; i++) {
		struct pr_iface_state *st = todo[i];
		long cut = have_maps ? pr_flows_live_on(maps.flows, (__u32)st->ifindex) : 0;

		if (pr_iface_detach(st, have_maps ? &maps : NULL, &err)) {
			ret = pr_fail("unload", "%s", err.msg);
			goto out;
		}
		if (have_maps)
			pr_flows_forget(maps.flows, (__u32)st->ifindex);
		if (st->attached && cut)
			printf("xdp-portredir unloaded from %s: cut %ld live flow%s ('unload --drain' "
			       "lets them finish)\n",
			       st->name, cut, cut == 1 ? "" : "s");
		else if (st->attached)
			printf("xdp-portredir unloaded from %s (no live flows)\n", st->name);
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
