/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tool's TC programs. Where the kernel has TCX (6.6 and later): one link
 * per direction, first in the hook's order, pinned in the tool's pin
 * directory (no qdisc is added). Elsewhere: a filter on a clsact qdisc (added
 * if missing) at one fixed handle and priority per direction. Either way
 * nothing else on the interface is touched.
 */
#ifndef PR_TC_H
#define PR_TC_H

#include <stdbool.h>
#include <linux/types.h>

#include "errbuf.h"

enum pr_tc_dir {
	PR_TC_INGRESS,
	PR_TC_EGRESS,
	/*
	 * Ingress too, a slot of its own: the hold, there only while a mode
	 * change has no XDP program attached (lib/reload.c).
	 */
	PR_TC_HOLD,
};

/*
 * Attaches prog_fd (TCX, else clsact). A program of ours already there is
 * replaced in place, atomically (the pinned TCX link's program is updated,
 * the clsact filter replaced), so a reload leaves no gap; anyone else's is
 * left alone.
 */
int pr_tc_attach(int ifindex, enum pr_tc_dir dir, int prog_fd, __u32 *prog_id,
		 struct pr_errbuf *err);
/* Detaches our link, and the filter at our handle/priority if it is prog_id or ours. */
int pr_tc_detach(int ifindex, enum pr_tc_dir dir, __u32 prog_id, struct pr_errbuf *err);
/* Program id of our link, else at our handle/priority; 0 if none. */
__u32 pr_tc_query(int ifindex, enum pr_tc_dir dir);
/* Is ours on ifindex/dir a TCX link (rather than a clsact filter)? */
bool pr_tc_is_tcx(int ifindex, enum pr_tc_dir dir);

#endif
