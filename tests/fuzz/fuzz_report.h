/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a harness reports a mismatch: one "MISMATCH: ..." line that
 * tests/fuzz/run-fuzzer.sh and 90-fuzz.sh look for, then abort(), so
 * libFuzzer saves the input.
 */
#ifndef FUZZ_REPORT_H
#define FUZZ_REPORT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nMISMATCH: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#endif
