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
#include "scope_maps.h"

struct redirect_settings {
	unsigned int protos; /* 0: not given */
	bool remove;
	char *ifaces; /* --interface, comma-joined */
	const char *dst;
	const char **args;
	int n_args;
};

static const struct pr_opt redirect_opts[] = {
	{ .name = "proto", .short_name = 'P', .type = PR_OPT_ENUM_LIST,
	  .offset = offsetof(struct redirect_settings, protos), .metavar = "list",
	  .values = pr_proto_values, .help = "Protocols the rule applies to (default udp,tcp)" },
	{ .name = "interface", .short_name = 'i', .type = PR_OPT_STRING_LIST,
	  .offset = offsetof(struct redirect_settings, ifaces), .metavar = "ifname[,...]",
	  .help = "Only on these interfaces (repeatable; they need not exist or be loaded yet)" },
	{ .name = "dst", .short_name = 'd', .type = PR_OPT_STRING,
	  .offset = offsetof(struct redirect_settings, dst), .metavar = "addr[/prefix]",
	  .help = "Only for packets to this IPv4 or IPv6 address or prefix" },
	{ .name = "remove", .short_name = 'r', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct redirect_settings, remove),
	  .help = "Remove the rule instead of adding it (the target port may be omitted)" },
	{ .name = "<port>[-<port>] <to-port>", .type = PR_OPT_ARGS,
	  .offset = offsetof(struct redirect_settings, args),
	  .count_offset = offsetof(struct redirect_settings, n_args), .min = 1, .max = 2,
	  .help = "Packets to <port> go to <to-port>. A range FIRST-LAST goes to a range of the\n"
		  "same length starting at <to-port>: 8000-8099 9000 sends 8000 to 9000 ... 8099\n"
		  "to 9099. Ports are 1-65535; a rule may not send a port to itself or overlap an\n"
		  "existing rule of the same protocol and scope. Rules take effect on the next\n"
		  "packet on every interface xdp-portredir is loaded on (or only those given\n"
		  "with --interface), and may be set before 'load'. Where rules of several\n"
		  "scopes cover a packet, the most specific wins: interface and address, then\n"
		  "address, then interface, then the rule without scope." },
	{ 0 },
};

#define MAX_SCOPED_ARGS 16

/* Splits --interface and applies --dst: one rule per protocol and interface. */
static int scoped_rules(const struct redirect_settings *s, const struct pr_rule_spec *specs,
			int n_specs, struct pr_scope_rule *out, int *n)
{
	struct pr_scope_rule base = { 0 };
	char names[MAX_SCOPED_ARGS][16] = { { 0 } };
	int n_names = 0;
	struct pr_errbuf err;

	if (s->dst && pr_scope_parse_dst(s->dst, &base, &err))
		goto bad;
	if (s->ifaces) {
		char *copy = strdup(s->ifaces), *tok, *save = NULL;

		if (!copy)
			return PR_EXIT_ERROR;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			bool dup = false;

			if (pr_scope_parse_ifname(tok, &base, &err) || n_names == MAX_SCOPED_ARGS) {
				if (n_names == MAX_SCOPED_ARGS)
					snprintf(err.msg, sizeof(err.msg),
						 "at most %d interfaces in one command", MAX_SCOPED_ARGS);
				free(copy);
				goto bad;
			}
			for (int i = 0; i < n_names; i++)
				dup |= !strcmp(names[i], tok);
			if (!dup)
				strcpy(names[n_names++], tok);
		}
		free(copy);
		if (!n_names) {
			snprintf(err.msg, sizeof(err.msg), "--interface needs an interface name");
			goto bad;
		}
	}
	*n = 0;
	for (int i = 0; i < n_specs; i++) {
		for (int j = 0; j < (n_names ? n_names : 1); j++) {
			struct pr_scope_rule *r = &out[(*n)++];

			*r = base;
			memset(r->ifname, 0, sizeof(r->ifname));
			if (n_names)
				strcpy(r->ifname, names[j]);
			pr_scope_from_spec(r, &specs[i]);
		}
	}
	return PR_EXIT_OK;
bad:
	return pr_fail_usage("redirect", "%s", err.msg);
}

