// SPDX-License-Identifier: GPL-2.0
/*
 * Program cost: what one packet costs xdp-portredir's XDP program, measured
 * with BPF_PROG_TEST_RUN and its repeat count, next to an empty XDP_PASS
 * program (the floor) and xdp-filter's own program (the peer reference).
 *
 * This machine kind is noisy, so absolute figures mean little on their own:
 * every figure is measured in every round, the rounds interleave the figures
 * (A B C ... A B C ...), and each ratio is the median over the rounds of
 * (figure / baseline) taken within the same round.
 *
 * Usage: progcost [--quick] [--rounds N] [--repeat N] [--empty OBJ]
 *                 [--xdp-filter OBJ] [--object OBJ] [--cpu N]
 *
 * Output: a table for people, then one line per figure:
 *   BENCH {"figure":"hit","ns":23.10,"ratio":1.040,"baseline":"empty",...}
 * Targets are reported as met or missed; the exit status never depends on
 * them. It is nonzero only if the benchmark itself could not run or a
 * figure did not do what it claims to measure (e.g. a "hit" that did not
 * rewrite on every repetition).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "../bpf/flow_hash.h"
#include "pktbuild.h"
#include "xdprun.h"
#include "icount.h"
#include "object.h"
#include "rules.h"
#include "scope_maps.h"
#include "portredir.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ROUNDS 101

/*
 * Let the packet through: XDP_PASS, TC_ACT_OK, or xdp-portredir's TC
 * programs' TC_ACT_UNSPEC (no verdict of their own, bpf/portredir_abi.h).
 */
static bool lets_through(__u32 ret)
{
	return ret == XDP_PASS || ret == TC_ACT_OK || (int)ret == PR_TC_NEXT;
}

#define HIT_PORT 7999
#define HIT_BACK 7998 /* 7999 -> 7998 and 7998 -> 7999: every repetition rewrites */
#define EG_PORT 7001 /* the egress figures' rule, 7001 -> 7002: a server on 7002 */
#define EG_SERVER 7002
#define MISS_PORT 9000

#define XDP_FILTER_OBJ "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o"

/* ---- programs ---------------------------------------------------------- */

/*
 * Each figure runs one program instance. xdp-portredir instances differ in
 * the rules they hold, whether reply translation is on, and which of the
 * object's programs is timed; each has its own (unpinned) maps. The rules_*
 * figures share one instance, refilled for each (struct figure's rules).
 */
enum prog_id {
	PROG_EMPTY,
	PROG_EMPTY_TC,
	PROG_REF, /* bench/ref_rewrite.bpf.o: the minimal rewrite, the job's own cost */
	PROG_PR_2, /* the hit pair per protocol: the smallest table that always hits */
	PROG_PR_RULES, /* the rules_* figures' instance: its table is refilled for each */
	PROG_PR_REPLY, /* as loaded by default: reply translation on */
	PROG_PR_REPLY_OUT, /* the same instance's TC egress program */
	PROG_PR_2_HW, /* PROG_PR_2 as loaded on a hardware NIC: no checksum fix-up */
	PROG_PR_2_LEAN, /* PROG_PR_2 loaded with --no-action-totals */
	PROG_PR_2_HW_LEAN, /* PROG_PR_2_HW likewise */
	PROG_PR_REPLY_HW, /* PROG_PR_REPLY likewise */
	PROG_PR_2_FRAGS, /* PROG_PR_2 declaring frags, as load makes it in native mode */
	PROG_PR_SCOPED_HIT, /* the hit pair as scoped rules (lo and the packet's address) */
	PROG_PR_SCOPED_MISS, /* the hit pair unscoped, plus scoped rules for another interface */
	PROG_XDP_FILTER,
	NUM_PROGS,
};

enum prog_kind {
	KIND_EMPTY, /* bench/empty.bpf.o */
	KIND_REF, /* bench/ref_rewrite.bpf.o */
	KIND_PORTREDIR,
	KIND_XDP_FILTER,
};

struct prog {
	const char *what;
	enum prog_kind kind;
	const char *name; /* the program to time within the object */
	unsigned int rules; /* xdp-portredir: rules per protocol, now */
	bool reply; /* xdp-portredir: reply translation on (the default load) */
	bool egress; /* PROG_PR_REPLY's egress program, after recording flows */
	bool lean; /* --no-action-totals: pr_action_totals off */
	bool frags; /* declares multi-buffer support (BPF_F_XDP_HAS_FRAGS) */
	int scope; /* SCOPE_*: how the hit pair is scoped */
	int fd; /* -1 until loaded */
	char skipped[640]; /* why it could not be loaded */
	struct portredir_bpf *skel;
	struct bpf_object *obj;
	int rules_fd, stats_fd, reply_stats_fd, flows_fd; /* xdp-portredir only */
	int xdp_fd; /* xdp-portredir's XDP program, also for egress instances */
	struct pr_maps scope_maps; /* the maps pr_scopes_commit() writes */
};

enum { SCOPE_NONE, SCOPE_HIT, SCOPE_MISS };

static struct prog progs[NUM_PROGS] = {
	[PROG_EMPTY] = { .what = "empty XDP_PASS program", .kind = KIND_EMPTY,
			 .name = "xdp_empty" },
	[PROG_EMPTY_TC] = { .what = "empty TC program", .kind = KIND_EMPTY, .name = "tc_empty" },
	[PROG_REF] = { .what = "reference rewrite", .kind = KIND_REF, .name = "xdp_ref_rewrite" },
	[PROG_PR_2] = { .what = "xdp-portredir, 2 rules/proto, one-way", .kind = KIND_PORTREDIR,
			.name = "xdp_portredir", .rules = 2 },
	[PROG_PR_RULES] = { .what = "xdp-portredir, 2-65535 rules/proto, one-way",
			    .kind = KIND_PORTREDIR, .name = "xdp_portredir", .rules = 2 },
	[PROG_PR_REPLY] = { .what = "xdp-portredir, reply translation on",
			    .kind = KIND_PORTREDIR, .name = "xdp_portredir", .rules = 3,
			    .reply = true },
	[PROG_PR_REPLY_OUT] = { .what = "xdp-portredir's TC egress program",
				.kind = KIND_PORTREDIR, .name = "tc_portredir_out", .reply = true,
				.egress = true },
	[PROG_PR_2_HW] = { .what = "xdp-portredir, 2 rules/proto, one-way, hardware NIC",
			   .kind = KIND_PORTREDIR, .name = "xdp_portredir_n", .rules = 2 },
	[PROG_PR_2_LEAN] = { .what = "xdp-portredir, 2 rules/proto, one-way, no action totals",
			     .kind = KIND_PORTREDIR, .name = "xdp_portredir", .rules = 2,
			     .lean = true },
	[PROG_PR_2_HW_LEAN] = { .what = "xdp-portredir, 2 rules/proto, one-way, hardware NIC, "
					"no action totals",
				.kind = KIND_PORTREDIR, .name = "xdp_portredir_n", .rules = 2,
				.lean = true },
	[PROG_PR_REPLY_HW] = { .what = "xdp-portredir, reply translation on, hardware NIC",
			       .kind = KIND_PORTREDIR, .name = "xdp_portredir_n", .rules = 3,
			       .reply = true },
	[PROG_PR_2_FRAGS] = { .what = "xdp-portredir, 2 rules/proto, one-way, frags declared",
			      .kind = KIND_PORTREDIR, .name = "xdp_portredir", .rules = 2,
			      .frags = true },
	[PROG_PR_SCOPED_HIT] = { .what = "xdp-portredir, hit pair scoped to lo and 10.0.0.2",
				 .kind = KIND_PORTREDIR, .name = "xdp_portredir", .rules = 2,
				 .scope = SCOPE_HIT },
	[PROG_PR_SCOPED_MISS] = { .what = "xdp-portredir, hit pair and rules for another interface",
				  .kind = KIND_PORTREDIR, .name = "xdp_portredir", .rules = 2,
				  .scope = SCOPE_MISS },
	[PROG_XDP_FILTER] = { .what = "xdp-filter xdpfilt_alw_all.o", .kind = KIND_XDP_FILTER },
};

/* ---- packets ----------------------------------------------------------- */

enum pkt_id {
	PKT_V4_UDP_HIT,
	PKT_V4_UDP_MISS,
	PKT_ARP,
	PKT_VLAN_V4_UDP_HIT,
	PKT_V6_EXT_UDP_HIT,
	PKT_V4_TCP_EST_HIT, /* an established segment (PSH|ACK) to 7999 */
	PKT_V4_UDP_EG, /* UDP to 7001: records the flow the egress figure translates */
	PKT_V4_TCP_SYN_EG, /* the same for TCP */
	PKT_V4_UDP_REPLY, /* 10.0.0.2:7002 -> 10.0.0.1:40000, the server's answer */
	PKT_V4_TCP_EST_REPLY,
	NUM_PKTS,
};

