// SPDX-License-Identifier: GPL-2.0
/*
 * The two XDP programs of one object (bpf/portredir.bpf.c): xdp_portredir
 * leaves checksum fix-up metadata, xdp_portredir_n does not, for where a
 * kernel with the changes_pkt_data check refuses the first in a libxdp
 * dispatcher older than 1.5.5. The kernel decides "changes packet data"
 * from the presence of the helper call instruction, so the variant must
 * contain no bpf_xdp_adjust_meta call at all, not merely a dead one.
 *
 * Checked here: the variant's instructions, before load and as loaded
 * (subprograms appended), call no adjust_meta while the other's do; the
 * verifier accepts both; and on every frame of a matrix both give the same
 * verdict and the same bytes, the variant without metadata. And the TC
 * fix-up that reads the skb loads where its kfunc exists.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "object.h"
#include "pktbuild.h"
#include "rules.h"
#include "xdprun.h"
#include "portredir.skel.h"

#define FRAME_MAX 2048

struct call_counts {
	int adjust_meta;
	int subprog_outside; /* subprogram calls whose target is not in the array */
};

static struct call_counts count_calls(const struct bpf_program *p)
{
	const struct bpf_insn *insn = bpf_program__insns(p);
	size_t n = bpf_program__insn_cnt(p);
	struct call_counts c = { 0 };

	for (size_t i = 0; i < n; i++) {
		if (insn[i].code != (BPF_JMP | BPF_CALL))
			continue;
		if (insn[i].src_reg == BPF_PSEUDO_CALL)
			c.subprog_outside += (long long)i + 1 + insn[i].imm < 0 ||
					     (size_t)((long long)i + 1 + insn[i].imm) >= n;
		else if (insn[i].src_reg == 0 && insn[i].imm == BPF_FUNC_xdp_adjust_meta)
			c.adjust_meta++;
	}
	return c;
}

static void check_calls(struct portredir_bpf *skel, const char *when)
{
	struct call_counts meta = count_calls(skel->progs.xdp_portredir);
	struct call_counts nometa = count_calls(skel->progs.xdp_portredir_n);
	char name[96];

	snprintf(name, sizeof(name), "variant/%s/xdp_portredir-calls-adjust_meta", when);
	/* Proves the scan finds the call where it is. */
	check(meta.adjust_meta > 0, name, "found %d bpf_xdp_adjust_meta calls in %zu insns",
	      meta.adjust_meta, bpf_program__insn_cnt(skel->progs.xdp_portredir));
	snprintf(name, sizeof(name), "variant/%s/xdp_portredir_n-no-adjust_meta", when);
	check(nometa.adjust_meta == 0, name, "%d bpf_xdp_adjust_meta calls", nometa.adjust_meta);
	if (!strcmp(when, "as-loaded")) {
		/* libbpf appends the subprograms at load: the scan saw all the code. */
		snprintf(name, sizeof(name), "variant/%s/xdp_portredir_n-whole-code", when);
		check(nometa.subprog_outside == 0, name,
		      "%d subprogram calls lead outside the scanned instructions",
		      nometa.subprog_outside);
	}
}

static void same_frame(int meta_fd, int nometa_fd, const char *label, const struct pkt_spec *s,
		       bool hit)
{
	static uint8_t in[FRAME_MAX], out_a[FRAME_MAX + 256], out_b[FRAME_MAX + 256];
	struct xdprun_result a, b;
	struct pkt_layout lay;
	size_t n = pkt_build(s, in, sizeof(in), &lay);
	char name[128];
	int ra, rb;

	ra = xdprun(meta_fd, in, n, out_a, &a);
	rb = xdprun(nometa_fd, in, n, out_b, &b);
	snprintf(name, sizeof(name), "variant/test-run/%s", label);
	if (!check(!ra && !rb, name, "test run failed: %s / %s", strerror(-ra), strerror(-rb)))
		return;
	snprintf(name, sizeof(name), "variant/same-rewrite/%s", label);
	check(a.retval == b.retval && a.len == b.len && !memcmp(out_a, out_b, a.len) &&
		      (!hit || memcmp(out_a, in, n)),
	      name, "verdicts %u/%u, lengths %zu/%zu, %s", a.retval, b.retval, a.len, b.len,
	      a.len != b.len ? "lengths differ" :
			       "bytes differ (or a hit left the frame as it was)");
	snprintf(name, sizeof(name), "variant/metadata/%s", label);
	check(b.meta_len == 0 && a.meta_len == (hit ? sizeof(struct pr_meta) : 0), name,
	      "metadata %zu bytes with, %zu without (want %zu, 0)", a.meta_len, b.meta_len,
	      hit ? sizeof(struct pr_meta) : (size_t)0);
}

