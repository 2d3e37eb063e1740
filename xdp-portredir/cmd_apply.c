// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-portredir apply: bring the system to the state a configuration file
 * describes. The file is parsed and checked whole, and the interfaces looked
 * up, before anything changes; the changes are the difference between the
 * file and the system (lib/config.c), made under the lock, and undone again
 * if one of them fails.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "config.h"
#include "drain.h"
#include "log.h"
#include "maps.h"
#include "object.h"
#include "output.h"
#include "params.h"
#include "pins.h"
#include "report.h"
#include "rules.h"
#include "state.h"
#include "scope_maps.h"

struct apply_settings {
	bool check;
	bool json;
	long wait;
	const char **files;
	int n_files;
};

static const struct pr_opt apply_opts[] = {
	{ .name = "check",
	  .short_name = 'c',
	  .type = PR_OPT_FLAG,
	  .offset = offsetof(struct apply_settings, check),
	  .help = "Only check the file and show what would change; change nothing" },
	{ .name = "json",
	  .short_name = 'j',
	  .type = PR_OPT_FLAG,
	  .offset = offsetof(struct apply_settings, json),
	  .help = "Print the changes and the result as JSON (errors too, on stderr)" },
	{ .name = "wait",
	  .short_name = 'w',
	  .type = PR_OPT_UINT,
	  .offset = offsetof(struct apply_settings, wait),
	  .metavar = "seconds",
	  .min = 0,
	  .max = 3600,
	  .help = "Wait up to this long for the file's interfaces to appear (at boot; default 0)" },
	{ .name = "<file>",
	  .type = PR_OPT_ARGS,
	  .offset = offsetof(struct apply_settings, files),
	  .count_offset = offsetof(struct apply_settings, n_files),
	  .min = 1,
	  .max = 1,
	  .help = "The configuration to apply ('-' reads standard input); the format is in\n"
		  "xdp-portredir.conf(5), and 'xdp-portredir save' writes it. Interfaces not in\n"
		  "the file are unloaded, rules not in it removed; what already matches is not\n"
		  "touched, so applying a file twice changes nothing the second time. An error\n"
		  "anywhere in the file is reported as FILE:LINE and nothing is applied." },
	{ 0 },
};

/* The parser's messages, one "FILE:LINE: ..." per line, as errors of apply. */
static void complain_lines(char *text)
{
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		pr_complain_at("apply", "%s", l);
}

static int read_config(const char *path, bool json, const char **name, struct pr_config *cfg)
{
	bool std = !strcmp(path, "-");
	FILE *f = std ? stdin : fopen(path, "r"), *diag = stderr;
	char *diag_text = NULL;
	size_t diag_len = 0;
	int errors;

	*name = std ? "<stdin>" : path;
	if (!f) {
		return pr_fail("apply", "cannot read %s: %s", path, strerror(errno));
	}
	/* Under --json the messages become error objects: collect them first. */
	if (json && !(diag = open_memstream(&diag_text, &diag_len)))
		diag = stderr;
	errors = pr_config_parse(f, *name, cfg, diag);
	if (diag != stderr) {
		fclose(diag);
		complain_lines(diag_text);
		free(diag_text);
	}
	if (!std)
		fclose(f);
	if (errors) {
		pr_complain("apply", "%d error%s in %s; nothing applied", errors,
			    errors == 1 ? "" : "s", *name);
		return PR_EXIT_USAGE;
	}
	return PR_EXIT_OK;
}

static int missing_ifaces(const struct pr_config *cfg, const char *name, bool report)
{
	int missing = 0;

	for (int i = 0; i < cfg->n_ifaces; i++) {
		if (if_nametoindex(cfg->ifaces[i].name))
			continue;
		missing++;
		if (report)
			pr_complain_at("apply", "%s:%d: unknown interface '%s' (see 'ip link')",
				       name, cfg->ifaces[i].line, cfg->ifaces[i].name);
	}
	return missing;
}

