// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../bpf/portredir_abi.h"
#include "object.h"
#include "portredir.skel.h"

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

/*
 * Does the running kernel have bpf_cast_to_kern_ctx() (Linux 6.3+), which
 * tc_portredir_in_kctx calls? Asked of its BTF once per process: libbpf
 * cannot load a program that calls a missing kfunc (6.1), so the choice is
 * made before the load, not by a failed one.
 */
static bool kern_ctx_available(void)
{
	static int have = -1;
	struct btf *btf;

	if (have < 0) {
		btf = btf__load_vmlinux_btf();
		have = btf &&
		       btf__find_by_name_kind(btf, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) > 0;
		btf__free(btf);
	}
	return have;
}

struct bpf_program *pr_object_fixup_prog(const struct portredir_bpf *skel)
{
	return bpf_program__autoload(skel->progs.tc_portredir_in_kctx) ?
		       skel->progs.tc_portredir_in_kctx :
		       skel->progs.tc_portredir_in;
}

struct portredir_bpf *pr_object_open(const char *pin_root, struct pr_errbuf *err)
{
	bool kctx = kern_ctx_available();
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct portredir_bpf *skel;
	struct bpf_map *map;

	skel = portredir_bpf__open_opts(&opts);
	if (!skel) {
		pr_err_set(err, "cannot open the embedded BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->pr_instance = instance_mark();
	bpf_program__set_autoload(skel->progs.tc_portredir_in_kctx, kctx);
	bpf_program__set_autoload(skel->progs.tc_portredir_in, !kctx);
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
