// SPDX-License-Identifier: GPL-2.0
/*
 * Rules changed under a stream of packets: does any packet see a torn rule?
 *
 * One thread runs the real XDP program (a private, unpinned instance) with
 * BPF_PROG_TEST_RUN on frames addressed to the ports of a range rule, as fast
 * as the kernel allows. Another thread rewrites that range in the rule map
 * the way lib/rules.c does (one batch update per rule, so port by port):
 * adds rule A, replaces it in place by rule B (same ports, other target),
 * replaces B by rule C (other first port, other target), removes C; once a
 * second through the public pr_rules_add()/pr_rules_remove() instead (they
 * read the whole 131072-entry map, tens of milliseconds each).
 *
 * A range update is not atomic across its ports, and need not be: each port
 * is looked up on its own, so a packet's outcome depends only on its own
 * port's entry. What must hold is that the entry a packet sees is one a
 * writer wrote. So every output frame must be either untouched (no rule
 * then) or rewritten to exactly the port rule A, B or C gives that port,
 * with a checksum that verifies from scratch, every other byte unchanged,
 * and metadata for the TC fix-up that names the original port and
 * checksum. Anything else (port 0, a port no rule gives, a checksum for
 * another port than the one written) is a torn read and fails the run.
 *
 * Usage: rule_race [-s SECONDS] [-n PORTS]
 * Prints one line of figures and exits 0 only if no frame was torn and every
 * outcome (untouched, A, B, C) was seen, so the rules really did change
 * under the packets.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "object.h"
#include "portredir.skel.h"
#include "rules.h"
#include "pktbuild.h"
#include "xdprun.h"

#define BASE 20000 /* first port of rules A and B */
#define C_BELOW 2 /* rule C starts this many ports below BASE */
#define TO_A 30000
#define TO_B 40000
#define TO_C 50000
#define N_FRAMES 4 /* udp/tcp x v4/v6 per port */
#define MAX_PORTS 256

enum outcome { UNTOUCHED, RULE_A, RULE_B, RULE_C, N_OUTCOMES };
static const char *const outcome_names[] = { "untouched", "rule-a", "rule-b", "rule-c" };

struct frame {
	uint8_t buf[256];
	struct pkt_layout lay;
	uint16_t port;
	int ipv6;
	uint8_t l4proto;
};

static int nports = 16;
static struct frame *frames;
static int n_frames;
static int prog_fd, rules_fd, stats_fd;
static atomic_int stop;
static atomic_ulong writer_rounds, writer_errors;

static struct pr_rule_spec rule(enum pr_proto proto, uint16_t first, uint16_t to)
{
	struct pr_rule_spec s = { .proto = proto, .first = first,
				  .last = (uint16_t)(BASE + nports - 1), .to = to };
	return s;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *writer(void *arg)
{
	struct pr_errbuf err;
	unsigned long round = 0;
	double last_public = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		bool public = now() - last_public >= 1.0;

		if (public)
			last_public = now();
		for (int proto = 0; proto < PR_NUM_PROTOS; proto++) {
			struct pr_rule_spec a = rule(proto, BASE, TO_A), b = rule(proto, BASE, TO_B),
					    c = rule(proto, BASE - C_BELOW, TO_C);
			int bad = 0;

			if (public) {
				/* The public path: checks overlaps, resets counters. */
				bad |= pr_rules_add(rules_fd, stats_fd, &a, &err);
				bad |= pr_rules_write_entries(rules_fd, &b, false, &err);
				bad |= pr_rules_write_entries(rules_fd, &c, false, &err);
				bad |= pr_rules_remove(rules_fd, -1, &c, &err);
			} else {
				bad |= pr_rules_write_entries(rules_fd, &a, false, &err);
				bad |= pr_rules_write_entries(rules_fd, &b, false, &err);
				bad |= pr_rules_write_entries(rules_fd, &c, false, &err);
				bad |= pr_rules_write_entries(rules_fd, &c, true, &err);
			}
			if (bad) {
				fprintf(stderr, "rule_race: writer: %s\n", err.msg);
				atomic_fetch_add(&writer_errors, 1);
				atomic_store(&stop, 1);
			}
		}
		round++;
		atomic_store(&writer_rounds, round);
	}
	return NULL;
}

