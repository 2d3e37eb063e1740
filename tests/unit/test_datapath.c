// SPDX-License-Identifier: GPL-2.0
/*
 * The packet matrix: drives the real XDP program with BPF_PROG_TEST_RUN and
 * compares each output frame byte for byte with a frame built independently
 * (tests/unit/pktbuild.c computes every checksum from scratch).
 *
 * Usage: test_datapath [-s SEED] [-v]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "check.h"
#include "pktbuild.h"
#include "xdprun.h"
#include "object.h"
#include "rules.h"
#include "totals.h"
#include "portredir.skel.h"

static int prog_fd, rules_fd, stats_fd, action_fd;
static struct portredir_bpf *skel;
static int verbose;

static const uint8_t hello[] = "Hello, New Stack!";

/* Rules every case runs against. */
static const struct pr_rule_spec test_rules[] = {
	{ PR_PROTO_UDP, 7999, 7999, 7998 },    { PR_PROTO_TCP, 7999, 7999, 7998 },
	{ PR_PROTO_UDP, 8001, 8099, 9001 },    { PR_PROTO_TCP, 1, 1, 2 },
	{ PR_PROTO_UDP, 65535, 65535, 65534 }, { PR_PROTO_TCP, 65535, 65535, 1 },
	{ PR_PROTO_UDP, 5000, 5000, 5001 }, /* only the counter case uses it */
};

/* What the rules above say should happen to (proto, port); 0 = no rule. */
static uint16_t expected_port(uint8_t l4proto, uint16_t port)
{
	for (size_t i = 0; i < sizeof(test_rules) / sizeof(test_rules[0]); i++) {
		const struct pr_rule_spec *r = &test_rules[i];
		uint8_t p = r->proto == PR_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;

		if (p == l4proto && port >= r->first && port <= r->last)
			return (uint16_t)(r->to + (port - r->first));
	}
	return 0;
}

static void hexdump_diff(const uint8_t *got, size_t glen, const uint8_t *exp, size_t elen)
{
	size_t n = glen < elen ? glen : elen, i;

	for (i = 0; i < n && got[i] == exp[i]; i++)
		;
	printf("    first difference at byte %zu (got len %zu, want len %zu)", i, glen, elen);
	if (i < n)
		printf(": got %02x want %02x", got[i], exp[i]);
	printf("\n");
}

/* Runs one frame through the program; returns false and reports on error. */
static bool run_prog(const char *name, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t *out_len, uint32_t *retval)
{
	struct xdprun_result res;
	int err = xdprun(prog_fd, in, in_len, out, &res);

	if (err)
		return check(false, name, "BPF_PROG_TEST_RUN failed: %s", strerror(-err));
	*out_len = res.len;
	*retval = res.retval;
	return true;
}

/*
 * The metadata the TC checksum fixup reads: present exactly when the port
 * was rewritten, naming the port and checksum field the frame arrived with
 * (checked where the case knows the layout).
 */
static bool meta_ok(const char *name, const struct xdprun_result *res, const uint8_t *in,
		    size_t in_len, const uint8_t *exp, size_t exp_len, const struct pkt_layout *lay)
{
	bool rewritten = in_len != exp_len || memcmp(in, exp, in_len);
	struct pr_meta m;

	if (!rewritten)
		return res->meta_len == 0 ||
		       check(false, name, "metadata left on an unchanged frame (%zu bytes)",
			     res->meta_len);
	if (res->meta_len != sizeof(m))
		return check(false, name, "rewritten frame carries %zu bytes of metadata, want %zu",
			     res->meta_len, sizeof(m));
	memcpy(&m, res->meta, sizeof(m));
	if (m.magic != PR_META_MAGIC)
		return check(false, name, "metadata magic %#x, want %#x", m.magic, PR_META_MAGIC);
	if (lay && (memcmp(&m.old_port, in + lay->dport_off, 2) ||
		    memcmp(&m.old_check, in + lay->csum_off, 2)))
		return check(false, name,
			     "metadata names port/check %02x%02x/%02x%02x, frame had "
			     "%02x%02x/%02x%02x",
			     ((uint8_t *)&m.old_port)[0], ((uint8_t *)&m.old_port)[1],
			     ((uint8_t *)&m.old_check)[0], ((uint8_t *)&m.old_check)[1],
			     in[lay->dport_off], in[lay->dport_off + 1], in[lay->csum_off],
			     in[lay->csum_off + 1]);
	return true;
}

static void expect_frame_lay(const char *name, const uint8_t *in, size_t in_len, const uint8_t *exp,
			     size_t exp_len, const struct pkt_layout *lay)
{
	struct xdprun_result res;
	uint8_t out[PKT_MAX];
	size_t out_len;
	uint32_t ret;
	int err = xdprun(prog_fd, in, in_len, out, &res);

	if (err) {
		check(false, name, "BPF_PROG_TEST_RUN failed: %s", strerror(-err));
		return;
	}
	out_len = res.len;
	ret = res.retval;
	if (!meta_ok(name, &res, in, in_len, exp, exp_len, lay))
		return;
	if (ret != XDP_PASS) {
		check(false, name, "verdict %u, want XDP_PASS", ret);
		return;
	}
	if (out_len != exp_len || memcmp(out, exp, exp_len)) {
		check(false, name, "output frame differs from the reference");
		hexdump_diff(out, out_len, exp, exp_len);
		return;
	}
	check(true, name, "%s", "");
}

