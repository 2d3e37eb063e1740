/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PR_REPORT_H
#define PR_REPORT_H

#include "attach.h"

/*
 * Prints "<prefix>loaded on NAME (mode, priority, chain-call actions, ...)"
 * as the interface now runs it and, where the kernel refused the libxdp
 * dispatcher, a note on what that means.
 */
void report_loaded(const struct pr_iface_state *st, const char *prefix);

#endif
