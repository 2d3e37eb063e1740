// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "config.h"

#define MAX_TOKENS 16

struct parser {
	const char *name;
	FILE *diag;
	int line;
	int errors;
	struct pr_config *cfg;
};

__attribute__((format(printf, 2, 3))) static void perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	p->errors++;
	if (!p->diag || p->errors > PR_CONFIG_MAX_ERRORS)
		return;
	if (p->line)
		fprintf(p->diag, "%s:%d: ", p->name, p->line);
	else
		fprintf(p->diag, "%s: ", p->name);
	va_start(ap, fmt);
	vfprintf(p->diag, fmt, ap);
	va_end(ap);
	fputc('\n', p->diag);
	if (p->errors == PR_CONFIG_MAX_ERRORS)
		fprintf(p->diag, "%s: too many errors, not reporting more\n", p->name);
}

/*
 * Makes room for element n of an array of n elements, doubling from 8. On
 * failure the array is freed and NULL returned: callers reset their count.
 */
static void *grow(void *array, int n, size_t size)
{
	void *bigger;

	if (n > 8 && (n & (n - 1)))
		return array;
	bigger = realloc(array, (size_t)(n < 8 ? 8 : 2 * n) * size);
	if (!bigger)
		free(array);
	return bigger;
}

/* What the kernel's dev_valid_name() accepts. */
static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static bool parse_priority(const char *s, long *out)
{
	long v = 0;

	if (!*s || strlen(s) > 4)
		return false;
	for (const char *c = s; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return false;
		v = v * 10 + (*c - '0');
	}
	if (v > PR_PRIORITY_MAX)
		return false;
	*out = v;
	return true;
}

static void parse_interface(struct parser *p, char **tok, int n)
{
	struct pr_config *cfg = p->cfg;
	struct pr_config_iface ifc = {
		.line = p->line,
		.priority = PR_CONFIG_PRIORITY_UNSET,
		.chain_actions = PR_CONFIG_CHAIN_UNSET,
		.ref = -1,
	};
	bool seen_mode = false, seen_prio = false, seen_chain = false, seen_noreply = false;
	int errors = p->errors;

	if (n < 2) {
		perr(p, "'interface' needs an interface name: interface NAME [mode native|skb] "
			"[priority N] [chain-call-actions LIST] [no-reply-translation]");
		return;
	}
	if (!valid_ifname(tok[1])) {
		perr(p, "invalid interface name '%s' (1-%d characters, no '/', ':' or blanks)",
		     tok[1], IF_NAMESIZE - 1);
		return;
	}
	snprintf(ifc.name, sizeof(ifc.name), "%s", tok[1]);
	for (int i = 0; i < cfg->n_ifaces; i++) {
		if (!strcmp(cfg->ifaces[i].name, ifc.name)) {
			perr(p, "interface '%s' is already listed at line %d", ifc.name,
			     cfg->ifaces[i].line);
			return;
		}
	}

	for (int i = 2; i < n; i++) {
		const char *opt = tok[i];
		bool *seen;

		if (!strcmp(opt, "no-reply-translation")) {
			if (seen_noreply)
				perr(p, "'%s' is given twice", opt);
			seen_noreply = ifc.no_reply_translation = true;
			continue;
		}
		if (!strcmp(opt, "mode"))
			seen = &seen_mode;
		else if (!strcmp(opt, "priority"))
			seen = &seen_prio;
		else if (!strcmp(opt, "chain-call-actions"))
			seen = &seen_chain;
		else {
			perr(p,
			     "unknown interface option '%s' (expected mode, priority, "
			     "chain-call-actions or no-reply-translation)",
			     opt);
			return;
		}
		if (i + 1 >= n) {
			perr(p, "'%s' needs a value", opt);
			return;
		}
		if (*seen)
			perr(p, "'%s' is given twice", opt);
		*seen = true;
		i++;
		if (seen == &seen_mode) {
			const struct pr_enum_val *v = pr_mode_values;

			while (v->name && strcmp(v->name, tok[i]))
				v++;
			ifc.mode = v->name ? (enum pr_mode)v->value : PR_MODE_ANY;
			if (ifc.mode == PR_MODE_HW)
				perr(p, "mode hw is not supported: %s; use native or skb",
				     pr_mode_hw_refused);
			else if (!v->name)
				perr(p, "invalid mode '%s' (expected native or skb)", tok[i]);
		} else if (seen == &seen_prio) {
			if (!parse_priority(tok[i], &ifc.priority))
				perr(p, "invalid priority '%s' (expected a number in 0-%d)",
				     tok[i], PR_PRIORITY_MAX);
		} else if (pr_chain_parse(tok[i], &ifc.chain_actions)) {
			perr(p,
			     "invalid chain-call-actions '%s' (a comma-separated list of: "
			     "none, aborted, drop, pass, tx, redirect)",
			     tok[i]);
		}
	}
	if (p->errors != errors)
		return;
	if (cfg->n_ifaces >= PR_MAX_IFACES) {
		perr(p, "more than %d interfaces", PR_MAX_IFACES);
		return;
	}
	cfg->ifaces = grow(cfg->ifaces, cfg->n_ifaces, sizeof(*cfg->ifaces));
	if (!cfg->ifaces) {
		cfg->n_ifaces = 0;
		perr(p, "out of memory");
		return;
	}
	cfg->ifaces[cfg->n_ifaces++] = ifc;
}