struct packet {
	const char *what;
	enum pr_proto proto;
	uint8_t data[PKT_MAX];
	size_t len;
	size_t dport_off;
};

static struct packet pkts[NUM_PKTS] = {
	[PKT_V4_UDP_HIT] = { .what = "IPv4/UDP to 7999" },
	[PKT_V4_UDP_MISS] = { .what = "IPv4/UDP to 9000 (no rule)" },
	[PKT_ARP] = { .what = "ARP request" },
	[PKT_VLAN_V4_UDP_HIT] = { .what = "802.1Q/IPv4/UDP to 7999" },
	[PKT_V6_EXT_UDP_HIT] = { .what = "IPv6+HBH+DSTOPTS/UDP to 7999" },
	[PKT_V4_TCP_EST_HIT] = { .what = "IPv4/TCP PSH|ACK to 7999", .proto = PR_PROTO_TCP },
	[PKT_V4_UDP_EG] = { .what = "IPv4/UDP to 7001" },
	[PKT_V4_TCP_SYN_EG] = { .what = "IPv4/TCP SYN to 7001", .proto = PR_PROTO_TCP },
	[PKT_V4_UDP_REPLY] = { .what = "IPv4/UDP reply from 7002" },
	[PKT_V4_TCP_EST_REPLY] = { .what = "IPv4/TCP ACK reply from 7002", .proto = PR_PROTO_TCP },
};

/* ---- figures ----------------------------------------------------------- */

/* What a figure must be seen doing before it is timed. */
enum effect {
	EFFECT_NONE, /* frame unchanged, rule counters unchanged */
	EFFECT_REWRITE, /* destination port flips, rule counters +N for N runs */
	EFFECT_REPLY, /* reply counter +N for N runs (see setup_egress()) */
};

/*
 * The whole benchmark is this table: a figure is a program on a packet, a
 * baseline figure it is divided by, and the target for that ratio.
 * A figure with same_as reuses another figure's timings and only compares
 * them against a different baseline. To add a figure, add a line here (and,
 * for a new program or packet, an entry above and its loader or builder).
 */
struct figure {
	const char *name;
	const char *what;
	enum prog_id prog;
	enum pkt_id pkt;
	enum effect effect;
	const char *baseline; /* name of the figure it is divided by */
	double max_ratio; /* target: ratio <= max_ratio; 0 = none */
	const char *same_as;
	/*
	 * The reference figure for the same kind of packet: the added cost
	 * (ns - floor) is also given as a multiple of the reference's.
	 */
	const char *ref;
	double max_xref; /* target for that multiple; 0 = none */
	unsigned int max_insns; /* target for the instructions executed; 0 = none */
	/*
	 * Nonzero: the rules per protocol the instance holds while this figure
	 * is checked, counted and timed (set_rule_count()). The rules_*
	 * figures share one instance this way: two instances holding the same
	 * rules differed by up to 5% in one run, by where their maps landed.
	 */
	unsigned int rules;

	/* results */
	double ns[MAX_ROUNDS];
	double kns[MAX_ROUNDS]; /* the kernel's own whole-ns figure, as a cross-check */
	double ratio;
	double ns_med, ns_min, ns_max, kns_med;
	double added; /* median of per-round ns - floor */
	double xref; /* median of per-round added / the reference's added; < 0: none */
	long insns; /* instructions executed on this frame; < 0: not counted */
	char insns_why[160]; /* why not */
	const char *skipped;
};