static void expect_frame(const char *name, const uint8_t *in, size_t in_len, const uint8_t *exp,
			 size_t exp_len)
{
	expect_frame_lay(name, in, in_len, exp, exp_len, NULL);
}

/*
 * Builds spec as sent, and the reference of what must come out: the same
 * description with the rewritten port, every checksum computed from scratch.
 * If no rule applies, the frame must come out unchanged.
 */
static void case_spec(const char *name, const struct pkt_spec *spec, bool expect_rewrite)
{
	uint8_t in[PKT_MAX], exp[PKT_MAX];
	struct pkt_layout lay, elay;
	struct pkt_spec e = *spec;
	size_t in_len, exp_len;
	uint16_t to = expected_port(spec->l4proto, spec->dport);

	in_len = pkt_build(spec, in, sizeof(in), &lay);
	if (!in_len) {
		check(false, name, "test bug: packet does not fit");
		return;
	}
	if (expect_rewrite != (to != 0)) {
		check(false, name, "test bug: rule table disagrees with the case");
		return;
	}
	if (expect_rewrite) {
		e.dport = to;
		exp_len = pkt_build(&e, exp, sizeof(exp), &elay);
	} else {
		memcpy(exp, in, in_len);
		exp_len = in_len;
	}
	expect_frame_lay(name, in, in_len, exp, exp_len, &lay);
}

static struct pkt_spec base(int ipv6, uint8_t l4proto, uint16_t dport)
{
	struct pkt_spec s = {
		.ipv6 = ipv6,
		.l4proto = l4proto,
		.sport = 40000,
		.dport = dport,
		.payload = hello,
		.payload_len = sizeof(hello) - 1,
	};
	return s;
}

static const char *fam(int ipv6)
{
	return ipv6 ? "ipv6" : "ipv4";
}

static const char *l4(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : "udp";
}

static void cases_matrix(void)
{
	static const uint16_t tpids[3][2] = { { 0 }, { 0x8100 }, { 0x88a8, 0x8100 } };
	char name[128];

	for (int v6 = 0; v6 <= 1; v6++)
		for (int pi = 0; pi < 2; pi++)
			for (int tags = 0; tags <= 2; tags++) {
				uint8_t p = pi ? IPPROTO_TCP : IPPROTO_UDP;
				struct pkt_spec s = base(v6, p, 7999);

				s.vlan_tags = tags;
				memcpy(s.vlan_tpid, tpids[tags], sizeof(tpids[tags]));
				snprintf(name, sizeof(name), "matrix/%s/%s/vlan%d/hit", fam(v6),
					 l4(p), tags);
				case_spec(name, &s, true);
				s.dport = 7997;
				snprintf(name, sizeof(name), "matrix/%s/%s/vlan%d/miss", fam(v6),
					 l4(p), tags);
				case_spec(name, &s, false);
			}
}

static void cases_ipv4_options(void)
{
	static const int opts[] = { 4, 20, 40 };
	char name[128];

	for (size_t i = 0; i < 3; i++)
		for (int pi = 0; pi < 2; pi++) {
			uint8_t p = pi ? IPPROTO_TCP : IPPROTO_UDP;
			struct pkt_spec s = base(0, p, 7999);

			s.ip4_opt_len = opts[i];
			snprintf(name, sizeof(name), "ipv4-options/ihl%d/%s", 5 + opts[i] / 4,
				 l4(p));
			case_spec(name, &s, true);
		}
}

static void add_ext(struct pkt_spec *s, uint8_t type, uint16_t len)
{
	s->ext[s->n_ext].type = type;
	s->ext[s->n_ext].len = len;
	s->n_ext++;
}

static void cases_ipv6_ext(void)
{
	static const struct {
		const char *name;
		uint8_t type;
		uint16_t len;
	} kinds[] = {
		{ "hop-by-hop", IPPROTO_HOPOPTS, 8 },
		{ "hop-by-hop-long", IPPROTO_HOPOPTS, 64 },
		{ "routing", IPPROTO_ROUTING, 24 },
		{ "dstopts", IPPROTO_DSTOPTS, 16 },
		{ "fragment-first", IPPROTO_FRAGMENT, 8 },
		{ "ah", IPPROTO_AH, 24 },
	};
	char name[128];
	struct pkt_spec s;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (int pi = 0; pi < 2; pi++) {
			uint8_t p = pi ? IPPROTO_TCP : IPPROTO_UDP;

			s = base(1, p, 7999);
			add_ext(&s, kinds[k].type, kinds[k].len);
			snprintf(name, sizeof(name), "ipv6-ext/%s/%s", kinds[k].name, l4(p));
			case_spec(name, &s, true);
		}

	s = base(1, IPPROTO_UDP, 7999);
	add_ext(&s, IPPROTO_HOPOPTS, 8);
	add_ext(&s, IPPROTO_DSTOPTS, 8);
	add_ext(&s, IPPROTO_ROUTING, 24);
	add_ext(&s, IPPROTO_FRAGMENT, 8);
	add_ext(&s, IPPROTO_AH, 16);
	add_ext(&s, IPPROTO_DSTOPTS, 16);
	s.vlan_tags = 1;
	case_spec("ipv6-ext/chain-of-six/udp/vlan1", &s, true);

	/* Eight extension headers is the documented walk limit: still rewritten. */
	s = base(1, IPPROTO_TCP, 7999);
	for (int i = 0; i < 8; i++)
		add_ext(&s, IPPROTO_DSTOPTS, 8);
	case_spec("ipv6-ext/chain-of-eight/tcp", &s, true);
	/* A ninth is beyond the limit: the packet passes untouched. */
	add_ext(&s, IPPROTO_DSTOPTS, 8);
	{
		uint8_t in[PKT_MAX];
		struct pkt_layout lay;
		size_t n = pkt_build(&s, in, sizeof(in), &lay);

		expect_frame("ipv6-ext/chain-of-nine/untouched", in, n, in, n);
	}

	/* ESP, no-next-header and ICMPv6 carry no port to rewrite. */
	static const uint8_t others[] = { 50, 59, 58 };
	for (size_t i = 0; i < sizeof(others); i++) {
		uint8_t in[PKT_MAX];
		struct pkt_layout lay;
		size_t n;

		s = base(1, IPPROTO_UDP, 7999);
		s.ext[0].type = others[i]; /* next header value only; body is the "UDP" bytes */
		s.n_ext = 0;
		n = pkt_build(&s, in, sizeof(in), &lay);
		in[lay.l3_off + 6] = others[i];
		snprintf(name, sizeof(name), "ipv6/nexthdr-%u/untouched", others[i]);
		expect_frame(name, in, n, in, n);
	}
}

