// SPDX-License-Identifier: GPL-2.0
/*
 * The instructions xdp-portredir's XDP program executes on one IPv4 UDP
 * datagram, given the live state under a pin directory:
 *   pathcount PIN_DIR DPORT [RUNS]
 * A fresh instance of the program is loaded (not attached) on the maps
 * pinned there, so the count follows what the attached program reads (rules,
 * flows, the monitor's lease). Each of RUNS counts (bench/icount.h) is
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
	int cpu = sched_getcpu(), ret = 1;
	cpu_set_t one;

	if (argc < 3) {
		fprintf(stderr, "usage: pathcount PIN_DIR DPORT [RUNS]\n");
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
