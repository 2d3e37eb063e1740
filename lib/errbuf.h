/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A caller-owned buffer for one human-readable error message. Library code
 * fills it with the whole story ("port 0 is out of range 1-65535"), and only
 * the CLI decides where it goes and which exit code follows.
 */
#ifndef PR_ERRBUF_H
#define PR_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct pr_errbuf {
	char msg[512];
};

__attribute__((format(printf, 2, 3))) int pr_err_set(struct pr_errbuf *err, const char *fmt, ...);

#endif
