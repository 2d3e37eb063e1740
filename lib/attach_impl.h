/* SPDX-License-Identifier: GPL-2.0 */
/* Shared inside the attach module (attach.c, reload.c) only. */
#ifndef PR_ATTACH_IMPL_H
#define PR_ATTACH_IMPL_H

#include <stdbool.h>
#include <xdp/libxdp.h>

#include "attach.h"

struct portredir_bpf;

/* Writes st to the pinned interface record. */
int pr_attach_record(const struct pr_maps *m, const struct pr_iface_state *st,
		     struct pr_errbuf *err);
/* Whether a frame on ifname in mode can carry a pending checksum (offload). */
bool pr_may_see_pending_csums(const char *ifname, enum xdp_attach_mode mode);
/*
 * Opens a fresh instance of the object and prepares the XDP program variant
 * (meta: with checksum metadata) for mode. NULL on failure.
 */
struct xdp_program *pr_attach_prepare(const struct pr_load_opts *o, enum xdp_attach_mode mode,
				      bool meta, struct portredir_bpf **skel,
				      struct pr_errbuf *err);
/* Reads back what was attached, with the settings only the record keeps. */
int pr_attach_after(const char *ifname, const struct pr_load_opts *o,
		    const struct portredir_bpf *skel, struct xdp_program *prog,
		    struct pr_iface_state *st, struct pr_errbuf *err);
/* Attaches the TC programs this instance needs. */
int pr_attach_tc(int ifindex, const struct pr_load_opts *o, const struct portredir_bpf *skel,
		 struct pr_iface_state *st, struct pr_errbuf *err);
/* Detaches our XDP program only; the TC programs stay. */
int pr_iface_detach_xdp(const struct pr_iface_state *st, struct pr_errbuf *err);
/* Takes our program out of the interface's dispatcher. */
int pr_detach_from_dispatcher(const struct pr_iface_state *st, struct pr_errbuf *err);

#endif