/* At boot, interfaces may come up after this runs: give them time. */
static void wait_for_ifaces(const struct pr_config *cfg, long seconds)
{
	for (long tries = seconds * 10; tries > 0 && missing_ifaces(cfg, NULL, false); tries--) {
		if (tries == seconds * 10)
			pr_verbose("waiting up to %ld s for interfaces to appear\n", seconds);
		usleep(100000);
	}
}

/* Refuses, before anything changes, an attach libxdp would refuse. */
static int preflight(const struct pr_config_plan *plan, const char *name)
{
	int bad = 0;

	for (int i = 0; i < plan->n; i++) {
		const struct pr_config_iface *w = plan->steps[i].iface;
		struct pr_iface_state now = { 0 };
		enum pr_mode mode;
		struct pr_errbuf err;

		if ((plan->steps[i].op != PR_CONFIG_ATTACH && plan->steps[i].op != PR_CONFIG_RELOAD) ||
		    !w)
			continue;
		mode = w->mode;
		pr_iface_inspect((int)if_nametoindex(w->name), &now);
		if (pr_iface_can_join(&now, &mode, true, &err)) {
			pr_complain_at("apply", "%s:%d: %s", name, w->line, err.msg);
			bad++;
		}
	}
	return bad;
}

static struct pr_load_opts load_opts_of(const struct pr_config_iface *ifc)
{
	struct pr_load_opts o = {
		.mode = ifc->mode,
		.priority = ifc->priority,
		.chain_actions = ifc->chain_actions,
		.no_reply_translation = ifc->no_reply_translation,
		.no_action_totals = ifc->no_action_totals,
	};
	return o;
}

/* What the run came to, for JSON: "applied", "unchanged" or "valid" (--check). */
static const char *result;

/* One carried-out step and what it takes to undo it. */
struct done {
	const struct pr_config_step *step;
	struct pr_iface_state st; /* ATTACH, RELOAD: what was attached */
};

/* Adds or removes a rule of the file, scoped or not. */
static int rule_change(const struct pr_config_rule *r, struct pr_sys *s, bool remove,
		       struct pr_errbuf *err)
{
	if (pr_scope_is_scoped(&r->scope))
		return pr_scopes_change(&s->maps, &r->spec, &r->scope, remove, err);
	if (remove)
		return pr_rule_remove_draining(&s->maps, &r->spec, err);
	return pr_rules_add(s->maps.rules, s->maps.rule_stats, &r->spec, err);
}

static int do_step(const struct pr_config_step *step, struct pr_sys *s, struct done *d,
		   struct pr_errbuf *err)
{
	struct pr_load_opts o;
	bool gapless;

	d->step = step;
	switch (step->op) {
	case PR_CONFIG_RULE_DEL:
		return rule_change(step->rule, s, true, err);
	case PR_CONFIG_RULE_ADD:
		return rule_change(step->rule, s, false, err);
	case PR_CONFIG_DETACH:
		return pr_iface_detach(&s->list[step->iface->ref], s->have_maps ? &s->maps : NULL,
				       err);
	case PR_CONFIG_FLOWS_RESIZE:
		return pr_maps_remake_flows(&s->maps, step->flows[1], err);
	case PR_CONFIG_ATTACH:
		o = load_opts_of(step->iface);
		return pr_iface_attach(step->iface->name, &o, &s->maps, &d->st, err);
	case PR_CONFIG_RELOAD:
		o = load_opts_of(step->iface);
		return pr_iface_reload(step->iface->name, &o, &s->maps, &d->st, &gapless, err);
	}
	return 0;
}