static void cases_fragments(void)
{
	uint8_t payload[200];
	struct pkt_spec s;
	char name[128];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);

	for (int pi = 0; pi < 2; pi++) {
		uint8_t p = pi ? IPPROTO_TCP : IPPROTO_UDP;

		/* First fragment: carries the L4 header, rewritten; the checksum covers
		 * the whole datagram, which the reference computes before cutting. */
		s = base(0, p, 7999);
		s.payload = payload;
		s.payload_len = sizeof(payload);
		s.v4_frag = 1;
		s.more_frags = 1;
		s.l4_keep = 64;
		snprintf(name, sizeof(name), "fragment/ipv4/first/%s", l4(p));
		case_spec(name, &s, true);

		/* Non-first fragments: the bytes at the L4 offset are payload. */
		s.frag_offset = 8;
		snprintf(name, sizeof(name), "fragment/ipv4/middle/%s/untouched", l4(p));
		{
			uint8_t in[PKT_MAX];
			struct pkt_layout lay;
			size_t n = pkt_build(&s, in, sizeof(in), &lay);

			expect_frame(name, in, n, in, n);
			s.more_frags = 0;
			n = pkt_build(&s, in, sizeof(in), &lay);
			snprintf(name, sizeof(name), "fragment/ipv4/last/%s/untouched", l4(p));
			expect_frame(name, in, n, in, n);
		}

		s = base(1, p, 7999);
		s.payload = payload;
		s.payload_len = sizeof(payload);
		add_ext(&s, IPPROTO_FRAGMENT, 8);
		s.more_frags = 1;
		s.l4_keep = 64;
		snprintf(name, sizeof(name), "fragment/ipv6/first/%s", l4(p));
		case_spec(name, &s, true);

		s.frag_offset = 8;
		{
			uint8_t in[PKT_MAX];
			struct pkt_layout lay;
			size_t n = pkt_build(&s, in, sizeof(in), &lay);

			snprintf(name, sizeof(name), "fragment/ipv6/middle/%s/untouched", l4(p));
			expect_frame(name, in, n, in, n);
		}
	}
}

/*
 * Cuts a packet at every header boundary and one byte before it. While the
 * L4 header is complete the port is rewritten (the reference is the full
 * rewritten frame, cut the same way); otherwise the frame passes unchanged.
 */
static void truncations(const char *label, const struct pkt_spec *spec)
{
	uint8_t in[PKT_MAX], full_exp[PKT_MAX];
	struct pkt_layout lay, elay;
	struct pkt_spec e = *spec;
	char name[160];
	size_t n;

	n = pkt_build(spec, in, sizeof(in), &lay);
	e.dport = expected_port(spec->l4proto, spec->dport);
	pkt_build(&e, full_exp, sizeof(full_exp), &elay);
	(void)n;

	for (int b = 0; b < lay.n_boundaries; b++) {
		for (int minus = 1; minus >= 0; minus--) {
			size_t cut = lay.boundaries[b] - (size_t)minus;
			bool complete = cut >= lay.l4_off + lay.l4_hdr_len;

			if (cut < 14)
				continue; /* BPF_PROG_TEST_RUN needs an Ethernet header */
			snprintf(name, sizeof(name), "truncated/%s/at-%zu%s/%s", label,
				 lay.boundaries[b], minus ? "-1" : "",
				 complete ? "rewritten" : "untouched");
			expect_frame_lay(name, in, cut, complete ? full_exp : in, cut, &lay);
		}
	}
}

static void cases_truncated(void)
{
	struct pkt_spec s;

	s = base(0, IPPROTO_UDP, 7999);
	truncations("ipv4-udp", &s);
	s = base(0, IPPROTO_TCP, 7999);
	s.vlan_tags = 2;
	s.ip4_opt_len = 8;
	truncations("ipv4-tcp-vlan2-options", &s);
	s = base(1, IPPROTO_UDP, 7999);
	add_ext(&s, IPPROTO_HOPOPTS, 16);
	add_ext(&s, IPPROTO_FRAGMENT, 8);
	add_ext(&s, IPPROTO_AH, 16);
	truncations("ipv6-udp-ext3", &s);
	s = base(1, IPPROTO_TCP, 7999);
	s.vlan_tags = 1;
	truncations("ipv6-tcp-vlan1", &s);
}

