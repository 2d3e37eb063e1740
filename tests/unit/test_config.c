// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration module without a kernel: the parser (values and every
 * FILE:LINE diagnostic), the writer (what it writes parses back to the same
 * configuration) and the planner, from a table of current and wanted states
 * to the steps apply would take, in order.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"

/* Parses text; the diagnostics go to diag (may be NULL). */
static int parse(const char *text, struct pr_config *cfg, char *diag, size_t len)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	FILE *out = diag ? fmemopen(diag, len, "w") : NULL;
	int errors;

	if (diag)
		diag[0] = '\0';
	errors = pr_config_parse(in, "t.conf", cfg, out);
	fclose(in);
	if (out)
		fclose(out);
	return errors;
}

static void parse_values(void)
{
	struct pr_config c;
	char diag[512];
	int e = parse("# comment\n"
		      "flow-table-size 4096\n"
		      "interface lo mode skb priority 20 chain-call-actions pass,drop "
		      "no-reply-translation # trailing\n"
		      "interface eth0\n"
		      "redirect 7999 7998\n"
		      "redirect tcp 8000-8099 9000\n",
		      &c, diag, sizeof(diag));

	if (!check(!e, "parse/valid-file", "%d errors: %s", e, diag))
		return;
	check(c.flow_table_size == 4096 && c.flow_table_line == 2, "parse/flow-table-size",
	      "%u at line %d", c.flow_table_size, c.flow_table_line);
	check(c.n_ifaces == 2 && !strcmp(c.ifaces[0].name, "lo") && c.ifaces[0].line == 3 &&
		      c.ifaces[0].mode == PR_MODE_SKB && c.ifaces[0].priority == 20 &&
		      c.ifaces[0].chain_actions == ((1U << XDP_PASS) | (1U << XDP_DROP)) &&
		      c.ifaces[0].no_reply_translation,
	      "parse/interface-options", "%d interfaces; first %s mode %d priority %ld chain %#x",
	      c.n_ifaces, c.ifaces[0].name, c.ifaces[0].mode, c.ifaces[0].priority,
	      c.ifaces[0].chain_actions);
	check(c.n_ifaces == 2 && c.ifaces[1].mode == PR_MODE_ANY &&
		      c.ifaces[1].priority == PR_CONFIG_PRIORITY_UNSET &&
		      c.ifaces[1].chain_actions == PR_CONFIG_CHAIN_UNSET &&
		      !c.ifaces[1].no_reply_translation,
	      "parse/interface-defaults", "mode %d priority %ld chain %#x", c.ifaces[1].mode,
	      c.ifaces[1].priority, c.ifaces[1].chain_actions);
	/* No protocol: one rule per protocol, both from line 5. */
	check(c.n_rules == 3 && c.rules[0].spec.proto == PR_PROTO_UDP &&
		      c.rules[1].spec.proto == PR_PROTO_TCP && c.rules[1].line == 5 &&
		      c.rules[2].spec.first == 8000 && c.rules[2].spec.last == 8099 &&
		      c.rules[2].spec.to == 9000,
	      "parse/rules", "%d rules", c.n_rules);
	pr_config_free(&c);
}

static const struct {
	const char *name, *text, *diag;
} bad[] = {
	{ "keyword", "bogus 1\n", "t.conf:1: unknown keyword 'bogus'" },
	{ "mode", "\ninterface lo mode fast\n", "t.conf:2: invalid mode 'fast' (expected native or skb)" },
	{ "mode-hw", "interface lo mode hw\n", "t.conf:1: mode hw is not supported: offloaded" },
	{ "priority", "interface lo priority 1001\n", "invalid priority '1001' (expected a number in 0-1000)" },
	{ "chain", "interface lo chain-call-actions pass,jump\n", "invalid chain-call-actions 'pass,jump'" },
	{ "twice", "interface lo\ninterface lo\n", "t.conf:2: interface 'lo' is already listed at line 1" },
	{ "flows-low", "flow-table-size 255\n", "invalid flow-table-size '255' (expected a number in 256-16777216)" },
	{ "flows-twice", "flow-table-size 256\nflow-table-size 512\n", "t.conf:2: 'flow-table-size' is already given at line 1" },
	{ "overlap", "redirect udp 8000-8010 9000\nredirect udp 8005 7000\n", "t.conf:2: rule udp 8005 -> 7000 overlaps rule udp 8000-8010 -> 9000-9010 at line 1" },
	{ "self", "redirect 80 80\n", "t.conf:1: " },
	{ "missing-to", "redirect 80\n", "missing target port after '80'" },
	{ "nul", "interface lo\0x\n", "contains a NUL byte" },
};

