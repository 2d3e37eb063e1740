/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands, one per file; main.c dispatches to them. */
#ifndef PR_COMMANDS_H
#define PR_COMMANDS_H

#include <stdbool.h>

#include "params.h"

extern const struct pr_cmd pr_cmd_load;
extern const struct pr_cmd pr_cmd_unload;
extern const struct pr_cmd pr_cmd_redirect;
extern const struct pr_cmd pr_cmd_status;
extern const struct pr_cmd pr_cmd_poll;
extern const struct pr_cmd pr_cmd_monitor;
extern const struct pr_cmd pr_cmd_apply;
extern const struct pr_cmd pr_cmd_save;
extern const struct pr_cmd pr_cmd_metrics;

/*
 * Errors (fail.c): "xdp-portredir <cmd>: <message>" on stderr, or one JSON
 * object {"error": {"command", "message", "exit"}} per error once
 * pr_errors_json(true) was called (main does for a command's --json).
 * pr_complain reports an error the command goes on after (an undo that
 * failed); pr_fail returns PR_EXIT_ERROR; pr_fail_usage returns
 * PR_EXIT_USAGE and, in text, points to the command's --help.
 */
void pr_errors_json(bool json);
__attribute__((format(printf, 2, 3))) void pr_complain(const char *cmd, const char *fmt, ...);
/* Like pr_complain, for a message that starts with its own place ("FILE:LINE: ..."): no prefix. */
__attribute__((format(printf, 2, 3))) void pr_complain_at(const char *cmd, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) int pr_fail(const char *cmd, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) int pr_fail_usage(const char *cmd, const char *fmt, ...);

#endif
