/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Detail the user asked for with -v ("mounted bpffs at ..."), on stderr.
 * Errors are not printed here: the library returns them in a struct pr_errbuf
 * and the command reports them (xdp-portredir/fail.c). libbpf's and libxdp's
 * own output is routed through here too, so it shows only at -v (their
 * debug output at -vv) and never drowns the one line that matters.
 */
#ifndef PR_LOG_H
#define PR_LOG_H

#include <stdbool.h>

void pr_log_set_level(int verbosity);
/* Routes libbpf and libxdp messages to stderr at -v / -vv. */
void pr_log_hook_libraries(void);

/*
 * Watches libbpf's messages (the verifier log included) for needle until
 * pr_log_watch_end(), which says whether one contained it.
 */
void pr_log_watch(const char *needle);
bool pr_log_watch_end(void);

/* Printed at -v and above; fmt ends with its own newline. */
__attribute__((format(printf, 1, 2))) void pr_verbose(const char *fmt, ...);

#endif
