/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Result reporting shared by the C test programs: one line per named case
 * ("PASS name" / "FAIL name: why"), then "N passed, N failed", the line the
 * suite runner and CI read. Exit status is nonzero if anything failed.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int check_passed, check_failed;

__attribute__((format(printf, 3, 4))) static inline bool check(bool ok, const char *name,
								const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		check_passed++;
		printf("PASS %s\n", name);
	} else {
		check_failed++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return ok;
}

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
