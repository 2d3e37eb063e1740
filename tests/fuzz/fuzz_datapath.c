// SPDX-License-Identifier: GPL-2.0
/*
 * Differential fuzzer for the data path: every input becomes a small rule
 * set, written into a private instance of the real program's maps through
 * lib/rules.c, and up to FZ_MAX_FRAMES frames. Each frame goes through the
 * real XDP program (BPF_PROG_TEST_RUN) and through the independent model in
 * model.c; verdict, length and every byte must agree, else abort() with a
 * hex dump (libFuzzer then saves the input as a crash artifact).
 *
 * PR_FUZZ_INJECT=output	flips one byte of the program's output first,
 * PR_FUZZ_INJECT=zero-repr	makes the model write a TCP one's complement
 *				zero as 0xffff instead of 0x0000,
 * both to prove the comparison can fail (tests/integration/90-fuzz.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.h"
#include "model.h"
#include "object.h"
#include "rules.h"
#include "xdprun.h"
#include "portredir.skel.h"

/* pr_rules_add reads the whole 128K-entry map (about 30 ms here), which would
 * cap the fuzzer at a few dozen inputs a second. So the harness takes that
 * path for the first rule set of a process and then at most once every
 * FULL_ADD_INTERVAL_MS, and otherwise validates with pr_rule_validate and
 * writes the same entries with pr_rules_write_entries, the calls
 * pr_rules_add ends in. Either way the library's decision is checked against
 * the harness's own expectation. */
#define FULL_ADD_INTERVAL_MS 2000

enum inject { INJECT_NONE, INJECT_OUTPUT, INJECT_ZERO_REPR };

static struct portredir_bpf *skel;
static int prog_fd, rules_fd, stats_fd;
static enum inject inject;
static int trace;
static unsigned long long last_full_ms;

/* The rule set now in the map, so an unchanged set is not rewritten. */
static struct fz_rule cur_rules[FZ_MAX_RULES];
static int cur_n = -1;
static struct prm_rules model_rules;
static struct pr_rule_spec written[FZ_MAX_RULES];
static int n_written;

static unsigned long long n_frames, n_refused, n_meta, n_rulesets, n_full_adds, n_map_checks;
static unsigned long long n_rejected;
static unsigned long long n_outcome[PRM_NUM_OUTCOMES], n_zero_class[2];
/* Rewritten frames by family and protocol, VLAN depth, extension headers. */
static unsigned long long n_rw_kind[2][2], n_rw_vlan[3], n_rw_ext[9];

