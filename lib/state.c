// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "pins.h"
#include "state.h"
#include "scope_maps.h"

void pr_sys_release(struct pr_sys *s)
{
	pr_config_free(&s->cfg);
	free(s->table);
	free(s->list);
	pr_maps_close(&s->maps);
	s->table = NULL;
	s->list = NULL;
	s->n = 0;
	s->have_maps = false;
	s->flow_table_size = 0;
}

int pr_sys_read(struct pr_sys *s, struct pr_errbuf *err)
{
	memset(s, 0, sizeof(*s));
	s->maps = (struct pr_maps)PR_MAPS_INIT;
	if (pr_bpffs_mounted() && pr_state_exists()) {
		if (pr_maps_open(&s->maps, err))
			return -1;
		s->have_maps = true;
	}
	if (pr_iface_list(s->have_maps ? &s->maps : NULL, &s->list, &s->n, err))
		goto fail;
	if (s->have_maps) {
		s->table = malloc(sizeof(*s->table));
		if (!s->table) {
			pr_err_set(err, "out of memory");
			goto fail;
		}
		if (pr_rules_read(s->maps.rules, s->table, err))
			goto fail;
		s->flow_table_size = pr_object_pinned_max_entries(pr_pin_dir(), PR_MAP_FLOWS);
	}
	if (pr_config_from_state(s->list, s->n, s->table, s->flow_table_size, &s->cfg)) {
		pr_err_set(err, "out of memory");
		goto fail;
	}
	if (s->have_maps) {
		/* Scoped rules are rules of the configuration too. */
		struct pr_scope_table *scopes = NULL;
		int bad = pr_scopes_read_new(&s->maps, &scopes, err) ||
			  pr_config_add_scoped(&s->cfg, scopes);

		free(scopes);
		if (bad)
			goto fail;
	}
	return 0;
fail:
	pr_sys_release(s);
	return -1;
}
