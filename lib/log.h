/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages to the user. Warnings always go to stderr; info at -v, debug at
 * -vv. libbpf's and libxdp's own output is routed through here, so it shows
 * only at -v and above and never drowns the one line that matters.
 */
#ifndef PR_LOG_H
#define PR_LOG_H

enum pr_log_level {
	PR_LOG_WARN = 0,
	PR_LOG_INFO = 1,
	PR_LOG_DEBUG = 2,
};

void pr_log_set_level(int verbosity);
int pr_log_level(void);
/* Routes libbpf and libxdp messages through pr_log at -v / -vv. */
void pr_log_hook_libraries(void);

__attribute__((format(printf, 2, 3))) void pr_log(enum pr_log_level level, const char *fmt, ...);

#define pr_warn(...) pr_log(PR_LOG_WARN, __VA_ARGS__)
#define pr_info(...) pr_log(PR_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) pr_log(PR_LOG_DEBUG, __VA_ARGS__)

#endif
