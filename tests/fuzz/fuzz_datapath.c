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
 * PR_FUZZ_ONEWAY=1	loads the program as `load --no-reply-translation`
 *				does (no flow table), whose hits take other paths.
 * PR_FUZZ_VARIANTS=N	(1-32) also runs each frame with N - 1 other
 *				destination addresses (all zero, 0x80..., the first
 *				bit flipped, ...), for long runs with scoped rules:
 *				frames are cheap, new rule sets are not.
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
#include "scope_maps.h"
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
static struct pr_maps maps = PR_MAPS_INIT;
/* The scoped rules in the maps now, and the ones being set. */
static struct pr_scope_table scopes_now, scopes_next;
/* BPF_PROG_TEST_RUN delivers on the namespace's lo: ifindex 1. */
#define FZ_IFINDEX 1
#define FZ_GHOST_IFINDEX 77
static enum inject inject;
static int trace, variants = 1;
static unsigned long long last_full_ms;

/* The rule set now in the map, so an unchanged set is not rewritten. */
static struct fz_rule cur_rules[FZ_MAX_RULES];
static int cur_n = -1;
static struct prm_rules model_rules;
static struct pr_rule_spec written[FZ_MAX_RULES];
static int n_written;

static unsigned long long n_frames, n_refused, n_meta, n_rulesets, n_full_adds, n_map_checks;
static unsigned long long n_rejected, n_scoped_rules, n_scoped_hits;
static unsigned long long n_outcome[PRM_NUM_OUTCOMES], n_zero_class[2];
/* Rewritten frames by family and protocol, VLAN depth, extension headers. */
static unsigned long long n_rw_kind[2][2], n_rw_vlan[3], n_rw_ext[9];

