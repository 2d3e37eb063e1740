// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/portredir_abi.h"
#include "object.h"
#include "portredir.skel.h"
#include "csum_fixup_kctx.skel.h"

/*
 * A nonzero mark for an instance's checksum metadata (pr_instance in
 * bpf/portredir.bpf.c): random, so two instances that meet in one dispatcher
 * differ, but for a 1 in 65,535 chance, which costs only the guard against a
 * rule chain followed twice during that reload.
 */
static __u16 instance_mark(void)
{
	__u16 mark = 0;

	while (!mark)
		if (getrandom(&mark, sizeof(mark), 0) != sizeof(mark))
			mark = (__u16)(getpid() ^ time(NULL));
	return mark;
}

struct portredir_bpf *pr_object_open(const char *pin_root, struct pr_errbuf *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct portredir_bpf *skel;
	struct bpf_map *map;

	skel = portredir_bpf__open_opts(&opts);
	if (!skel) {
		pr_err_set(err, "cannot open the embedded BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->pr_instance = instance_mark();
	if (!pin_root) {
		bpf_object__for_each_map (map, skel->obj) {
			bpf_map__set_pin_path(map, NULL);
		}
	} else {
		/* A pinned flow table keeps the size it was made with. */
		__u32 size = pr_object_pinned_max_entries(pin_root, PR_MAP_FLOWS);

		if (size)
			bpf_map__set_max_entries(skel->maps.pr_flows, size);
	}
	return skel;
}

/* Linux 6.3 gave TC programs bpf_cast_to_kern_ctx(); before, do not even try. */
static bool kernel_has_kern_ctx(void)
{
	unsigned long major, minor;
	struct utsname u;
	char *end;

	if (uname(&u))
		return false;
	major = strtoul(u.release, &end, 10);
	if (*end != '.')
		return false;
	minor = strtoul(end + 1, &end, 10);
	return major > 6 || (major == 6 && minor >= 3);
}

/*
 * Loaded once per process and shared by every interface it attaches: the
 * program keeps no state, and each load parses the kernel's BTF (~66 ms,
 * seconds under valgrind), so an apply over N interfaces would pay it N times.
 */
int pr_object_fixup_kctx_fd(void)
{
	static int shared = -2; /* -2: not loaded yet */
	struct csum_fixup_kctx_bpf *skel;

	if (shared == -2) {
		shared = -1;
		skel = kernel_has_kern_ctx() ? csum_fixup_kctx_bpf__open_and_load() : NULL;
		if (skel)
			shared = fcntl(bpf_program__fd(skel->progs.tc_portredir_in_kctx),
				       F_DUPFD_CLOEXEC, 0);
		csum_fixup_kctx_bpf__destroy(skel);
	}
	return shared;
}

int pr_object_pinned_info(const char *pin_root, const char *name, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	char path[512];
	int fd, ret;

	memset(info, 0, sizeof(*info));
	snprintf(path, sizeof(path), "%s/%s", pin_root, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	ret = bpf_obj_get_info_by_fd(fd, info, &len);
	close(fd);
	return ret ? -1 : 0;
}

__u32 pr_object_pinned_max_entries(const char *pin_root, const char *name)
{
	struct bpf_map_info info;

	return pr_object_pinned_info(pin_root, name, &info) ? 0 : info.max_entries;
}

struct portredir_bpf *pr_object_load_private(struct pr_errbuf *err)
{
	struct portredir_bpf *skel = pr_object_open(NULL, err);
	int ret;

	if (!skel)
		return NULL;
	ret = portredir_bpf__load(skel);
	if (ret) {
		pr_err_set(
			err,
			"the kernel refused the BPF object: %s (run with -v for the verifier log)",
			strerror(-ret));
		portredir_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}
