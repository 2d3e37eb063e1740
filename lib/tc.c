// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/portredir_abi.h"
#include "log.h"
#include "pins.h"
#include "tc.h"

/*
 * TCX (kernel 6.6) attach types and "put it first", by value: Debian 12's
 * kernel headers predate them. libbpf's bpf_link_create() passes them
 * through since long before bpf_program__attach_tcx() (1.3), so the kernel
 * alone decides whether TCX is there, whatever libbpf the tool runs with.
 */
#define PR_BPF_TCX_INGRESS 46
#define PR_BPF_TCX_EGRESS 47
#define PR_BPF_F_BEFORE (1U << 3)

static const char *const dir_names[] = { "ingress", "egress", "ingress (hold)" };
/* For the pin's name. */
static const char *const slot_names[] = { "ingress", "egress", "hold" };
/* Our programs' names as the kernel keeps them (15 characters). */
#define PR_TC_PREFIX "tc_portredir"
#define PR_TC_HOLD_NAME "tc_portredir_ho"

/* Where our TCX link for ifindex/dir is pinned, so it outlives the CLI. */
static void link_path(char *buf, size_t len, int ifindex, enum pr_tc_dir dir)
{
	char name[48];

	snprintf(name, sizeof(name), "tcx_%s_%d", slot_names[dir], ifindex);
	pr_pin_path(buf, len, name);
}

/* The pinned link's path in buf, and an fd of it, or -1 if there is none. */
static int link_open(char *buf, size_t len, int ifindex, enum pr_tc_dir dir)
{
	link_path(buf, len, ifindex, dir);
	return bpf_obj_get(buf);
}

/*
 * Program id of our pinned TCX link on ifindex/dir; 0 if there is none, or
 * if the pin is a leftover whose interface is gone (its link then reports
 * no interface, or another one after the index was reused).
 */
static __u32 link_query(int ifindex, enum pr_tc_dir dir)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info), id = 0;
	char path[512];
	int fd;

	fd = link_open(path, sizeof(path), ifindex, dir);
	if (fd < 0)
		return 0;
	/* The link-type union starts with the interface for TCX links, where
	 * these headers know the same layout as xdp.ifindex. */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.xdp.ifindex == (__u32)ifindex)
		id = info.prog_id;
	close(fd);
	return id;
}

/* Detaches and unpins our TCX link on ifindex/dir, if there is a pin. */
static int link_remove(int ifindex, enum pr_tc_dir dir, struct pr_errbuf *err)
{
	char path[512];
	int fd;

	fd = link_open(path, sizeof(path), ifindex, dir);
	if (fd < 0)
		return 0;
	/* A link whose interface is gone is detached already (ENOLINK). */
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL) {
		close(fd);
		return pr_err_set(err, "cannot detach the TCX %s link %s: %s", dir_names[dir], path,
				  strerror(errno));
	}
	close(fd);
	if (unlink(path) && errno != ENOENT)
		return pr_err_set(err, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static void hook_for(struct bpf_tc_hook *hook, int ifindex, enum pr_tc_dir dir)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = dir == PR_TC_EGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

/* The clsact filter's priority: the hold's comes after the fix-up's. */
static int classic_priority(enum pr_tc_dir dir)
{
	return dir == PR_TC_HOLD ? PR_TC_HOLD_PRIORITY : PR_TC_PRIORITY;
}

static __u32 classic_query(int ifindex, enum pr_tc_dir dir)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PR_TC_HANDLE, .priority = classic_priority(dir));
	struct bpf_tc_hook hook;

	hook_for(&hook, ifindex, dir);
	if (bpf_tc_query(&hook, &opts))
		return 0;
	return opts.prog_id;
}

/*
 * Is prog_id one of this tool's TC programs for dir's slot (by name)? The
 * hold shares the ingress hook with the fix-up, so each slot knows its own.
 */
static bool is_ours(__u32 prog_id, enum pr_tc_dir dir)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	bool ours = false, hold;
	int fd = bpf_prog_get_fd_by_id(prog_id);

	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    !strncmp(info.name, PR_TC_PREFIX, strlen(PR_TC_PREFIX))) {
		hold = !strcmp(info.name, PR_TC_HOLD_NAME);
		ours = hold == (dir == PR_TC_HOLD);
	}
	close(fd);
	return ours;
}

#define PR_BPF_LINK_TYPE_TCX 11

static int tcx_type(enum pr_tc_dir dir)
{
	return dir == PR_TC_EGRESS ? PR_BPF_TCX_EGRESS : PR_BPF_TCX_INGRESS;
}

/*
 * Our program on the TCX hook, found by name: where the pin cannot be
 * reached (bpffs unmounted, another mount namespace) the link is still
 * there. 0 if none, or if the kernel has no TCX.
 */
static __u32 tcx_hook_query(int ifindex, enum pr_tc_dir dir)
{
	__u32 ids[32], cnt = 32;

	if (bpf_prog_query(ifindex, tcx_type(dir), 0, NULL, ids, &cnt))
		return 0;
	for (__u32 i = 0; i < cnt && i < 32; i++)
		if (is_ours(ids[i], dir))
			return ids[i];
	return 0;
}

/* Detaches the TCX link on ifindex that holds prog_id, found among all links. */
static int tcx_detach_by_prog(int ifindex, enum pr_tc_dir dir, __u32 prog_id, struct pr_errbuf *err)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id), ret = 0;

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == PR_BPF_LINK_TYPE_TCX &&
		    info.prog_id == prog_id && info.xdp.ifindex == (__u32)ifindex &&
		    bpf_link_detach(fd))
			ret = pr_err_set(err, "cannot detach the TCX %s link %u: %s",
					 dir_names[dir], id, strerror(errno));
		close(fd);
		if (ret)
			return ret;
	}
	return 0;
}