/* The expected port for each outcome, for a frame to port p. */
static uint16_t expected(enum outcome o, uint16_t p)
{
	switch (o) {
	case RULE_A:
		return (uint16_t)(TO_A + (p - BASE));
	case RULE_B:
		return (uint16_t)(TO_B + (p - BASE));
	case RULE_C:
		return (uint16_t)(TO_C + (p - (BASE - C_BELOW)));
	default:
		return p;
	}
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Verifies the L4 checksum of out from scratch (pseudo-header + segment). */
static int l4_csum_ok(const struct frame *f, const uint8_t *out)
{
	const struct pkt_layout *l = &f->lay;
	size_t seg_len = l->len - l->l4_off;
	uint32_t sum;

	if (f->ipv6)
		sum = pkt_sum(out + l->l3_off + 8, 32, 0);
	else
		sum = pkt_sum(out + l->l3_off + 12, 8, 0);
	sum += f->l4proto + (uint32_t)seg_len;
	sum = pkt_sum(out + l->l4_off, seg_len, sum);
	if (f->l4proto == IPPROTO_UDP && !f->ipv6 && get16(out + l->csum_off) == 0)
		return 0; /* the input had a checksum: 0 would mean it was dropped */
	return pkt_fold(sum) == 0xffff;
}

enum tear { T_VERDICT, T_LENGTH, T_PORT, T_BYTES, T_CSUM, T_META, N_TEARS };
static const char *const tear_names[] = { "verdict", "length", "port", "bytes", "checksum",
					  "metadata" };

struct reader_stats {
	unsigned long outcomes[N_OUTCOMES];
	unsigned long tears[N_TEARS];
	unsigned long torn, frames;
	char first_torn[256];
};

static void torn(struct reader_stats *st, const struct frame *f, enum tear t, const char *why,
		 unsigned int v)
{
	st->tears[t]++;
	if (!st->torn++)
		snprintf(st->first_torn, sizeof(st->first_torn),
			 "%s %s to port %u: %s (%u)", f->ipv6 ? "ipv6" : "ipv4",
			 f->l4proto == IPPROTO_TCP ? "tcp" : "udp", f->port, why, v);
}

static void check_frame(struct reader_stats *st, const struct frame *f, const uint8_t *out,
			const struct xdprun_result *res)
{
	const struct pkt_layout *l = &f->lay;
	uint16_t port = get16(out + l->dport_off);
	enum outcome o;

	st->frames++;
	if (res->retval != XDP_PASS)
		return torn(st, f, T_VERDICT, "verdict", res->retval);
	if (res->len != l->len)
		return torn(st, f, T_LENGTH, "length", (unsigned int)res->len);
	for (o = UNTOUCHED; o < N_OUTCOMES; o++)
		if (port == expected(o, f->port))
			break;
	if (o == N_OUTCOMES)
		return torn(st, f, T_PORT, "rewritten to a port no rule gives", port);
	for (size_t i = 0; i < l->len; i++) {
		if (i == l->dport_off || i == l->dport_off + 1)
			continue;
		if (o != UNTOUCHED && (i == l->csum_off || i == l->csum_off + 1))
			continue;
		if (out[i] != f->buf[i])
			return torn(st, f, T_BYTES, "byte changed at offset", (unsigned int)i);
	}
	if (o != UNTOUCHED) {
		struct pr_meta meta;

		if (!l4_csum_ok(f, out))
			return torn(st, f, T_CSUM, "checksum does not verify for port", port);
		if (res->meta_len < sizeof(meta))
			return torn(st, f, T_META, "no metadata, length", (unsigned int)res->meta_len);
		memcpy(&meta, res->meta + res->meta_len - sizeof(meta), sizeof(meta));
		if (meta.magic != PR_META_MAGIC || ntohs(meta.old_port) != f->port ||
		    meta.old_check != *(const uint16_t *)(f->buf + l->csum_off))
			return torn(st, f, T_META, "metadata does not name the original port", ntohs(meta.old_port));
	}
	st->outcomes[o]++;
}

static int build_frames(void)
{
	static const uint8_t payload[] = "rule race payload: 32 bytes long";
	int i = 0;

	n_frames = nports * N_FRAMES;
	frames = calloc((size_t)n_frames, sizeof(*frames));
	if (!frames)
		return -1;
	for (int p = 0; p < nports; p++) {
		for (int v = 0; v < N_FRAMES; v++, i++) {
			struct frame *f = &frames[i];
			struct pkt_spec s = { 0 };

			s.ipv6 = v & 1;
			s.l4proto = v & 2 ? IPPROTO_TCP : IPPROTO_UDP;
			s.sport = 40000;
			s.dport = (uint16_t)(BASE + p);
			s.payload = payload;
			s.payload_len = sizeof(payload) - 1;
			f->port = s.dport;
			f->ipv6 = s.ipv6;
			f->l4proto = s.l4proto;
			if (!pkt_build(&s, f->buf, sizeof(f->buf), &f->lay))
				return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct portredir_bpf *skel;
	struct reader_stats st = { 0 };
	struct pr_errbuf err;
	pthread_t wt;
	double seconds = 3, start, elapsed;
	uint8_t out[256 + 256];
	int opt, ok;

	while ((opt = getopt(argc, argv, "s:n:")) != -1) {
		if (opt == 's')
			seconds = atof(optarg);
		else if (opt == 'n')
			nports = atoi(optarg);
		else
			return fprintf(stderr, "usage: %s [-s SECONDS] [-n PORTS]\n", argv[0]), 2;
	}
	if (seconds <= 0 || seconds > 600 || nports < 1 || nports > MAX_PORTS) {
		fprintf(stderr, "rule_race: -s must be in (0, 600], -n in 1..%d\n", MAX_PORTS);
		return 2;
	}
	skel = pr_object_load_private(&err);
	if (!skel) {
		fprintf(stderr, "rule_race: %s\n", err.msg);
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.xdp_portredir);
	rules_fd = bpf_map__fd(skel->maps.pr_rules);
	stats_fd = bpf_map__fd(skel->maps.pr_rule_stats);
	if (build_frames()) {
		fprintf(stderr, "rule_race: cannot build frames\n");
		return 1;
	}
	if (pthread_create(&wt, NULL, writer, NULL)) {
		fprintf(stderr, "rule_race: cannot start the writer\n");
		return 1;
	}
	start = now();
	for (unsigned long i = 0; !atomic_load(&stop); i++) {
		const struct frame *f = &frames[i % (unsigned long)n_frames];
		struct xdprun_result res;
		int ret = xdprun(prog_fd, f->buf, f->lay.len, out, &res);

		if (ret) {
			fprintf(stderr, "rule_race: BPF_PROG_TEST_RUN: %s\n", strerror(-ret));
			st.torn++;
			break;
		}
		check_frame(&st, f, out, &res);
		if ((i & 1023) == 0 && now() - start >= seconds)
			break;
	}
	elapsed = now() - start;
	atomic_store(&stop, 1);
	pthread_join(wt, NULL);

	ok = !st.torn && !atomic_load(&writer_errors);
	for (int o = 0; o < N_OUTCOMES; o++)
		ok &= st.outcomes[o] > 0;
	printf("rule-race: seconds=%.2f frames=%lu frames/s=%.0f", elapsed, st.frames,
	       (double)st.frames / elapsed);
	for (int o = 0; o < N_OUTCOMES; o++)
		printf(" %s=%lu", outcome_names[o], st.outcomes[o]);
	printf(" torn=%lu writer-rounds=%lu ports=%d\n", st.torn, atomic_load(&writer_rounds),
	       nports);
	if (st.torn) {
		printf("rule-race: torn by kind:");
		for (int t = 0; t < N_TEARS; t++)
			printf(" %s=%lu", tear_names[t], st.tears[t]);
		printf("\nrule-race: first torn frame: %s\n", st.first_torn);
	}
	portredir_bpf__destroy(skel);
	free(frames);
	return ok ? 0 : 1;
}