static void parse_flow_table_size(struct parser *p, char **tok, int n)
{
	unsigned long v = 0;
	const char *c;

	if (n != 2) {
		perr(p,
		     n < 2 ? "'flow-table-size' needs a number of entries" :
			     "too many arguments starting at '%s'",
		     n < 2 ? "" : tok[2]);
		return;
	}
	for (c = tok[1]; *c && v <= PR_FLOW_TABLE_MAX; c++) {
		if (!isdigit((unsigned char)*c))
			break;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (*c || c == tok[1] || v < PR_FLOW_TABLE_MIN || v > PR_FLOW_TABLE_MAX) {
		perr(p, "invalid flow-table-size '%s' (expected a number in %d-%d)", tok[1],
		     PR_FLOW_TABLE_MIN, PR_FLOW_TABLE_MAX);
		return;
	}
	if (p->cfg->flow_table_line) {
		perr(p, "'flow-table-size' is already given at line %d", p->cfg->flow_table_line);
		return;
	}
	p->cfg->flow_table_size = (unsigned int)v;
	p->cfg->flow_table_line = p->line;
}

static bool rules_overlap(const struct pr_rule_spec *a, const struct pr_rule_spec *b)
{
	return a->proto == b->proto && a->first <= b->last && b->first <= a->last;
}

static int add_rule(struct parser *p, const struct pr_rule_spec *spec)
{
	struct pr_config *cfg = p->cfg;
	struct pr_err err;
	char a[64], b[64];

	if (pr_rule_validate(spec, &err)) {
		perr(p, "%s", err.msg);
		return -1;
	}
	for (int i = 0; i < cfg->n_rules; i++) {
		if (!rules_overlap(spec, &cfg->rules[i].spec))
			continue;
		pr_rule_format(spec, a, sizeof(a));
		pr_rule_format(&cfg->rules[i].spec, b, sizeof(b));
		if (cfg->rules[i].line == p->line)
			perr(p, "rule %s overlaps rule %s on the same line", a, b);
		else
			perr(p, "rule %s overlaps rule %s at line %d", a, b, cfg->rules[i].line);
		return -1;
	}
	cfg->rules = grow(cfg->rules, cfg->n_rules, sizeof(*cfg->rules));
	if (!cfg->rules) {
		cfg->n_rules = 0;
		perr(p, "out of memory");
		return -1;
	}
	cfg->rules[cfg->n_rules].spec = *spec;
	cfg->rules[cfg->n_rules].line = p->line;
	cfg->n_rules++;
	return 0;
}

static void parse_redirect(struct parser *p, char **tok, int n)
{
	unsigned int mask = PR_PROTO_MASK_ALL;
	struct pr_err err;
	int arg = 1;

	/* An optional protocol list first, as `redirect --proto` takes it. */
	if (n > 1 && isalpha((unsigned char)tok[1][0]) &&
	    (n > 3 || !pr_rule_parse_protos(tok[1], &mask, NULL))) {
		/* Three words or a valid list: a protocol list; else "abc" is a bad port. */
		if (pr_rule_parse_protos(tok[1], &mask, &err)) {
			perr(p, "%s", err.msg);
			return;
		}
		arg = 2;
	} else {
		mask = PR_PROTO_MASK_ALL;
	}
	if (n - arg < 1) {
		perr(p, "'redirect' needs a port and a target port: "
			"redirect [udp|tcp|udp,tcp] PORT[-PORT] TO-PORT");
		return;
	}
	if (n - arg < 2) {
		perr(p,
		     "missing target port after '%s': "
		     "redirect [udp|tcp|udp,tcp] PORT[-PORT] TO-PORT",
		     tok[arg]);
		return;
	}
	if (n - arg > 2) {
		perr(p, "too many arguments starting at '%s'", tok[arg + 2]);
		return;
	}
	for (int proto = 0; proto < PR_NUM_PROTOS; proto++) {
		struct pr_rule_spec spec;

		if (!(mask & PR_PROTO_MASK(proto)))
			continue;
		if (pr_rule_parse(tok[arg], tok[arg + 1], proto, &spec, &err)) {
			perr(p, "%s", err.msg);
			return;
		}
		/* One message per line, not one per protocol. */
		if (add_rule(p, &spec))
			return;
	}
}

/* Splits line in place at blanks, up to a '#'. Returns the token count. */
static int tokenize(char *line, char **tok)
{
	int n = 0;
	char *c = line;

	for (;;) {
		while (*c && isspace((unsigned char)*c))
			c++;
		if (!*c || *c == '#')
			break;
		if (n == MAX_TOKENS)
			return n + 1;
		tok[n++] = c;
		while (*c && !isspace((unsigned char)*c) && *c != '#')
			c++;
		if (*c == '#') {
			*c = '\0';
			break;
		}
		if (*c)
			*c++ = '\0';
	}
	return n;
}

int pr_config_parse(FILE *in, const char *name, struct pr_config *cfg, FILE *diag)
{
	struct parser p = { .name = name, .diag = diag, .cfg = cfg };
	char *line = NULL, *tok[MAX_TOKENS];
	size_t cap = 0;
	ssize_t len;

	memset(cfg, 0, sizeof(*cfg));
	while ((len = getline(&line, &cap, in)) >= 0) {
		int n;

		p.line++;
		if ((size_t)len != strlen(line)) {
			perr(&p, "the line contains a NUL byte (is this a text file?)");
			continue;
		}
		n = tokenize(line, tok);
		if (!n)
			continue;
		if (n > MAX_TOKENS)
			perr(&p, "too many words (at most %d)", MAX_TOKENS);
		else if (!strcmp(tok[0], "interface"))
			parse_interface(&p, tok, n);
		else if (!strcmp(tok[0], "redirect"))
			parse_redirect(&p, tok, n);
		else if (!strcmp(tok[0], "flow-table-size"))
			parse_flow_table_size(&p, tok, n);
		else
			perr(&p,
			     "unknown keyword '%s' (expected 'interface', 'redirect' or "
			     "'flow-table-size')",
			     tok[0]);
	}
	if (ferror(in)) {
		p.line = 0;
		perr(&p, "read error: %s", strerror(errno));
	}
	free(line);
	if (p.errors)
		pr_config_free(cfg);
	return p.errors;
}

void pr_config_free(struct pr_config *cfg)
{
	free(cfg->ifaces);
	free(cfg->rules);
	memset(cfg, 0, sizeof(*cfg));
}

static int collect_rule(const struct pr_rule_spec *rule, void *ctx)
{
	struct pr_config *cfg = ctx;

	cfg->rules = grow(cfg->rules, cfg->n_rules, sizeof(*cfg->rules));
	if (!cfg->rules) {
		cfg->n_rules = 0;
		return -1;
	}
	cfg->rules[cfg->n_rules].spec = *rule;
	cfg->rules[cfg->n_rules].line = 0;
	cfg->n_rules++;
	return 0;
}

int pr_config_from_state(const struct pr_iface_state *list, int n,
			 const struct pr_rule_table *table, unsigned int flow_table_size,
			 struct pr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flow_table_size = flow_table_size;
	for (int i = 0; i < n; i++) {
		const struct pr_iface_state *st = &list[i];
		struct pr_config_iface ifc = {
			.priority = PR_CONFIG_PRIORITY_UNSET,
			.chain_actions = PR_CONFIG_CHAIN_UNSET,
			.ref = i,
		};

		snprintf(ifc.name, sizeof(ifc.name), "%s", st->name);
		ifc.mode = pr_mode_of(st->skb_mode);
		if (st->attached) {
			ifc.priority = st->self.priority;
			ifc.chain_actions = st->self.chain_actions;
			ifc.no_reply_translation = !st->tc_egress_id;
			ifc.status = st->recorded ? PR_CONFIG_IFACE_OK : PR_CONFIG_IFACE_UNRECORDED;
		} else {
			ifc.status = st->exists ? PR_CONFIG_IFACE_DETACHED : PR_CONFIG_IFACE_GONE;
		}
		cfg->ifaces = grow(cfg->ifaces, cfg->n_ifaces, sizeof(*cfg->ifaces));
		if (!cfg->ifaces) {
			cfg->n_ifaces = 0;
			goto nomem;
		}
		cfg->ifaces[cfg->n_ifaces++] = ifc;
	}
	if (table && pr_rule_table_foreach(table, collect_rule, cfg))
		goto nomem;
	return 0;
nomem:
	pr_config_free(cfg);
	return -1;
}

void pr_config_iface_format(const struct pr_config_iface *ifc, char *buf, size_t len)
{
	char chain[96];
	size_t used = 0;

	buf[0] = '\0';
	if (ifc->mode != PR_MODE_ANY)
		used += (size_t)snprintf(buf + used, len - used, " mode %s", pr_mode_name(ifc->mode));
	if (used < len && ifc->priority != PR_CONFIG_PRIORITY_UNSET)
		used += (size_t)snprintf(buf + used, len - used, " priority %ld", ifc->priority);
	if (used < len && ifc->chain_actions != PR_CONFIG_CHAIN_UNSET) {
		pr_chain_format(ifc->chain_actions, chain, sizeof(chain));
		used += (size_t)snprintf(buf + used, len - used, " chain-call-actions %s", chain);
	}
	if (used < len && ifc->no_reply_translation)
		snprintf(buf + used, len - used, " no-reply-translation");
	/* Callers print it after the name, so drop the leading blank. */
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
}

static const char *status_reason(enum pr_config_iface_status s)
{
	switch (s) {
	case PR_CONFIG_IFACE_UNRECORDED:
		return "attached, but not recorded in the pin directory, so it does not use the "
		       "pinned rules";
	case PR_CONFIG_IFACE_DETACHED:
		return "recorded, but the program is no longer attached";
	case PR_CONFIG_IFACE_GONE:
		return "the interface no longer exists";
	default:
		return "";
	}
}

static void write_rule(FILE *out, const struct pr_rule_spec *r)
{
	if (r->last != r->first)
		fprintf(out, "redirect %s %u-%u %u\n", pr_proto_name(r->proto), r->first, r->last,
			r->to);
	else
		fprintf(out, "redirect %s %u %u\n", pr_proto_name(r->proto), r->first, r->to);
}

int pr_config_write(FILE *out, const struct pr_config *cfg, const char *header)
{
	char opts[256];

	for (const char *h = header; h && *h;) {
		const char *nl = strchr(h, '\n');
		int len = nl ? (int)(nl - h) : (int)strlen(h);

		fprintf(out, "#%s%.*s\n", len ? " " : "", len, h);
		h += len + (nl ? 1 : 0);
	}
	/* The default size goes without saying (and any size satisfies a file without it). */
	if (cfg->flow_table_size && cfg->flow_table_size != PR_FLOW_TABLE_DEFAULT)
		fprintf(out, "flow-table-size %u\n", cfg->flow_table_size);
	for (int i = 0; i < cfg->n_ifaces; i++) {
		const struct pr_config_iface *ifc = &cfg->ifaces[i];

		pr_config_iface_format(ifc, opts, sizeof(opts));
		if (ifc->status == PR_CONFIG_IFACE_DETACHED || ifc->status == PR_CONFIG_IFACE_GONE)
			fprintf(out, "# not saved: interface %s (%s)\n", ifc->name,
				status_reason(ifc->status));
		else
			fprintf(out, "interface %s%s%s\n", ifc->name, opts[0] ? " " : "", opts);
	}
	for (int i = 0; i < cfg->n_rules; i++)
		write_rule(out, &cfg->rules[i].spec);
	fflush(out);
	return ferror(out) ? -1 : 0;
}

static long eff_priority(const struct pr_config_iface *ifc)
{
	return ifc->priority == PR_CONFIG_PRIORITY_UNSET ? PR_DEFAULT_PRIORITY : ifc->priority;
}

static unsigned int eff_chain(const struct pr_config_iface *ifc)
{
	return ifc->chain_actions == PR_CONFIG_CHAIN_UNSET ? PR_CHAIN_OBJECT : ifc->chain_actions;
}

/* Says what differs between a wanted and a running interface; empty if nothing. */
static void iface_diff(const struct pr_config_iface *want, const struct pr_config_iface *have,
		       char *buf, size_t len)
{
	char a[96], b[96];
	size_t used = 0;

#define ADD(...)                                                                                  \
	do {                                                                                      \
		if (used < len)                                                                   \
			used += (size_t)snprintf(buf + used, len - used, "%s", used ? ", " : ""); \
		if (used < len)                                                                   \
			used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__);            \
	} while (0)

	buf[0] = '\0';
	if (want->mode != PR_MODE_ANY && want->mode != have->mode)
		ADD("mode %s -> %s", pr_mode_name(have->mode), pr_mode_name(want->mode));
	if (eff_priority(want) != have->priority)
		ADD("priority %ld -> %ld", have->priority, eff_priority(want));
	if (eff_chain(want) != have->chain_actions) {
		pr_chain_format(have->chain_actions, a, sizeof(a));
		pr_chain_format(eff_chain(want), b, sizeof(b));
		ADD("chain-call-actions %s -> %s", a, b);
	}
	if (want->no_reply_translation != have->no_reply_translation)
		ADD("reply translation %s -> %s", have->no_reply_translation ? "off" : "on",
		    want->no_reply_translation ? "off" : "on");
#undef ADD
}

