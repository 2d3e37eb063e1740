/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What is loaded: the one reader of the system's state that status, save,
 * apply and load share. The interfaces the tool is on or recorded on, the
 * pinned maps and rules when there are any, the flow table's size, and the
 * same as a configuration (for save to write and apply to compare).
 */
#ifndef PR_STATE_H
#define PR_STATE_H

#include <stdbool.h>

#include "attach.h"
#include "config.h"
#include "maps.h"
#include "rules.h"

struct pr_sys {
	struct pr_maps maps; /* open while have_maps */
	bool have_maps; /* bpffs is mounted and the pin directory holds pins */
	struct pr_iface_state *list; /* pr_iface_list() */
	int n;
	struct pr_rule_table *table; /* the rules; NULL without maps */
	unsigned int flow_table_size; /* the pinned table's; 0 if there is none */
	struct pr_config cfg; /* all of the above as a configuration */
};

#define PR_SYS_INIT { .maps = PR_MAPS_INIT }

/* Reads it all; on failure nothing is held (s is as after pr_sys_release()). */
int pr_sys_read(struct pr_sys *s, struct pr_errbuf *err);
void pr_sys_release(struct pr_sys *s);

#endif
