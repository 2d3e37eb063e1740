// SPDX-License-Identifier: GPL-2.0
/*
 * Someone else's TC program for the tests: attaches tc_count.bpf.o to a
 * hook as a clsact filter (handle 0x99, priority 9) or as a TCX link, with
 * its counter map (and link) pinned in a directory of the test's; reads the
 * counter; lists the programs on a TCX hook in run order.
 *
 *   tc_other attach clsact|tcx IFNAME ingress|egress OBJ PINDIR
 *   tc_other count PINDIR ingress|egress
 *   tc_other tcx-list IFNAME ingress|egress      (program ids, first first)
 *
 * Exit status: 0 done, 1 failed, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* TCX attach types by value: Debian 12's headers predate them. */
#define TCX_INGRESS 46
#define TCX_EGRESS 47

static int usage(void)
{
	fprintf(stderr, "usage: tc_other attach clsact|tcx IFNAME ingress|egress OBJ PINDIR\n"
			"       tc_other count PINDIR ingress|egress\n"
			"       tc_other tcx-list IFNAME ingress|egress\n");
	return 2;
}

static int fail(const char *what)
{
	fprintf(stderr, "tc_other: %s: %s\n", what, strerror(errno));
	return 1;
}

static int attach(const char *kind, int ifindex, int ingress, const char *obj_path, const char *dir)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	struct bpf_program *prog;
	char path[512];
	int fd, prog_fd;

	if (!obj || bpf_object__load(obj))
		return fail("cannot load the object");
	prog = bpf_object__find_program_by_name(obj, "tc_other_count");
	prog_fd = prog ? bpf_program__fd(prog) : -1;
	snprintf(path, sizeof(path), "%s/seen_%s", dir, ingress ? "ingress" : "egress");
	if (prog_fd < 0 || bpf_map__pin(bpf_object__find_map_by_name(obj, "other_seen"), path))
		return fail("cannot pin the counter");
	if (!strcmp(kind, "tcx")) {
		fd = bpf_link_create(prog_fd, ifindex, ingress ? TCX_INGRESS : TCX_EGRESS, NULL);
		snprintf(path, sizeof(path), "%s/link_%s", dir, ingress ? "ingress" : "egress");
		if (fd < 0 || bpf_obj_pin(fd, path))
			return fail("cannot attach or pin the TCX link");
	} else {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 0x99, .priority = 9, .prog_fd = prog_fd);
		int ret = bpf_tc_hook_create(&hook);

		if ((ret && ret != -EEXIST) || bpf_tc_attach(&hook, &opts))
			return fail("cannot attach the clsact filter");
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ifindex, ingress;

	if (argc < 4)
		return usage();
	ingress = !strcmp(argv[argc - (strcmp(argv[1], "attach") ? 1 : 3)], "ingress");
	if (!strcmp(argv[1], "attach") && argc == 7) {
		ifindex = (int)if_nametoindex(argv[3]);
		if (!ifindex)
			return fail(argv[3]);
		return attach(argv[2], ifindex, ingress, argv[5], argv[6]);
	}
	if (!strcmp(argv[1], "count") && argc == 4) {
		char path[512];
		__u64 n = 0;
		__u32 key = 0;
		int fd;

		snprintf(path, sizeof(path), "%s/seen_%s", argv[2], ingress ? "ingress" : "egress");
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_map_lookup_elem(fd, &key, &n))
			return fail(path);
		printf("%llu\n", (unsigned long long)n);
		return 0;
	}
	if (!strcmp(argv[1], "tcx-list") && argc == 4) {
		__u32 ids[64], cnt = 64;

		ifindex = (int)if_nametoindex(argv[2]);
		if (!ifindex)
			return fail(argv[2]);
		if (bpf_prog_query(ifindex, ingress ? TCX_INGRESS : TCX_EGRESS, 0, NULL, ids, &cnt))
			return fail("cannot query the TCX hook");
		for (__u32 i = 0; i < cnt; i++)
			printf("%u\n", ids[i]);
		return 0;
	}
	return usage();
}