static void print_stats(void)
{
	fprintf(stderr,
		"pr-fuzz-datapath: frames=%llu rewritten=%llu no-rule=%llu untouched=%llu "
		"kernel-refused=%llu rule-sets=%llu full-adds=%llu map-checks=%llu rules-refused=%llu "
		"csum-zero-class udp=%llu tcp=%llu with-metadata=%llu scoped-rules=%llu "
		"scoped-hits=%llu mismatches=0\n",
		n_frames, n_outcome[PRM_REWRITTEN], n_outcome[PRM_NO_RULE],
		n_frames - n_outcome[PRM_REWRITTEN] - n_outcome[PRM_NO_RULE], n_refused,
		n_rulesets, n_full_adds, n_map_checks, n_rejected, n_zero_class[0], n_zero_class[1],
		n_meta, n_scoped_rules, n_scoped_hits);
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
	struct pr_errbuf err;

	(void)argc;
	(void)argv;
	libbpf_set_print(NULL);
	if (getenv("PR_FUZZ_ONEWAY") && *getenv("PR_FUZZ_ONEWAY") == '1') {
		skel = pr_object_open(NULL, &err);
		if (skel) {
			skel->rodata->pr_record_flows = false;
			if (portredir_bpf__load(skel)) {
				portredir_bpf__destroy(skel);
				skel = NULL;
				pr_err_set(&err, "the kernel refused the one-way program");
			}
		}
	} else {
		skel = pr_object_load_private(&err);
	}
	if (!skel) {
		fprintf(stderr, "pr-fuzz-datapath: %s\n", err.msg);
		exit(1);
	}
	prog_fd = bpf_program__fd(skel->progs.xdp_portredir);
	rules_fd = bpf_map__fd(skel->maps.pr_rules);
	stats_fd = bpf_map__fd(skel->maps.pr_rule_stats);
	maps.rules = rules_fd;
	maps.rule_stats = stats_fd;
	maps.scope_sets = bpf_map__fd(skel->maps.pr_scope_sets);
	maps.scope_stats = bpf_map__fd(skel->maps.pr_scope_stats);
	maps.scope_rules = bpf_map__fd(skel->maps.pr_scope_rules);
	if (inj && !strcmp(inj, "output"))
		inject = INJECT_OUTPUT;
	else if (inj && !strcmp(inj, "zero-repr"))
		inject = INJECT_ZERO_REPR;
	else if (inj && *inj) {
		fprintf(stderr, "pr-fuzz-datapath: unknown PR_FUZZ_INJECT '%s'\n", inj);
		exit(1);
	}
	trace = !!getenv("PR_FUZZ_TRACE");
	if (getenv("PR_FUZZ_VARIANTS"))
		variants = atoi(getenv("PR_FUZZ_VARIANTS"));
	if (variants < 1 || variants > 32) {
		fprintf(stderr, "pr-fuzz-datapath: PR_FUZZ_VARIANTS must be 1-32\n");
		exit(1);
	}
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

		fprintf(stderr, "  %s %u-%u -> %u ifindex %u family %d prefix %02x../%u\n",
			r->ipproto == 6 ? "tcp" : "udp", r->first, r->last, r->to, r->ifindex,
			r->family, r->addr[0], r->plen);
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

/* ...and of what overlaps a rule of the same scope already in the map. */
static int overlaps_scoped(const struct pr_rule_spec *s, const struct prm_rule *scope)
{
	uint8_t ipp = s->proto == PR_PROTO_TCP ? 6 : 17;

	for (int i = 0; i < model_rules.n; i++) {
		const struct prm_rule *r = &model_rules.r[i];

		if (r->ipproto == ipp && s->first <= r->last && r->first <= s->last &&
		    r->ifindex == scope->ifindex && r->family == scope->family &&
		    r->plen == scope->plen && !memcmp(r->addr, scope->addr, sizeof(r->addr)))
			return 1;
	}
	return 0;
}

static int overlaps(const struct pr_rule_spec *s)
{
	static const struct prm_rule none;

	return overlaps_scoped(s, &none);
}

/*
 * The scope a selector stands for: bits 0-1 lo, another interface, an
 * address, lo and an address; bit 2 IPv6; bits 3-4 prefix /1, /8, /24 or
 * full; bit 5 the address starts with 0x80 (else it is all zero, which the
 * fuzzer's all-zero frames hit). Fills the model's rule and the library's.
 */
static void decode_scope(int sel, struct prm_rule *m, struct pr_scope_rule *lib)
{
	static const unsigned int plens[4] = { 1, 8, 24, 0 };
	int kind = sel & 3, v6 = (sel >> 2) & 1;
	char dst[64];
	struct pr_errbuf err;

	memset(lib, 0, sizeof(*lib));
	m->ifindex = kind == 0 || kind == 3 ? FZ_IFINDEX : kind == 1 ? FZ_GHOST_IFINDEX : 0;
	if (m->ifindex) {
		strcpy(lib->ifname, m->ifindex == FZ_IFINDEX ? "lo" : "ghost");
		lib->ifindex = m->ifindex;
	}
	if (kind < 2)
		return;
	m->family = v6 ? 6 : 4;
	m->plen = plens[(sel >> 3) & 3] ? plens[(sel >> 3) & 3] : v6 ? 128 : 32;
	m->addr[0] = sel & 0x20 ? 0x80 : 0;
	snprintf(dst, sizeof(dst), v6 ? "%x::/%u" : "%u.0.0.0/%u", v6 ? m->addr[0] << 8 : m->addr[0],
		 m->plen);
	if (pr_scope_parse_dst(dst, lib, &err)) {
		fprintf(stderr, "pr-fuzz-datapath: scope %s: %s\n", dst, err.msg);
		abort();
	}
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
	struct pr_errbuf err;

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

			if (!r->ifindex && !r->family && r->ipproto == ipp && port >= r->first &&
			    port <= r->last)
				first = r->first;
		}
		int scoped = 0;

		for (int i = 0; i < model_rules.n; i++) {
			const struct prm_rule *r = &model_rules.r[i];

			scoped |= (r->ifindex || r->family) && r->ipproto == ipp &&
				  port >= r->first && port <= r->last;
		}
		if (!e->scope_set != !scoped) {
			fprintf(stderr, "\nMISMATCH: rule map slot %s %u has scope set %u, want %s\n",
				ipp == 6 ? "tcp" : "udp", port, e->scope_set,
				scoped ? "one" : "none");
			dump_rules();
			abort();
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
	struct pr_errbuf err;
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
	memset(&scopes_next, 0, sizeof(scopes_next));
	for (int i = 0; i < n; i++) {
		struct pr_rule_spec s = {
			.proto = rules[i].tcp ? PR_PROTO_TCP : PR_PROTO_UDP,
			.first = rules[i].first,
			.last = rules[i].last,
			.to = rules[i].to,
		};
		int valid = expect_valid(&s), want = valid && !overlaps(&s), ok;
		const char *how;

		if (rules[i].scope) {
			struct prm_rule m = { .ipproto = rules[i].tcp ? 6 : 17, .first = s.first,
					      .last = s.last, .to = s.to };
			struct pr_scope_rule lib;
			unsigned int id = (unsigned int)i + 1;

			decode_scope(rules[i].scope - 1, &m, &lib);
			pr_scope_from_spec(&lib, &s);
			want = valid && !overlaps_scoped(&s, &m);
			ok = !pr_rule_validate(&s, &err) && !pr_scope_table_overlap(&scopes_next, &lib);
			if (ok != want) {
				fprintf(stderr, "\nMISMATCH: the scoped rule model %s rule %u, the "
						"harness expected it %s\n",
					ok ? "accepted" : "refused", i, want ? "accepted" : "refused");
				dump_rules();
				abort();
			}
			if (!ok) {
				n_rejected++;
				continue;
			}
			lib.used = 1;
			scopes_next.r[id] = lib;
			model_rules.r[model_rules.n++] = m;
			n_scoped_rules++;
			continue;
		}

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
	if (memcmp(&scopes_now, &scopes_next, sizeof(scopes_now)) &&
	    pr_scopes_commit(&maps, &scopes_now, &scopes_next, &err)) {
		fprintf(stderr, "pr-fuzz-datapath: writing scoped rules: %s\n", err.msg);
		abort();
	}
	scopes_now = scopes_next;
	if (full)
		verify_map();
	memcpy(cur_rules, rules, sizeof(*rules) * (size_t)n);
	cur_n = n;
}

static void check_frame(const uint8_t *in, size_t len);

/* Frame in again with destination variant v (1..7): see PR_FUZZ_VARIANTS. */
static void check_variant(const uint8_t *in, size_t len, int v, const struct prm_result *m)
{
	static uint8_t copy[FZ_MAX_FRAME];
	size_t alen = m->ipv6 ? 16 : 4;

	if (!m->daddr_off || m->daddr_off + alen > len)
		return;
	memcpy(copy, in, len);
	if (v == 1 || v == 2)
		memset(copy + m->daddr_off, 0, alen);
	if (v == 2)
		copy[m->daddr_off] = 0x80;
	if (v == 3)
		copy[m->daddr_off] ^= 0x80;
	if (v >= 4)
		copy[m->daddr_off + (size_t)v * 7 % alen] ^= (uint8_t)(1u << (v % 8));
	/* The upper half also moves to the neighbouring port (range edges). */
	if (v >= 16 && m->outcome <= PRM_NO_RULE && m->l4_off + 4 <= len)
		copy[m->l4_off + 3] ^= 1;
	check_frame(copy, len);
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
	prm_run(&model_rules, FZ_IFINDEX, in, len, want, &m);
	n_scoped_hits += m.scoped;
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
		struct prm_result m;
		static uint8_t scratch[FZ_MAX_FRAME];

		check_frame(frame, len);
		if (variants > 1)
			prm_run(&model_rules, FZ_IFINDEX, frame, len, scratch, &m);
		for (int v = 1; v < variants; v++)
			check_variant(frame, len, v, &m);
	}
	return 0;
}
