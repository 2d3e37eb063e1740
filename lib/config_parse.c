// SPDX-License-Identifier: GPL-2.0
/* Reading a configuration file: syntax and values, with FILE:LINE diagnostics. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

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
	unsigned long v;

	if (pr_parse_uint(s, 0, PR_PRIORITY_MAX, &v))
		return false;
	*out = (long)v;
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
	bool seen_mode = false, seen_prio = false, seen_chain = false, seen_noreply = false,
	     seen_nototals = false;
	int errors = p->errors;

	if (n < 2) {
		perr(p, "'interface' needs an interface name: interface NAME [mode native|skb] "
			"[priority N] [chain-call-actions LIST] [no-reply-translation] "
			"[no-action-totals]");
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
		if (!strcmp(opt, "no-action-totals")) {
			if (seen_nototals)
				perr(p, "'%s' is given twice", opt);
			seen_nototals = ifc.no_action_totals = true;
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
			     "chain-call-actions, no-reply-translation or no-action-totals)",
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
	cfg->ifaces = pr_config_grow(cfg->ifaces, cfg->n_ifaces, sizeof(*cfg->ifaces));
	if (!cfg->ifaces) {
		cfg->n_ifaces = 0;
		perr(p, "out of memory");
		return;
	}
	cfg->ifaces[cfg->n_ifaces++] = ifc;
}

static void parse_flow_table_size(struct parser *p, char **tok, int n)
{
	unsigned long v;

	if (n != 2) {
		perr(p,
		     n < 2 ? "'flow-table-size' needs a number of entries" :
			     "too many arguments starting at '%s'",
		     n < 2 ? "" : tok[2]);
		return;
	}
	if (pr_parse_uint(tok[1], PR_FLOW_TABLE_MIN, PR_FLOW_TABLE_MAX, &v)) {
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

static int add_rule(struct parser *p, const struct pr_rule_spec *spec,
		    const struct pr_scope_rule *scope)
{
	struct pr_config *cfg = p->cfg;
	struct pr_errbuf err;
	char a[160], b[160];

	if (pr_rule_validate(spec, &err)) {
		perr(p, "%s", err.msg);
		return -1;
	}
	for (int i = 0; i < cfg->n_rules; i++) {
		if (!rules_overlap(spec, &cfg->rules[i].spec) ||
		    !pr_scope_same(scope, &cfg->rules[i].scope))
			continue;
		pr_config_rule_format(spec, scope, a, sizeof(a));
		pr_config_rule_format(&cfg->rules[i].spec, &cfg->rules[i].scope, b, sizeof(b));
		if (cfg->rules[i].line == p->line)
			perr(p, "rule %s overlaps rule %s on the same line", a, b);
		else
			perr(p, "rule %s overlaps rule %s at line %d", a, b, cfg->rules[i].line);
		return -1;
	}
	cfg->rules = pr_config_grow(cfg->rules, cfg->n_rules, sizeof(*cfg->rules));
	if (!cfg->rules) {
		cfg->n_rules = 0;
		perr(p, "out of memory");
		return -1;
	}
	cfg->rules[cfg->n_rules].spec = *spec;
	cfg->rules[cfg->n_rules].scope = *scope;
	cfg->rules[cfg->n_rules].line = p->line;
	cfg->n_rules++;
	return 0;
}

static void parse_redirect(struct parser *p, char **tok, int n)
{
	unsigned int mask = PR_PROTO_MASK_ALL;
	struct pr_scope_rule base = { 0 };
	char names[16][IF_NAMESIZE];
	struct pr_errbuf err;
	int arg = 1, n_names;

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
	/* Scope words may follow the ports: interface NAME[,NAME], dst ADDR[/PREFIX]. */
	n_names = pr_config_parse_scope(tok + arg + 2, n - arg - 2, &base, names, 16, &err);
	if (n_names < 0) {
		perr(p, "%s", err.msg);
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
		for (int i = 0; i < (n_names ? n_names : 1); i++) {
			memset(base.ifname, 0, sizeof(base.ifname));
			if (n_names)
				pr_scope_parse_ifname(names[i], &base, &err);
			/* One message per line, not one per protocol. */
			if (add_rule(p, &spec, &base))
				return;
		}
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