static void untouched(const char *name, const struct pkt_spec *s,
		      void (*mangle)(uint8_t *, struct pkt_layout *))
{
	uint8_t in[PKT_MAX];
	struct pkt_layout lay;
	size_t n = pkt_build(s, in, sizeof(in), &lay);

	if (mangle)
		mangle(in, &lay);
	expect_frame(name, in, n, in, n);
}

static void ihl_4(uint8_t *p, struct pkt_layout *l)
{
	p[l->l3_off] = 0x44;
}

static void ihl_0(uint8_t *p, struct pkt_layout *l)
{
	p[l->l3_off] = 0x40;
}

static void cases_malformed(void)
{
	struct pkt_spec s;

	s = base(0, IPPROTO_UDP, 7999);
	untouched("malformed/ipv4-ihl4/untouched", &s, ihl_4);
	untouched("malformed/ipv4-ihl0/untouched", &s, ihl_0);
	s.ip_version = 6;
	untouched("malformed/ipv4-ethertype-version6/untouched", &s, NULL);
	s.ip_version = 5;
	untouched("malformed/ipv4-version5/untouched", &s, NULL);
	s = base(1, IPPROTO_TCP, 7999);
	s.ip_version = 4;
	untouched("malformed/ipv6-ethertype-version4/untouched", &s, NULL);

	s = base(0, IPPROTO_UDP, 7999);
	s.ethertype = 0x0806;
	untouched("non-ip/arp/untouched", &s, NULL);
	s.ethertype = 0x88cc;
	untouched("non-ip/lldp/untouched", &s, NULL);
	/* Types from 0x8000 up take the general parser (one test there). */
	s.ethertype = 0x8847;
	untouched("non-ip/mpls/untouched", &s, NULL);
	s.ethertype = 0x8864;
	untouched("non-ip/pppoe/untouched", &s, NULL);
	s.ethertype = 0x0842;
	untouched("non-ip/wake-on-lan/untouched", &s, NULL);
	s = base(0, IPPROTO_UDP, 7999);
	s.vlan_tags = 3;
	untouched("vlan/three-tags/untouched", &s, NULL);
	s = base(0, 1 /* ICMP */, 7999);
	untouched("ipv4/icmp/untouched", &s, NULL);
}

static void cases_checksums(unsigned int seed)
{
	uint8_t payload[256];
	struct pkt_spec s;
	char name[128];

	/* IPv4 UDP without a checksum keeps none. */
	s = base(0, IPPROTO_UDP, 7999);
	s.udp_no_csum = 1;
	case_spec("checksum/ipv4-udp-zero-stays-zero", &s, true);

	/* Payloads chosen so the rewritten packet's true checksum is zero: UDP
	 * must then carry 0xffff, TCP 0x0000. The reference decides which. */
	for (int v6 = 0; v6 <= 1; v6++)
		for (int pi = 0; pi < 2; pi++) {
			uint8_t p = pi ? IPPROTO_TCP : IPPROTO_UDP;
			uint8_t exp[PKT_MAX];
			struct pkt_layout lay;
			uint32_t sum;
			size_t n;
			uint16_t w;

			memset(payload, 0x5a, 32);
			payload[0] = payload[1] = 0;
			s = base(v6, p, 7999);
			s.payload = payload;
			s.payload_len = 32;
			s.dport = 7998;
			n = pkt_build(&s, exp, sizeof(exp), &lay);
			/* Sum of everything the checksum covers, with the field as 0. */
			exp[lay.csum_off] = exp[lay.csum_off + 1] = 0;
			sum = pkt_sum(exp + lay.l4_off, n - lay.l4_off, 0) + p +
			      (uint32_t)(n - lay.l4_off);
			sum = v6 ? pkt_sum(exp + lay.l3_off + 8, 32, sum) :
				   pkt_sum(exp + lay.l3_off + 12, 8, sum);
			w = (uint16_t)~pkt_fold(sum);
			payload[0] = (uint8_t)(w >> 8);
			payload[1] = (uint8_t)w;
			s.dport = 7999;
			snprintf(name, sizeof(name), "checksum/%s-%s-becomes-zero", fam(v6), l4(p));
			case_spec(name, &s, true);
			{
				/* Make sure the case really exercises the zero result. */
				struct pkt_spec e = s;
				uint8_t buf[PKT_MAX];

				e.dport = 7998;
				pkt_build(&e, buf, sizeof(buf), &lay);
				snprintf(name, sizeof(name),
					 "checksum/%s-%s-becomes-zero/reference", fam(v6), l4(p));
				check((buf[lay.csum_off] << 8 | buf[lay.csum_off + 1]) ==
					      (p == IPPROTO_UDP ? 0xffff : 0),
				      name, "reference checksum %02x%02x is not the zero case",
				      buf[lay.csum_off], buf[lay.csum_off + 1]);
			}
		}

	/* Random payloads, lengths, protocols and ports, hits and misses. */
	srand(seed);
	for (int i = 0; i < 64; i++) {
		static const uint16_t ports[] = { 7999, 8001, 8050, 8099, 8100, 1, 65535, 7997, 2 };
		uint8_t p = rand() & 1 ? IPPROTO_TCP : IPPROTO_UDP;
		uint16_t port = ports[rand() % (int)(sizeof(ports) / sizeof(ports[0]))];
		size_t len = (size_t)(rand() % (int)sizeof(payload));

		for (size_t j = 0; j < len; j++)
			payload[j] = (uint8_t)rand();
		s = base(rand() & 1, p, port);
		s.sport = (uint16_t)(1 + rand() % 65535);
		s.vlan_tags = rand() % 3;
		s.payload = payload;
		s.payload_len = len;
		snprintf(name, sizeof(name), "random/%d/%s-%s-port%u-len%zu", i, fam(s.ipv6), l4(p),
			 port, len);
		case_spec(name, &s, expected_port(p, port) != 0);
	}
}

