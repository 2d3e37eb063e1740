// SPDX-License-Identifier: GPL-2.0
/*
 * Scoped rules on the data path: drives the real XDP program with
 * BPF_PROG_TEST_RUN through the precedence cases (interface and address,
 * address, interface, unscoped), two IPv4 and two IPv6 destinations, rules
 * on another interface or waiting for theirs, ranges, counters, and compares
 * every output frame byte for byte with one built from scratch. The test run
 * sees its packets arrive on lo (ifindex 1), so "ghost" rules name ifindex 77.
 *
 * Usage: test_scope
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bpf/csum.h"
#include "check.h"
#include "pktbuild.h"
#include "xdprun.h"
#include "object.h"
#include "rules.h"
#include "scope_maps.h"
#include "portredir.skel.h"

static int prog_fd;
static struct pr_maps maps = PR_MAPS_INIT;
static struct pr_scope_table cur, want;

static const uint8_t hello[] = "Hello, scoped rules!";

enum { ID_IA = 1, ID_IA6, ID_A, ID_A6, ID_I, ID_G, ID_GI, ID_W, ID_ONLY, ID_RANGE, ID_DOWN };

static void rule(unsigned int id, enum pr_proto proto, uint16_t first, uint16_t last, uint16_t to,
		 const char *ifname, uint32_t ifindex, const char *dst)
{
	struct pr_scope_rule *r = &want.r[id];
	struct pr_errbuf err;

	memset(r, 0, sizeof(*r));
	r->used = 1;
	r->proto = (uint8_t)proto;
	r->first = first;
	r->last = last;
	r->to = to;
	if (ifname)
		pr_scope_parse_ifname(ifname, r, &err);
	r->ifindex = ifindex;
	if (dst && pr_scope_parse_dst(dst, r, &err))
		check(false, "setup/parse-dst", "%s", err.msg);
}

static void commit(const char *name)
{
	struct pr_errbuf err;

	if (check(!pr_scopes_commit(&maps, &cur, &want, &err), name, "%s", err.msg))
		cur = want;
}

/* Sends one frame to port dport of 10.0.0.X / 2001:db8::X; want 0: untouched. */
static void expect(const char *name, int ipv6, uint8_t l4proto, uint16_t dport, uint8_t dst_last,
		   uint16_t to)
{
	struct pkt_spec s = {
		.ipv6 = ipv6, .l4proto = l4proto, .sport = 40000, .dport = dport,
		.payload = hello, .payload_len = sizeof(hello) - 1, .dst_last = dst_last,
	};
	uint8_t in[PKT_MAX], exp[PKT_MAX], out[PKT_MAX + 256];
	struct xdprun_result res;
	struct pkt_layout lay;
	size_t in_len = pkt_build(&s, in, sizeof(in), &lay), exp_len = in_len;
	uint32_t daddr[4] = { 0 };
	unsigned int model;
	int e;

	memcpy(exp, in, in_len);
	if (to) {
		s.dport = to;
		exp_len = pkt_build(&s, exp, sizeof(exp), &lay);
	}
	e = xdprun(prog_fd, in, in_len, out, &res);
	if (e) {
		check(false, name, "BPF_PROG_TEST_RUN failed: %s", strerror(-e));
		return;
	}
	check(res.retval == XDP_PASS && res.len == exp_len && !memcmp(out, exp, exp_len), name,
	      "got port %u (len %zu, action %u), want %u", res.len > lay.dport_off + 1 ?
	      (unsigned int)(out[lay.dport_off] << 8 | out[lay.dport_off + 1]) : 0, res.len,
	      res.retval, to ? to : dport);
	/* The model the fuzzer uses must agree on which scoped rule this is. */
	if (ipv6)
		memcpy(daddr, in + lay.l3_off + 24, 16);
	else
		memcpy(daddr, in + lay.l3_off + 16, 4);
	model = pr_scope_match(&cur, l4proto == IPPROTO_TCP ? PR_PROTO_TCP : PR_PROTO_UDP, dport, 1,
			       ipv6 ? 6 : 4, daddr);
	if (model && to) {
		const struct pr_scope_rule *r = &cur.r[model];

		check(r->to + (dport - r->first) == to, "model/agrees", "%s: model picks %u", name,
		      r->to + (dport - r->first));
	}
}

static uint64_t scope_packets(unsigned int id)
{
	struct pr_counter c;

	pr_counter_read(maps.scope_stats, id, &c);
	return c.packets;
}