static struct figure figures[] = {
	{ .name = "empty", .what = "empty XDP_PASS program (floor)", .prog = PROG_EMPTY,
	  .pkt = PKT_V4_UDP_HIT, .baseline = "empty" },
	/* The job's own cost: the minimal rewrite (bench/ref_rewrite.bpf.c). */
	{ .name = "ref_hit", .what = "reference: UDP rewrite", .prog = PROG_REF,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty", .ref = "ref_hit" },
	{ .name = "ref_miss", .what = "reference: UDP, no rule", .prog = PROG_REF,
	  .pkt = PKT_V4_UDP_MISS, .baseline = "empty", .ref = "ref_miss" },
	{ .name = "ref_nonip", .what = "reference: ARP frame", .prog = PROG_REF, .pkt = PKT_ARP,
	  .baseline = "empty", .ref = "ref_nonip" },
	{ .name = "hit", .what = "UDP rewrite 7999<->7998, one-way", .prog = PROG_PR_2,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty",
	  .max_ratio = 1.25, .ref = "ref_hit", .max_xref = 1.5, .max_insns = 90 },
	{ .name = "miss", .what = "UDP, no rule for the port", .prog = PROG_PR_2,
	  .pkt = PKT_V4_UDP_MISS, .baseline = "empty", .max_ratio = 1.15, .ref = "ref_miss",
	  .max_xref = 1.5, .max_insns = 45 },
	{ .name = "nonip", .what = "ARP frame", .prog = PROG_PR_2, .pkt = PKT_ARP,
	  .baseline = "empty", .max_ratio = 1.10, .ref = "ref_nonip", .max_xref = 1.5,
	  .max_insns = 15 },
	{ .name = "vlan_hit", .what = "802.1Q-tagged UDP rewrite, one-way", .prog = PROG_PR_2,
	  .pkt = PKT_VLAN_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty",
	  .ref = "ref_hit" },
	{ .name = "ipv6_ext_hit", .what = "IPv6 HBH+DSTOPTS UDP rewrite, one-way", .prog = PROG_PR_2,
	  .pkt = PKT_V6_EXT_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty",
	  .ref = "ref_hit" },
	{ .name = "reply_udp_hit", .what = "UDP rewrite, reply translation on", .prog = PROG_PR_REPLY,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty",
	  .max_ratio = 2.0, .ref = "ref_hit", .max_xref = 2.5 },
	{ .name = "reply_tcp_est_hit", .what = "TCP established rewrite, reply on",
	  .prog = PROG_PR_REPLY, .pkt = PKT_V4_TCP_EST_HIT, .effect = EFFECT_REWRITE,
	  .baseline = "empty", .max_ratio = 1.3, .ref = "ref_hit", .max_xref = 1.7 },
	/* The same on a hardware NIC, where load leaves the checksum fix-up out. */
	{ .name = "hit_hw", .what = "hit, hardware NIC (no fix-up)", .prog = PROG_PR_2_HW,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty",
	  .max_ratio = 1.25, .ref = "ref_hit", .max_xref = 1.5, .max_insns = 90 },
	{ .name = "reply_udp_hit_hw", .what = "reply_udp_hit, hardware NIC",
	  .prog = PROG_PR_REPLY_HW, .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE,
	  .baseline = "empty", .max_ratio = 2.0, .ref = "ref_hit", .max_xref = 2.5 },
	{ .name = "reply_tcp_est_hit_hw", .what = "reply_tcp_est_hit, hardware NIC",
	  .prog = PROG_PR_REPLY_HW, .pkt = PKT_V4_TCP_EST_HIT, .effect = EFFECT_REWRITE,
	  .baseline = "empty", .max_ratio = 1.3, .ref = "ref_hit", .max_xref = 1.7 },
	/*
	 * The one-way figures as `load --no-action-totals` makes them: every
	 * feature the issue keeps, without the per-action totals.
	 */
	{ .name = "hit_lean", .what = "hit, --no-action-totals", .prog = PROG_PR_2_LEAN,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty",
	  .ref = "ref_hit", .max_xref = 1.5, .max_insns = 90 },
	{ .name = "miss_lean", .what = "miss, --no-action-totals", .prog = PROG_PR_2_LEAN,
	  .pkt = PKT_V4_UDP_MISS, .baseline = "empty", .ref = "ref_miss", .max_xref = 1.5,
	  .max_insns = 45 },
	{ .name = "nonip_lean", .what = "nonip, --no-action-totals", .prog = PROG_PR_2_LEAN,
	  .pkt = PKT_ARP, .baseline = "empty", .ref = "ref_nonip", .max_xref = 1.5,
	  .max_insns = 15 },
	{ .name = "hit_hw_lean", .what = "hit_hw, --no-action-totals", .prog = PROG_PR_2_HW_LEAN,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "empty",
	  .ref = "ref_hit", .max_xref = 1.5, .max_insns = 90 },
	/* Native load declares frags (lib/frags.h): the same program, flagged. */
	{ .name = "hit_frags", .what = "hit, frags declared (native load)",
	  .prog = PROG_PR_2_FRAGS, .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE,
	  .baseline = "hit" },
	/*
	 * Scoped rules (--interface, --dst): a hit on a rule scoped to the
	 * interface and the address, and a port whose scoped rules are all for
	 * another interface (the unscoped rule applies). Their added cost is
	 * also given as a multiple of the unscoped hit's (issue 18: <= 1.3).
	 */
	{ .name = "scoped_hit", .what = "UDP rewrite by a rule on lo to 10.0.0.2",
	  .prog = PROG_PR_SCOPED_HIT, .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE,
	  .baseline = "empty", .ref = "hit", .max_xref = 1.3 },
	{ .name = "scoped_miss", .what = "UDP rewrite, scoped rules of the port miss",
	  .prog = PROG_PR_SCOPED_MISS, .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE,
	  .baseline = "empty", .ref = "hit", .max_xref = 1.3 },
	{ .name = "xdpfilter", .what = "xdp-filter alw_all, hit's packet", .prog = PROG_XDP_FILTER,
	  .pkt = PKT_V4_UDP_HIT, .baseline = "empty", .ref = "ref_hit" },
	{ .name = "hit_vs_xdpfilter", .what = "hit / xdp-filter", .prog = PROG_PR_2,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "xdpfilter",
	  .max_ratio = 0.5, .same_as = "hit" },
	{ .name = "reply_udp_vs_xdpfilter", .what = "reply_udp_hit / xdp-filter",
	  .prog = PROG_PR_REPLY, .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE,
	  .baseline = "xdpfilter", .same_as = "reply_udp_hit" },
	{ .name = "rules_2", .what = "hit, 2 rules/proto", .prog = PROG_PR_RULES,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "rules_2", .rules = 2 },
	{ .name = "rules_1000", .what = "hit, 1000 rules/proto", .prog = PROG_PR_RULES,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "rules_2", .rules = 1000 },
	{ .name = "rules_65535", .what = "hit, 65535 rules/proto (all)", .prog = PROG_PR_RULES,
	  .pkt = PKT_V4_UDP_HIT, .effect = EFFECT_REWRITE, .baseline = "rules_2",
	  .max_ratio = 1.05, .rules = 65535 },
	{ .name = "empty_tc", .what = "empty TC program (floor)", .prog = PROG_EMPTY_TC,
	  .pkt = PKT_V4_UDP_REPLY, .baseline = "empty_tc" },
	{ .name = "reply_out_udp", .what = "TC egress: UDP reply translated", .prog = PROG_PR_REPLY_OUT,
	  .pkt = PKT_V4_UDP_REPLY, .effect = EFFECT_REPLY, .baseline = "empty_tc" },
	{ .name = "reply_out_tcp_est", .what = "TC egress: TCP ACK reply translated",
	  .prog = PROG_PR_REPLY_OUT, .pkt = PKT_V4_TCP_EST_REPLY, .effect = EFFECT_REPLY,
	  .baseline = "empty_tc" },
};

/* ---- options ----------------------------------------------------------- */

static unsigned int opt_rounds = 9;
static unsigned int opt_repeat = 1000000;
static const char *opt_empty;
static const char *opt_xdp_filter = XDP_FILTER_OBJ;
static const char *opt_object; /* xdp-portredir from a file, not the embedded one */
static int opt_cpu = -1;
static bool opt_ablation; /* --object is a build with features taken out */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* ---- building packets -------------------------------------------------- */

static const uint8_t payload[32] = "xdp-portredir benchmark payload";

static int build(enum pkt_id id, const struct pkt_spec *s)
{
	struct packet *p = &pkts[id];
	struct pkt_layout lay;

	p->len = pkt_build(s, p->data, sizeof(p->data), &lay);
	p->dport_off = lay.dport_off;
	return (int)lay.l3_off;
}

/* The server's answer: swaps the IPv4 addresses; no checksum covers their order. */
static void swap_v4_addrs(enum pkt_id id, int l3)
{
	uint8_t tmp[4], *a = pkts[id].data + l3 + 12;

	memcpy(tmp, a, 4);
	memcpy(a, a + 4, 4);
	memcpy(a + 4, tmp, 4);
}

/* Turns a PSH|ACK segment into a SYN, keeping its checksum right (RFC 1624). */
static void make_syn(enum pkt_id id)
{
	struct packet *p = &pkts[id];
	size_t l4 = p->dport_off - 2;
	uint16_t old = (uint16_t)(p->data[l4 + 12] << 8 | p->data[l4 + 13]);
	uint16_t new = (uint16_t)((old & 0xff00) | 0x02);
	uint16_t check = (uint16_t)(p->data[l4 + 16] << 8 | p->data[l4 + 17]);
	uint32_t sum = (uint16_t)~check + (uint16_t)~old + (uint32_t)new;

	check = (uint16_t)~pkt_fold(sum);
	p->data[l4 + 13] = (uint8_t)new;
	p->data[l4 + 16] = (uint8_t)(check >> 8);
	p->data[l4 + 17] = (uint8_t)check;
}

/*
 * The client port of the UDP hit frame. The flip-flop makes two flows of it
 * (to HIT_BACK and to HIT_PORT); a steady stream has one, which the per-CPU
 * flow cache keeps. Two flows in one cache slot would evict each other on
 * every datagram, and reply_udp_hit would time a path no steady stream
 * takes: the first port from 40000 on whose two flows land in two slots.
 */
static uint16_t hit_sport = 40000;

static struct pr_flow_key hit_flow(uint16_t sport, int back)
{
	struct pr_flow_key key = {
		.proto = IPPROTO_UDP,
		.kind = PR_FLOW_REDIRECT,
		.client_port = htons(sport),
		.server_port = htons(back ? HIT_BACK : HIT_PORT),
		.client_addr = { htonl(0x0a000001) },
		.server_addr = { htonl(0x0a000002) },
	};
	return key;
}

static void choose_hit_sport(void)
{
	for (uint16_t p = 40000; p < 40100; p++) {
		struct pr_flow_key a = hit_flow(p, 0), b = hit_flow(p, 1);

		if (pr_flow_cache_slot_of(&a) != pr_flow_cache_slot_of(&b)) {
			hit_sport = p;
			return;
		}
	}
}

static int build_packets(void)
{
	struct pkt_spec s;
	struct packet *p;
	int l3;

	memset(&s, 0, sizeof(s));
	s.l4proto = IPPROTO_UDP;
	choose_hit_sport();
	s.sport = hit_sport;
	s.dport = HIT_PORT;
	s.payload = payload;
	s.payload_len = sizeof(payload);
	build(PKT_V4_UDP_HIT, &s);
	s.sport = 40000;

	s.dport = MISS_PORT;
	build(PKT_V4_UDP_MISS, &s);

	s.dport = HIT_PORT;
	s.vlan_tags = 1;
	build(PKT_VLAN_V4_UDP_HIT, &s);

	s.vlan_tags = 0;
	s.l4proto = IPPROTO_TCP;
	build(PKT_V4_TCP_EST_HIT, &s);
	s.dport = EG_PORT;
	build(PKT_V4_TCP_SYN_EG, &s);
	make_syn(PKT_V4_TCP_SYN_EG);
	s.l4proto = IPPROTO_UDP;
	build(PKT_V4_UDP_EG, &s);

	s.l4proto = IPPROTO_TCP;
	s.sport = EG_SERVER;
	s.dport = 40000;
	l3 = build(PKT_V4_TCP_EST_REPLY, &s);
	swap_v4_addrs(PKT_V4_TCP_EST_REPLY, l3);
	s.l4proto = IPPROTO_UDP;
	l3 = build(PKT_V4_UDP_REPLY, &s);
	swap_v4_addrs(PKT_V4_UDP_REPLY, l3);

	s.sport = 40000;
	s.dport = HIT_PORT;
	s.ipv6 = 1;
	s.n_ext = 2;
	s.ext[0] = (struct pkt_ext){ .type = IPPROTO_HOPOPTS, .len = 8 };
	s.ext[1] = (struct pkt_ext){ .type = IPPROTO_DSTOPTS, .len = 8 };
	build(PKT_V6_EXT_UDP_HIT, &s);

	/* An ARP request, padded to the Ethernet minimum as on the wire. */
	p = &pkts[PKT_ARP];
	memset(p->data, 0, 60);
	memcpy(p->data, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x08\x06", 14);
	memcpy(p->data + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8); /* Ethernet/IPv4, request */
	memcpy(p->data + 22, "\x02\x00\x00\x00\x00\x01\x0a\x00\x00\x01", 10); /* sender */
	memcpy(p->data + 32, "\x00\x00\x00\x00\x00\x00\x0a\x00\x00\x02", 10); /* target */
	p->len = 60;

	for (int i = 0; i < NUM_PKTS; i++) {
		if (!pkts[i].len) {
			fprintf(stderr, "progcost: cannot build packet '%s'\n", pkts[i].what);
			return -1;
		}
	}
	return 0;
}

/* ---- running programs -------------------------------------------------- */

/* One run of a TC or XDP program on a frame; out gets the frame as it leaves. */
static int run_once(int fd, const struct packet *pkt, uint8_t *out, size_t *out_len,
		    uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt->data,
		    .data_size_in = (__u32)pkt->len, .data_out = out,
		    .data_size_out = (__u32)(PKT_MAX + 256), .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*out_len = opts.data_size_out;
	*retval = opts.retval;
	return 0;
}

static uint16_t port_at(const uint8_t *frame, size_t off)
{
	return (uint16_t)(frame[off] << 8 | frame[off + 1]);
}

/* ---- loading programs -------------------------------------------------- */

/* The program called name, or the object's first XDP program. */
static struct bpf_program *find_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *bp;

	bpf_object__for_each_program(bp, obj)
	{
		if (name ? !strcmp(bpf_program__name(bp), name) :
			   bpf_program__type(bp) == BPF_PROG_TYPE_XDP)
			return bp;
	}
	return NULL;
}

/*
 * Sets a `const volatile bool` of the object's .rodata before load, the way
 * the CLI's --no-reply-translation does through the skeleton; works for a
 * file object too (--object).
 */
static int set_rodata_bool(struct bpf_object *obj, const char *var, bool value)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *map;
	const void *init;
	uint8_t *copy;
	size_t size;
	int id, i, ret = -1;