static int undo_step(const struct done *d, struct pr_sys *s, struct pr_errbuf *err)
{
	const struct pr_config_step *step = d->step;
	struct pr_iface_state again;
	struct pr_load_opts o;
	bool gapless;

	switch (step->op) {
	case PR_CONFIG_RULE_DEL:
		/* Comes back with its counters at zero. */
		return rule_change(step->rule, s, false, err);
	case PR_CONFIG_RULE_ADD:
		return rule_change(step->rule, s, true, err);
	case PR_CONFIG_DETACH:
		/* Stale records were only forgotten; there is nothing to put back. */
		if (step->iface->status != PR_CONFIG_IFACE_OK &&
		    step->iface->status != PR_CONFIG_IFACE_UNRECORDED)
			return 0;
		o = load_opts_of(step->iface);
		return pr_iface_attach(step->iface->name, &o, &s->maps, &again, err);
	case PR_CONFIG_FLOWS_RESIZE:
		return pr_maps_remake_flows(&s->maps, step->flows[0], err);
	case PR_CONFIG_ATTACH:
		return pr_iface_detach(&d->st, &s->maps, err);
	case PR_CONFIG_RELOAD:
		o = load_opts_of(step->old);
		return pr_iface_reload(step->old->name, &o, &s->maps, &again, &gapless, err);
	}
	return 0;
}

static int carry_out(const struct pr_config_plan *plan, struct pr_sys *s, const char *name)
{
	struct done *done = calloc((size_t)plan->n, sizeof(*done));
	int n_done = 0, failures = 0, ret;
	struct pr_errbuf err;
	char line[384];

	if (!done)
		return pr_fail("apply", "out of memory");
	for (; n_done < plan->n; n_done++) {
		const struct pr_config_step *step = &plan->steps[n_done];
		const int at = step->op == PR_CONFIG_ATTACH || step->op == PR_CONFIG_RELOAD ?
				       step->iface->line :
			       step->op == PR_CONFIG_RULE_ADD ? step->rule->line :
								0;

		if (do_step(step, s, &done[n_done], &err)) {
			if (at)
				pr_complain_at("apply", "%s:%d: %s", name, at, err.msg);
			else
				pr_complain("apply", "%s", err.msg);
			break;
		}
		report_step(step, false, step->op == PR_CONFIG_ATTACH ? &done[n_done].st : NULL);
	}
	if (n_done == plan->n) {
		free(done);
		/* Scoped rules follow their interfaces' names (recreated ones too). */
		if (s->maps.scope_rules >= 0 && pr_scopes_refresh(&s->maps, &err))
			return pr_fail("apply", "%s", err.msg);
		return PR_EXIT_OK;
	}
	/* All or nothing: take back what this run changed, newest first. */
	for (int i = n_done - 1; i >= 0; i--) {
		if (undo_step(&done[i], s, &err)) {
			report_describe(done[i].step, false, line, sizeof(line));
			pr_complain("apply", "could not undo '%s': %s", line, err.msg);
			failures++;
		}
	}
	if (failures)
		ret = pr_fail("apply",
			      "%s was applied in part; 'xdp-portredir status' shows what is in "
			      "place",
			      name);
	else
		ret = pr_fail("apply", "nothing applied%s",
			      n_done ? " (the changes made before the failure were undone)" : "");
	free(done);
	return ret;
}

static int check_only(const struct pr_config *want, const char *name)
{
	struct pr_config_plan plan;
	struct pr_sys s;
	struct pr_errbuf err;
	int bad;

	if (pr_sys_read(&s, &err)) {
		out_note("%s: the configuration is valid (the current state cannot be read: %s)",
			 name, err.msg);
		result = "valid";
		return PR_EXIT_OK;
	}
	if (pr_config_diff(want, &s.cfg, &plan)) {
		pr_sys_release(&s);
		return pr_fail("apply", "out of memory");
	}
	bad = preflight(&plan, name);
	for (int i = 0; i < plan.n; i++)
		report_step(&plan.steps[i], true, NULL);
	if (!bad) {
		out_note("%s: the configuration is valid; %s", name,
			 plan.n ? "applying it would make the changes above" :
				  "the system already matches it");
		result = plan.n ? "valid" : "unchanged";
	}
	pr_config_plan_free(&plan);
	pr_sys_release(&s);
	return bad ? PR_EXIT_ERROR : PR_EXIT_OK;
}