static uint16_t scope_set_of(enum pr_proto proto, uint16_t port)
{
	__u32 key = PR_RULE_KEY(proto, port);
	struct pr_rule r = { 0 };

	bpf_map_lookup_elem(maps.rules, &key, &r);
	return r.scope_set;
}

/*
 * Rewrites every set the rule entries point at as a version before the
 * entries' checksum delta wrote them (csum_delta 0): the data path must
 * compute it.
 */
static void old_version_sets(const char *name)
{
	unsigned int changed = 0;

	for (__u32 idx = 1; idx < PR_SCOPE_SETS; idx++) {
		struct pr_scope_set set;

		if (bpf_map_lookup_elem(maps.scope_sets, &idx, &set) || !set.n)
			continue;
		for (unsigned int i = 0; i < set.n && i < PR_SCOPE_SET_SIZE; i++)
			set.e[i].csum_delta = 0;
		changed += !bpf_map_update_elem(maps.scope_sets, &idx, &set, BPF_ANY);
	}
	check(changed > 0, name, "%u sets rewritten", changed);
}

/*
 * The compiled entry's checksum delta is that of every port of its range
 * with its target, up or down, at the edges of the port space too.
 */
static void cases_csum_delta(void)
{
	static const struct {
		uint16_t first, last, to;
	} ranges[] = { { 8000, 8009, 9000 }, { 9100, 9109, 6100 }, { 1, 1000, 64536 },
		       { 64536, 65535, 1 }, { 7999, 7999, 7998 }, { 1, 65534, 2 } };
	struct pr_scope_compiled *c = malloc(sizeof(*c));
	struct pr_errbuf err;

	for (size_t k = 0; c && k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		const struct pr_scope_ent *e;
		unsigned int bad = 0, port;
		char n[64];

		memset(&want, 0, sizeof(want));
		rule(1, PR_PROTO_UDP, ranges[k].first, ranges[k].last, ranges[k].to, "lo", 1,
		     NULL);
		snprintf(n, sizeof(n), "csum-delta/%u-%u-to-%u", ranges[k].first, ranges[k].last,
			 ranges[k].to);
		if (!check(!pr_scope_compile(&want, c, &err) && c->n_sets == 1, "csum-delta/compiles",
			   "%s", err.msg))
			continue;
		e = &c->sets[1].e[0];
		for (port = ranges[k].first; port <= ranges[k].last; port++)
			bad += pr_csum_delta(htons((uint16_t)port),
					     htons((uint16_t)(port + e->delta))) != e->csum_delta;
		check(e->csum_delta && !bad, n, "delta %#x, %u ports differ", e->csum_delta, bad);
	}
	memset(&want, 0, sizeof(want));
	free(c);
}