	map = bpf_object__find_map_by_name(obj, ".rodata");
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (!map || id < 0)
		return -1;
	init = bpf_map__initial_value(map, &size);
	if (!init || !size)
		return -1;
	copy = malloc(size);
	if (!copy)
		return -1;
	memcpy(copy, init, size);
	sec = btf__type_by_id(btf, (__u32)id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (!strcmp(btf__name_by_offset(btf, v->name_off), var) && vs->offset < size) {
			copy[vs->offset] = value;
			ret = bpf_map__set_initial_value(map, copy, size);
			break;
		}
	}
	free(copy);
	return ret;
}

/* Sets BPF_F_XDP_HAS_FRAGS on the object's XDP program, before load. */
static void declare_frags(struct bpf_object *obj)
{
	struct bpf_program *xdp = find_prog(obj, "xdp_portredir");

	if (xdp)
		bpf_program__set_flags(xdp, bpf_program__flags(xdp) | BPF_F_XDP_HAS_FRAGS);
}

static int load_bpf_file(struct prog *p, const char *path, bool portredir)
{
	struct bpf_program *bp;
	struct bpf_map *map;
	int err;

	p->obj = bpf_object__open_file(path, NULL);
	if (!p->obj) {
		snprintf(p->skipped, sizeof(p->skipped), "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	/* Private maps: nothing of a running xdp-filter or xdp-portredir is touched. */
	bpf_object__for_each_map(map, p->obj)
	{
		bpf_map__set_pin_path(map, NULL);
	}
	if (portredir && set_rodata_bool(p->obj, "pr_record_flows", p->reply)) {
		snprintf(p->skipped, sizeof(p->skipped), "%s has no pr_record_flows", path);
		return -1;
	}
	if (portredir && p->lean && set_rodata_bool(p->obj, "pr_action_totals", false)) {
		snprintf(p->skipped, sizeof(p->skipped), "%s has no pr_action_totals", path);
		return -1;
	}
	if (portredir && p->frags)
		declare_frags(p->obj);
	err = bpf_object__load(p->obj);
	if (err) {
		snprintf(p->skipped, sizeof(p->skipped), "the kernel refused %s: %s", path,
			 strerror(-err));
		return -1;
	}
	bp = find_prog(p->obj, p->name);
	if (!bp) {
		snprintf(p->skipped, sizeof(p->skipped), "%s has no program %s", path,
			 p->name ? p->name : "of type XDP");
		return -1;
	}
	p->fd = bpf_program__fd(bp);
	return 0;
}

/*
 * The rules the hit figures need: 7999 -> 7998 and 7998 -> 7999, so the
 * packet buffer, which BPF_PROG_TEST_RUN reuses between repetitions, is
 * rewritten on every one of them.
 */
static const struct pr_rule_spec hit_pair[] = {
	{ PR_PROTO_UDP, HIT_PORT, HIT_PORT, HIT_BACK },
	{ PR_PROTO_TCP, HIT_PORT, HIT_PORT, HIT_BACK },
	{ PR_PROTO_UDP, HIT_BACK, HIT_BACK, HIT_PORT },
	{ PR_PROTO_TCP, HIT_BACK, HIT_BACK, HIT_PORT },
};

/*
 * The egress figures' rule, on ports of their own: a server port that is
 * itself a rule's port (7998 above) makes its replies look like connections
 * a local socket opened from a rule's port, another code path.
 */
static const struct pr_rule_spec egress_rules[] = {
	{ PR_PROTO_UDP, EG_PORT, EG_PORT, EG_SERVER },
	{ PR_PROTO_TCP, EG_PORT, EG_PORT, EG_SERVER },
};

/* Single-port filler rule number i (0-based) for a table of n rules. */
static struct pr_rule_spec filler_rule(enum pr_proto proto, unsigned int i, unsigned int n)
{
	struct pr_rule_spec r = { .proto = proto };
	unsigned int port;

	if (n >= 65535) {
		/* Every port but the hit pair's, in order. */
		port = i + 1;
		if (port >= HIT_BACK)
			port += 2;
	} else {
		/* Spread over the whole table, clear of the hit pair. */
		port = 1 + i * 65;
		if (port >= HIT_BACK - 64 && port <= HIT_PORT + 64)
			port = 65535 - i;
	}
	r.first = r.last = (uint16_t)port;
	r.to = (uint16_t)(port == 65535 ? 1 : port + 1);
	return r;
}

/*
 * The egress program translates replies of flows the XDP program recorded.
 * Record them the real way: a UDP datagram and a TCP SYN through the XDP
 * program (rule 7001 -> 7002). Check that one reply of each is translated
 * (source port 7002 back to 7001). Then, because the frame is reused between
 * repetitions and a translated reply (from 7001) belongs to no flow, set each
 * flow's original port to its server port: every repetition then takes the
 * whole translation path (flow lookup, checksum and port writes, counters)
 * and writes 7002 over 7002.
 */
static int setup_egress(struct prog *p, struct pr_errbuf *err)
{
	static const enum pkt_id in[] = { PKT_V4_UDP_EG, PKT_V4_TCP_SYN_EG };
	static const enum pkt_id out[] = { PKT_V4_UDP_REPLY, PKT_V4_TCP_EST_REPLY };
	uint8_t buf[PKT_MAX + 256];
	size_t len;
	uint32_t ret;

	for (int i = 0; i < 2; i++) {
		const struct packet *rep = &pkts[out[i]];
		struct pr_flow_key key = {
			.proto = rep->proto == PR_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP,
			.kind = PR_FLOW_REDIRECT,
			.client_port = htons(40000),
			.server_port = htons(EG_SERVER),
			.client_addr = { htonl(0x0a000001) },
			.server_addr = { htonl(0x0a000002) },
		};
		struct pr_flow flow;
		/* The source port sits just before the destination port. */
		size_t sport_off = rep->dport_off - 2;

		if (run_once(p->xdp_fd, &pkts[in[i]], buf, &len, &ret) || ret != XDP_PASS)
			return pr_err_set(err, "recording the %s flow failed", pkts[in[i]].what);
		if (run_once(p->fd, rep, buf, &len, &ret) || (int)ret != PR_TC_NEXT || len != rep->len ||
		    port_at(buf, sport_off) != EG_PORT)
			return pr_err_set(err, "%s: not translated to source port %u (got %u)",
					  rep->what, EG_PORT, port_at(buf, sport_off));
		if (bpf_map_lookup_elem(p->flows_fd, &key, &flow))
			return pr_err_set(err, "%s: its flow is not where it is expected",
					  rep->what);
		flow.orig_port = htons(EG_SERVER);
		if (bpf_map_update_elem(p->flows_fd, &key, &flow, BPF_EXIST))
			return pr_err_set(err, "cannot update the flow: %s", strerror(errno));
	}
	return 0;
}

/*
 * Rules go in through lib/rules.h, as the CLI writes them. pr_rules_add()
 * re-reads the whole 131,072-slot table for its overlap check on every call
 * (~30 ms here), fine for a person typing rules but ~60 s for 2,000 rules and
 * over an hour for the 131,070 of the largest table. So the hit pair goes
 * through pr_rules_add(), and the filler rules, which cannot overlap by
 * construction, are checked with pr_rule_validate() and written with
 * pr_rules_write_entries(), the encoder pr_rules_add() itself ends in. The
 * rule count is then read back from the map and checked.
 */
/*
 * The hit pair as scoped rules, through lib/scope_maps.h: for SCOPE_HIT on lo
 * (the interface BPF_PROG_TEST_RUN delivers on) and the frame's destination;
 * for SCOPE_MISS on an interface index no frame arrives on.
 */
static int scope_hit_pair(struct prog *p, struct pr_errbuf *err)
{
	static struct pr_scope_table none, t;
	struct pr_maps *m = &p->scope_maps;

	*m = (struct pr_maps)PR_MAPS_INIT;
	m->rules = p->rules_fd;
	m->scope_sets = bpf_object__find_map_fd_by_name(p->obj, "pr_scope_sets");
	m->scope_stats = bpf_object__find_map_fd_by_name(p->obj, "pr_scope_stats");
	m->scope_rules = bpf_object__find_map_fd_by_name(p->obj, "pr_scope_rules");
	if (m->scope_sets < 0 || m->scope_stats < 0 || m->scope_rules < 0)
		return pr_err_set(err, "the object has no scoped-rule maps");
	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < ARRAY_SIZE(hit_pair); i++) {
		struct pr_scope_rule *r = &t.r[i + 1];

		r->used = 1;
		pr_scope_from_spec(r, &hit_pair[i]);
		if (pr_scope_parse_ifname(p->scope == SCOPE_HIT ? "lo" : "elsewhere", r, err) ||
		    (p->scope == SCOPE_HIT && pr_scope_parse_dst("10.0.0.2", r, err)))
			return -1;
		r->ifindex = p->scope == SCOPE_HIT ? 1 : 77;
	}
	return pr_scopes_commit(m, &none, &t, err);
}

/*
 * Writes the filler rules that make p->rules rules per protocol with the
 * fixed ones (the hit pair, and the egress rule where replies are timed),
 * or clears them (clear).
 */
static int write_fillers(struct prog *p, bool clear, struct pr_errbuf *err)
{
	unsigned int n_fixed = 2 + (p->reply ? 1 : 0);
	unsigned int n_fill = p->rules > n_fixed ? p->rules - n_fixed : 0;

	for (unsigned int proto = 0; proto < PR_NUM_PROTOS; proto++) {
		for (unsigned int i = 0; i < n_fill; i++) {
			struct pr_rule_spec r = filler_rule(proto, i, p->rules);

			if ((!clear && pr_rule_validate(&r, err)) ||
			    pr_rules_write_entries(p->rules_fd, &r, clear, err))
				return -1;
		}
	}
	return 0;
}

/* Reads the table back: does it hold p->rules rules per protocol? */
static int check_rule_count(const struct prog *p, struct pr_errbuf *err)
{
	size_t count[PR_NUM_PROTOS] = { 0 };
	struct pr_rule_table *t = malloc(sizeof(*t));
	unsigned int proto;

	if (!t)
		return pr_err_set(err, "out of memory");
	if (pr_rules_read(p->rules_fd, t, err)) {
		free(t);
		return -1;
	}
	for (proto = 0; proto < PR_NUM_PROTOS; proto++) {
		unsigned int port;

		/* Single-port rules: a rule per nonzero slot, each owning itself. */
		for (port = 1; port <= 65535; port++) {
			const struct pr_rule *e = &t->entry[PR_RULE_KEY(proto, port)];

			if (e->to_port && e->first_port == port)
				count[proto]++;
		}
	}
	free(t);
	for (proto = 0; proto < PR_NUM_PROTOS; proto++) {
		/* The scoped hit pair lives in the scoped-rule maps, not here. */
		if (count[proto] != p->rules - (p->scope == SCOPE_HIT ? 2 : 0))
			return pr_err_set(err, "%s table holds %zu rules, want %u",
					  pr_proto_name(proto), count[proto], p->rules);
	}
	return 0;
}

/* Gives a loaded instance n rules per protocol, the fixed ones kept. */
static int set_rule_count(struct prog *p, unsigned int n, struct pr_errbuf *err)
{
	if (write_fillers(p, true, err))
		return -1;
	p->rules = n;
	return write_fillers(p, false, err) || check_rule_count(p, err) ? -1 : 0;
}

static int load_portredir(struct prog *p)
{
	struct pr_errbuf err;

	if (opt_object) {
		/* Another build of the program, e.g. a change under evaluation. */
		if (load_bpf_file(p, opt_object, true))
			return -1;
		p->xdp_fd = bpf_program__fd(find_prog(p->obj, "xdp_portredir"));
	} else {
		/*
		 * lib/object.h's private instance, with reply translation set
		 * before load the way the CLI's load does it.
		 */
		p->skel = pr_object_open(NULL, &err);
		if (!p->skel)
			goto fail;
		p->obj = p->skel->obj;
		if (set_rodata_bool(p->obj, "pr_record_flows", p->reply)) {
			pr_err_set(&err, "the embedded object has no pr_record_flows");
			goto fail;
		}
		if (p->lean && set_rodata_bool(p->obj, "pr_action_totals", false)) {
			pr_err_set(&err, "the embedded object has no pr_action_totals");
			goto fail;
		}
		if (p->frags)
			declare_frags(p->obj);
		if (portredir_bpf__load(p->skel)) {
			pr_err_set(&err, "the kernel refused the BPF object");
			goto fail;
		}
		p->fd = bpf_program__fd(find_prog(p->obj, p->name));
		p->xdp_fd = bpf_program__fd(p->skel->progs.xdp_portredir);
	}
	p->rules_fd = bpf_object__find_map_fd_by_name(p->obj, "pr_rules");
	p->stats_fd = bpf_object__find_map_fd_by_name(p->obj, "pr_rule_stats");
	p->reply_stats_fd = bpf_object__find_map_fd_by_name(p->obj, "pr_reply_stats");
	p->flows_fd = bpf_object__find_map_fd_by_name(p->obj, "pr_flows");
	if (p->fd < 0 || p->xdp_fd < 0 || p->rules_fd < 0 || p->stats_fd < 0 ||
	    p->reply_stats_fd < 0 || p->flows_fd < 0) {
		pr_err_set(&err, "the object lacks a program or map this benchmark uses");
		goto fail;
	}

	for (size_t i = 0; p->scope != SCOPE_HIT && i < ARRAY_SIZE(hit_pair); i++) {
		if (pr_rules_add(p->rules_fd, p->stats_fd, &hit_pair[i], &err))
			goto fail;
	}
	if (p->scope && scope_hit_pair(p, &err))
		goto fail;
	for (size_t i = 0; p->reply && i < ARRAY_SIZE(egress_rules); i++) {
		if (pr_rules_add(p->rules_fd, p->stats_fd, &egress_rules[i], &err))
			goto fail;
	}
	if (write_fillers(p, false, &err) || check_rule_count(p, &err))
		goto fail;
	return 0;
fail:
	snprintf(p->skipped, sizeof(p->skipped), "%s", err.msg);
	p->fd = -1;
	return -1;
}

static int load_egress(struct prog *p, const struct prog *in)
{
	struct bpf_program *bp = find_prog(in->obj, p->name);
	struct pr_errbuf err;

	p->rules = in->rules;
	p->xdp_fd = in->xdp_fd;
	p->rules_fd = in->rules_fd;
	p->stats_fd = in->stats_fd;
	p->reply_stats_fd = in->reply_stats_fd;
	p->flows_fd = in->flows_fd;
	p->fd = bp ? bpf_program__fd(bp) : -1;
	if (p->fd < 0) {
		snprintf(p->skipped, sizeof(p->skipped), "no program %s", p->name);
		return -1;
	}
	if (setup_egress(p, &err)) {
		snprintf(p->skipped, sizeof(p->skipped), "%s", err.msg);
		p->fd = -1;
		return -1;
	}
	return 0;
}

/* bench/NAME, found beside this binary. */
static const char *beside_exe(const char *name)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0 || strlen(name) > 24) {
		snprintf(path, sizeof(path), "bench/%s", name);
		return path;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, name);
	return path;
}

