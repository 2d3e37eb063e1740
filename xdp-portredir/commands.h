/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands, one per file; main.c dispatches to them. */
#ifndef PR_COMMANDS_H
#define PR_COMMANDS_H

#include "params.h"

extern const struct pr_cmd pr_cmd_load;
extern const struct pr_cmd pr_cmd_unload;
extern const struct pr_cmd pr_cmd_redirect;
extern const struct pr_cmd pr_cmd_status;
extern const struct pr_cmd pr_cmd_poll;
extern const struct pr_cmd pr_cmd_monitor;
extern const struct pr_cmd pr_cmd_apply;
extern const struct pr_cmd pr_cmd_save;

/* Prints "xdp-portredir <cmd>: <msg>" to stderr and returns PR_EXIT_ERROR. */
int pr_fail(const char *cmd, const char *msg);

#endif
