/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the traffic programs of the end-to-end benchmark. */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

static inline double bu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Positive decimal number (seconds may have a fraction); -1 if invalid. */
static inline double bu_parse_pos(const char *s, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > max)
		return -1;
	return v;
}

#endif
