/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flows that outlive their rule, like conntrack entries: a removed or
 * changed rule stops new flows at once, while the flows pr_flows already
 * holds keep their target and their reply translation until they end. This
 * file keeps the data path's hints for that (PR_PORT_DRAIN and the drain
 * marks in pr_rules) in step with the flow table, counts draining and live
 * flows, and switches one loaded program into draining for `unload --drain`.
 */
#ifndef PR_DRAIN_H
#define PR_DRAIN_H

#include <stdbool.h>
#include <linux/types.h>

#include "errbuf.h"
#include "maps.h"
#include "rules.h"

/* Is this REDIRECT flow still in use (see pr_flow_census())? now: CLOCK_MONOTONIC_COARSE ns. */
bool pr_flow_live(const struct pr_flow_key *key, const struct pr_flow *flow, __u64 now);
__u64 pr_flow_clock_ns(void);

/*
 * Calls fn for every live redirected flow (PR_FLOW_REDIRECT entries only);
 * stops on nonzero.
 */
int pr_flows_foreach_live(int flows_fd,
			  int (*fn)(const struct pr_flow_key *key, const struct pr_flow *flow,
				    void *ctx),
			  void *ctx);

/*
 * Before a rule is removed: flags its ports PR_PORT_DRAIN, so its flows
 * follow their recorded target from the first packet on. pr_drain_refresh()
 * clears the flag again where no flow needs it.
 */
int pr_drain_prepare(const struct pr_maps *m, const struct pr_rule_spec *spec,
		     struct pr_errbuf *err);

/* Removes a rule (pr_rules_remove()) keeping its live flows going. */
int pr_rule_remove_draining(const struct pr_maps *m, const struct pr_rule_spec *spec,
			    struct pr_errbuf *err);

/*
 * Makes the hints match the flow table: PR_PORT_DRAIN and a drain mark
 * exactly on the ports with live flows whose target is not what the rules
 * say now; every other mark becomes an empty entry again, so ports whose
 * flows ended cost nothing. Call under the lock after changing rules.
 */
int pr_drain_refresh(const struct pr_maps *m, struct pr_errbuf *err);

/* Flows that no longer follow the rules, grouped by (proto, port, target). */
struct pr_drain_group {
	enum pr_proto proto;
	__u16 port; /* the port the clients asked for */
	__u16 to; /* where their flows still go */
	__u32 flows;
};

/*
 * Every group of draining flows, sorted by proto and port. Caller frees
 * *groups (NULL when there are none).
 */
int pr_drain_groups(const struct pr_maps *m, struct pr_drain_group **groups, int *n,
		    struct pr_errbuf *err);

/* Live redirected flows that came in on ifindex (0: anywhere). -1 on error. */
long pr_flows_live_on(int flows_fd, __u32 ifindex);

/* Forgets the flow entries of ifindex (after its program is gone). */
void pr_flows_forget(int flows_fd, __u32 ifindex);

/*
 * Switches the XDP program prog_id (ours) into draining: only recorded
 * flows are still redirected, new ones pass unchanged.
 */
int pr_prog_set_draining(__u32 prog_id, bool on, struct pr_errbuf *err);

#endif /* PR_DRAIN_H */