static void parse_errors(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pr_config c;
		char diag[1024], name[64];
		/* The NUL case is one byte longer than strlen says. */
		size_t len = strcmp(bad[i].name, "nul") ? strlen(bad[i].text) : 15;
		FILE *in = fmemopen((void *)bad[i].text, len, "r");
		FILE *out = fmemopen(diag, sizeof(diag), "w");
		int e = pr_config_parse(in, "t.conf", &c, out);

		fclose(in);
		fclose(out);
		snprintf(name, sizeof(name), "parse-error/%s", bad[i].name);
		check(e == 1 && strstr(diag, bad[i].diag) && !c.ifaces && !c.rules, name,
		      "%d errors, diagnostics '%s', want '%s'", e, diag, bad[i].diag);
	}
}

static void write_round_trip(void)
{
	const char *text = "flow-table-size 1024\n"
			   "interface lo mode skb priority 20 chain-call-actions drop,pass "
			   "no-reply-translation\n"
			   "interface eth0\n"
			   "redirect udp 7999 7998\n"
			   "redirect tcp 8000-8099 9000\n";
	struct pr_config a, b;
	char out[1024], diag[256];
	FILE *f = fmemopen(out, sizeof(out), "w");

	if (!check(!parse(text, &a, diag, sizeof(diag)), "write/parse-input", "%s", diag))
		return;
	check(!pr_config_write(f, &a, "header line\n"), "write/ok", "write failed");
	fclose(f);
	check(!strncmp(out, "# header line\n", 14), "write/header", "got '%.20s'", out);
	check(!strcmp(out + 14, text), "write/same-text", "got:\n%s", out + 14);
	if (check(!parse(out, &b, diag, sizeof(diag)), "write/parses-back", "%s", diag)) {
		check(b.n_ifaces == a.n_ifaces && b.n_rules == a.n_rules &&
			      b.flow_table_size == a.flow_table_size,
		      "write/same-config", "%d/%d interfaces, %d/%d rules", b.n_ifaces,
		      a.n_ifaces, b.n_rules, a.n_rules);
		pr_config_free(&b);
	}
	pr_config_free(&a);
}

/* A state read from the system: every interface attached and recorded unless said. */
struct iface_status {
	const char *name;
	enum pr_config_iface_status status;
};