static struct pr_config_step *add_step(struct pr_config_plan *plan, enum pr_config_op op)
{
	struct pr_config_step *s;

	plan->steps = grow(plan->steps, plan->n, sizeof(*plan->steps));
	if (!plan->steps) {
		plan->n = 0;
		return NULL;
	}
	s = &plan->steps[plan->n++];
	memset(s, 0, sizeof(*s));
	s->op = op;
	return s;
}

static bool same_rule(const struct pr_rule_spec *a, const struct pr_rule_spec *b)
{
	return a->proto == b->proto && a->first == b->first && a->last == b->last && a->to == b->to;
}

static bool has_rule(const struct pr_config *cfg, const struct pr_rule_spec *spec)
{
	for (int i = 0; i < cfg->n_rules; i++)
		if (same_rule(&cfg->rules[i].spec, spec))
			return true;
	return false;
}

static const struct pr_config_iface *find_iface(const struct pr_config *cfg, const char *name,
						bool only_ok)
{
	for (int i = 0; i < cfg->n_ifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, name) &&
		    (!only_ok || cfg->ifaces[i].status == PR_CONFIG_IFACE_OK))
			return &cfg->ifaces[i];
	return NULL;
}

int pr_config_diff(const struct pr_config *want, const struct pr_config *have,
		   struct pr_config_plan *plan)
{
	struct pr_config_step *s;
	char why[sizeof(s->why)];
	/* The table is shared and sized when made: every interface lets go of it first. */
	bool resize = want->flow_table_size && have->flow_table_size &&
		      want->flow_table_size != have->flow_table_size;