/*
 * An entry an older version wrote (no csum_delta; a pinned table survives an
 * upgrade) still rewrites with a right checksum: the fast path hands it to
 * the general path, which computes the delta itself.
 */
static void cases_entry_without_delta(void)
{
	char name[128];

	for (int pi = 0; pi < 2; pi++) {
		uint8_t p = pi ? IPPROTO_TCP : IPPROTO_UDP;
		__u32 key = PR_RULE_KEY(pi ? PR_PROTO_TCP : PR_PROTO_UDP, 7999);
		struct pr_rule e, old;

		snprintf(name, sizeof(name), "old-entry/%s/setup", l4(p));
		if (!check(!bpf_map_lookup_elem(rules_fd, &key, &e) && e.csum_delta, name,
			   "entry %u: no csum_delta written", key))
			continue;
		old = e;
		e.csum_delta = 0;
		bpf_map_update_elem(rules_fd, &key, &e, BPF_ANY);
		for (int v6 = 0; v6 <= 1; v6++) {
			struct pkt_spec s = base(v6, p, 7999);

			snprintf(name, sizeof(name), "old-entry/%s/%s/hit", fam(v6), l4(p));
			case_spec(name, &s, true);
		}
		bpf_map_update_elem(rules_fd, &key, &old, BPF_ANY);
	}
}

static void cases_ports(void)
{
	static const struct {
		const char *name;
		uint8_t proto;
		uint16_t port;
	} c[] = {
		{ "tcp-port-1", IPPROTO_TCP, 1 },
		{ "udp-port-65535", IPPROTO_UDP, 65535 },
		{ "tcp-port-65535-to-1", IPPROTO_TCP, 65535 },
		{ "range-first", IPPROTO_UDP, 8001 },
		{ "range-last", IPPROTO_UDP, 8099 },
		{ "range-middle", IPPROTO_UDP, 8050 },
		{ "range-below-first", IPPROTO_UDP, 8000 },
		{ "range-above-last", IPPROTO_UDP, 8100 },
		{ "range-other-protocol", IPPROTO_TCP, 8050 },
		{ "no-rule-port-2", IPPROTO_TCP, 2 },
		{ "udp-port-1-no-rule", IPPROTO_UDP, 1 },
	};
	char name[128];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		for (int v6 = 0; v6 <= 1; v6++) {
			struct pkt_spec s = base(v6, c[i].proto, c[i].port);

			snprintf(name, sizeof(name), "ports/%s/%s", c[i].name, fam(v6));
			case_spec(name, &s, expected_port(c[i].proto, c[i].port) != 0);
		}
}

