/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The switches a running program of ours reads from its own globals (.bss):
 * pr_draining (`unload --drain`) and pr_monitoring (`monitor`). Each is
 * written alone, through a mapping of the map, so two commands that set
 * different switches at once never undo each other.
 */
#ifndef PR_PROG_SWITCH_H
#define PR_PROG_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "errbuf.h"
#include "portredir.skel.h"

#define PR_SWITCH_DRAINING offsetof(struct portredir_bpf__bss, pr_draining)
#define PR_SWITCH_MONITORING offsetof(struct portredir_bpf__bss, pr_monitoring)

/*
 * Sets the switch at offset off (PR_SWITCH_*) of program prog_id's globals.
 * Fails, saying so, if the program has no such switch (an older version).
 */
int pr_prog_set_switch(__u32 prog_id, size_t off, __u32 value, struct pr_errbuf *err);

/*
 * Sets pr_monitoring in every instance loaded now (its XDP program and its
 * TC egress program: every program that uses the pinned rules). Best
 * effort: an instance of an older version has no such switch and asks the
 * monitor's map on every hit instead.
 */
void pr_monitoring_set_all(bool on);

/* Does the monitor's lease say one may be running (the initial pr_monitoring of a new instance)? */
bool pr_monitoring_leased(void);

#endif