static void print_stats(void)
{
	fprintf(stderr,
		"pr-fuzz-datapath: frames=%llu rewritten=%llu no-rule=%llu untouched=%llu "
		"kernel-refused=%llu rule-sets=%llu full-adds=%llu map-checks=%llu rules-refused=%llu "
		"csum-zero-class udp=%llu tcp=%llu with-metadata=%llu mismatches=0\n",
		n_frames, n_outcome[PRM_REWRITTEN], n_outcome[PRM_NO_RULE],
		n_frames - n_outcome[PRM_REWRITTEN] - n_outcome[PRM_NO_RULE], n_refused,
		n_rulesets, n_full_adds, n_map_checks, n_rejected, n_zero_class[0], n_zero_class[1],
		n_meta);
	if (getenv("PR_FUZZ_STATS")) {
		for (int o = 0; o < PRM_NUM_OUTCOMES; o++)
			fprintf(stderr, "  %-24s %llu\n", prm_outcome_name(o), n_outcome[o]);
		fprintf(stderr, "  rewritten: ipv4/udp %llu ipv4/tcp %llu ipv6/udp %llu ipv6/tcp %llu\n",
			n_rw_kind[0][0], n_rw_kind[0][1], n_rw_kind[1][0], n_rw_kind[1][1]);
		fprintf(stderr, "  rewritten by VLAN tags: 0 %llu, 1 %llu, 2 %llu\n", n_rw_vlan[0],
			n_rw_vlan[1], n_rw_vlan[2]);
		fprintf(stderr, "  rewritten by IPv6 extension headers:");
		for (int e = 0; e <= 8; e++)
			fprintf(stderr, " %d: %llu", e, n_rw_ext[e]);
		fprintf(stderr, "\n");
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *inj = getenv("PR_FUZZ_INJECT");
	struct pr_err err;

	(void)argc;
	(void)argv;
	libbpf_set_print(NULL);
	skel = pr_object_load_private(&err);
	if (!skel) {
		fprintf(stderr, "pr-fuzz-datapath: %s\n", err.msg);
		exit(1);
	}
	prog_fd = bpf_program__fd(skel->progs.xdp_portredir);
	rules_fd = bpf_map__fd(skel->maps.pr_rules);
	stats_fd = bpf_map__fd(skel->maps.pr_rule_stats);
	if (inj && !strcmp(inj, "output"))
		inject = INJECT_OUTPUT;
	else if (inj && !strcmp(inj, "zero-repr"))
		inject = INJECT_ZERO_REPR;
	else if (inj && *inj) {
		fprintf(stderr, "pr-fuzz-datapath: unknown PR_FUZZ_INJECT '%s'\n", inj);
		exit(1);
	}
	trace = !!getenv("PR_FUZZ_TRACE");
	atexit(print_stats);
	return 0;
}

static void hexdump(const char *title, const uint8_t *p, size_t len, const uint8_t *other,
		    size_t olen)
{
	fprintf(stderr, "%s (%zu bytes):\n", title, len);
	for (size_t i = 0; i < len; i += 16) {
		fprintf(stderr, "  %04zx:", i);
		for (size_t j = i; j < i + 16 && j < len; j++) {
			int differs = other && (j >= olen || other[j] != p[j]);

			fprintf(stderr, "%s%02x", differs ? "*" : " ", p[j]);
		}
		fprintf(stderr, "\n");
	}
}

static void dump_rules(void)
{
	fprintf(stderr, "rules accepted into the map (%d):\n", model_rules.n);
	for (int i = 0; i < model_rules.n; i++) {
		const struct prm_rule *r = &model_rules.r[i];

		fprintf(stderr, "  %s %u-%u -> %u\n", r->ipproto == 6 ? "tcp" : "udp", r->first,
			r->last, r->to);
	}
}

static __attribute__((noreturn)) void mismatch(const char *what, const uint8_t *in, size_t len,
					       const uint8_t *want, const uint8_t *got,
					       size_t got_len, uint32_t want_v, uint32_t got_v,
					       const struct prm_result *m)
{
	fprintf(stderr, "\nMISMATCH: %s\n", what);
	dump_rules();
	fprintf(stderr, "model: outcome %s, verdict %u, ipv6 %d, proto %u, l4 offset %zu, ",
		prm_outcome_name(m->outcome), want_v, m->ipv6, m->ipproto, m->l4_off);
	fprintf(stderr, "port %u -> %u, checksum %04x -> %04x%s\n", m->old_port, m->new_port,
		m->old_csum, m->new_csum, m->csum_zero_class ? " (one's complement zero)" : "");
	fprintf(stderr, "program: verdict %u, length %zu\n", got_v, got_len);
	hexdump("input frame", in, len, NULL, 0);
	hexdump("model says (* = differs from the program)", want, len, got, got_len);
	hexdump("program gave (* = differs from the model)", got, got_len, want, len);
	abort();
}

/* The harness's own view of what pr_rule_validate must accept... */
static int expect_valid(const struct pr_rule_spec *s)
{
	unsigned int span = (unsigned int)s->last - s->first;

	return s->first && s->to && s->first <= s->last && s->to + span <= 65535 &&
	       s->to != s->first;
}

/* ...and of what overlaps a rule already in the map. */
static int overlaps(const struct pr_rule_spec *s)
{
	uint8_t ipp = s->proto == PR_PROTO_TCP ? 6 : 17;

	for (int i = 0; i < model_rules.n; i++) {
		const struct prm_rule *r = &model_rules.r[i];

		if (r->ipproto == ipp && s->first <= r->last && r->first <= s->last)
			return 1;
	}
	return 0;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* The whole map must hold exactly the accepted rules, encoded per the ABI:
 * this also proves that clearing the previous rule sets left nothing behind. */
static void verify_map(void)
{
	static struct pr_rule_table *t;
	struct pr_err err;

	if (!t && !(t = malloc(sizeof(*t))))
		abort();
	if (pr_rules_read(rules_fd, t, &err)) {
		fprintf(stderr, "pr-fuzz-datapath: reading the rule map: %s\n", err.msg);
		abort();
	}
	for (uint32_t key = 0; key < PR_RULE_SLOTS; key++) {
		uint8_t ipp = key >> 16 == PR_PROTO_TCP ? 6 : 17;
		uint16_t port = (uint16_t)key, to = prm_lookup(&model_rules, ipp, port), first = 0;
		const struct pr_rule *e = &t->entry[key];

		for (int i = 0; to && i < model_rules.n; i++) {
			const struct prm_rule *r = &model_rules.r[i];

			if (r->ipproto == ipp && port >= r->first && port <= r->last)
				first = r->first;
		}
		if (ntohs(e->to_port) != to || (to && e->first_port != first)) {
			fprintf(stderr, "\nMISMATCH: rule map slot %s %u holds to %u first %u, want to %u first %u\n",
				ipp == 6 ? "tcp" : "udp", port, ntohs(e->to_port), e->first_port, to,
				first);
			dump_rules();
			abort();
		}
	}
	n_map_checks++;
}

static void apply_rules(const struct fz_rule *rules, int n)
{
	struct pr_err err;
	int full;

	if (n == cur_n && !memcmp(rules, cur_rules, sizeof(*rules) * (size_t)n))
		return;
	full = !n_rulesets || now_ms() - last_full_ms >= FULL_ADD_INTERVAL_MS;
	if (full)
		last_full_ms = now_ms();
	n_rulesets++;
	if (trace)
		fprintf(stderr, "rule set %llu: %d rules decoded, %s path\n", n_rulesets, n,
			full ? "pr_rules_add" : "validate+write");
	for (int i = 0; i < n_written; i++) {
		if (pr_rules_write_entries(rules_fd, &written[i], true, &err)) {
			fprintf(stderr, "pr-fuzz-datapath: clearing rules: %s\n", err.msg);
			abort();
		}
	}
	n_written = 0;
	model_rules.n = 0;
	cur_n = -1;
	for (int i = 0; i < n; i++) {
		struct pr_rule_spec s = {
			.proto = rules[i].tcp ? PR_PROTO_TCP : PR_PROTO_UDP,
			.first = rules[i].first,
			.last = rules[i].last,
			.to = rules[i].to,
		};
		int valid = expect_valid(&s), want = valid && !overlaps(&s), ok;
		const char *how;

		if (full) {
			how = "pr_rules_add";
			ok = !pr_rules_add(rules_fd, stats_fd, &s, &err);
		} else {
			/* pr_rule_validate judges the rule alone; overlaps are ours. */
			how = "pr_rule_validate";
			ok = !pr_rule_validate(&s, &err);
			want = valid;
			if (ok && !overlaps(&s) &&
			    pr_rules_write_entries(rules_fd, &s, false, &err)) {
				fprintf(stderr, "pr-fuzz-datapath: writing rule: %s\n", err.msg);
				abort();
			}
		}
		if (ok != want) {
			char buf[80];

			pr_rule_format(&s, buf, sizeof(buf));
			fprintf(stderr, "\nMISMATCH: %s %s rule %s, expected it %s%s%s\n", how,
				ok ? "accepted" : "refused", buf, want ? "accepted" : "refused",
				ok ? "" : ": ", ok ? "" : err.msg);
			dump_rules();
			abort();
		}
		if (!full && ok && overlaps(&s))
			ok = 0;
		if (!ok) {
			n_rejected++;
			continue;
		}
		if (full)
			n_full_adds++;
		written[n_written++] = s;
		model_rules.r[model_rules.n++] = (struct prm_rule){
			.ipproto = rules[i].tcp ? 6 : 17,
			.first = s.first,
			.last = s.last,
			.to = s.to,
		};
	}
	if (full)
		verify_map();
	memcpy(cur_rules, rules, sizeof(*rules) * (size_t)n);
	cur_n = n;
}

static void check_frame(const uint8_t *in, size_t len)
{
	static uint8_t got[FZ_MAX_FRAME + 256], want[FZ_MAX_FRAME];
	struct xdprun_result res;
	struct prm_result m;
	int err;

	err = xdprun(prog_fd, in, len, got, &res);
	if (err == -EINVAL && len < 14) {
		/* BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header. */
		n_refused++;
		return;
	}
	if (err) {
		fprintf(stderr, "pr-fuzz-datapath: BPF_PROG_TEST_RUN on %zu bytes: %s\n", len,
			strerror(-err));
		abort();
	}
	prm_run(&model_rules, in, len, want, &m);
	n_frames++;
	n_meta += res.meta_len != 0;
	if (trace)
		fprintf(stderr, "frame %zu bytes: %s proto %u l4 %zu port %u -> %u csum %04x -> %04x%s\n",
			len, prm_outcome_name(m.outcome), m.ipproto, m.l4_off, m.old_port,
			m.new_port, m.old_csum, m.new_csum, m.csum_zero_class ? " (zero class)" : "");
	n_outcome[m.outcome]++;
	if (m.csum_zero_class)
		n_zero_class[m.ipproto == 6]++;
	if (m.outcome == PRM_REWRITTEN) {
		n_rw_kind[m.ipv6][m.ipproto == 6]++;
		n_rw_vlan[m.vlan_tags]++;
		n_rw_ext[m.ext_headers]++;
	}

	if (inject == INJECT_OUTPUT && res.len) {
		size_t at = m.outcome == PRM_REWRITTEN ? m.l4_off + 2 : res.len - 1;

		got[at] ^= 0x01;
	} else if (inject == INJECT_ZERO_REPR && m.csum_zero_class && m.ipproto == 6) {
		want[m.l4_off + 16] = 0xff;
		want[m.l4_off + 17] = 0xff;
	}

	/* Metadata the program puts in front of the frame (bpf_xdp_adjust_meta)
	 * is not part of the frame; xdprun hands it back separately. */
	if (res.retval != m.verdict)
		mismatch("verdict", in, len, want, got, res.len, m.verdict, res.retval, &m);
	if (res.len != len)
		mismatch("frame length changed", in, len, want, got, res.len, m.verdict,
			 res.retval, &m);
	if (memcmp(got, want, len))
		mismatch("frame bytes", in, len, want, got, res.len, m.verdict, res.retval, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { .p = data, .n = size };
	struct fz_rule rules[FZ_MAX_RULES];
	static uint8_t frame[FZ_MAX_FRAME];
	int n = fz_decode_rules(&in, rules);

	apply_rules(rules, n);
	for (int i = 0; i < FZ_MAX_FRAMES && (i == 0 || !fz_done(&in)); i++) {
		size_t len = fz_decode_frame(&in, rules, n, frame);

		check_frame(frame, len);
	}
	return 0;
}
