/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PR_REPORT_H
#define PR_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "attach.h"
#include "config.h"

/*
 * Through lib/output.h (out_init first): in text "<prefix>loaded on NAME (mode, priority, chain-call actions, ...)"
 * as the interface now runs it and, where the kernel refused the libxdp
 * dispatcher, a note on what that means; in JSON the same as fields of the
 * object the caller has open.
 */
void report_loaded(const struct pr_iface_state *st, const char *prefix);

/* "added rule ...", "would load on ..." (would: --check): one change of apply's plan. */
void report_describe(const struct pr_config_step *st, bool would, char *buf, size_t len);
/*
 * One change of apply's plan, done or (would) to be done: the sentence as a
 * line, or in JSON an element of the "changes" array the caller has open,
 * with the sentence as "text". A done attach is told by report_loaded() with
 * loaded, as load tells it.
 */
void report_step(const struct pr_config_step *st, bool would, const struct pr_iface_state *loaded);

#endif
