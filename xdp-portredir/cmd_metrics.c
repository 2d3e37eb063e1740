// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir metrics: the state as Prometheus metrics, printed once or served over HTTP. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "metrics.h"
#include "metrics_http.h"
#include "params.h"

struct metrics_settings {
	const char *listen;
};

static const struct pr_opt metrics_opts[] = {
	{ .name = "listen",
	  .short_name = 'l',
	  .type = PR_OPT_STRING,
	  .offset = offsetof(struct metrics_settings, listen),
	  .metavar = "[ADDR:]PORT",
	  .help = "Serve GET /metrics on ADDR:PORT until stopped (ADDR defaults to 127.0.0.1)" },
	{ 0 },
};

static int metrics_run(void *p)
{
	struct metrics_settings *s = p;
	struct sockaddr_storage addr;
	struct pr_errbuf err;
	size_t len;
	char *text;

	if (s->listen) {
		if (pr_metrics_parse_listen(s->listen, &addr, &err))
			return pr_fail_usage("metrics", "%s", err.msg);
		if (pr_metrics_serve(&addr, &err))
			return pr_fail("metrics", "%s", err.msg);
		return PR_EXIT_OK;
	}
	if (pr_metrics_render(&text, &len, &err))
		return pr_fail("metrics", "%s", err.msg);
	fwrite(text, 1, len, stdout);
	free(text);
	if (fflush(stdout) || ferror(stdout))
		return pr_fail("metrics", "cannot write to standard output");
	return PR_EXIT_OK;
}

const struct pr_cmd pr_cmd_metrics = {
	.name = "metrics",
	.summary = "Print or serve Prometheus metrics",
	.description = "Print the counters and state as Prometheus text exposition once (for\n"
		       "node_exporter's textfile collector), or with --listen serve them at\n"
		       "GET /metrics until SIGINT or SIGTERM. Series are named xdp_portredir_*;\n"
		       "see METRICS in xdp-portredir(8).",
	.opts = metrics_opts,
	.settings_size = sizeof(struct metrics_settings),
	.run = metrics_run,
};