	memset(plan, 0, sizeof(*plan));
	for (int i = 0; i < have->n_rules; i++) {
		if (has_rule(want, &have->rules[i].spec))
			continue;
		if (!(s = add_step(plan, PR_CONFIG_RULE_DEL)))
			goto nomem;
		s->rule = &have->rules[i];
	}
	for (int i = 0; i < want->n_rules; i++) {
		if (has_rule(have, &want->rules[i].spec))
			continue;
		if (!(s = add_step(plan, PR_CONFIG_RULE_ADD)))
			goto nomem;
		s->rule = &want->rules[i];
	}
	for (int i = 0; i < have->n_ifaces; i++) {
		const struct pr_config_iface *h = &have->ifaces[i];
		const struct pr_config_iface *w = find_iface(want, h->name, false);

		if (h->status != PR_CONFIG_IFACE_OK)
			snprintf(why, sizeof(why), "%s", status_reason(h->status));
		else if (!w)
			snprintf(why, sizeof(why), "not in the configuration");
		else
			iface_diff(w, h, why, sizeof(why));
		if (!why[0] && resize)
			snprintf(why, sizeof(why), "flow table size %u -> %u",
				 have->flow_table_size, want->flow_table_size);
		if (!why[0])
			continue;
		if (!(s = add_step(plan, PR_CONFIG_DETACH)))
			goto nomem;
		s->iface = h;
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
	if (resize) {
		if (!(s = add_step(plan, PR_CONFIG_FLOWS_RESIZE)))
			goto nomem;
		s->flows[0] = have->flow_table_size;
		s->flows[1] = want->flow_table_size;
	}
	for (int i = 0; i < want->n_ifaces; i++) {
		const struct pr_config_iface *w = &want->ifaces[i];
		const struct pr_config_iface *h = find_iface(have, w->name, true);

		if (h && !resize) {
			iface_diff(w, h, why, sizeof(why));
			if (!why[0])
				continue;
		}
		if (!(s = add_step(plan, PR_CONFIG_ATTACH)))
			goto nomem;
		s->iface = w;
	}
	return 0;
nomem:
	pr_config_plan_free(plan);
	return -1;
}

void pr_config_plan_free(struct pr_config_plan *plan)
{
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}