/* The reference's rules: the same flip-flop pair as xdp-portredir's hit figures. */
static void load_ref(struct prog *p)
{
	struct bpf_map *map;
	__u32 key[2] = { HIT_PORT, HIT_BACK };
	__u16 to[2] = { htons(HIT_BACK), htons(HIT_PORT) };

	if (load_bpf_file(p, beside_exe("ref_rewrite.bpf.o"), false))
		return;
	map = bpf_object__find_map_by_name(p->obj, "ref_ports");
	for (int i = 0; i < 2; i++) {
		if (!map || bpf_map_update_elem(bpf_map__fd(map), &key[i], &to[i], BPF_ANY)) {
			snprintf(p->skipped, sizeof(p->skipped), "cannot write the reference's rules");
			p->fd = -1;
			return;
		}
	}
}

static void load_programs(void)
{
	for (int i = 0; i < NUM_PROGS; i++) {
		struct prog *p = &progs[i];

		p->fd = -1;
		switch (p->kind) {
		case KIND_EMPTY:
			load_bpf_file(p, opt_empty ? opt_empty : beside_exe("empty.bpf.o"), false);
			break;
		case KIND_REF:
			load_ref(p);
			break;
		case KIND_XDP_FILTER:
			if (access(opt_xdp_filter, R_OK))
				snprintf(p->skipped, sizeof(p->skipped),
					 "%s not found (Debian package xdp-tools)", opt_xdp_filter);
			else
				load_bpf_file(p, opt_xdp_filter, false);
			break;
		case KIND_PORTREDIR:
			if (!p->egress) {
				load_portredir(p);
				break;
			}
			/* The reply instance's egress program: same maps, same rules. */
			*p = (struct prog){ .what = p->what, .kind = p->kind, .name = p->name,
					    .reply = true, .egress = true, .fd = -1 };
			if (progs[PROG_PR_REPLY].fd < 0) {
				snprintf(p->skipped, sizeof(p->skipped), "%s",
					 progs[PROG_PR_REPLY].skipped);
				break;
			}
			load_egress(p, &progs[PROG_PR_REPLY]);
			break;
		}
	}
}