/* Says where a scoped rule does not take effect yet. */
static void scoped_notes(const struct pr_maps *maps, const struct pr_scope_rule *r)
{
	struct pr_iface_state *list = NULL;
	struct pr_errbuf ignored;
	bool loaded = false;
	int n = 0;

	if (!r->ifname[0]) {
		if (pr_iface_count_attached(maps, &ignored) == 0)
			printf("note: xdp-portredir is not loaded on any interface yet; the rule "
			       "takes effect once it is ('xdp-portredir load <ifname>')\n");
		return;
	}
	if (!pr_iface_list(maps, &list, &n, &ignored))
		for (int i = 0; i < n; i++)
			loaded |= list[i].attached && !strcmp(list[i].name, r->ifname);
	free(list);
	if (!loaded)
		printf("note: xdp-portredir is not loaded on %s%s; the rule takes effect once it "
		       "is ('xdp-portredir load %s')\n",
		       r->ifname, r->ifindex ? "" : " (no such interface now)", r->ifname);
}

static int redirect_scoped(const struct redirect_settings *s, const struct pr_maps *maps,
			   struct pr_scope_rule *rules, int n)
{
	struct pr_scope_table *t = NULL;
	int ret = PR_EXIT_OK;
	struct pr_errbuf err;
	char desc[160];

	t = malloc(sizeof(*t));
	if (!t || pr_scopes_read(maps, t, &err)) {
		ret = pr_fail("redirect", "%s", t ? err.msg : "out of memory");
		goto out;
	}
	if (s->remove && !s->protos) {
		/* Without --proto, remove wherever the rule exists (if nowhere, say so). */
		int kept = 0;

		for (int i = 0; i < n; i++)
			if (pr_scope_table_find(t, &rules[i]))
				rules[kept++] = rules[i];
		n = kept ? kept : n;
	}
	if (s->remove ? pr_scopes_remove(maps, rules, n, &err) :
			pr_scopes_add(maps, rules, n, &err)) {
		ret = pr_fail("redirect", "%s", err.msg);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		pr_scope_format(&rules[i], desc, sizeof(desc));
		printf("%s rule %s\n", s->remove ? "removed" : "added", desc);
	}
	if (!s->remove && !pr_scopes_read(maps, t, &err)) {
		for (int i = 0; i < n; i++) {
			rules[i].ifindex = t->r[pr_scope_table_find(t, &rules[i])].ifindex;
			if (i == 0 || strcmp(rules[i].ifname, rules[i - 1].ifname))
				scoped_notes(maps, &rules[i]);
		}
	}
out:
	free(t);
	return ret;
}

static int redirect_run(void *p)
{
	struct redirect_settings *s = p;
	unsigned int mask = s->protos ? s->protos : PR_PROTO_MASK_ALL;
	struct pr_scope_rule scoped[MAX_SCOPED_ARGS * PR_NUM_PROTOS];
	struct pr_rule_spec specs[PR_NUM_PROTOS], have;
	struct pr_maps maps = PR_MAPS_INIT;
	struct pr_rule_table *table = NULL;
	int n = 0, n_scoped = 0, done = 0, lock, ret = PR_EXIT_OK, n_there = 0;
	bool had_state;
	struct pr_errbuf err;
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

	if ((s->ifaces || s->dst) && (ret = scoped_rules(s, specs, n, scoped, &n_scoped)))
		return ret;

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

	if (s->ifaces || s->dst) {
		ret = redirect_scoped(s, &maps, scoped, n_scoped);
		goto out;
	}

	/* Check every protocol's rule before changing anything. */
	for (int i = 0; i < n; i++) {
		bool present;

		if (!s->remove && pr_rule_table_check_add(table, &specs[i], &present, &err)) {
			ret = pr_fail("redirect", "%s", err.msg);
			goto out;
		}
		if (!s->remove && present) {
			/* Scripts and config management re-run their commands: not an error. */
			pr_rule_format(&specs[i], desc, sizeof(desc));
			printf("note: rule %s is already there\n", desc);
			specs[i--] = specs[--n];
			n_there++;
			continue;
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
			struct pr_errbuf ignored;

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