__u32 pr_tc_query(int ifindex, enum pr_tc_dir dir)
{
	__u32 id = link_query(ifindex, dir);

	if (!id)
		id = classic_query(ifindex, dir);
	return id ? id : tcx_hook_query(ifindex, dir);
}

bool pr_tc_is_tcx(int ifindex, enum pr_tc_dir dir)
{
	return link_query(ifindex, dir) || tcx_hook_query(ifindex, dir);
}

static int classic_attach(int ifindex, enum pr_tc_dir dir, int prog_fd, __u32 *prog_id,
			  struct pr_errbuf *err)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PR_TC_HANDLE, .priority = classic_priority(dir),
		    .prog_fd = prog_fd);
	struct bpf_tc_hook hook;
	__u32 existing;
	int ret;

	hook_for(&hook, ifindex, dir);
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST)
		return pr_err_set(err, "cannot add a clsact qdisc for TC %s: %s", dir_names[dir],
				  strerror(-ret));
	existing = classic_query(ifindex, dir);
	if (existing) {
		if (!is_ours(existing, dir))
			return pr_err_set(
				err,
				"TC %s filter handle 0x%x priority %d is taken by program %u, "
				"which is not xdp-portredir's",
				dir_names[dir], PR_TC_HANDLE, classic_priority(dir), existing);
		opts.flags = BPF_TC_F_REPLACE; /* a leftover of ours, e.g. after a crash */
	}
	ret = bpf_tc_attach(&hook, &opts);
	if (ret)
		return pr_err_set(err, "cannot attach the TC %s program: %s", dir_names[dir],
				  strerror(-ret));
	*prog_id = opts.prog_id;
	return 0;
}

static int classic_detach(int ifindex, enum pr_tc_dir dir, __u32 prog_id, struct pr_errbuf *err)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PR_TC_HANDLE, .priority = classic_priority(dir));
	struct bpf_tc_hook hook;
	__u32 existing = classic_query(ifindex, dir);
	int ret;

	if (!existing)
		return 0;
	if (existing != prog_id && !is_ours(existing, dir))
		return 0; /* not ours: leave it */
	hook_for(&hook, ifindex, dir);
	ret = bpf_tc_detach(&hook, &opts);
	if (ret && ret != -ENOENT)
		return pr_err_set(err, "cannot detach the TC %s program: %s", dir_names[dir],
				  strerror(-ret));
	return 0;
}

/*
 * A TCX link, first in the hook's order, pinned. Returns 1 where the kernel
 * has no TCX (it does not know the attach type), 0 on success, -1 on error.
 */
static int tcx_attach(int ifindex, enum pr_tc_dir dir, int prog_fd, __u32 *prog_id,
		      struct pr_errbuf *err)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = PR_BPF_F_BEFORE);
	char path[512];
	int fd;

	/*
	 * Our link is there already (a reload): the kernel swaps its program
	 * atomically, so no packet meets the hook empty.
	 */
	if (link_query(ifindex, dir)) {
		fd = link_open(path, sizeof(path), ifindex, dir);
		if (fd >= 0 && !bpf_link_update(fd, prog_fd, NULL)) {
			close(fd);
			*prog_id = link_query(ifindex, dir);
			return 0;
		}
		pr_verbose("cannot update the TCX %s link %s (%s): making a new one\n",
			   dir_names[dir], path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	/* A pin of ours left by a crash, or by an interface that is gone. */
	if (link_remove(ifindex, dir, err))
		return -1;
	fd = bpf_link_create(prog_fd, ifindex, tcx_type(dir), &opts);
	if (fd < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
		pr_verbose("no TCX for TC %s (%s): a filter on a clsact qdisc instead\n",
			   dir_names[dir], strerror(errno));
		return 1;
	}
	if (fd < 0)
		return pr_err_set(err, "cannot attach the TC %s program as a TCX link: %s",
				  dir_names[dir], strerror(errno));
	link_path(path, sizeof(path), ifindex, dir);
	if (bpf_obj_pin(fd, path)) {
		pr_err_set(err, "cannot pin the TCX %s link at %s: %s", dir_names[dir], path,
			   strerror(errno));
		close(fd); /* the last reference: the link goes with it */
		return -1;
	}
	close(fd);
	*prog_id = link_query(ifindex, dir);
	return 0;
}

int pr_tc_attach(int ifindex, enum pr_tc_dir dir, int prog_fd, __u32 *prog_id,
		 struct pr_errbuf *err)
{
	int ret = tcx_attach(ifindex, dir, prog_fd, prog_id, err);

	if (ret < 0)
		return ret;
	if (ret == 0) {
		/* A filter of ours from a release before TCX would run as well. */
		if (classic_detach(ifindex, dir, 0, err)) {
			link_remove(ifindex, dir, err);
			return -1;
		}
		return 0;
	}
	return classic_attach(ifindex, dir, prog_fd, prog_id, err);
}

int pr_tc_detach(int ifindex, enum pr_tc_dir dir, __u32 prog_id, struct pr_errbuf *err)
{
	__u32 left;

	if (link_remove(ifindex, dir, err))
		return -1;
	/* A link of ours whose pin this process cannot see. */
	left = tcx_hook_query(ifindex, dir);
	if (left && tcx_detach_by_prog(ifindex, dir, left, err))
		return -1;
	return classic_detach(ifindex, dir, prog_id, err);
}
