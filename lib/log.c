// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static int log_verbosity;
static const char *watch_needle;
static bool watch_seen;

void pr_log_watch(const char *needle)
{
	watch_needle = needle;
	watch_seen = false;
}

bool pr_log_watch_end(void)
{
	watch_needle = NULL;
	return watch_seen;
}

__attribute__((format(printf, 1, 0))) static void watch(const char *fmt, va_list ap)
{
	va_list copy;
	char *text;

	if (!watch_needle || watch_seen)
		return;
	va_copy(copy, ap);
	if (vasprintf(&text, fmt, copy) >= 0) {
		watch_seen = strstr(text, watch_needle) != NULL;
		free(text);
	}
	va_end(copy);
}

void pr_log_set_level(int verbosity)
{
	log_verbosity = verbosity;
}

void pr_verbose(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 1)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* Library chatter is detail: -v shows its warnings and info, -vv its debug. */
__attribute__((format(printf, 3, 0))) static int print_library(const char *who, bool debug,
							       const char *fmt, va_list ap)
{
	if (log_verbosity < (debug ? 2 : 1))
		return 0;
	fprintf(stderr, "%s: ", who);
	return vfprintf(stderr, fmt, ap);
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	watch(fmt, ap);
	return print_library("libbpf", level == LIBBPF_DEBUG, fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return print_library("libxdp", level == LIBXDP_DEBUG, fmt, ap);
}

void pr_log_hook_libraries(void)
{
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
}