/*
 * The TC fix-up that reads the skb (bpf/tc_csum_fixup_kctx.bpf.c) loads,
 * verifier included, wherever the kernel has bpf_cast_to_kern_ctx (asked of
 * its BTF here; the library goes by the version, 6.3), and is not tried
 * elsewhere (6.1).
 */
static void check_fixup_kctx(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool has = btf && btf__find_by_name_kind(btf, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) > 0;
	int fd = pr_object_fixup_kctx_fd();

	btf__free(btf);
	check((fd >= 0) == has, "fixup-kctx/loads-where-the-kernel-has-the-kfunc",
	      "fd %d, kfunc %s", fd, has ? "present" : "absent");
}

int main(void)
{
	static const uint8_t payload[] = "variant payload";
	static const struct pr_rule_spec rules[] = { { PR_PROTO_UDP, 7000, 7000, 7001 },
						     { PR_PROTO_TCP, 7000, 7000, 7002 } };
	struct portredir_bpf *skel;
	struct pr_errbuf err;
	int ret;

	skel = pr_object_open(NULL, &err);
	if (!check(skel != NULL, "variant/open", "%s", err.msg))
		return check_summary();
	check_calls(skel, "before-load");
	ret = portredir_bpf__load(skel);
	if (!check(!ret, "variant/verifier-accepts-both",
		   "load failed: %s (run with the "
		   "verifier log: bpftool prog load)",
		   strerror(-ret))) {
		portredir_bpf__destroy(skel);
		return check_summary();
	}
	check_calls(skel, "as-loaded");
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		check(!pr_rules_add(bpf_map__fd(skel->maps.pr_rules),
				    bpf_map__fd(skel->maps.pr_rule_stats), &rules[i], &err),
		      "variant/add-rule", "%s", err.msg);

	for (int ipv6 = 0; ipv6 <= 1; ipv6++) {
		for (int tcp = 0; tcp <= 1; tcp++) {
			for (int hit = 0; hit <= 1; hit++) {
				struct pkt_spec s = { .ipv6 = ipv6,
						      .l4proto = tcp ? IPPROTO_TCP : IPPROTO_UDP,
						      .sport = 40000,
						      .dport = hit ? 7000 : 7003,
						      .payload = payload,
						      .payload_len = sizeof(payload) };
				char label[64];

				snprintf(label, sizeof(label), "%s-%s-%s", ipv6 ? "ipv6" : "ipv4",
					 tcp ? "tcp" : "udp", hit ? "hit" : "miss");
				same_frame(bpf_program__fd(skel->progs.xdp_portredir),
					   bpf_program__fd(skel->progs.xdp_portredir_n), label, &s,
					   hit);
			}
		}
	}
	{
		struct pkt_spec s = { .l4proto = IPPROTO_UDP,
				      .sport = 40000,
				      .dport = 7000,
				      .payload = payload,
				      .payload_len = sizeof(payload),
				      .udp_no_csum = 1 };

		same_frame(bpf_program__fd(skel->progs.xdp_portredir),
			   bpf_program__fd(skel->progs.xdp_portredir_n), "ipv4-udp-no-checksum-hit",
			   &s, true);
	}
	portredir_bpf__destroy(skel);
	check_fixup_kctx();
	return check_summary();
}