/* ---- measuring --------------------------------------------------------- */

static double ts_ns(const struct timespec *t)
{
	return (double)t->tv_sec * 1e9 + (double)t->tv_nsec;
}

/*
 * ns per repetition. The kernel's own figure (opts.duration) is rounded down
 * to whole nanoseconds, too coarse for ratios near 1 at ~25 ns, so the time
 * is this thread's CPU time around the call: it leaves out time the thread
 * was preempted (as the kernel's timer does), and the call's fixed set-up
 * cost is spread over a million repetitions. kns returns the kernel's figure
 * as a cross-check.
 */
static int time_prog(int fd, const struct packet *pkt, unsigned int repeat, double *ns,
		     unsigned int *kns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt->data,
		    .data_size_in = (__u32)pkt->len, .repeat = repeat);
	struct timespec a, b;
	int err;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	err = bpf_prog_test_run_opts(fd, &opts);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	if (err)
		return -errno;
	/* All these programs let every packet through. */
	if (!lets_through(opts.retval))
		return -EPROTO;
	*ns = (ts_ns(&b) - ts_ns(&a)) / repeat;
	if (kns)
		*kns = opts.duration;
	return 0;
}

/* Sum over CPUs and keys of a per-CPU counter map's packets; -1 on error. */
static long long count_packets(int fd, const __u32 *keys, int n)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pr_counter *c;
	long long total = 0;

	if (ncpus <= 0 || fd < 0)
		return -1;
	c = calloc((size_t)ncpus, sizeof(*c));
	if (!c)
		return -1;
	for (int k = 0; k < n; k++) {
		if (bpf_map_lookup_elem(fd, &keys[k], c)) {
			total = -1;
			break;
		}
		for (int i = 0; i < ncpus; i++)
			total += (long long)c[i].packets;
	}
	free(c);
	return total;
}

/* The counters a figure's effect shows in: the hit pair's rules, or replies. */
static long long effect_count(const struct figure *f)
{
	const struct prog *p = &progs[f->prog];
	enum pr_proto proto = pkts[f->pkt].proto;
	__u32 rule_keys[2] = { PR_RULE_KEY(proto, HIT_PORT), PR_RULE_KEY(proto, HIT_BACK) };
	__u32 zero = 0;

	if (f->effect == EFFECT_REPLY)
		return count_packets(p->reply_stats_fd, &zero, 1);
	if (p->scope == SCOPE_HIT) /* scoped rules count by id: the pair is 1-4 */
		return count_packets(p->scope_maps.scope_stats, (const __u32[]){ 1, 2, 3, 4 }, 4);
	return count_packets(p->stats_fd, rule_keys, 2);
}

/*
 * Proves that a figure measures what its name says: a single run rewrites
 * the port (or leaves the frame alone), and N repetitions move the counters
 * by exactly N (or not at all).
 */
static int verify_figure(const struct figure *f)
{
	const struct prog *p = &progs[f->prog];
	const struct packet *pkt = &pkts[f->pkt];
	uint8_t out[PKT_MAX + 256];
	unsigned int n = 1000;
	long long before, after, want;
	uint32_t ret;
	size_t len;
	double ns;
	int err;

	/* XDP output goes through xdprun(), which separates the metadata. */
	if (f->prog == PROG_EMPTY_TC || f->effect == EFFECT_REPLY) {
		err = run_once(p->fd, pkt, out, &len, &ret);
	} else {
		struct xdprun_result res;

		err = xdprun(p->fd, pkt->data, pkt->len, out, &res);
		ret = res.retval;
		len = res.len;
	}
	if (err) {
		fprintf(stderr, "progcost: %s: BPF_PROG_TEST_RUN: %s\n", f->name, strerror(-err));
		return -1;
	}
	if (!lets_through(ret) || len != pkt->len) {
		fprintf(stderr, "progcost: %s: returned %u with %zu bytes\n", f->name, ret, len);
		return -1;
	}
	if (f->effect == EFFECT_REWRITE) {
		if (port_at(out, pkt->dport_off) != HIT_BACK) {
			fprintf(stderr, "progcost: %s: port after one run is %u, want %u\n",
				f->name, port_at(out, pkt->dport_off), HIT_BACK);
			return -1;
		}
	} else if (memcmp(out, pkt->data, pkt->len)) {
		fprintf(stderr, "progcost: %s: the frame changed but should not\n", f->name);
		return -1;
	}

	if (p->kind != KIND_PORTREDIR || opt_ablation)
		return 0;
	before = effect_count(f);
	err = time_prog(p->fd, pkt, n, &ns, NULL);
	after = effect_count(f);
	if (err || before < 0 || after < 0) {
		fprintf(stderr, "progcost: %s: cannot run or read counters\n", f->name);
		return -1;
	}
	want = f->effect == EFFECT_NONE ? 0 : n;
	if (after - before != want) {
		fprintf(stderr, "progcost: %s: %u repetitions moved the counters by %lld, want %lld\n",
			f->name, n, after - before, want);
		return -1;
	}
	return 0;
}

/*
 * A UDP hit with reply translation on goes through a per-CPU flow cache
 * (bpf/flows.h). The flip-flop makes two flows; a steady stream has one. If
 * the two shared a cache slot, every datagram would miss the cache and the
 * figure would show a path a steady stream never takes: say so. Each slot
 * starts with its flow key (struct pr_flow_key), which is all this looks at.
 */
static void check_flow_cache(const struct prog *p)
{
	struct bpf_map *map = bpf_object__find_map_by_name(p->obj, "pr_flow_cache");
	int ncpus = libbpf_num_possible_cpus(), found[2] = { 0, 0 }, both = 0;
	size_t vsize, n;
	uint8_t *vals;
	__u32 slot;

	if (!map || ncpus <= 0)
		return;
	vsize = (bpf_map__value_size(map) + 7) & ~(size_t)7;
	n = bpf_map__max_entries(map);
	vals = calloc((size_t)ncpus, vsize);
	if (!vals || vsize < sizeof(struct pr_flow_key)) {
		free(vals);
		return;
	}
	for (int cpu = 0; cpu < ncpus && !both; cpu++) {
		found[0] = found[1] = 0;
		for (slot = 0; slot < n; slot++) {
			if (bpf_map_lookup_elem(bpf_map__fd(map), &slot, vals))
				break;
			for (int k = 0; k < 2; k++) {
				struct pr_flow_key key = hit_flow(hit_sport, k);

				if (!memcmp(vals + (size_t)cpu * vsize, &key, sizeof(key)))
					found[k] = 1;
			}
		}
		both = found[0] && found[1];
	}
	free(vals);
	if (!both)
		printf("note: the two flows of reply_udp_hit are not both in the flow cache:\n"
		       "      that figure shows the cache-miss path (pessimistic)\n");
}

