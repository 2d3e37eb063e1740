/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tool's pinned maps as userspace holds them: open from the pins,
 * created (with no program) when a rule is set before the first load, and
 * read as per-CPU sums.
 */
#ifndef PR_MAPS_USER_H
#define PR_MAPS_USER_H

#include <stdbool.h>
#include <linux/types.h>

#include "../bpf/portredir_abi.h"
#include "errbuf.h"

struct pr_maps {
	int rules;
	int rule_stats;
	int action_stats;
	int ifaces;
};

#define PR_MAPS_INIT { -1, -1, -1, -1 }

/*
 * Nonzero, with err naming the interface, if our XDP program is attached
 * somewhere while its pins are gone (bpffs unmounted or the pin directory
 * removed under it): maps created now would not be the ones it reads.
 */
int pr_maps_orphaned(struct pr_err *err);
/* Opens the pinned maps. Fails with a clear message if there are none. */
int pr_maps_open(struct pr_maps *m, struct pr_err *err);
/* Creates any missing pinned map (reusing existing pins), then opens them. */
int pr_maps_create(struct pr_maps *m, struct pr_err *err);
void pr_maps_close(struct pr_maps *m);

/* Sums a per-CPU counter slot. */
int pr_counter_read(int fd, __u32 key, struct pr_counter *sum);

#endif
