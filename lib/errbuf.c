// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "errbuf.h"

/* Always returns -1 so callers can write "return pr_err_set(...)". */
int pr_err_set(struct pr_errbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}