static int sum_counter(int fd, __u32 key, struct pr_counter *total)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pr_counter *v = calloc((size_t)ncpus, sizeof(*v));

	memset(total, 0, sizeof(*total));
	if (!v || bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		return -1;
	}
	for (int i = 0; i < ncpus; i++) {
		total->packets += v[i].packets;
		total->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

/* The XDP_PASS total as status shows it (lib/totals.c), for obj's maps. */
static int pass_total(struct portredir_bpf *obj, struct pr_counter *total)
{
	struct pr_rule_table *t = malloc(sizeof(*t));
	struct pr_counter c[PR_ACTION_SLOTS];
	bool have[PR_ACTION_SLOTS] = { 0 };
	struct pr_maps m = PR_MAPS_INIT;
	struct pr_errbuf err;

	m.rules = bpf_map__fd(obj->maps.pr_rules);
	m.rule_stats = bpf_map__fd(obj->maps.pr_rule_stats);
	m.action_stats = bpf_map__fd(obj->maps.pr_action_stats);
	m.scope_rules = bpf_map__fd(obj->maps.pr_scope_rules);
	m.scope_stats = bpf_map__fd(obj->maps.pr_scope_stats);
	if (!t || pr_rules_read(m.rules, t, &err)) {
		free(t);
		return -1;
	}
	pr_action_totals_read(&m, t, c, have);
	free(t);
	*total = c[XDP_PASS];
	return have[XDP_PASS] ? 0 : -1;
}

static void cases_counters(void)
{
	struct pr_counter rule, before, after;
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s = base(0, IPPROTO_UDP, 5000);
	struct pkt_layout lay;
	size_t n = pkt_build(&s, in, sizeof(in), &lay), out_len;
	const int N = 7;
	uint32_t ret;
	__u32 pass = XDP_PASS;
	char name[] = "counters/rule-and-action";

	struct pr_counter map_before, map_after;

	sum_counter(action_fd, pass, &map_before);
	pass_total(skel, &before);
	for (int i = 0; i < N; i++)
		if (!run_prog(name, in, n, out, &out_len, &ret))
			return;
	sum_counter(stats_fd, PR_RULE_KEY(PR_PROTO_UDP, 5000), &rule);
	sum_counter(action_fd, pass, &map_after);
	pass_total(skel, &after);
	check(rule.packets == (uint64_t)N && rule.bytes == (uint64_t)N * n, "counters/rule",
	      "rule counter says %llu packets %llu bytes, want %d and %zu",
	      (unsigned long long)rule.packets, (unsigned long long)rule.bytes, N, N * n);
	/* A rewrite counts once, in its rule's counter... */
	check(map_after.packets == map_before.packets && map_after.bytes == map_before.bytes,
	      "counters/hit-counted-once", "the XDP_PASS slot moved by %llu packets too",
	      (unsigned long long)(map_after.packets - map_before.packets));
	/* ... and the total as status shows it adds that. */
	check(after.packets - before.packets == (uint64_t)N &&
		      after.bytes - before.bytes == (uint64_t)N * n,
	      "counters/action-pass",
	      "XDP_PASS total moved by %llu packets %llu bytes, want %d and %zu",
	      (unsigned long long)(after.packets - before.packets),
	      (unsigned long long)(after.bytes - before.bytes), N, N * n);

	/* A miss counts as a pass but not for any rule. */
	s.dport = 5002;
	n = pkt_build(&s, in, sizeof(in), &lay);
	pass_total(skel, &before);
	run_prog(name, in, n, out, &out_len, &ret);
	pass_total(skel, &after);
	sum_counter(stats_fd, PR_RULE_KEY(PR_PROTO_UDP, 5000), &rule);
	check(after.packets - before.packets == 1 && rule.packets == (uint64_t)N,
	      "counters/miss-counts-pass-only", "pass moved %llu, rule now %llu",
	      (unsigned long long)(after.packets - before.packets),
	      (unsigned long long)rule.packets);
}

/*
 * A rule's counts outlive it in the XDP_PASS total (lib/totals.c): removing
 * the rule, or adding it again (which zeroes its counter), leaves the total
 * where it was, and the next hit adds to it. Runs after cases_counters(),
 * whose hits on udp 5000 are the counts that must stay.
 */
static void cases_totals_outlive_rules(void)
{
	const struct pr_rule_spec *r = &test_rules[sizeof(test_rules) / sizeof(test_rules[0]) - 1];
	struct pr_counter before, now, rule, seq;
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec s = base(0, IPPROTO_UDP, r->first);
	struct pkt_layout lay;
	size_t n = pkt_build(&s, in, sizeof(in), &lay), out_len;
	struct pr_errbuf err;
	uint32_t ret;

	if (pass_total(skel, &before) || !before.packets) {
		check(false, "totals/setup", "no XDP_PASS total to start from");
		return;
	}
	check(!pr_rules_remove(rules_fd, stats_fd, r, &err), "totals/remove-rule", "%s", err.msg);
	pass_total(skel, &now);
	sum_counter(stats_fd, PR_RULE_KEY(r->proto, r->first), &rule);
	check(now.packets == before.packets && now.bytes == before.bytes && !rule.packets,
	      "totals/removed-rule-stays-counted", "total %llu -> %llu, the slot holds %llu",
	      (unsigned long long)before.packets, (unsigned long long)now.packets,
	      (unsigned long long)rule.packets);
	check(!pr_rules_add(rules_fd, stats_fd, r, &err), "totals/add-again", "%s", err.msg);
	pass_total(skel, &now);
	check(now.packets == before.packets, "totals/re-added-rule-starts-at-zero",
	      "total %llu -> %llu", (unsigned long long)before.packets,
	      (unsigned long long)now.packets);
	if (!run_prog("totals/hit", in, n, out, &out_len, &ret))
		return;
	pass_total(skel, &now);
	sum_counter(stats_fd, PR_RULE_KEY(r->proto, r->first), &rule);
	check(now.packets == before.packets + 1 && rule.packets == 1, "totals/next-hit-adds",
	      "total %llu -> %llu, rule %llu", (unsigned long long)before.packets,
	      (unsigned long long)now.packets, (unsigned long long)rule.packets);
	sum_counter(stats_fd, PR_RULE_STATS_SEQ, &seq);
	check(seq.packets && !(seq.packets & 1), "totals/sequence-even",
	      "sequence count %llu after the moves", (unsigned long long)seq.packets);
}

/*
 * An instance loaded with --no-action-totals (pr_action_totals off), one-way
 * (the fast path) and with reply translation (the general path for UDP):
 * hits, misses and non-IP frames pass as before, rule counters count, the
 * per-action totals do not move.
 */
static void cases_no_action_totals(void)
{
	static const struct {
		uint8_t l4proto;
		uint16_t dport;
		uint16_t ethertype;
		const char *what;
	} f[] = {
		{ IPPROTO_UDP, 7999, 0, "udp-hit" },
		{ IPPROTO_TCP, 7999, 0, "tcp-hit" },
		{ IPPROTO_UDP, 9000, 0, "miss" },
		{ IPPROTO_UDP, 9000, 0x0806, "non-ip" },
	};
	struct pr_rule_spec r[] = { { PR_PROTO_UDP, 7999, 7999, 7998 },
				    { PR_PROTO_TCP, 7999, 7999, 7998 } };
	uint8_t in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	struct pr_counter rule, pass;
	struct xdprun_result res;
	struct pkt_layout lay;
	struct pr_errbuf err;
	char name[128];

	for (int reply = 0; reply <= 1; reply++) {
		const char *load = reply ? "reply" : "one-way";
		struct portredir_bpf *lean = pr_object_open(NULL, &err);
		int afd;

		snprintf(name, sizeof(name), "no-action-totals/%s/open", load);
		if (!check(lean != NULL, name, "%s", err.msg))
			return;
		lean->rodata->pr_action_totals = false;
		lean->rodata->pr_record_flows = reply;
		snprintf(name, sizeof(name), "no-action-totals/%s/verifier-accepts", load);
		if (!check(!portredir_bpf__load(lean), name, "the verifier refused it")) {
			portredir_bpf__destroy(lean);
			return;
		}
		afd = bpf_map__fd(lean->maps.pr_action_stats);
		for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
			snprintf(name, sizeof(name), "no-action-totals/%s/add-rule-%zu", load, i);
			check(!pr_rules_add(bpf_map__fd(lean->maps.pr_rules),
					    bpf_map__fd(lean->maps.pr_rule_stats), &r[i], &err),
			      name, "%s", err.msg);
		}
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			struct pkt_spec s = base(0, f[i].l4proto, f[i].dport), e;
			bool hit = f[i].dport == 7999;
			size_t n, en;

			s.ethertype = f[i].ethertype;
			e = s;
			e.dport = hit ? 7998 : f[i].dport;
			n = pkt_build(&s, in, sizeof(in), &lay);
			en = pkt_build(&e, exp, sizeof(exp), &lay);
			snprintf(name, sizeof(name), "no-action-totals/%s/%s", load, f[i].what);
			if (xdprun(bpf_program__fd(lean->progs.xdp_portredir), in, n, out, &res)) {
				check(false, name, "test run failed");
				continue;
			}
			check(res.retval == XDP_PASS && res.len == en && !memcmp(out, exp, en),
			      name, "ret %u, frame %s the reference", res.retval,
			      res.len == en && !memcmp(out, exp, en) ? "equals" : "differs from");
		}
		sum_counter(bpf_map__fd(lean->maps.pr_rule_stats), PR_RULE_KEY(PR_PROTO_UDP, 7999),
			    &rule);
		sum_counter(afd, XDP_PASS, &pass);
		snprintf(name, sizeof(name), "no-action-totals/%s/rule-counted", load);
		check(rule.packets == 1, name, "rule counter says %llu, want 1",
		      (unsigned long long)rule.packets);
		snprintf(name, sizeof(name), "no-action-totals/%s/totals-untouched", load);
		check(pass.packets == 0 && pass.bytes == 0, name,
		      "XDP_PASS slot moved to %llu packets", (unsigned long long)pass.packets);
		/* The total status shows: the two rewrites, which their rules counted. */
		snprintf(name, sizeof(name), "no-action-totals/%s/total-is-the-rewrites", load);
		check(!pass_total(lean, &pass) && pass.packets == 2, name,
		      "XDP_PASS total says %llu packets, want 2", (unsigned long long)pass.packets);
		portredir_bpf__destroy(lean);
	}
}