static int apply(const struct apply_settings *s)
{
	struct pr_config want = { 0 };
	struct pr_config_plan plan = { 0 };
	struct pr_sys sys = PR_SYS_INIT;
	bool had_state, empty;
	const char *name;
	struct pr_errbuf err;
	int ret, lock;

	ret = read_config(s->files[0], s->json, &name, &want);
	if (ret)
		return ret;
	empty = !want.n_ifaces && !want.n_rules;
	if (s->wait)
		wait_for_ifaces(&want, s->wait);
	if (missing_ifaces(&want, name, true)) {
		pr_config_free(&want);
		return pr_fail("apply", "nothing applied");
	}
	if (s->check) {
		ret = check_only(&want, name);
		pr_config_free(&want);
		return ret;
	}

	if (pr_bpffs_ensure(&err)) {
		pr_config_free(&want);
		return pr_fail("apply", "%s", err.msg);
	}
	lock = pr_lock(30, &err);
	if (lock < 0) {
		pr_config_free(&want);
		return pr_fail("apply", "%s", err.msg);
	}
	had_state = pr_state_exists();
	if (pr_sys_read(&sys, &err)) {
		ret = pr_fail("apply", "%s", err.msg);
		goto out;
	}
	if (pr_config_diff(&want, &sys.cfg, &plan)) {
		ret = pr_fail("apply", "out of memory");
		goto out;
	}
	if (preflight(&plan, name)) {
		ret = pr_fail("apply", "nothing applied");
		goto out;
	}
	if (!plan.n) {
		/* Even so, scoped rules follow a recreated interface's new index. */
		if (sys.have_maps && pr_scopes_refresh(&sys.maps, &err)) {
			ret = pr_fail("apply", "%s", err.msg);
			goto out;
		}
		out_note("nothing to change: the system already matches %s", name);
		result = "unchanged";
		goto out;
	}
	if (!empty && !sys.have_maps) {
		if (pr_maps_create(&sys.maps, want.flow_table_size, &err)) {
			ret = pr_fail("apply", "%s", err.msg);
			goto out;
		}
		sys.have_maps = true;
	}
	ret = carry_out(&plan, &sys, name);
	if (sys.have_maps && sys.maps.flows >= 0 && pr_drain_refresh(&sys.maps, &err))
		pr_complain("apply", "%s", err.msg);
	if (!ret) {
		out_note("applied %s: %d change%s", name, plan.n, plan.n == 1 ? "" : "s");
		result = "applied";
	}
out:
	pr_config_plan_free(&plan);
	pr_sys_release(&sys);
	/*
	 * No pins when nothing is wanted, when a failed run found none, or when
	 * only the lock made the directory.
	 */
	if (((!ret && empty) || (ret && !had_state) || !pr_state_exists()) && pr_pin_dir_exists() &&
	    pr_pins_remove(&err))
		pr_complain("apply", "%s", err.msg);
	pr_unlock(lock);
	pr_config_free(&want);
	return ret;
}

/*
 * Text: one line per change and a closing sentence. JSON: one document,
 * {"file", "check", "changes": [...], "result"}, from the same calls
 * (report_step() and the out_note()s beside each result).
 */
static int apply_run(void *p)
{
	struct apply_settings *s = p;
	int ret;

	out_init(stdout, s->json);
	out_json_obj_begin(NULL);
	out_json_str("file", strcmp(s->files[0], "-") ? s->files[0] : "<stdin>");
	out_json_bool("check", s->check);
	out_json_arr_begin("changes");
	result = NULL;
	ret = apply(s);
	out_json_arr_end();
	out_json_str("result", ret || !result ? "failed" : result);
	out_json_obj_end();
	out_finish();
	return ret;
}

const struct pr_cmd pr_cmd_apply = {
	.name = "apply",
	.summary = "Bring interfaces and rules to the state a configuration file describes",
	.description =
		"Load, reload and unload interfaces and add and remove rules until the system\n"
		"matches the configuration file exactly (see xdp-portredir.conf(5)). The\n"
		"whole file is checked before anything changes, and a change that fails\n"
		"undoes the ones made before it.",
	.opts = apply_opts,
	.settings_size = sizeof(struct apply_settings),
	.run = apply_run,
};
