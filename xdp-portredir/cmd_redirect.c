// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir redirect: add or remove a rule in the pinned rule table. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "commands.h"
#include "drain.h"
#include "maps.h"
#include "params.h"
#include "pins.h"
#include "rules.h"

struct redirect_settings {
	unsigned int protos; /* 0: not given */
	bool remove;
	const char **args;
	int n_args;
};

static const struct pr_opt redirect_opts[] = {
	{ .name = "proto", .short_name = 'P', .type = PR_OPT_ENUM_LIST,
	  .offset = offsetof(struct redirect_settings, protos), .metavar = "list",
	  .values = pr_proto_values, .help = "Protocols the rule applies to (default udp,tcp)" },
	{ .name = "remove", .short_name = 'r', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct redirect_settings, remove),
	  .help = "Remove the rule instead of adding it (the target port may be omitted)" },
	{ .name = "<port>[-<port>] <to-port>", .type = PR_OPT_ARGS,
	  .offset = offsetof(struct redirect_settings, args),
	  .count_offset = offsetof(struct redirect_settings, n_args), .min = 1, .max = 2,
	  .help = "Packets to <port> go to <to-port>. A range FIRST-LAST goes to a range of the\n"
		  "same length starting at <to-port>: 8000-8099 9000 sends 8000 to 9000 ... 8099\n"
		  "to 9099. Ports are 1-65535; a rule may not send a port to itself or overlap an\n"
		  "existing rule of the same protocol. Rules take effect on the next packet on\n"
		  "every interface xdp-portredir is loaded on, and may be set before 'load'." },
	{ 0 },
};

static int redirect_run(void *p)
{
	struct redirect_settings *s = p;
	unsigned int mask = s->protos ? s->protos : PR_PROTO_MASK_ALL;
	struct pr_rule_spec specs[PR_NUM_PROTOS], have;
	struct pr_maps maps = PR_MAPS_INIT;
	struct pr_rule_table *table = NULL;
	int n = 0, done = 0, lock, ret = PR_EXIT_OK, n_there = 0;
	bool had_state;
	struct pr_err err;
	char desc[80];

	if (!s->remove && s->n_args != 2) {
		return pr_fail_usage("redirect", "missing <to-port>");
	}
	for (int proto = 0; proto < PR_NUM_PROTOS; proto++) {
		if (!(mask & PR_PROTO_MASK(proto)))
			continue;
		if (pr_rule_parse(s->args[0], s->n_args > 1 ? s->args[1] : NULL, proto, &specs[n],
				  &err) ||
		    (!s->remove && pr_rule_validate(&specs[n], &err))) {
			return pr_fail_usage("redirect", "%s", err.msg);
		}
		n++;
	}

	if (pr_bpffs_ensure(&err))
		return pr_fail("redirect", "%s", err.msg);
	lock = pr_lock(30, &err);
	if (lock < 0)
		return pr_fail("redirect", "%s", err.msg);
	had_state = pr_state_exists();
	table = malloc(sizeof(*table));
	if (!table) {
		ret = pr_fail("redirect", "out of memory");
		goto out;
	}
	if (pr_maps_create(&maps, 0, &err) || pr_rules_read(maps.rules, table, &err)) {
		ret = pr_fail("redirect", "%s", err.msg);
		goto out;
	}

	/* Check every protocol's rule before changing anything. */
	for (int i = 0; i < n; i++) {
		char other[80];

		pr_rule_format(&specs[i], desc, sizeof(desc));
		if (!s->remove && pr_rule_table_overlap(table, &specs[i], &have) &&
		    pr_rule_spec_eq(&have, &specs[i])) {
			/* Scripts and config management re-run their commands: not an error. */
			printf("note: rule %s is already there\n", desc);
			specs[i--] = specs[--n];
			n_there++;
			continue;
		}
		if (!s->remove && pr_rule_table_overlap(table, &specs[i], &have)) {
			pr_rule_format(&have, other, sizeof(other));
			ret = pr_fail("redirect",
				      "rule %s overlaps existing rule %s; remove that one first",
				      desc, other);
			goto out;
		}
		if (s->remove && !pr_rule_table_get(table, specs[i].proto, specs[i].first, &have) &&
		    !s->protos) {
			/* Without --proto, remove wherever the rule exists. */
			specs[i--] = specs[--n];
			continue;
		}
	}

	for (done = 0; done < n; done++) {
		int r = s->remove ? pr_rule_remove_draining(&maps, &specs[done], &err) :
				    pr_rules_add(maps.rules, maps.rule_stats, &specs[done], &err);

		if (r) {
			ret = pr_fail("redirect", "%s", err.msg);
			break;
		}
	}
	if (ret != PR_EXIT_OK) {
		/* Undo the protocols already changed by this command. */
		for (int i = 0; i < done; i++) {
			struct pr_err ignored;

			if (s->remove) {
				pr_rule_table_get(table, specs[i].proto, specs[i].first, &have);
				pr_rules_write_entries(maps.rules, &have, false, &ignored);
			} else {
				pr_rules_write_entries(maps.rules, &specs[i], true, &ignored);
			}
		}
		goto out;
	}
	if (n && pr_drain_refresh(&maps, &err))
		pr_complain("redirect", "%s", err.msg);
	for (int i = 0; i < n; i++) {
		if (s->remove)
			pr_rule_table_get(table, specs[i].proto, specs[i].first, &specs[i]);
		pr_rule_format(&specs[i], desc, sizeof(desc));
		printf("%s rule %s\n", s->remove ? "removed" : "added", desc);
	}
	if (n == 0 && n_there) {
		/* Every rule asked for is in place: success, nothing changed. */
	} else if (n == 0) {
		ret = pr_fail("redirect", "no udp or tcp rule for port %s", s->args[0]);
	} else if (!s->remove && pr_iface_count_attached(&maps, &err) == 0) {
		printf("note: xdp-portredir is not loaded on any interface yet; the rule takes "
		       "effect once it is ('xdp-portredir load <ifname>')\n");
	}
out:
	free(table);
	pr_maps_close(&maps);
	/* Nothing was set before and nothing got set: leave no empty pins. */
	if (ret != PR_EXIT_OK && !had_state && pr_pins_remove(&err))
		pr_complain("redirect", "%s", err.msg);
	pr_unlock(lock);
	return ret;
}

const struct pr_cmd pr_cmd_redirect = {
	.name = "redirect",
	.summary = "Add or remove a port redirect rule",
	.description = "Add a rule that rewrites the destination port of matching UDP/TCP packets,\n"
		       "or remove one with --remove.",
	.opts = redirect_opts,
	.settings_size = sizeof(struct redirect_settings),
	.run = redirect_run,
};
