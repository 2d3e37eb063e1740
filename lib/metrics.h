/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tool's state as Prometheus metrics (text exposition format 0.0.4):
 * rule, action, flow-table, reply and monitor counters, the interfaces, and
 * build information. `metrics` prints it once; `metrics --listen` serves it
 * over HTTP (see metrics_http.h).
 */
#ifndef PR_METRICS_H
#define PR_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "errbuf.h"

/* Prefix of every series name. */
#define PR_METRICS_PREFIX "xdp_portredir_"
#define PR_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Renders every series into a new malloc'd buffer (*text, *len). Reads the
 * state the way `status` does, from the same readers. On failure nothing is
 * returned and err says why (the state is out of reach, as status would say).
 */
int pr_metrics_render(char **text, size_t *len, struct pr_errbuf *err);

/* Writes s as a label value: backslash, double quote and newline escaped. */
void pr_metrics_label_value(FILE *f, const char *s);

#endif
