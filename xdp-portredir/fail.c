// SPDX-License-Identifier: GPL-2.0
/*
 * The one way a command reports an error: "xdp-portredir CMD: message" on
 * stderr, or, when the command was asked for --json, a JSON error object
 * on stderr that a script can parse like the rest of the output.
 */
#include <stdarg.h>
#include <stdio.h>

#include "commands.h"
#include "output.h"

static bool errors_json;

void pr_errors_json(bool json)
{
	errors_json = json;
}

static void vreport(const char *cmd, int exit_code, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errors_json) {
		out_error(stderr, cmd, msg, exit_code);
		return;
	}
	fprintf(stderr, "xdp-portredir %s: %s\n", cmd, msg);
	if (exit_code == PR_EXIT_USAGE)
		fprintf(stderr, "Try 'xdp-portredir %s --help'.\n", cmd);
}

void pr_complain_at(const char *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errors_json)
		out_error(stderr, cmd, msg, -1);
	else
		fprintf(stderr, "%s\n", msg);
}

void pr_complain(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, -1, fmt, ap);
	va_end(ap);
}

int pr_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, PR_EXIT_ERROR, fmt, ap);
	va_end(ap);
	return PR_EXIT_ERROR;
}

int pr_fail_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, PR_EXIT_USAGE, fmt, ap);
	va_end(ap);
	return PR_EXIT_USAGE;
}
