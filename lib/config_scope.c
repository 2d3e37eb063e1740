// SPDX-License-Identifier: GPL-2.0
/* The configuration file's scoped rules: parsing, naming and reading them back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

void pr_config_rule_format(const struct pr_rule_spec *spec, const struct pr_scope_rule *scope,
			   char *buf, size_t len)
{
	char r[64], sc[96];

	pr_rule_format(spec, r, sizeof(r));
	pr_scope_format_scope(scope, sc, sizeof(sc));
	snprintf(buf, len, "%s%s", r, sc);
}

/*
 * The scope words after a rule's ports: "interface eth0[,eth1]" and
 * "dst ADDR[/PREFIX]", each at most once. Fills base (the address) and
 * names (the interfaces, at most max); returns the number of names or -1.
 */
int pr_config_parse_scope(char **tok, int n, struct pr_scope_rule *base, char names[][IF_NAMESIZE],
			  int max, struct pr_errbuf *err)
{
	int n_names = 0;
	bool dst = false;

	for (int i = 0; i < n; i += 2) {
		if (i + 1 >= n || (strcmp(tok[i], "interface") && strcmp(tok[i], "dst"))) {
			return pr_err_set(err, "too many arguments starting at '%s' (after the ports "
					       "only 'interface IFNAME[,...]' and 'dst ADDR[/PREFIX]' "
					       "may follow)",
					  tok[i]);
		}
		if (!strcmp(tok[i], "dst")) {
			if (dst)
				return pr_err_set(err, "'dst' is given twice");
			if (pr_scope_parse_dst(tok[i + 1], base, err))
				return -1;
			dst = true;
			continue;
		}
		if (n_names)
			return pr_err_set(err, "'interface' is given twice: list the interfaces with "
					       "commas");
		for (char *save = NULL, *name = strtok_r(tok[i + 1], ",", &save); name;
		     name = strtok_r(NULL, ",", &save)) {
			if (n_names == max)
				return pr_err_set(err, "too many interfaces (at most %d)", max);
			if (pr_scope_parse_ifname(name, base, err))
				return -1;
			snprintf(names[n_names++], IF_NAMESIZE, "%s", name);
		}
	}
	return n_names;
}

int pr_config_add_scoped(struct pr_config *cfg, const struct pr_scope_table *t)
{
	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
		struct pr_config_rule *r;

		if (!t->r[id].used)
			continue;
		r = realloc(cfg->rules, (size_t)(cfg->n_rules + 1) * sizeof(*r));
		if (!r)
			return -1;
		cfg->rules = r;
		r = &cfg->rules[cfg->n_rules++];
		memset(r, 0, sizeof(*r));
		pr_scope_spec(&t->r[id], &r->spec);
		snprintf(r->scope.ifname, sizeof(r->scope.ifname), "%s", t->r[id].ifname);
		r->scope.family = t->r[id].family;
		r->scope.plen = t->r[id].plen;
		memcpy(r->scope.addr, t->r[id].addr, sizeof(r->scope.addr));
	}
	return 0;
}

