// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-portredir poll: per-rule packet and byte rates, every interval, for the
 * unscoped rules and then the scoped ones (as status lists them).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "maps.h"
#include "output.h"
#include "params.h"
#include "pins.h"
#include "rules.h"
#include "scope.h"
#include "scope_maps.h"

struct poll_settings {
	long interval_ms;
	long count;
	bool json;
};

static const struct pr_opt poll_opts[] = {
	{ .name = "interval", .short_name = 'i', .type = PR_OPT_UINT,
	  .offset = offsetof(struct poll_settings, interval_ms), .metavar = "ms", .min = 10,
	  .max = 3600000, .help = "Time between reports in milliseconds (default 1000)" },
	{ .name = "count", .short_name = 'n', .type = PR_OPT_UINT,
	  .offset = offsetof(struct poll_settings, count), .metavar = "n", .min = 0,
	  .max = 1000000000, .help = "Stop after n reports (default 0: until interrupted)" },
	{ .name = "json", .short_name = 'j', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct poll_settings, json),
	  .help = "Print one JSON object per report and line" },
	{ 0 },
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void poll_defaults(void *p)
{
	struct poll_settings *s = p;

	s->interval_ms = 1000;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Previous counter sums, indexed like the counters: by the rule's first port,
 * and for scoped rules by id, with the rule they were read for (an id may be
 * reused by another rule between two reports).
 */
struct poll_state {
	int stats_fd;
	const struct pr_maps *maps;
	double elapsed;
	struct pr_counter *prev;
	struct pr_counter *scope_prev;
	struct pr_scope_rule *scope_seen;
	struct pr_scope_table *scopes;
};

static void rates(const char *desc, const char *ifname, const char *dst,
		  const struct pr_counter *c, const struct pr_counter *prev, double elapsed)
{
	out_obj_begin(NULL);
	out_label("rule", desc);
	if (ifname)
		out_json_str("interface", ifname);
	if (dst)
		out_json_str("dst", dst);
	out_u64("pps", (unsigned long long)((double)(c->packets - prev->packets) / elapsed + 0.5));
	out_u64("bps", (unsigned long long)((double)(c->bytes - prev->bytes) * 8 / elapsed + 0.5));
	out_u64("packets", c->packets);
	out_obj_end();
}

/* Scoped rules' counters into prev (remember) or reported against it. */
static void scoped_rules(struct poll_state *ps, bool report)
{
	struct pr_errbuf err;

	/* Pins of a release before scoped rules: there are none. */
	if (ps->maps->scope_rules < 0 || ps->maps->scope_stats < 0 ||
	    pr_scopes_read(ps->maps, ps->scopes, &err))
		return;
	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
		const struct pr_scope_rule *r = &ps->scopes->r[id];
		struct pr_counter c;
		char desc[160], dst[64];

		if (!r->used || pr_counter_read(ps->maps->scope_stats, id, &c))
			continue;
		/* New since the last report (or another rule on a reused id). */
		if (memcmp(&ps->scope_seen[id], r, sizeof(*r))) {
			ps->scope_seen[id] = *r;
			/* A rule new since the last report counts from zero. */
			memset(&ps->scope_prev[id], 0, sizeof(ps->scope_prev[id]));
			if (!report)
				ps->scope_prev[id] = c;
		}
		if (report) {
			pr_scope_format(r, desc, sizeof(desc));
			pr_scope_format_dst(r, dst, sizeof(dst));
			rates(desc, r->ifname, dst, &c, &ps->scope_prev[id], ps->elapsed);
		}
		ps->scope_prev[id] = c;
	}
}

static int report_rule(const struct pr_rule_spec *r, void *p)
{
	struct poll_state *ps = p;
	__u32 key = PR_RULE_KEY(r->proto, r->first);
	struct pr_counter c, *prev = &ps->prev[key];
	char desc[80];

	if (pr_counter_read(ps->stats_fd, key, &c))
		return 0;
	pr_rule_format(r, desc, sizeof(desc));
	rates(desc, "", "", &c, prev, ps->elapsed);
	*prev = c;
	return 0;
}

static int remember_rule(const struct pr_rule_spec *r, void *p)
{
	struct poll_state *ps = p;
	__u32 key = PR_RULE_KEY(r->proto, r->first);

	pr_counter_read(ps->stats_fd, key, &ps->prev[key]);
	return 0;
}

static int poll_run(void *p)
{
	struct poll_settings *s = p;
	struct pr_maps maps = PR_MAPS_INIT;
	struct pr_rule_table *table = malloc(sizeof(*table));
	struct poll_state ps = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int ret = PR_EXIT_OK;
	struct pr_errbuf err;
	double last;

	ps.prev = calloc(PR_RULE_SLOTS, sizeof(*ps.prev));
	ps.scope_prev = calloc(PR_MAX_SCOPED_RULES, sizeof(*ps.scope_prev));
	ps.scope_seen = calloc(PR_MAX_SCOPED_RULES, sizeof(*ps.scope_seen));
	ps.scopes = malloc(sizeof(*ps.scopes));
	ps.maps = &maps;
	if (!table || !ps.prev || !ps.scope_prev || !ps.scope_seen || !ps.scopes) {
		ret = pr_fail("poll", "out of memory");
		goto out;
	}
	if (pr_maps_open(&maps, &err)) {
		ret = pr_fail("poll", "%s", err.msg);
		goto out;
	}
	ps.stats_fd = maps.rule_stats;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (pr_rules_read(maps.rules, table, &err)) {
		ret = pr_fail("poll", "%s", err.msg);
		goto out;
	}
	pr_rule_table_foreach(table, remember_rule, &ps);
	scoped_rules(&ps, false);
	last = now_s();
	out_init(stdout, s->json);
	for (long i = 0; !stop && (!s->count || i < s->count); i++) {
		struct timespec ts = { s->interval_ms / 1000, (s->interval_ms % 1000) * 1000000L };
		double t;

		/* A signal cuts the sleep short; the loop then ends without a report. */
		if (nanosleep(&ts, NULL) && errno == EINTR && stop)
			break;
		if (pr_rules_read(maps.rules, table, &err)) {
			ret = pr_fail("poll", "%s", err.msg);
			break;
		}
		t = now_s();
		ps.elapsed = t - last > 0 ? t - last : 1e-9;
		last = t;
		out_init(stdout, s->json);
		out_obj_begin(NULL);
		out_u64("time-ms", (unsigned long long)(t * 1000));
		out_arr_begin("rules");
		pr_rule_table_foreach(table, report_rule, &ps);
		scoped_rules(&ps, true);
		out_arr_end();
		out_obj_end();
		out_finish();
	}
out:
	free(table);
	free(ps.prev);
	free(ps.scope_prev);
	free(ps.scope_seen);
	free(ps.scopes);
	pr_maps_close(&maps);
	return ret;
}

const struct pr_cmd pr_cmd_poll = {
	.name = "poll",
	.summary = "Print per-rule packet rates until interrupted",
	.description = "Print each rule's packets/s and bits/s every interval until interrupted\n"
		       "(Ctrl-C ends it cleanly with status 0): the rules without scope, then the\n"
		       "scoped ones, named as status names them ('tcp 80 -> 8080 on eth0').",
	.opts = poll_opts,
	.settings_size = sizeof(struct poll_settings),
	.defaults = poll_defaults,
	.run = poll_run,
};
