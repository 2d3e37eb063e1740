/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether this process may run the tool's commands at all, asked once up
 * front, so a user without the privileges gets one line saying what is
 * missing instead of a half-done command and a libbpf error.
 */
#ifndef PR_PRIVS_H
#define PR_PRIVS_H

#include "errbuf.h"

/*
 * 0 if the process has what every command needs. Otherwise -1 and err says,
 * on one line, which capabilities are missing and what to do.
 */
int pr_privs_check(struct pr_errbuf *err);

#endif