static void cases_precedence(uint8_t p)
{
	enum pr_proto proto = p == IPPROTO_TCP ? PR_PROTO_TCP : PR_PROTO_UDP;
	struct pr_rule_spec unscoped = { proto, 7000, 7000, 7100 };
	const char *l4 = proto == PR_PROTO_TCP ? "tcp" : "udp";
	struct pr_errbuf err;
	char n[96];

#define NAME(what) (snprintf(n, sizeof(n), "%s/%s", l4, what), n)
	memset(&want, 0, sizeof(want));
	rule(ID_IA, proto, 7000, 7000, 7400, "lo", 1, "10.0.0.2");
	rule(ID_IA6, proto, 7000, 7000, 7410, "lo", 1, "2001:db8::2");
	rule(ID_A, proto, 7000, 7000, 7300, NULL, 0, "10.0.0.0/24");
	rule(ID_A6, proto, 7000, 7000, 7310, NULL, 0, "2001:db8::/64");
	rule(ID_I, proto, 7000, 7000, 7200, "lo", 1, NULL);
	rule(ID_G, proto, 7000, 7000, 7500, "ghost", 77, "10.0.0.3");
	rule(ID_GI, proto, 7000, 7000, 7600, "ghost", 77, NULL);
	rule(ID_W, proto, 7000, 7000, 7700, "notyet", 0, "10.0.0.0/8");
	rule(ID_ONLY, proto, 7001, 7001, 7201, "lo", 1, NULL);
	rule(ID_RANGE, proto, 8000, 8009, 9000, "lo", 1, NULL);
	rule(ID_DOWN, proto, 9100, 9109, 6100, "lo", 1, NULL);
	commit(NAME("setup/commit"));
	check(!pr_rules_add(maps.rules, maps.rule_stats, &unscoped, &err),
	      NAME("setup/unscoped-after-scoped"), "%s", err.msg);
	check(scope_set_of(proto, 7000) != 0 && scope_set_of(proto, 7999) == 0 &&
		      scope_set_of(proto, 7002) == 0,
	      NAME("flag/only-scoped-ports-flagged"), "7000 %u 7999 %u 7002 %u",
	      scope_set_of(proto, 7000), scope_set_of(proto, 7999), scope_set_of(proto, 7002));
	check(scope_set_of(proto, 8000) == scope_set_of(proto, 8009) && scope_set_of(proto, 8000),
	      NAME("flag/range-shares-one-set"), "8000 %u 8009 %u", scope_set_of(proto, 8000),
	      scope_set_of(proto, 8009));

	expect(NAME("v4/.2/iface+addr-beats-addr"), 0, p, 7000, 2, 7400);
	expect(NAME("v4/.3/addr-prefix"), 0, p, 7000, 3, 7300);
	expect(NAME("v6/::2/iface+addr"), 1, p, 7000, 2, 7410);
	expect(NAME("v6/::3/addr-prefix"), 1, p, 7000, 3, 7310);
	expect(NAME("only-scoped/hit"), 0, p, 7001, 2, 7201);
	expect(NAME("no-rule/untouched"), 0, p, 7002, 2, 0);
	expect(NAME("range/8005"), 1, p, 8005, 2, 9005);
	expect(NAME("range/8010-outside"), 1, p, 8010, 2, 0);
	/* IPv4 takes the fast path, with the entry's checksum delta. */
	expect(NAME("range/v4/8000"), 0, p, 8000, 2, 9000);
	expect(NAME("range/v4/8009"), 0, p, 8009, 2, 9009);
	expect(NAME("range-down/v4/9107"), 0, p, 9107, 2, 6107);
	expect(NAME("range-down/v6/9101"), 1, p, 9101, 2, 6101);
	old_version_sets(NAME("old-version-set/written"));
	expect(NAME("old-version-set/v4/7001"), 0, p, 7001, 2, 7201);
	expect(NAME("old-version-set/v4/range-down"), 0, p, 9109, 2, 6109);

	uint64_t before = scope_packets(ID_A);
	expect(NAME("counter/hit"), 0, p, 7000, 3, 7300);
	check(scope_packets(ID_A) == before + 1, NAME("counter/scoped-rule-counts"), "%llu -> %llu",
	      (unsigned long long)before, (unsigned long long)scope_packets(ID_A));

	/* Take the more specific rules away one by one. */
	memset(&want.r[ID_IA], 0, sizeof(want.r[0]));
	memset(&want.r[ID_IA6], 0, sizeof(want.r[0]));
	commit(NAME("remove/iface+addr"));
	expect(NAME("v4/.2/then-addr"), 0, p, 7000, 2, 7300);
	expect(NAME("v6/::2/then-addr"), 1, p, 7000, 2, 7310);
	memset(&want.r[ID_A], 0, sizeof(want.r[0]));
	memset(&want.r[ID_A6], 0, sizeof(want.r[0]));
	commit(NAME("remove/addr"));
	expect(NAME("v4/.2/then-iface"), 0, p, 7000, 2, 7200);
	expect(NAME("v6/::3/then-iface"), 1, p, 7000, 3, 7200);
	memset(&want.r[ID_I], 0, sizeof(want.r[0]));
	commit(NAME("remove/iface"));
	expect(NAME("v4/.3/other-iface-rules-ignored"), 0, p, 7000, 3, 7100);
	expect(NAME("v6/::2/then-unscoped"), 1, p, 7000, 2, 7100);

	/* The waiting rule takes effect once its interface resolves (here: lo). */
	want.r[ID_W].ifindex = 1;
	commit(NAME("resolve/waiting-rule"));
	expect(NAME("v4/.3/resolved-rule"), 0, p, 7000, 3, 7700);

	memset(&want, 0, sizeof(want));
	commit(NAME("remove/all"));
	check(scope_set_of(proto, 7000) == 0 && scope_set_of(proto, 8000) == 0,
	      NAME("flag/cleared"), "7000 %u", scope_set_of(proto, 7000));
	expect(NAME("v4/unscoped-again"), 0, p, 7000, 2, 7100);
	check(!pr_rules_remove(maps.rules, maps.rule_stats, &unscoped, &err),
	      NAME("cleanup/unscoped"), "%s", err.msg);
	expect(NAME("v4/no-rule"), 0, p, 7000, 2, 0);
#undef NAME
}

