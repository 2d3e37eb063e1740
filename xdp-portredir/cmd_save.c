// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir save: write the current interfaces and rules as a configuration file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "attach.h"
#include "commands.h"
#include "config.h"
#include "maps.h"
#include "object.h"
#include "params.h"
#include "pins.h"
#include "rules.h"
#include "state.h"

struct save_settings {
	const char **files;
	int n_files;
};

static const struct pr_opt save_opts[] = {
	{ .name = "[<file>]",
	  .type = PR_OPT_ARGS,
	  .offset = offsetof(struct save_settings, files),
	  .count_offset = offsetof(struct save_settings, n_files),
	  .min = 0,
	  .max = 1,
	  .help = "Where to write (default, or '-': standard output). The file is replaced whole, so\n"
		  "a reader never sees half of it. 'xdp-portredir apply FILE' restores the state;\n"
		  "counters are not saved." },
	{ 0 },
};

static const char header[] =
	"xdp-portredir configuration, written by 'xdp-portredir save' (version " PR_VERSION ").\n"
	"'xdp-portredir apply FILE' restores this state; the format is in xdp-portredir.conf(5).";

/* Writes through a temporary file in the same directory, then renames it over path. */
static int save_to(const char *path, const struct pr_config *cfg, struct pr_errbuf *err)
{
	char *dir_copy = strdup(path), tmp[4096];
	mode_t mask = umask(0);
	int fd, ret = 0;
	FILE *f;

	umask(mask);
	if (!dir_copy)
		return pr_err_set(err, "out of memory");
	snprintf(tmp, sizeof(tmp), "%s/.xdp-portredir-save.XXXXXX", dirname(dir_copy));
	free(dir_copy);
	fd = mkstemp(tmp);
	if (fd < 0)
		return pr_err_set(err, "cannot write %s: %s", path, strerror(errno));
	if (fchmod(fd, 0666 & ~mask) || !(f = fdopen(fd, "w"))) {
		ret = pr_err_set(err, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return ret;
	}
	if (pr_config_write(f, cfg, header) || fsync(fd))
		ret = pr_err_set(err, "cannot write %s: %s", path, strerror(errno));
	if (fclose(f) && !ret)
		ret = pr_err_set(err, "cannot write %s: %s", path, strerror(errno));
	if (!ret && rename(tmp, path))
		ret = pr_err_set(err, "cannot write %s: %s", path, strerror(errno));
	if (ret)
		unlink(tmp);
	return ret;
}

static int save_run(void *p)
{
	struct save_settings *s = p;
	struct pr_sys sys;
	int ret = PR_EXIT_OK, attached = 0;
	struct pr_errbuf err;

	if (pr_sys_read(&sys, &err))
		return pr_fail("save", "%s", err.msg);
	for (int i = 0; i < sys.n; i++)
		attached += sys.list[i].attached;
	if (!pr_bpffs_mounted() && attached) {
		/* Saving the interfaces without their rules would lose the rules on apply. */
		ret = pr_fail(
			"save",
			"xdp-portredir is attached to %s, but bpffs is not mounted at %s, so its "
			"rules cannot be read; mount it with: mount -t bpf bpf %s",
			sys.list[0].name, PR_BPFFS_ROOT, PR_BPFFS_ROOT);
		goto out;
	}
	/* "-" is standard output, as it is standard input for apply. */
	if (s->n_files && strcmp(s->files[0], "-")) {
		if (save_to(s->files[0], &sys.cfg, &err))
			ret = pr_fail("save", "%s", err.msg);
	} else if (pr_config_write(stdout, &sys.cfg, header)) {
		ret = pr_fail("save", "cannot write to standard output");
	}
out:
	pr_sys_release(&sys);
	return ret;
}

const struct pr_cmd pr_cmd_save = {
	.name = "save",
	.summary = "Write the current interfaces and rules as a configuration file",
	.description =
		"Write every interface xdp-portredir is loaded on (with its mode, priority,\n"
		"chain-call actions and reply translation), every rule, and the flow table's\n"
		"size in the format of xdp-portredir.conf(5), which 'xdp-portredir apply' reads.",
	.opts = save_opts,
	.settings_size = sizeof(struct save_settings),
	.run = save_run,
};