/*
 * The instructions the figure's program executes on its frame (icount.h),
 * given only if the interpreter ends exactly where the kernel does: same
 * return value, same frame bytes, same metadata length.
 */
static void count_insns_once(struct figure *f, int cpu)
{
	const struct prog *p = &progs[f->prog];
	const struct packet *pkt = &pkts[f->pkt];
	struct bpf_program *bp = p->obj ? find_prog(p->obj, p->name) : NULL;
	uint8_t kout[PKT_MAX + 256], iout[PKT_MAX + 256];
	struct xdprun_result kres;
	struct icount_result ires;

	f->insns = -1;
	if (!bp || bpf_program__type(bp) != BPF_PROG_TYPE_XDP) {
		snprintf(f->insns_why, sizeof(f->insns_why), "not an XDP program");
		return;
	}
	if (icount_xdp(bp, cpu, pkt->data, pkt->len, iout, &ires, f->insns_why,
		       sizeof(f->insns_why)))
		return;
	if (xdprun(p->fd, pkt->data, pkt->len, kout, &kres) || kres.retval != ires.retval ||
	    kres.len != ires.len || kres.meta_len != ires.meta_len || memcmp(kout, iout, ires.len)) {
		snprintf(f->insns_why, sizeof(f->insns_why),
			 "the interpreter's result differs from the kernel's run");
		return;
	}
	f->insns = (long)ires.insns;
}

static double median(const double *v, unsigned int n);

/*
 * Each kernel run moves the program's state on (counters, the flow cache's
 * recheck of every 16th datagram), so the frame is counted COUNT_RUNS times
 * in a row, each followed by the kernel's run, and the median is the figure:
 * the path most frames of a steady stream take. The process stays on one
 * CPU meanwhile, so the interpreter reads the per-CPU slots the kernel's
 * runs use.
 */
#define COUNT_RUNS 16

static void count_insns(struct figure *f)
{
	int cpu = sched_getcpu();
	cpu_set_t old, one;
	double n[COUNT_RUNS];

	f->insns = -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (cpu < 0 || sched_getaffinity(0, sizeof(old), &old) ||
	    sched_setaffinity(0, sizeof(one), &one)) {
		snprintf(f->insns_why, sizeof(f->insns_why), "cannot stay on one CPU");
		return;
	}
	for (int i = 0; i < COUNT_RUNS; i++) {
		count_insns_once(f, cpu);
		if (f->insns < 0)
			break;
		n[i] = (double)f->insns;
	}
	sched_setaffinity(0, sizeof(old), &old);
	if (f->insns >= 0)
		f->insns = (long)median(n, COUNT_RUNS);
}

static struct figure *figure_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(figures); i++) {
		if (!strcmp(figures[i].name, name))
			return &figures[i];
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, unsigned int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * What the figure adds over its floor (the empty program of its kind), and
 * that as a multiple of what the reference adds on the same kind of packet,
 * both medians of per-round values. A round where the reference added
 * nothing measurable is left out of the multiple.
 */
static void against_ref(struct figure *f)
{
	bool tc = f->prog == PROG_EMPTY_TC || progs[f->prog].egress;
	const struct figure *floor = figure_by_name(tc ? "empty_tc" : "empty");
	const struct figure *ref = f->ref ? figure_by_name(f->ref) : NULL;
	double added[MAX_ROUNDS], x[MAX_ROUNDS];
	unsigned int r, n = 0;

	f->xref = -1;
	if (f->skipped || !floor || floor->skipped)
		return;
	for (r = 0; r < opt_rounds; r++) {
		added[r] = f->ns[r] - floor->ns[r];
		if (ref && !ref->skipped && ref->ns[r] - floor->ns[r] > 0.05)
			x[n++] = added[r] / (ref->ns[r] - floor->ns[r]);
	}
	f->added = median(added, opt_rounds);
	if (n)
		f->xref = median(x, n);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: progcost [--quick] [--rounds N] [--repeat N] [--empty OBJ]\n"
		"                [--xdp-filter OBJ] [--object OBJ [--ablation]] [--cpu N]\n"
		"  --quick       short mode: 3 rounds of 100000 repetitions\n"
		"  --rounds N    rounds, each running every figure once (default %u, max %d)\n"
		"  --repeat N    BPF_PROG_TEST_RUN repetitions per figure and round (default %u)\n"
		"  --empty OBJ   the empty program (default: empty.bpf.o beside this binary)\n"
		"  --xdp-filter OBJ  xdp-filter's program (default %s)\n"
		"  --object OBJ  xdp-portredir's program from this file instead of the one\n"
		"                built in (to weigh a change to bpf/ against the floor)\n"
		"  --ablation    with --object: a build with features taken out; counters\n"
		"                are not checked, and a figure whose frame is not\n"
		"                rewritten as it should be is skipped, not fatal\n"
		"  --cpu N       pin the benchmark to CPU N\n",
		opt_rounds, MAX_ROUNDS, opt_repeat, XDP_FILTER_OBJ);
}

static int parse_uint(const char *s, unsigned int *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || *end || !*s || x == 0 || x > UINT_MAX)
		return -1;
	*v = (unsigned int)x;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "empty", required_argument, NULL, 'e' },
		{ "xdp-filter", required_argument, NULL, 'x' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "object", required_argument, NULL, 'o' },
		{ "ablation", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned int cpu;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			opt_rounds = 3;
			opt_repeat = 100000;
			break;
		case 'r':
			if (parse_uint(optarg, &opt_rounds) || opt_rounds > MAX_ROUNDS)
				goto bad;
			break;
		case 'n':
			if (parse_uint(optarg, &opt_repeat))
				goto bad;
			break;
		case 'e':
			opt_empty = optarg;
			break;
		case 'x':
			opt_xdp_filter = optarg;
			break;
		case 'o':
			opt_object = optarg;
			break;
		case 'A':
			opt_ablation = true;
			break;
		case 'c':
			if (!strcmp(optarg, "0"))
				cpu = 0;
			else if (parse_uint(optarg, &cpu))
				goto bad;
			opt_cpu = (int)cpu;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || (opt_ablation && !opt_object)) {
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "progcost: invalid value '%s'\n", optarg);
	return -1;
}

/* ---- reporting --------------------------------------------------------- */

static void print_json_str(const char *key, const char *val)
{
	printf(",\"%s\":\"", key);
	for (const char *c = val; *c; c++) {
		if (*c == '"' || *c == '\\')
			putchar('\\');
		putchar(*c >= ' ' ? *c : ' ');
	}
	putchar('"');
}

static const char *verdict(bool met)
{
	return met ? "met" : "MISSED";
}

/* The second table: added cost, multiple of the reference's, instructions. */
static void report_against_ref(void)
{
	printf("\nAgainst the job's own cost (added = ns - the empty program's, median of\n"
	       "per-round differences; x ref = added / the reference's added on the same\n"
	       "kind of packet, per round; insns = BPF instructions executed on one frame,\n"
	       "counted by running the loaded program's instructions, see bench/README.md)\n\n");
	printf("%-22s %8s %-10s %6s %-7s %-7s %6s %-6s %s\n", "figure", "added", "ref", "x ref",
	       "target", "result", "insns", "target", "result");
	for (size_t i = 0; i < ARRAY_SIZE(figures); i++) {
		const struct figure *f = &figures[i];
		char xr[24] = "-", xt[24] = "-", in[24] = "-", it[24] = "-";
		const char *xres = "-", *ires = "-";

		if (f->skipped)
			continue;
		if (f->xref >= 0)
			snprintf(xr, sizeof(xr), "%.2f", f->xref);
		else if (f->ref)
			snprintf(xr, sizeof(xr), "n/m"); /* the reference added nothing measurable */
		if (f->max_xref > 0) {
			snprintf(xt, sizeof(xt), "<=%.2f", f->max_xref);
			if (f->xref >= 0)
				xres = verdict(f->xref <= f->max_xref);
		}
		if (f->insns >= 0)
			snprintf(in, sizeof(in), "%ld", f->insns);
		if (f->max_insns) {
			snprintf(it, sizeof(it), "<=%u", f->max_insns);
			if (f->insns >= 0)
				ires = verdict(f->insns <= (long)f->max_insns);
		}
		printf("%-22s %8.2f %-10s %6s %-7s %-7s %6s %-6s %s", f->name, f->added,
		       f->ref ? f->ref : "-", xr, xt, xres, in, it, ires);
		if (f->insns < 0 && strcmp(f->insns_why, "not an XDP program"))
			printf(" (insns: %s)", f->insns_why);
		printf("\n");
	}
}

