// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "privs.h"

/*
 * What the commands need, and why not simply CAP_BPF:
 * - CAP_SYS_ADMIN: finding out what is attached means turning program ids
 *   from netlink into fds (BPF_PROG_GET_FD_BY_ID, also inside libxdp), and
 *   the kernel allows that only with CAP_SYS_ADMIN. Without it every
 *   interface looks empty, so status would lie and unload would forget
 *   programs that still run. CAP_SYS_ADMIN also covers CAP_BPF and
 *   CAP_PERFMON (loading, pinning, the verifier's privileged mode).
 * - CAP_NET_ADMIN: attaching and detaching XDP and TC programs.
 * Every command checks both, so they all fail the same way and early.
 */
static const struct {
	int cap;
	const char *name;
} needed[] = {
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
};

/*
 * BPF checks capabilities against the initial user namespace, so root inside
 * a user namespace (a rootless container, unshare -r) has them only on paper.
 */
static int in_initial_userns(void)
{
	unsigned long inside, outside, count;
	FILE *f = fopen("/proc/self/uid_map", "re");
	char line[128], *p, *end;
	bool got;

	if (!f)
		return 1; /* no /proc: cannot tell, let the kernel decide */
	got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!got)
		return 1;
	/* "0 0 4294967295": the whole id range maps to itself. */
	inside = strtoul(line, &p, 10);
	outside = strtoul(p, &p, 10);
	count = strtoul(p, &end, 10);
	if (end == p)
		return 1; /* not the format we know: let the kernel decide */
	return inside == 0 && outside == 0 && count == 4294967295UL;
}

int pr_privs_check(struct pr_errbuf *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	char missing[64] = "";
	size_t used = 0;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return pr_err_set(err, "cannot read this process's capabilities: %s",
				  strerror(errno));
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		int cap = needed[i].cap;

		if (data[cap / 32].effective & (1U << (cap % 32)))
			continue;
		used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%s",
					 used ? ", " : "", needed[i].name);
	}
	if (used)
		return pr_err_set(err, "needs CAP_SYS_ADMIN and CAP_NET_ADMIN (missing: %s); "
				       "run it as root",
				  missing);
	if (!in_initial_userns())
		return pr_err_set(err, "runs in a user namespace, where its capabilities do not "
				       "count for BPF (run it as root outside the namespace)");
	return 0;
}