/*
 * The variant load uses on a hardware NIC (xdp_portredir_n) rewrites the
 * same frames the same way, but leaves no metadata for the TC fixup.
 */
static void cases_no_fixup(void)
{
	struct pr_rule_spec r = { PR_PROTO_UDP, 7999, 7999, 7998 };
	uint8_t in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	struct pkt_spec s = base(0, IPPROTO_UDP, 7999), e = s;
	struct pkt_layout lay;
	struct xdprun_result res;
	struct portredir_bpf *hw;
	struct pr_errbuf err;
	size_t n, en;

	hw = pr_object_open(NULL, &err);
	if (!check(hw != NULL, "no-fixup/open", "%s", err.msg))
		return;
	if (!check(!portredir_bpf__load(hw), "no-fixup/verifier-accepts", "load failed")) {
		portredir_bpf__destroy(hw);
		return;
	}
	pr_rules_add(bpf_map__fd(hw->maps.pr_rules), bpf_map__fd(hw->maps.pr_rule_stats), &r, &err);
	n = pkt_build(&s, in, sizeof(in), &lay);
	e.dport = 7998;
	en = pkt_build(&e, exp, sizeof(exp), &lay);
	if (check(!xdprun(bpf_program__fd(hw->progs.xdp_portredir_n), in, n, out, &res),
		  "no-fixup/run", "test run failed")) {
		check(res.len == en && !memcmp(out, exp, en), "no-fixup/rewrites-the-same",
		      "frame differs from the reference");
		check(res.meta_len == 0, "no-fixup/leaves-no-metadata", "%zu bytes of metadata",
		      res.meta_len);
	}
	portredir_bpf__destroy(hw);
}

/*
 * Two instances in one dispatcher (a reload has both attached for a moment)
 * with a chain of rules A -> B, B -> C: the second sees the first's mark and
 * leaves the packet at B; without the mark it would go on to C. One instance
 * meeting its own mark (a test run repeating one buffer) is not a second
 * instance and follows its rules.
 */
