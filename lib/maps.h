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
#include "percpu.h"

struct pr_maps {
	int rules;
	int rule_stats;
	int action_stats;
	int ifaces;
	int flows;
	int port_flags;
	int reply_stats;
	int scope_sets;
	int scope_stats;
	int scope_rules;
};

#define PR_MAPS_INIT { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 }

/* What the flow table holds right now (see pr_flow_census()). */
struct pr_flow_census {
	__u32 capacity;
	__u32 entries; /* everything in the table, dead or alive */
	__u32 live; /* redirected flows still in use */
	__u32 closing; /* TCP flows with a FIN seen on one side */
	__u32 local; /* connections local sockets opened from rule ports */
};

/*
 * Nonzero, with err naming the interface, if our XDP program is attached
 * somewhere while its pins are gone (bpffs unmounted or the pin directory
 * removed under it): maps created now would not be the ones it reads.
 */
int pr_maps_orphaned(struct pr_errbuf *err);
/* Opens the pinned maps. Fails with a clear message if there are none. */
int pr_maps_open(struct pr_maps *m, struct pr_errbuf *err);
/*
 * Creates any missing pinned map (reusing existing pins), then opens them.
 * flow_table_size sizes a flow table made now (0: the default); an existing
 * one keeps its size.
 */
int pr_maps_create(struct pr_maps *m, unsigned int flow_table_size, struct pr_errbuf *err);
void pr_maps_close(struct pr_maps *m);
/*
 * Makes the flow table again at size entries (0: the default) and opens the
 * maps into m again. Only while no program uses the table: its entries are
 * worthless then, and the interfaces attach to the new one.
 */
int pr_maps_remake_flows(struct pr_maps *m, unsigned int size, struct pr_errbuf *err);

/*
 * Counts the flow table: a redirected TCP flow is live until both sides sent
 * FIN (RST removes it), a UDP flow for PR_FLOW_UDP_TIMEOUT_S after its last
 * packet.
 */
int pr_flow_census(int flows_fd, struct pr_flow_census *c, struct pr_errbuf *err);

/* Events the ring buffer had no room for, summed over CPUs (pcpu_fd: pr_monitor_pcpu). */
__u64 pr_monitor_dropped(int pcpu_fd);

/* Sums a per-CPU counter slot. */
int pr_counter_read(int fd, __u32 key, struct pr_counter *sum);

#endif
