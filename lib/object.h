/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening the embedded BPF object. The object travels inside the binary (a
 * bpftool skeleton), so it is found wherever the tool is installed.
 */
#ifndef PR_OBJECT_H
#define PR_OBJECT_H

#include <linux/types.h>

#include "errbuf.h"

struct portredir_bpf;

/*
 * Opens (does not load) the object. With pin_root, every map is pinned by
 * name there and reused if already pinned; without, maps are private to this
 * instance (tests, benchmarks).
 */
struct portredir_bpf *pr_object_open(const char *pin_root, struct pr_errbuf *err);

/*
 * A loaded checksum fix-up that reads the skb's checksum state
 * (bpf/tc_csum_fixup_kctx.bpf.c), as an fd the process keeps open (callers
 * do not close it); -1 where the kernel cannot run it (before 6.3, or it
 * refused it), and the main object's tc_portredir_in does the job instead.
 * One program per process: every interface it attaches gets the same one.
 */
int pr_object_fixup_kctx_fd(void);

struct bpf_map_info;

/* The kernel's info on map `name` pinned under pin_root; -1 if not pinned. */
int pr_object_pinned_info(const char *pin_root, const char *name, struct bpf_map_info *info);
/* max_entries of map `name` pinned under pin_root, 0 if not pinned. */
__u32 pr_object_pinned_max_entries(const char *pin_root, const char *name);

/* Opens and loads an unpinned instance for BPF_PROG_TEST_RUN. */
struct portredir_bpf *pr_object_load_private(struct pr_errbuf *err);

#endif