/*
 * An entry of one family never matches a packet of the other, even where
 * its first address word equals the packet's IPv4 address (a00:2::/32 holds
 * 10.0.0.2; 32.1.13.184 is 2001:db8's first word); the interface-only rule
 * after it (an all-zero mask) then applies.
 */
static void cases_family(void)
{
	enum { ID_V6_LIKE_V4 = 1, ID_V4_LIKE_V6, ID_IFACE3, ID_IFACE4 };

	memset(&want, 0, sizeof(want));
	rule(ID_V6_LIKE_V4, PR_PROTO_UDP, 7003, 7003, 7803, "lo", 1, "a00:2::/32");
	rule(ID_V4_LIKE_V6, PR_PROTO_UDP, 7004, 7004, 7804, "lo", 1, "32.1.13.184");
	rule(ID_IFACE3, PR_PROTO_UDP, 7003, 7003, 7903, "lo", 1, NULL);
	rule(ID_IFACE4, PR_PROTO_UDP, 7004, 7004, 7904, "lo", 1, NULL);
	commit("family/setup");
	expect("family/v4-packet-skips-v6-entry", 0, IPPROTO_UDP, 7003, 2, 7903);
	expect("family/v6-packet-skips-v4-entry", 1, IPPROTO_UDP, 7004, 2, 7904);
	memset(&want, 0, sizeof(want));
	commit("family/cleanup");
}

/*
 * Interface and address outrank an address alone whatever the prefixes:
 * lo with 2000::/8 wins over 2001:db8::2/128 (a rank that added the prefix
 * length to a step smaller than 128 once let the host address win).
 */
static void cases_rank(void)
{
	enum { ID_IFACE_SHORT = 1, ID_HOST };

	memset(&want, 0, sizeof(want));
	rule(ID_IFACE_SHORT, PR_PROTO_UDP, 7005, 7005, 7805, "lo", 1, "2000::/8");
	rule(ID_HOST, PR_PROTO_UDP, 7005, 7005, 7905, NULL, 0, "2001:db8::2/128");
	commit("rank/setup");
	expect("rank/v6-interface-and-/8-beats-/128", 1, IPPROTO_UDP, 7005, 2, 7805);
	memset(&want, 0, sizeof(want));
	commit("rank/cleanup");
}

static void cases_limits(void)
{
	struct pr_scope_compiled *c = malloc(sizeof(*c));
	struct pr_errbuf err;

	memset(&want, 0, sizeof(want));
	for (unsigned int i = 1; i <= PR_SCOPE_SET_SIZE + 1; i++) {
		char dst[32];

		snprintf(dst, sizeof(dst), "10.0.%u.0/24", i);
		rule(i, PR_PROTO_UDP, 53, 53, 5353, NULL, 0, dst);
	}
	check(c && pr_scope_compile(&want, c, &err) && strstr(err.msg, "udp port 53"),
	      "limits/too-many-per-port-named", "%s", err.msg);
	check(pr_scopes_commit(&maps, &cur, &want, &err) && scope_set_of(PR_PROTO_UDP, 53) == 0,
	      "limits/refused-changes-nothing", "set %u", scope_set_of(PR_PROTO_UDP, 53));
	memset(&want, 0, sizeof(want));
	free(c);
}

int main(void)
{
	struct portredir_bpf *skel;
	struct pr_errbuf err;

	skel = pr_object_load_private(&err);
	if (!skel) {
		printf("FAIL load: %s\n0 passed, 1 failed\n", err.msg);
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.xdp_portredir);
	maps.rules = bpf_map__fd(skel->maps.pr_rules);
	maps.rule_stats = bpf_map__fd(skel->maps.pr_rule_stats);
	maps.scope_sets = bpf_map__fd(skel->maps.pr_scope_sets);
	maps.scope_stats = bpf_map__fd(skel->maps.pr_scope_stats);
	maps.scope_rules = bpf_map__fd(skel->maps.pr_scope_rules);
	check(true, "load/verifier-accepts-program", "%s", "");

	cases_precedence(IPPROTO_UDP);
	cases_precedence(IPPROTO_TCP);
	cases_family();
	cases_rank();
	cases_limits();
	cases_csum_delta();
	portredir_bpf__destroy(skel);
	return check_summary();
}