static void json_against_ref(const struct figure *f)
{
	printf(",\"added_ns\":%.2f", f->added);
	if (f->ref)
		print_json_str("ref", f->ref);
	else
		printf(",\"ref\":null");
	if (f->xref >= 0)
		printf(",\"x_ref\":%.3f", f->xref);
	else
		printf(",\"x_ref\":null");
	if (f->ref && f->xref < 0)
		printf(",\"x_ref_why\":\"the reference added under 0.05 ns in every round\"");
	if (f->max_xref > 0 && f->xref >= 0)
		printf(",\"x_ref_target\":\"<=%.2f\",\"x_ref_met\":%s", f->max_xref,
		       f->xref <= f->max_xref ? "true" : "false");
	if (f->insns >= 0)
		printf(",\"insns\":%ld", f->insns);
	else
		printf(",\"insns\":null");
	if (f->max_insns && f->insns >= 0)
		printf(",\"insns_target\":\"<=%u\",\"insns_met\":%s", f->max_insns,
		       f->insns <= (long)f->max_insns ? "true" : "false");
	printf("}\n");
}

static void report(void)
{
	printf("\nProgram cost (BPF_PROG_TEST_RUN, %u rounds x %u repetitions, interleaved;\n"
	       "ns = median ns/packet, ratio = median of per-round figure/baseline)\n\n",
	       opt_rounds, opt_repeat);
	printf("%-22s %-36s %8s %15s %7s %-10s %-7s %s\n", "figure", "what", "ns/pkt",
	       "min-max", "ratio", "baseline", "target", "result");
	for (size_t i = 0; i < ARRAY_SIZE(figures); i++) {
		struct figure *f = &figures[i];
		char target[16] = "-", range[32];
		const char *result = "-";

		if (f->max_ratio > 0) {
			snprintf(target, sizeof(target), "<=%.2f", f->max_ratio);
			if (!f->skipped)
				result = f->ratio <= f->max_ratio ? "met" : "MISSED";
		}
		if (f->skipped) {
			printf("%-22s %-36s %8s %15s %7s %-10s %-7s skipped: %s\n", f->name, f->what,
			       "-", "-", "-", f->baseline, target, f->skipped);
			continue;
		}
		snprintf(range, sizeof(range), "%.1f-%.1f", f->ns_min, f->ns_max);
		printf("%-22s %-36s %8.2f %15s %7.3f %-10s %-7s %s\n", f->name, f->what, f->ns_med,
		       range, f->ratio, f->baseline, target, result);
	}
	report_against_ref();
	printf("\n");
	for (size_t i = 0; i < ARRAY_SIZE(figures); i++) {
		struct figure *f = &figures[i];

		printf("BENCH {\"figure\":\"%s\"", f->name);
		if (f->skipped) {
			print_json_str("skipped", f->skipped);
			printf("}\n");
			continue;
		}
		printf(",\"ns\":%.2f,\"ratio\":%.3f", f->ns_med, f->ratio);
		print_json_str("baseline", f->baseline);
		if (f->max_ratio > 0)
			printf(",\"target\":\"<=%.2f\",\"met\":%s", f->max_ratio,
			       f->ratio <= f->max_ratio ? "true" : "false");
		else
			printf(",\"target\":null,\"met\":null");
		printf(",\"kernel_ns\":%.1f,\"rounds\":%u,\"repeat\":%u", f->kns_med, opt_rounds,
		       opt_repeat);
		json_against_ref(f);
	}
	fflush(stdout);
}

/* An untimed run, so the timed ones start with warm caches and JIT'd code. */
static void warm_up(const struct figure *f)
{
	double ns;

	time_prog(progs[f->prog].fd, &pkts[f->pkt], opt_repeat / 10 + 1, &ns, NULL);
}

/*
 * Puts a figure's instance in the state the figure is measured in, and
 * after a change warms the caches the table's rewrite went through.
 */
static int figure_ready(const struct figure *f)
{
	struct prog *p = &progs[f->prog];
	struct pr_errbuf err;

	if (!f->rules || p->rules == f->rules)
		return 0;
	if (set_rule_count(p, f->rules, &err)) {
		fprintf(stderr, "progcost: %s: %s\n", f->name, err.msg);
		return -1;
	}
	warm_up(f);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int r;
	size_t i;
	int bad = 0;

	if (parse_args(argc, argv))
		return 2;
	if (opt_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opt_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("progcost: sched_setaffinity");
			return 1;
		}
	}
	libbpf_set_print(libbpf_quiet);
	if (build_packets())
		return 1;
	load_programs();

	if (progs[PROG_EMPTY].fd < 0) {
		fprintf(stderr, "progcost: no floor to measure against: %s\n",
			progs[PROG_EMPTY].skipped);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(figures); i++) {
		struct figure *f = &figures[i];
		struct prog *p = &progs[f->prog];

		if (p->fd < 0) {
			f->skipped = p->skipped;
			continue;
		}
		if (figure_ready(f))
			return 1;
		if (!f->same_as && verify_figure(f)) {
			if (!opt_ablation)
				bad = 1;
			f->skipped = "this build does not do it (--ablation)";
		}
		else if (!f->same_as) {
			count_insns(f);
			if (p->reply && !p->egress && f->effect == EFFECT_REWRITE &&
			    pkts[f->pkt].proto == PR_PROTO_UDP)
				check_flow_cache(p);
		}
	}
	if (bad) {
		fprintf(stderr, "progcost: a figure does not measure what it claims; no figures\n");
		return 1;
	}
	printf("checked: every rewrite figure rewrites on every repetition (rule counters +N\n"
	       "for N runs), every reply figure translates (reply counter +N), the others\n"
	       "leave the frame and the counters alone\n");
	fflush(stdout);

	/* Warm caches and the JIT'd code before the first timed round. */
	for (i = 0; i < ARRAY_SIZE(figures); i++) {
		struct figure *f = &figures[i];

		if (f->skipped || f->same_as)
			continue;
		if (figure_ready(f))
			return 1;
		warm_up(f);
	}

	for (r = 0; r < opt_rounds; r++) {
		for (i = 0; i < ARRAY_SIZE(figures); i++) {
			struct figure *f = &figures[i];
			unsigned int kns;
			int err;

			if (f->skipped || f->same_as)
				continue;
			if (figure_ready(f))
				return 1;
			err = time_prog(progs[f->prog].fd, &pkts[f->pkt], opt_repeat, &f->ns[r],
					&kns);
			f->kns[r] = kns;
			if (err) {
				fprintf(stderr, "progcost: %s: BPF_PROG_TEST_RUN: %s\n", f->name,
					strerror(-err));
				return 1;
			}
		}
	}

	for (i = 0; i < ARRAY_SIZE(figures); i++) {
		struct figure *f = &figures[i];
		struct figure *base, *src;
		double ratios[MAX_ROUNDS];

		if (f->skipped)
			continue;
		src = f->same_as ? figure_by_name(f->same_as) : f;
		base = figure_by_name(f->baseline);
		if (!src || !base) {
			fprintf(stderr, "progcost: %s: unknown figure in the table\n", f->name);
			return 1;
		}
		if (src->skipped || base->skipped) {
			f->skipped = src->skipped ? src->skipped : base->skipped;
			continue;
		}
		memcpy(f->ns, src->ns, sizeof(f->ns));
		memcpy(f->kns, src->kns, sizeof(f->kns));
		f->insns = src->insns;
		memcpy(f->insns_why, src->insns_why, sizeof(f->insns_why));
		f->kns_med = median(f->kns, opt_rounds);
		for (r = 0; r < opt_rounds; r++)
			ratios[r] = f->ns[r] / base->ns[r];
		f->ratio = median(ratios, opt_rounds);
		f->ns_med = median(f->ns, opt_rounds);
		f->ns_min = f->ns_max = f->ns[0];
		for (r = 1; r < opt_rounds; r++) {
			if (f->ns[r] < f->ns_min)
				f->ns_min = f->ns[r];
			if (f->ns[r] > f->ns_max)
				f->ns_max = f->ns[r];
		}
	}
	for (i = 0; i < ARRAY_SIZE(figures); i++)
		against_ref(&figures[i]);
	report();

	for (i = 0; i < NUM_PROGS; i++) {
		if (progs[i].skel)
			portredir_bpf__destroy(progs[i].skel); /* its obj too */
		else if (progs[i].obj)
			bpf_object__close(progs[i].obj);
	}
	return 0;
}
