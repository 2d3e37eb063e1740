// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/portredir_abi.h"
#include "tc.h"

static const char *const dir_names[] = { "ingress", "egress" };

static void hook_for(struct bpf_tc_hook *hook, int ifindex, enum pr_tc_dir dir)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = dir == PR_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

__u32 pr_tc_query(int ifindex, enum pr_tc_dir dir)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PR_TC_HANDLE, .priority = PR_TC_PRIORITY);
	struct bpf_tc_hook hook;

	hook_for(&hook, ifindex, dir);
	if (bpf_tc_query(&hook, &opts))
		return 0;
	return opts.prog_id;
}

/* Is prog_id one of this tool's TC programs (by name)? */
static bool is_ours(__u32 prog_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	bool ours;
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       !strncmp(info.name, "tc_portredir", strlen("tc_portredir"));
	close(fd);
	return ours;
}

int pr_tc_attach(int ifindex, enum pr_tc_dir dir, int prog_fd, __u32 *prog_id,
		 struct pr_err *err)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PR_TC_HANDLE, .priority = PR_TC_PRIORITY,
		    .prog_fd = prog_fd);
	struct bpf_tc_hook hook;
	__u32 existing;
	int ret;

	hook_for(&hook, ifindex, dir);
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST)
		return pr_err_set(err, "cannot add a clsact qdisc for TC %s: %s", dir_names[dir],
				  strerror(-ret));
	existing = pr_tc_query(ifindex, dir);
	if (existing) {
		if (!is_ours(existing))
			return pr_err_set(err,
					  "TC %s filter handle 0x%x priority %d is taken by program %u, "
					  "which is not xdp-portredir's",
					  dir_names[dir], PR_TC_HANDLE, PR_TC_PRIORITY, existing);
		opts.flags = BPF_TC_F_REPLACE; /* a leftover of ours, e.g. after a crash */
	}
	ret = bpf_tc_attach(&hook, &opts);
	if (ret)
		return pr_err_set(err, "cannot attach the TC %s program: %s", dir_names[dir],
				  strerror(-ret));
	*prog_id = opts.prog_id;
	return 0;
}

int pr_tc_detach(int ifindex, enum pr_tc_dir dir, __u32 prog_id, struct pr_err *err)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PR_TC_HANDLE, .priority = PR_TC_PRIORITY);
	struct bpf_tc_hook hook;
	__u32 existing = pr_tc_query(ifindex, dir);
	int ret;

	if (!existing)
		return 0;
	if (existing != prog_id && !is_ours(existing))
		return 0; /* not ours: leave it */
	hook_for(&hook, ifindex, dir);
	ret = bpf_tc_detach(&hook, &opts);
	if (ret && ret != -ENOENT)
		return pr_err_set(err, "cannot detach the TC %s program: %s", dir_names[dir],
				  strerror(-ret));
	return 0;
}
