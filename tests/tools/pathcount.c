// SPDX-License-Identifier: GPL-2.0
/*
 * The instructions xdp-portredir's XDP program executes on one IPv4 UDP
 * datagram, given the live state under a pin directory:
 *   pathcount [-p PROG_ID] PIN_DIR DPORT [RUNS]
 * A fresh instance of the program is loaded (not attached) on the maps
 * pinned there, so the count follows what the attached program reads (rules,
 * flows, the monitor's lease); with -p, it starts from the globals of the
 * attached program PROG_ID too (its switches: draining, monitoring). Each of RUNS counts (bench/icount.h) is
 * followed by the kernel's run of the same frame, which must end as the
 * interpreter did; the kernel's run moves the shared state on as traffic
 * would (flow notes, counters). Prints the fewest instructions seen: the
 * steady path, whatever phase of a periodic recheck the runs started in.
 *
 * A check on a count is exact where a check on time is not: it cannot fail
 * because the machine is busy.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bench/icount.h"
#include "../../lib/object.h"
#include "../../lib/portredir.skel.h"
#include "../unit/xdprun.h"

/* libbpf's notes on sections it skips are not this tool's news. */
static int warnings_only(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Copies program prog_id's .bss (ours, attached) into the fresh instance's, before its load. */
static int copy_globals(struct portredir_bpf *skel, __u32 prog_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), ids[32] = { 0 }, zero = 0;
	int fd = bpf_prog_get_fd_by_id(prog_id), ret = -1;

	if (fd < 0)
		return -1;
	info.nr_map_ids = 32;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.nr_map_ids = 0;
	for (__u32 i = 0; i < info.nr_map_ids && i < 32 && ret; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) && strstr(mi.name, ".bss") &&
		    mi.value_size == sizeof(*skel->bss))
			ret = bpf_map_lookup_elem(mfd, &zero, skel->bss) ? -1 : 0;
		close(mfd);
	}
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned char pkt[64] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, /* Ethernet */
		0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, /* IPv4 */
		0x9c, 0x40, 0, 0, 0, 30, 0, 0, /* UDP from 40000, no checksum */
	};
	unsigned char iout[sizeof(pkt) + 256], kout[sizeof(pkt) + 256];
	unsigned long fewest = 0;
	struct portredir_bpf *skel;
	struct pr_errbuf err;
	unsigned int runs, dport;
	int cpu = sched_getcpu(), ret = 1, opt;
	__u32 prog_id = 0;
	cpu_set_t one;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p')
			return 2;
		prog_id = (__u32)strtoul(optarg, NULL, 0);
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 3) {
		fprintf(stderr, "usage: pathcount [-p PROG_ID] PIN_DIR DPORT [RUNS]\n");
		return 2;
	}
	dport = (unsigned int)strtoul(argv[2], NULL, 0);
	runs = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 0) : 32;
	pkt[36] = (unsigned char)(dport >> 8);
	pkt[37] = (unsigned char)dport;
	/* The interpreter reads this CPU's slot of per-CPU maps: stay on it. */
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (cpu < 0 || sched_setaffinity(0, sizeof(one), &one)) {
		fprintf(stderr, "pathcount: cannot stay on one CPU: %s\n", strerror(errno));
		return 1;
	}
	libbpf_set_print(warnings_only);
	skel = pr_object_open(argv[1], &err);
	if (!skel) {
		fprintf(stderr, "pathcount: %s\n", err.msg);
		return 1;
	}
	if (prog_id && copy_globals(skel, prog_id)) {
		fprintf(stderr, "pathcount: cannot read the globals of program %u\n", prog_id);
		goto out;
	}
	if (portredir_bpf__load(skel)) {
		fprintf(stderr, "pathcount: cannot load on the maps in %s: %s\n", argv[1],
			strerror(errno));
		goto out;
	}
	for (unsigned int i = 0; i < runs; i++) {
		struct icount_result ires;
		struct xdprun_result kres;
		char why[256];

		if (icount_xdp(skel->progs.xdp_portredir, cpu, pkt, sizeof(pkt), iout, &ires, why,
			       sizeof(why))) {
			fprintf(stderr, "pathcount: %s\n", why);
			goto out;
		}
		if (xdprun(bpf_program__fd(skel->progs.xdp_portredir), pkt, sizeof(pkt), kout,
			   &kres) ||
		    kres.retval != ires.retval || kres.len != ires.len ||
		    kres.meta_len != ires.meta_len || memcmp(kout, iout, ires.len)) {
			fprintf(stderr, "pathcount: the interpreter's result differs from the kernel's run\n");
			goto out;
		}
		if (!fewest || ires.insns < fewest)
			fewest = ires.insns;
	}
	printf("%lu\n", fewest);
	ret = 0;
out:
	portredir_bpf__destroy(skel);
	return ret;
}
