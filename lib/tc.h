/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tool's TC programs (clsact, libbpf's TC API, so 6.1 and later alike):
 * one fixed handle and priority per direction, and nothing else on the
 * interface is touched.
 */
#ifndef PR_TC_H
#define PR_TC_H

#include <stdbool.h>
#include <linux/types.h>

#include "errbuf.h"

enum pr_tc_dir {
	PR_TC_INGRESS,
	PR_TC_EGRESS,
};

/* Attaches prog_fd at our handle/priority; replaces only a stale copy of ours. */
int pr_tc_attach(int ifindex, enum pr_tc_dir dir, int prog_fd, __u32 *prog_id,
		 struct pr_err *err);
/* Detaches the filter at our handle/priority if it is prog_id or any program of ours. */
int pr_tc_detach(int ifindex, enum pr_tc_dir dir, __u32 prog_id, struct pr_err *err);
/* Program id at our handle/priority, 0 if none. */
__u32 pr_tc_query(int ifindex, enum pr_tc_dir dir);

#endif
