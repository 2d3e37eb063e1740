// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-portredir: redirect UDP and TCP destination ports in XDP.
 * This file only finds the subcommand and hands it its arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "log.h"
#include "params.h"
#include "privs.h"

static const struct pr_cmd *const commands[] = {
	&pr_cmd_load, &pr_cmd_unload, &pr_cmd_redirect, &pr_cmd_status, &pr_cmd_poll, &pr_cmd_monitor,
	&pr_cmd_apply, &pr_cmd_save, &pr_cmd_metrics, NULL,
};

/* Did the user ask this command for --json? Then its errors come as JSON too. */
static bool wants_json(const struct pr_cmd *cmd, const void *settings)
{
	for (const struct pr_opt *o = cmd->opts; o && o->name; o++)
		if (o->type == PR_OPT_FLAG && !strcmp(o->name, "json"))
			return *(const bool *)((const char *)settings + o->offset);
	return false;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: xdp-portredir <command> [options]\n\n"
		     "Redirect UDP and TCP destination ports in XDP, beside other XDP programs.\n\n"
		     "Commands:\n");
	for (const struct pr_cmd *const *c = commands; *c; c++)
		fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(out, "\nCommands may be abbreviated to any unique prefix.\n"
		     "'xdp-portredir <command> --help' shows a command's options.\n"
		     "Global options: --help, --version.\n"
		     "Exit status: 0 success, 1 the command failed, 2 usage error.\n");
}

static void version(void)
{
	printf("xdp-portredir %s\n", PR_VERSION);
	printf("libbpf %s (built with %s)\n", libbpf_version_string(), PR_LIBBPF_BUILD_VERSION);
	printf("libxdp %s (version built with; libxdp has no run-time version call)\n",
	       PR_LIBXDP_BUILD_VERSION);
}

int main(int argc, char **argv)
{
	const struct pr_cmd *cmd;
	int verbosity = 0, ret;
	struct pr_errbuf err;
	void *settings;
	bool help;

	if (argc < 2) {
		usage(stderr);
		return PR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return PR_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		version();
		return PR_EXIT_OK;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "xdp-portredir: unknown option '%s'\nTry 'xdp-portredir --help'.\n",
			argv[1]);
		return PR_EXIT_USAGE;
	}
	cmd = pr_cmd_find(commands, argv[1]);
	if (!cmd)
		return PR_EXIT_USAGE;

	settings = calloc(1, cmd->settings_size);
	if (!settings)
		return PR_EXIT_ERROR;
	if (cmd->defaults)
		cmd->defaults(settings);
	ret = pr_params_parse(cmd, argc - 1, argv + 1, settings, &help, &verbosity);
	if (ret == PR_EXIT_OK && help) {
		pr_params_usage(cmd, stdout);
	} else if (ret == PR_EXIT_OK) {
		pr_log_set_level(verbosity);
		pr_log_hook_libraries();
		pr_errors_json(wants_json(cmd, settings));
		ret = pr_privs_check(&err) ? pr_fail(cmd->name, "%s", err.msg) : cmd->run(settings);
	}
	pr_params_release(cmd, settings);
	free(settings);
	return ret;
}