static void cases_second_instance(void)
{
	struct pr_rule_spec ab = { PR_PROTO_UDP, 7999, 7999, 7998 },
			    bc = { PR_PROTO_UDP, 7998, 7998, 7997 };
	uint8_t in[PKT_MAX], mid[PKT_MAX], out[PKT_MAX], exp[PKT_MAX], exp_c[PKT_MAX];
	struct pkt_spec s = base(0, IPPROTO_UDP, 7999), e = s;
	struct xdprun_result first, second;
	struct portredir_bpf *inst[2] = { NULL, NULL };
	struct pkt_layout lay;
	struct pr_errbuf err;
	size_t n, en, en_c;
	int fd[2];

	for (int i = 0; i < 2; i++) {
		inst[i] = pr_object_open(NULL, &err);
		if (!check(inst[i] != NULL, "second-instance/open", "%s", err.msg))
			goto out;
	}
	/* Drawn at random by pr_object_open; made distinct here so the test cannot flake. */
	inst[1]->rodata->pr_instance = (__u16)(inst[0]->rodata->pr_instance + 1) ?: 1;
	for (int i = 0; i < 2; i++) {
		if (!check(!portredir_bpf__load(inst[i]), "second-instance/load", "load failed"))
			goto out;
		fd[i] = bpf_program__fd(inst[i]->progs.xdp_portredir);
		pr_rules_add(bpf_map__fd(inst[i]->maps.pr_rules),
			     bpf_map__fd(inst[i]->maps.pr_rule_stats), &ab, &err);
		pr_rules_add(bpf_map__fd(inst[i]->maps.pr_rules),
			     bpf_map__fd(inst[i]->maps.pr_rule_stats), &bc, &err);
	}
	n = pkt_build(&s, in, sizeof(in), &lay);
	e.dport = 7998;
	en = pkt_build(&e, exp, sizeof(exp), &lay);
	e.dport = 7997;
	en_c = pkt_build(&e, exp_c, sizeof(exp_c), &lay);
	if (!check(!xdprun(fd[0], in, n, mid, &first), "second-instance/first-run",
		   "test run failed") ||
	    !check(first.len == en && !memcmp(mid, exp, en) && first.meta_len,
		   "second-instance/first-rewrites-a-to-b", "frame or metadata not as expected"))
		goto out;
	if (check(!xdprun_meta(fd[1], first.meta, first.meta_len, mid, first.len, out, &second),
		  "second-instance/second-run", "test run failed")) {
		check(second.retval == XDP_PASS, "second-instance/passes", "action %u",
		      second.retval);
		check(second.len == en && !memcmp(out, exp, en),
		      "second-instance/not-rewritten-again", "frame left B (chain followed twice)");
		check(second.meta_len == first.meta_len &&
			      !memcmp(second.meta, first.meta, first.meta_len),
		      "second-instance/metadata-kept", "metadata changed");
	}
	/* The first instance's own mark does not stop the first instance. */
	if (check(!xdprun_meta(fd[0], first.meta, first.meta_len, mid, first.len, out, &second),
		  "second-instance/own-mark-run", "test run failed"))
		check(second.len == en_c && !memcmp(out, exp_c, en_c),
		      "second-instance/own-mark-follows-rules",
		      "the instance that left the mark skipped its own frame");
	/* The control: the same frame at B without the mark goes on to C. */
	if (check(!xdprun(fd[1], mid, first.len, out, &second), "second-instance/control-run",
		  "test run failed"))
		check(second.len == en_c && !memcmp(out, exp_c, en_c),
		      "second-instance/control-b-to-c",
		      "an unmarked frame at B was not rewritten to C");
out:
	portredir_bpf__destroy(inst[0]);
	portredir_bpf__destroy(inst[1]);
}

int main(int argc, char **argv)
{
	unsigned int seed = 1;

	struct pr_errbuf err;
	int opt;

	while ((opt = getopt(argc, argv, "s:v")) != -1) {
		if (opt == 's')
			seed = (unsigned int)strtoul(optarg, NULL, 0);
		else if (opt == 'v')
			verbose = 1;
		else
			return 2;
	}
	skel = pr_object_load_private(&err);
	if (!skel) {
		printf("FAIL load: %s\n0 passed, 1 failed\n", err.msg);
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.xdp_portredir);
	rules_fd = bpf_map__fd(skel->maps.pr_rules);
	stats_fd = bpf_map__fd(skel->maps.pr_rule_stats);
	action_fd = bpf_map__fd(skel->maps.pr_action_stats);
	check(true, "load/verifier-accepts-program", "%s", "");

	for (size_t i = 0; i < sizeof(test_rules) / sizeof(test_rules[0]); i++) {
		char name[96], desc[64];

		pr_rule_format(&test_rules[i], desc, sizeof(desc));
		snprintf(name, sizeof(name), "setup/add-rule %s", desc);
		check(!pr_rules_add(rules_fd, stats_fd, &test_rules[i], &err), name, "%s", err.msg);
	}
	printf("# random cases use seed %u (rerun with -s %u)\n", seed, seed);

	cases_matrix();
	cases_ipv4_options();
	cases_ipv6_ext();
	cases_fragments();
	cases_truncated();
	cases_malformed();
	cases_second_instance();
	cases_checksums(seed);
	cases_entry_without_delta();
	cases_ports();
	cases_counters();
	cases_totals_outlive_rules();

	portredir_bpf__destroy(skel);
	cases_no_fixup();
	cases_no_action_totals();
	return check_summary();
}
