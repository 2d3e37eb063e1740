// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static int log_verbosity;

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
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int need = level == LIBBPF_DEBUG ? 2 : 1;

	if (log_verbosity < need)
		return 0;
	fprintf(stderr, "libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	int need = level == LIBXDP_DEBUG ? 2 : 1;

	if (log_verbosity < need)
		return 0;
	fprintf(stderr, "libxdp: ");
	return vfprintf(stderr, fmt, ap);
}

void pr_log_hook_libraries(void)
{
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
}