static const struct plan_case {
	const char *name;
	const char *have; /* the system, in the file format, with every value given */
	struct iface_status status[2];
	const char *want;
	const char *steps; /* "; "-separated */
} plans[] = {
	{ "nothing", "", {}, "", "" },
	{ "same", "interface lo mode skb priority 5 chain-call-actions pass\nredirect udp 80 81\n",
	  {}, "interface lo\nredirect udp 80 81\n", "" },
	{ "same-explicit", "interface lo mode skb priority 5 chain-call-actions pass\n", {},
	  "interface lo mode skb priority 5 chain-call-actions pass\n", "" },
	{ "rules", "redirect udp 80 81\nredirect udp 90 91\n", {},
	  "redirect udp 90 91\nredirect tcp 80 81\n", "del udp 80 -> 81; add tcp 80 -> 81" },
	{ "rule-target-changed", "redirect udp 80 81\n", {}, "redirect udp 80 82\n",
	  "del udp 80 -> 81; add udp 80 -> 82" },
	{ "load", "", {}, "interface lo mode native\n", "attach lo" },
	{ "unload", "interface lo mode skb priority 5 chain-call-actions pass\n", {}, "",
	  "detach lo (not in the configuration)" },
	{ "mode-changed", "interface lo mode skb priority 5 chain-call-actions pass\n", {},
	  "interface lo mode native\n", "reload lo (mode skb -> native)" },
	{ "priority-changed", "interface lo mode skb priority 10 chain-call-actions pass\n", {},
	  "interface lo\n", "reload lo (priority 10 -> 5)" },
	{ "chain-changed", "interface lo mode skb priority 5 chain-call-actions pass\n", {},
	  "interface lo chain-call-actions drop\n",
	  "reload lo (chain-call-actions pass -> drop)" },
	{ "reply-translation", "interface lo mode skb priority 5 chain-call-actions pass\n", {},
	  "interface lo no-reply-translation\n", "reload lo (reply translation on -> off)" },
	{ "resize", "flow-table-size 65536\ninterface lo mode skb priority 5 chain-call-actions pass\n"
	  "interface eth0 mode native priority 5 chain-call-actions pass\n", {},
	  "flow-table-size 1024\ninterface lo\n",
	  "detach lo (flow table size 65536 -> 1024); detach eth0 (not in the configuration); "
	  "resize 65536 -> 1024; attach lo" },
	{ "size-not-given", "flow-table-size 4096\ninterface lo mode skb priority 5 chain-call-actions pass\n",
	  {}, "interface lo\n", "" },
	{ "size-same", "flow-table-size 4096\n", {}, "flow-table-size 4096\n", "" },
	{ "gone", "interface lo mode skb priority 5 chain-call-actions pass\n",
	  { { "lo", PR_CONFIG_IFACE_GONE } }, "",
	  "detach lo (the interface no longer exists)" },
	{ "detached-wanted", "interface lo mode skb priority 5 chain-call-actions pass\n",
	  { { "lo", PR_CONFIG_IFACE_DETACHED } }, "interface lo\n",
	  "detach lo (recorded, but the program is no longer attached); attach lo" },
	{ "unrecorded", "interface lo mode skb priority 5 chain-call-actions pass\n",
	  { { "lo", PR_CONFIG_IFACE_UNRECORDED } }, "interface lo\n",
	  "detach lo (attached, but not recorded in the pin directory, so it does not use the "
	  "pinned rules); attach lo" },
	{ "order", "redirect udp 80 81\ninterface lo mode skb priority 5 chain-call-actions pass\n",
	  {}, "interface eth0\nredirect tcp 80 81\n",
	  "del udp 80 -> 81; add tcp 80 -> 81; detach lo (not in the configuration); attach eth0" },
};

static void step_text(const struct pr_config_step *s, char *buf, size_t len)
{
	char rule[64];

	switch (s->op) {
	case PR_CONFIG_RULE_DEL:
	case PR_CONFIG_RULE_ADD:
		pr_rule_format(&s->rule->spec, rule, sizeof(rule));
		snprintf(buf, len, "%s %s", s->op == PR_CONFIG_RULE_DEL ? "del" : "add", rule);
		break;
	case PR_CONFIG_DETACH:
		snprintf(buf, len, "detach %s (%s)", s->iface->name, s->why);
		break;
	case PR_CONFIG_FLOWS_RESIZE:
		snprintf(buf, len, "resize %u -> %u", s->flows[0], s->flows[1]);
		break;
	case PR_CONFIG_ATTACH:
		snprintf(buf, len, "attach %s", s->iface->name);
		break;
	case PR_CONFIG_RELOAD:
		snprintf(buf, len, "reload %s (%s)", s->iface->name, s->why);
		break;
	}
}

static void plan_cases(void)
{
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		const struct plan_case *pc = &plans[i];
		struct pr_config have, want;
		struct pr_config_plan plan;
		char name[64], got[1024] = "", diag[256];
		size_t used = 0;

		snprintf(name, sizeof(name), "plan/%s", pc->name);
		if (parse(pc->have, &have, diag, sizeof(diag)) ||
		    parse(pc->want, &want, diag, sizeof(diag))) {
			check(false, name, "case does not parse: %s", diag);
			continue;
		}
		for (int k = 0; k < have.n_ifaces; k++)
			for (int s = 0; s < 2 && pc->status[s].name; s++)
				if (!strcmp(have.ifaces[k].name, pc->status[s].name))
					have.ifaces[k].status = pc->status[s].status;
		if (!check(!pr_config_diff(&want, &have, &plan), name, "out of memory"))
			continue;
		for (int s = 0; s < plan.n && used < sizeof(got); s++) {
			char one[256];

			step_text(&plan.steps[s], one, sizeof(one));
			used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s",
						 s ? "; " : "", one);
		}
		check(!strcmp(got, pc->steps), name, "steps '%s', want '%s'", got, pc->steps);
		pr_config_plan_free(&plan);
		pr_config_free(&have);
		pr_config_free(&want);
	}
}

int main(void)
{
	parse_values();
	parse_errors();
	write_round_trip();
	plan_cases();
	return check_summary();
}
