// SPDX-License-Identifier: GPL-2.0
/* Writing a configuration out in the file format, as `save` does. */
#include <string.h>

#include "config_impl.h"

static void write_rule(FILE *out, const struct pr_rule_spec *r, const struct pr_scope_rule *sc)
{
	char dst[64];

	if (r->last != r->first)
		fprintf(out, "redirect %s %u-%u %u", pr_proto_name(r->proto), r->first, r->last,
			r->to);
	else
		fprintf(out, "redirect %s %u %u", pr_proto_name(r->proto), r->first, r->to);
	pr_scope_format_dst(sc, dst, sizeof(dst));
	fprintf(out, "%s%s%s%s\n", sc->ifname[0] ? " interface " : "", sc->ifname,
		dst[0] ? " dst " : "", dst);
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
				pr_config_status_reason(ifc->status));
		else
			fprintf(out, "interface %s%s%s\n", ifc->name, opts[0] ? " " : "", opts);
	}
	for (int i = 0; i < cfg->n_rules; i++)
		write_rule(out, &cfg->rules[i].spec, &cfg->rules[i].scope);
	fflush(out);
	return ferror(out) ? -1 : 0;
}
