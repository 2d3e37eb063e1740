// SPDX-License-Identifier: GPL-2.0
/*
 * The data path on multi-buffer (jumbo) frames: an instance declaring frags,
 * as load makes it in native mode, run with BPF_PROG_TEST_RUN on frames
 * larger than a page, which the kernel splits into a first buffer (about
 * 3.5 KB: a page less head- and tailroom) and fragments; test_run splits
 * them for any XDP program, the frags flag matters where one is attached.
 * Each output frame is compared byte for byte with one built independently
 * (pktbuild.c sums the whole payload, fragments included), and the rule
 * counter must count the whole frame, not the first buffer.
 *
 * The kernel runs multi-buffer frames in test_run from 5.18; where it
 * refuses them, the cases SKIP with its answer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "object.h"
#include "pktbuild.h"
#include "rules.h"
#include "xdprun.h"
#include "portredir.skel.h"

#define JUMBO_PAYLOAD 8000
#define FRAME_MAX (JUMBO_PAYLOAD + 512)

static struct portredir_bpf *skel;
static uint8_t payload[JUMBO_PAYLOAD];

static int counter(__u32 key, struct pr_counter *total)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pr_counter *v = calloc((size_t)ncpus, sizeof(*v));
	int ret = -1;

	memset(total, 0, sizeof(*total));
	if (v && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.pr_rule_stats), &key, v)) {
		for (int i = 0; i < ncpus; i++) {
			total->packets += v[i].packets;
			total->bytes += v[i].bytes;
		}
		ret = 0;
	}
	free(v);
	return ret;
}

/* Returns false if the kernel refuses multi-buffer test runs (then SKIPs). */
static bool jumbo_case(int ipv6, uint8_t proto, uint16_t dport, uint16_t want)
{
	static uint8_t in[FRAME_MAX], out[FRAME_MAX], exp[FRAME_MAX];
	struct pkt_spec s = { .ipv6 = ipv6,
			      .l4proto = proto,
			      .sport = 40000,
			      .dport = dport,
			      .payload = payload,
			      .payload_len = sizeof(payload) };
	struct pkt_spec e = s;
	__u32 key = PR_RULE_KEY(proto == IPPROTO_UDP ? PR_PROTO_UDP : PR_PROTO_TCP, 7999);
	struct pr_counter c0, c1;
	struct pkt_layout lay;
	struct xdprun_result res;
	size_t n, en;
	char name[96];
	int ret;

	snprintf(name, sizeof(name), "jumbo/%s-%s-to-%u", ipv6 ? "ipv6" : "ipv4",
		 proto == IPPROTO_UDP ? "udp" : "tcp", dport);
	n = pkt_build(&s, in, sizeof(in), &lay);
	e.dport = want;
	en = pkt_build(&e, exp, sizeof(exp), &lay);
	counter(key, &c0);
	ret = xdprun(bpf_program__fd(skel->progs.xdp_portredir), in, n, out, &res);
	if (ret == -EINVAL || ret == -E2BIG || ret == -EOPNOTSUPP) {
		printf("SKIP %s: the kernel refuses a %zu-byte multi-buffer test run (%s)\n", name,
		       n, strerror(-ret));
		return false;
	}
	if (!check(ret == 0, name, "test run failed: %s", strerror(-ret)))
		return true;
	check(res.retval == XDP_PASS && res.len == en && !memcmp(out, exp, en), name,
	      "verdict %u, %zu bytes out (want %zu), %s", res.retval, res.len, en,
	      res.len == en ? "bytes differ from the reference" : "length differs");
	if (want != dport) {
		counter(key, &c1);
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "/counts-whole-frame");
		check(c1.packets - c0.packets == 1 && c1.bytes - c0.bytes == n, name,
		      "counted %llu packets, %llu bytes; want 1, %zu",
		      (unsigned long long)(c1.packets - c0.packets),
		      (unsigned long long)(c1.bytes - c0.bytes), n);
	}
	return true;
}

int main(void)
{
	static const struct pr_rule_spec rules[] = { { PR_PROTO_UDP, 7999, 7999, 7998 },
						     { PR_PROTO_TCP, 7999, 7999, 7998 } };
	struct pr_errbuf err;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	skel = pr_object_open(NULL, &err);
	if (!check(skel != NULL, "multibuf/open", "%s", err.msg))
		return check_summary();
	/* What load does in native mode (lib/frags.h). */
	bpf_program__set_flags(skel->progs.xdp_portredir,
			       bpf_program__flags(skel->progs.xdp_portredir) | BPF_F_XDP_HAS_FRAGS);
	if (!check(!portredir_bpf__load(skel), "multibuf/verifier-accepts-with-frags",
		   "load failed")) {
		portredir_bpf__destroy(skel);
		return check_summary();
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		check(!pr_rules_add(bpf_map__fd(skel->maps.pr_rules),
				    bpf_map__fd(skel->maps.pr_rule_stats), &rules[i], &err),
		      "multibuf/add-rule", "%s", err.msg);

	for (int ipv6 = 0; ipv6 <= 1; ipv6++) {
		if (!jumbo_case(ipv6, IPPROTO_UDP, 7999, 7998))
			break;
		jumbo_case(ipv6, IPPROTO_TCP, 7999, 7998);
		jumbo_case(ipv6, IPPROTO_UDP, 8001, 8001); /* no rule: untouched */
	}
	portredir_bpf__destroy(skel);
	return check_summary();
}
