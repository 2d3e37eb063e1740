// SPDX-License-Identifier: GPL-2.0
/*
 * Reply translation, packet by packet: the XDP program records flows, the TC
 * egress program restores the original port on replies (checked byte for
 * byte against frames built from scratch), TCP flows leave the table when
 * they close, local connections from a rule's port keep their replies. The
 * TC hold, which stands in for the XDP program while a mode change has none
 * attached, makes the same rewrite on the skb.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "check.h"
#include "object.h"
#include "pktbuild.h"
#include "rules.h"
#include "xdprun.h"
#include "portredir.skel.h"

static int xdp_fd, tc_out_fd, tc_hold_fd, flows_fd, port_flags_fd;

#define CLIENT_PORT 40000

static struct pkt_spec pkt(int ipv6, uint8_t proto, uint16_t sport, uint16_t dport)
{
	static const uint8_t payload[] = "payload";
	struct pkt_spec s = {
		.ipv6 = ipv6,
		.l4proto = proto,
		.sport = sport,
		.dport = dport,
		.payload = payload,
		.payload_len = sizeof(payload) - 1,
	};
	return s;
}

/*
 * Builds a frame with the given TCP flags, addresses swapped for a reply
 * (server -> client), and every checksum computed from scratch afterwards.
 */
static size_t build(const struct pkt_spec *s, uint8_t tcp_flags, uint8_t *buf, int reply)
{
	struct pkt_layout lay;
	size_t n = pkt_build(s, buf, PKT_MAX, &lay);
	uint32_t sum;
	uint16_t c;

	if (s->ipv6 == 0 && reply) {
		/* Replies travel server -> client: swap the addresses. */
		uint8_t tmp[4];

		memcpy(tmp, buf + lay.l3_off + 12, 4);
		memcpy(buf + lay.l3_off + 12, buf + lay.l3_off + 16, 4);
		memcpy(buf + lay.l3_off + 16, tmp, 4);
	} else if (reply) {
		uint8_t tmp[16];

		memcpy(tmp, buf + lay.l3_off + 8, 16);
		memcpy(buf + lay.l3_off + 8, buf + lay.l3_off + 24, 16);
		memcpy(buf + lay.l3_off + 24, tmp, 16);
	}
	if (s->l4proto == IPPROTO_TCP)
		buf[lay.l4_off + 13] = tcp_flags;
	/* Checksum from scratch over pseudo-header and segment. */
	buf[lay.csum_off] = buf[lay.csum_off + 1] = 0;
	sum = pkt_sum(buf + lay.l4_off, n - lay.l4_off, 0) + s->l4proto + (uint32_t)(n - lay.l4_off);
	sum = s->ipv6 ? pkt_sum(buf + lay.l3_off + 8, 32, sum) : pkt_sum(buf + lay.l3_off + 12, 8, sum);
	c = (uint16_t)~pkt_fold(sum);
	if (s->l4proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	buf[lay.csum_off] = (uint8_t)(c >> 8);
	buf[lay.csum_off + 1] = (uint8_t)c;
	if (!s->ipv6) { /* IPv4 header checksum too, since addresses may have moved */
		buf[lay.l3_off + 10] = buf[lay.l3_off + 11] = 0;
		c = (uint16_t)~pkt_fold(pkt_sum(buf + lay.l3_off, 20 + (size_t)s->ip4_opt_len, 0));
		buf[lay.l3_off + 10] = (uint8_t)(c >> 8);
		buf[lay.l3_off + 11] = (uint8_t)c;
	}
	return n;
}

static int run_tc(int fd, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

static unsigned int count_flows(uint8_t kind)
{
	struct pr_flow_key key;
	unsigned int n = 0;
	int more;

	for (more = !bpf_map_get_next_key(flows_fd, NULL, &key); more;
	     more = !bpf_map_get_next_key(flows_fd, &key, &key))
		n += key.kind == kind;
	return n;
}

static void clear_flows(void)
{
	struct pr_flow_key key;

	while (!bpf_map_get_next_key(flows_fd, NULL, &key))
		bpf_map_delete_elem(flows_fd, &key);
}

/* Client request through XDP; returns whether the port was rewritten. */
static bool request(int ipv6, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct pkt_spec s = pkt(ipv6, proto, sport, dport);
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xdprun_result res;
	size_t n = build(&s, flags, in, 0);

	if (xdprun(xdp_fd, in, n, out, &res))
		return false;
	return memcmp(in, out, n) != 0;
}

/*
 * Server reply (from `from` to the client's port) through TC egress; checks
 * the output against the frame the client must see (source port `want`).
 */
static void reply(const char *name, int ipv6, uint8_t proto, uint16_t from, uint16_t want,
		  uint8_t flags)
{
	struct pkt_spec s = pkt(ipv6, proto, from, CLIENT_PORT);
	struct pkt_spec e = pkt(ipv6, proto, want, CLIENT_PORT);
	uint8_t in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	size_t n = build(&s, flags, in, 1), out_len = 0;
	size_t en = build(&e, flags, exp, 1);
	int ret = run_tc(tc_out_fd, in, n, out, &out_len);

	if (ret != PR_TC_NEXT) {
		check(false, name, "verdict %d, want %d (no verdict of its own)", ret, PR_TC_NEXT);
		return;
	}
	check(out_len == en && !memcmp(out, exp, en), name,
	      "reply not as the client must see it (source port should be %u)", want);
}

static void cases(int ipv6)
{
	const char *f = ipv6 ? "ipv6" : "ipv4";
	char name[128];

	clear_flows();
	/* UDP: the first datagram records the flow; the reply gets 7999 back. */
	snprintf(name, sizeof(name), "%s/udp/request-rewritten", f);
	check(request(ipv6, IPPROTO_UDP, CLIENT_PORT, 7999, 0), name, "not rewritten");
	snprintf(name, sizeof(name), "%s/udp/flow-recorded", f);
	check(count_flows(PR_FLOW_REDIRECT) == 1, name, "%u flows", count_flows(PR_FLOW_REDIRECT));
	request(ipv6, IPPROTO_UDP, CLIENT_PORT, 7999, 0);
	snprintf(name, sizeof(name), "%s/udp/second-datagram-same-flow", f);
	check(count_flows(PR_FLOW_REDIRECT) == 1, name, "%u flows", count_flows(PR_FLOW_REDIRECT));
	snprintf(name, sizeof(name), "%s/udp/reply-from-original-port", f);
	reply(name, ipv6, IPPROTO_UDP, 7998, 7999, 0);
	/* A client talking to 7998 directly: no flow, reply untouched. */
	snprintf(name, sizeof(name), "%s/udp/other-client-untouched", f);
	{
		struct pkt_spec s = pkt(ipv6, IPPROTO_UDP, 7998, CLIENT_PORT + 1);
		uint8_t in[PKT_MAX], out[PKT_MAX];
		size_t n = build(&s, 0, in, 1), out_len = 0;

		run_tc(tc_out_fd, in, n, out, &out_len);
		check(out_len == n && !memcmp(in, out, n), name, "changed");
	}

	/* TCP: only a SYN records; data and the SYN-ACK translate; FINs end it. */
	clear_flows();
	snprintf(name, sizeof(name), "%s/tcp/ack-alone-records-nothing", f);
	request(ipv6, IPPROTO_TCP, CLIENT_PORT, 7999, 0x10);
	check(count_flows(PR_FLOW_REDIRECT) == 0, name, "%u flows", count_flows(PR_FLOW_REDIRECT));
	snprintf(name, sizeof(name), "%s/tcp/syn-records", f);
	request(ipv6, IPPROTO_TCP, CLIENT_PORT, 7999, 0x02);
	check(count_flows(PR_FLOW_REDIRECT) == 1, name, "%u flows", count_flows(PR_FLOW_REDIRECT));
	snprintf(name, sizeof(name), "%s/tcp/syn-ack-translated", f);
	reply(name, ipv6, IPPROTO_TCP, 7998, 7999, 0x12);
	snprintf(name, sizeof(name), "%s/tcp/data-translated", f);
	reply(name, ipv6, IPPROTO_TCP, 7998, 7999, 0x18);
	request(ipv6, IPPROTO_TCP, CLIENT_PORT, 7999, 0x11); /* client FIN */
	snprintf(name, sizeof(name), "%s/tcp/ack-of-client-fin-translated", f);
	reply(name, ipv6, IPPROTO_TCP, 7998, 7999, 0x10);
	snprintf(name, sizeof(name), "%s/tcp/flow-kept-half-closed", f);
	check(count_flows(PR_FLOW_REDIRECT) == 1, name, "%u flows", count_flows(PR_FLOW_REDIRECT));
	snprintf(name, sizeof(name), "%s/tcp/server-fin-translated", f);
	reply(name, ipv6, IPPROTO_TCP, 7998, 7999, 0x11);
	snprintf(name, sizeof(name), "%s/tcp/flow-gone-after-both-fins", f);
	check(count_flows(PR_FLOW_REDIRECT) == 0, name, "%u flows", count_flows(PR_FLOW_REDIRECT));

	/* A client RST removes the flow at once. */
	request(ipv6, IPPROTO_TCP, CLIENT_PORT, 7999, 0x02);
	request(ipv6, IPPROTO_TCP, CLIENT_PORT, 7999, 0x04);
	snprintf(name, sizeof(name), "%s/tcp/client-rst-removes", f);
	check(count_flows(PR_FLOW_REDIRECT) == 0, name, "%u flows", count_flows(PR_FLOW_REDIRECT));

	/*
	 * A local socket sends FROM rule port 7999 to a peer's port 5000 (seen on
	 * egress): the peer's answers to 7999 are replies, not new traffic, and
	 * keep their port. A different peer port still gets redirected.
	 */
	clear_flows();
	{
		struct pkt_spec s = pkt(ipv6, IPPROTO_UDP, 7999, 5000);
		uint8_t in[PKT_MAX], out[PKT_MAX];
		size_t n = build(&s, 0, in, 0), out_len;

		run_tc(tc_out_fd, in, n, out, &out_len);
	}
	snprintf(name, sizeof(name), "%s/local/connection-noted", f);
	check(count_flows(PR_FLOW_LOCAL) == 1, name, "%u local", count_flows(PR_FLOW_LOCAL));
	/* The peer answers: from 5000 to our 7999, travelling back to the socket. */
	{
		struct pkt_spec s = pkt(ipv6, IPPROTO_UDP, 5000, 7999);
		uint8_t in[PKT_MAX], out[PKT_MAX];
		struct xdprun_result res;
		size_t n = build(&s, 0, in, 1);

		xdprun(xdp_fd, in, n, out, &res);
		snprintf(name, sizeof(name), "%s/local/reply-to-local-socket-untouched", f);
		check(res.len == n && !memcmp(in, out, n), name, "the reply was redirected");
	}
	snprintf(name, sizeof(name), "%s/local/other-peer-still-redirected", f);
	{
		struct pkt_spec s = pkt(ipv6, IPPROTO_UDP, 5001, 7999);
		uint8_t in[PKT_MAX], out[PKT_MAX];
		struct xdprun_result res;
		size_t n = build(&s, 0, in, 1);

		xdprun(xdp_fd, in, n, out, &res);
		check(memcmp(in, out, n) != 0, name, "not redirected");
	}
}

/*
 * A request (client -> rule port `to`) through the hold: it must come out
 * as the frame built from scratch for port `want`, with no verdict of its
 * own. zero_csum: an IPv4 UDP datagram without a checksum, which keeps none.
 */
static void hold(const char *name, int ipv6, uint8_t proto, uint16_t to, uint16_t want,
		 uint8_t flags, bool zero_csum)
{
	struct pkt_spec s = pkt(ipv6, proto, CLIENT_PORT, to);
	struct pkt_spec e = pkt(ipv6, proto, CLIENT_PORT, want);
	uint8_t in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	size_t n = build(&s, flags, in, 0), out_len = 0;
	size_t en = build(&e, flags, exp, 0);
	struct pkt_layout lay;
	int ret;

	if (zero_csum) {
		pkt_build(&s, in, PKT_MAX, &lay);
		in[lay.csum_off] = in[lay.csum_off + 1] = 0;
		exp[lay.csum_off] = exp[lay.csum_off + 1] = 0;
	}
	ret = run_tc(tc_hold_fd, in, n, out, &out_len);
	if (ret != PR_TC_NEXT) {
		check(false, name, "verdict %d, want %d (no verdict of its own)", ret, PR_TC_NEXT);
		return;
	}
	check(out_len == en && !memcmp(out, exp, en), name,
	      "not the frame built for port %u with its checksum from scratch", want);
}

static void hold_cases(int ipv6)
{
	const char *f = ipv6 ? "ipv6" : "ipv4";
	char name[128];

	clear_flows();
	snprintf(name, sizeof(name), "hold/%s/udp-rewritten", f);
	hold(name, ipv6, IPPROTO_UDP, 7999, 7998, 0, false);
	snprintf(name, sizeof(name), "hold/%s/udp-flow-recorded", f);
	check(count_flows(PR_FLOW_REDIRECT) == 1, name, "%u flows", count_flows(PR_FLOW_REDIRECT));
	snprintf(name, sizeof(name), "hold/%s/tcp-segment-rewritten", f);
	hold(name, ipv6, IPPROTO_TCP, 7999, 7998, 0x18, false);
	snprintf(name, sizeof(name), "hold/%s/no-rule-untouched", f);
	hold(name, ipv6, IPPROTO_TCP, 8000, 8000, 0x18, false);
	clear_flows();
	snprintf(name, sizeof(name), "hold/%s/tcp-syn-rewritten", f);
	hold(name, ipv6, IPPROTO_TCP, 7999, 7998, 0x02, false);
	snprintf(name, sizeof(name), "hold/%s/tcp-syn-records", f);
	check(count_flows(PR_FLOW_REDIRECT) == 1, name, "%u flows", count_flows(PR_FLOW_REDIRECT));
	snprintf(name, sizeof(name), "hold/%s/its-reply-translated", f);
	reply(name, ipv6, IPPROTO_TCP, 7998, 7999, 0x12);
	if (!ipv6)
		hold("hold/ipv4/udp-without-checksum-keeps-none", 0, IPPROTO_UDP, 7999, 7998, 0,
		     true);
}

/*
 * A steady IPv4 UDP stream: after the first datagram the per-CPU flow cache
 * knows the flow, and the fast path rewrites the next ones without the
 * general path (bpf/flows.h, pr_udp_flow_cached4()). Every datagram must
 * still come out exactly as the reference, and the cache must still hand a
 * datagram to the table check every PR_FLOW_CACHE_RECHECK: with the flow
 * gone from the table and the last check over a second ago, the stream
 * records it again within that many datagrams.
 */
static void udp_stream(void)
{
	struct pkt_spec s = pkt(0, IPPROTO_UDP, CLIENT_PORT + 7, 7999), e = s;
	uint8_t in[PKT_MAX], out[PKT_MAX], exp[PKT_MAX];
	struct xdprun_result res;
	unsigned int bad = 0, sent = 0;
	size_t n, en;

	cpu_set_t one;

	/* The cache is per CPU: on another CPU a datagram meets another cache. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (!check(!sched_setaffinity(0, sizeof(one), &one), "stream/ipv4/udp/pin-to-cpu0", "%s",
		   strerror(errno)))
		return;
	clear_flows();
	/*
	 * The cases above sent from 7999 on egress (a local socket on a rule
	 * port), whose flag sends every hit to the general path; a port
	 * without flags takes the fast one.
	 */
	bpf_map_update_elem(port_flags_fd, &(__u32){ PR_RULE_KEY(PR_PROTO_UDP, 7999) },
			    &(__u64){ 0 }, BPF_ANY);
	e.dport = 7998;
	n = build(&s, 0, in, 0);
	en = build(&e, 0, exp, 0);
	for (int i = 0; i < 40; i++, sent++)
		if (xdprun(xdp_fd, in, n, out, &res) || res.len != en || memcmp(out, exp, en))
			bad++;
	check(!bad, "stream/ipv4/udp/every-datagram-rewritten", "%u of %u differ", bad, sent);
	check(count_flows(PR_FLOW_REDIRECT) == 1, "stream/ipv4/udp/one-flow", "%u flows",
	      count_flows(PR_FLOW_REDIRECT));

	/* The table loses the flow (as LRU eviction would); the cache still has it. */
	clear_flows();
	usleep(1100 * 1000); /* past PR_FLOW_REFRESH_NS since the last check */
	for (int i = 0; i < 17; i++)
		if (xdprun(xdp_fd, in, n, out, &res) || res.len != en || memcmp(out, exp, en))
			bad++;
	check(!bad, "stream/ipv4/udp/rewritten-after-eviction", "%u differ", bad);
	check(count_flows(PR_FLOW_REDIRECT) == 1, "stream/ipv4/udp/recorded-again",
	      "%u flows after %d more datagrams", count_flows(PR_FLOW_REDIRECT), 17);
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

static int add_rules(int rules_fd, int stats_fd)
{
	struct pr_rule_spec u = { PR_PROTO_UDP, 7999, 7999, 7998 };
	struct pr_rule_spec t = { PR_PROTO_TCP, 7999, 7999, 7998 };
	struct pr_errbuf err;

	if (pr_rules_add(rules_fd, stats_fd, &u, &err) || pr_rules_add(rules_fd, stats_fd, &t, &err)) {
		check(false, "setup/rules", "%s", err.msg);
		return -1;
	}
	return 0;
}

int main(void)
{
	struct portredir_bpf *skel, *oneway, *held;
	struct pr_errbuf err;

	skel = pr_object_load_private(&err);
	if (!skel) {
		printf("FAIL load: %s\n0 passed, 1 failed\n", err.msg);
		return 1;
	}
	xdp_fd = bpf_program__fd(skel->progs.xdp_portredir);
	tc_out_fd = bpf_program__fd(skel->progs.tc_portredir_out);
	flows_fd = bpf_map__fd(skel->maps.pr_flows);
	port_flags_fd = bpf_map__fd(skel->maps.pr_port_flags);
	if (add_rules(bpf_map__fd(skel->maps.pr_rules), bpf_map__fd(skel->maps.pr_rule_stats)))
		return check_summary();
	cases(0);
	cases(1);
	udp_stream();
	portredir_bpf__destroy(skel);

	/* --no-reply-translation: the same hit records nothing. */
	oneway = pr_object_open(NULL, &err);
	if (!oneway) {
		check(false, "oneway/open", "%s", err.msg);
		return check_summary();
	}
	oneway->rodata->pr_record_flows = false;
	if (!check(!portredir_bpf__load(oneway), "oneway/load", "verifier refused"))
		return check_summary();
	xdp_fd = bpf_program__fd(oneway->progs.xdp_portredir);
	flows_fd = bpf_map__fd(oneway->maps.pr_flows);
	add_rules(bpf_map__fd(oneway->maps.pr_rules), bpf_map__fd(oneway->maps.pr_rule_stats));
	check(request(0, IPPROTO_UDP, CLIENT_PORT, 7999, 0), "oneway/still-rewrites", "no");
	check(request(0, IPPROTO_TCP, CLIENT_PORT, 7999, 0x02), "oneway/tcp-syn-rewrites", "no");
	check(count_flows(PR_FLOW_REDIRECT) == 0, "oneway/records-no-flow", "%u flows",
	      count_flows(PR_FLOW_REDIRECT));
	portredir_bpf__destroy(oneway);

	/* The hold: loaded only on demand ("?tc"), as lib/reload.c does. */
	held = pr_object_open(NULL, &err);
	if (!held) {
		check(false, "hold/open", "%s", err.msg);
		return check_summary();
	}
	bpf_program__set_autoload(held->progs.tc_portredir_hold, true);
	if (!check(!portredir_bpf__load(held), "hold/load", "verifier refused"))
		return check_summary();
	tc_hold_fd = bpf_program__fd(held->progs.tc_portredir_hold);
	tc_out_fd = bpf_program__fd(held->progs.tc_portredir_out);
	flows_fd = bpf_map__fd(held->maps.pr_flows);
	add_rules(bpf_map__fd(held->maps.pr_rules), bpf_map__fd(held->maps.pr_rule_stats));
	hold_cases(0);
	hold_cases(1);
	portredir_bpf__destroy(held);
	return check_summary();
}
