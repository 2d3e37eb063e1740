// SPDX-License-Identifier: GPL-2.0
/*
 * The rule model on its own: parsing, validation, overlap detection, and the
 * round trip through a real pr_rules map (add, read back, remove).
 */
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bpf/csum.h"
#include "../../bpf/flow_hash.h"
#include "check.h"
#include "object.h"
#include "rules.h"
#include "portredir.skel.h"

static void parse_ok(const char *range, const char *to, uint16_t first, uint16_t last,
		     uint16_t want_to)
{
	struct pr_rule_spec s;
	struct pr_errbuf err = { "" };
	char name[96];
	int r = pr_rule_parse(range, to, PR_PROTO_UDP, &s, &err);

	snprintf(name, sizeof(name), "parse/ok '%s' '%s'", range, to ? to : "(none)");
	check(!r && s.first == first && s.last == last && s.to == want_to, name,
	      "got %d %u-%u -> %u (%s)", r, s.first, s.last, s.to, err.msg);
}

static void parse_bad(const char *range, const char *to, const char *want_msg)
{
	struct pr_rule_spec s;
	struct pr_errbuf err = { "" };
	char name[96];
	int r = pr_rule_parse(range, to, PR_PROTO_UDP, &s, &err);

	snprintf(name, sizeof(name), "parse/bad '%s' '%s'", range, to ? to : "(none)");
	check(r && strstr(err.msg, want_msg), name, "ret %d, message '%s', want '%s'", r, err.msg,
	      want_msg);
}

static void validate(uint16_t first, uint16_t last, uint16_t to, const char *want_msg)
{
	struct pr_rule_spec s = { PR_PROTO_TCP, first, last, to };
	struct pr_errbuf err = { "" };
	char name[96];
	int r = pr_rule_validate(&s, &err);

	snprintf(name, sizeof(name), "validate/%u-%u->%u", first, last, to);
	if (want_msg)
		check(r && strstr(err.msg, want_msg), name, "ret %d, message '%s', want '%s'", r,
		      err.msg, want_msg);
	else
		check(!r, name, "refused: %s", err.msg);
}

static void protos(const char *list, int ok, unsigned int want)
{
	struct pr_errbuf err = { "" };
	unsigned int mask = 0;
	char name[96];
	int r = pr_rule_parse_protos(list, &mask, &err);

	snprintf(name, sizeof(name), "protos/'%s'", list);
	check(ok ? (!r && mask == want) : (r && *err.msg), name, "ret %d mask %u msg '%s'", r, mask,
	      err.msg);
}

static int collect(const struct pr_rule_spec *rule, void *ctx)
{
	char *buf = ctx, one[64];

	pr_rule_format(rule, one, sizeof(one));
	strcat(buf, one);
	strcat(buf, ";");
	return 0;
}

static void table_ops(void)
{
	struct pr_rule_table *t = calloc(1, sizeof(*t));
	struct pr_rule_spec a = { PR_PROTO_UDP, 8000, 8099, 9000 };
	struct pr_rule_spec b = { PR_PROTO_UDP, 8100, 8100, 7000 };
	struct pr_rule_spec c = { PR_PROTO_TCP, 8050, 8050, 1 };
	struct pr_rule_spec probe, got;
	char list[512] = "";

	pr_rule_table_set(t, &a);
	pr_rule_table_set(t, &b);
	pr_rule_table_set(t, &c);
	pr_rule_table_foreach(t, collect, list);
	check(!strcmp(list, "udp 8000-8099 -> 9000-9099;udp 8100 -> 7000;tcp 8050 -> 1;"),
	      "table/adjacent-rules-stay-apart", "listed '%s'", list);
	check(pr_rule_table_count(t) == 3, "table/count", "count %zu", pr_rule_table_count(t));

	probe = (struct pr_rule_spec){ PR_PROTO_UDP, 7990, 8000, 1 };
	check(pr_rule_table_overlap(t, &probe, &got) && got.first == 8000 && got.last == 8099,
	      "table/overlap-at-first-port", "got %u-%u", got.first, got.last);
	probe = (struct pr_rule_spec){ PR_PROTO_UDP, 7990, 7999, 1 };
	check(!pr_rule_table_overlap(t, &probe, &got), "table/no-overlap-below", "%s", "");
	probe = (struct pr_rule_spec){ PR_PROTO_TCP, 8000, 8099, 1 };
	check(pr_rule_table_overlap(t, &probe, &got) && got.first == 8050,
	      "table/overlap-per-protocol", "got %u", got.first);
	{
		struct pr_errbuf err = { "" };
		bool present = true;

		probe = (struct pr_rule_spec){ PR_PROTO_UDP, 7990, 7999, 1 };
		check(!pr_rule_table_check_add(t, &probe, &present, &err) && !present,
		      "table/check-add-free", "msg '%s'", err.msg);
		check(!pr_rule_table_check_add(t, &a, &present, &err) && present,
		      "table/check-add-same-rule-present", "present %d msg '%s'", present, err.msg);
		check(pr_rule_table_check_add(t, &a, NULL, &err) &&
			      strstr(err.msg, "overlaps existing rule udp 8000-8099"),
		      "table/check-add-same-rule-without-present", "msg '%s'", err.msg);
		probe = (struct pr_rule_spec){ PR_PROTO_UDP, 8099, 8100, 1 };
		check(pr_rule_table_check_add(t, &probe, &present, &err) && !present &&
			      !strcmp(err.msg, "rule udp 8099-8100 -> 1-2 overlaps existing rule "
					       "udp 8000-8099 -> 9000-9099; remove that one first"),
		      "table/check-add-overlap-message", "msg '%s'", err.msg);
	}
	check(pr_rule_table_get(t, PR_PROTO_UDP, 8099, &got) && got.first == 8000 &&
		      got.last == 8099 && got.to == 9000,
	      "table/get-from-last-port", "got %u-%u->%u", got.first, got.last, got.to);
	{
		struct pr_rule e = pr_rule_encode(&a, 8099);

		check(ntohs(e.to_port) == 9099 && e.first_port == 8000 &&
			      e.csum_delta == pr_csum_delta(htons(8099), htons(9099)),
		      "table/encode-range-end", "to %u first %u delta %04x", ntohs(e.to_port),
		      e.first_port, e.csum_delta);
	}
	pr_rule_table_unset(t, &a);
	check(!pr_rule_table_get(t, PR_PROTO_UDP, 8000, &got) && pr_rule_table_count(t) == 2,
	      "table/unset", "count %zu", pr_rule_table_count(t));
	free(t);
}

static void map_ops(void)
{
	struct pr_rule_spec a = { PR_PROTO_UDP, 8000, 8099, 9000 };
	struct pr_rule_spec overl = { PR_PROTO_UDP, 8099, 8100, 100 };
	struct pr_rule_spec part = { PR_PROTO_UDP, 8000, 8050, 0 };
	struct pr_rule_spec all = { PR_PROTO_TCP, 1, 65535, 0 };
	struct pr_rule_table *t = calloc(1, sizeof(*t));
	struct portredir_bpf *skel;
	struct pr_errbuf err = { "" };
	int fd, sfd;

	skel = pr_object_load_private(&err);
	if (!check(skel != NULL, "map/load", "%s", err.msg)) {
		free(t);
		return;
	}
	fd = bpf_map__fd(skel->maps.pr_rules);
	sfd = bpf_map__fd(skel->maps.pr_rule_stats);

	check(!pr_rules_add(fd, sfd, &a, &err), "map/add-range", "%s", err.msg);
	check(!pr_rules_read(fd, t, &err) && pr_rule_table_count(t) == 1, "map/read-back",
	      "%s count %zu", err.msg, pr_rule_table_count(t));
	check(pr_rules_add(fd, sfd, &overl, &err) &&
		      strstr(err.msg, "overlaps existing rule udp 8000-8099 -> 9000-9099"),
	      "map/overlap-refused-naming-rule", "msg '%s'", err.msg);
	check(pr_rules_remove(fd, -1, &part, &err) && strstr(err.msg, "remove that rule whole"),
	      "map/partial-remove-refused", "msg '%s'", err.msg);
	part.first = 7000;
	part.last = 7000;
	check(pr_rules_remove(fd, -1, &part, &err) && strstr(err.msg, "no udp rule for port 7000"),
	      "map/remove-missing-refused", "msg '%s'", err.msg);
	a.to = 9001;
	check(pr_rules_remove(fd, -1, &a, &err) && strstr(err.msg, "remove that rule whole"),
	      "map/remove-wrong-target-refused", "msg '%s'", err.msg);
	a.to = 9000;
	check(!pr_rules_remove(fd, -1, &a, &err), "map/remove", "%s", err.msg);
	check(!pr_rules_read(fd, t, &err) && pr_rule_table_count(t) == 0, "map/empty-after-remove",
	      "count %zu", pr_rule_table_count(t));

	/* The largest rule there is: every TCP port but the last, shifted by one. */
	all.last = 65534;
	all.to = 2;
	check(!pr_rules_add(fd, sfd, &all, &err), "map/add-65534-port-range", "%s", err.msg);
	check(!pr_rules_read(fd, t, &err) && pr_rule_table_count(t) == 1 &&
		      ntohs(t->entry[PR_RULE_KEY(PR_PROTO_TCP, 65534)].to_port) == 65535,
	      "map/big-range-read-back", "count %zu", pr_rule_table_count(t));
	portredir_bpf__destroy(skel);
	free(t);
}

/* RFC 1624, eqn. 3 in one go, as the data path computed it before the delta. */
static uint16_t eqn3(uint16_t check, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint32_t)(uint16_t)~check + (uint16_t)~from + to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum += sum >> 16;
	return (uint16_t)~sum;
}

/*
 * One (check, from, to): does the delta, applied, give eqn. 3's result down
 * to 0x0000 versus 0xffff? And does pr_csum_sub(), the UDP form, give what
 * UDP must carry: that result with 0 written 0xffff, and never 0 for a
 * field that was not 0 (0 would mean "no checksum")? Returns the failures.
 */
static unsigned int csum_triple(uint16_t c, uint16_t f, uint16_t t, unsigned long *sub_bad)
{
	uint16_t delta = pr_csum_delta(f, t), want = eqn3(c, f, t);
	uint16_t sub = pr_csum_sub(c, delta);

	*sub_bad += (sub ?: 0xffff) != (want ?: 0xffff) || (c && !sub);
	return pr_csum_apply(c, delta) != want;
}

/*
 * The delta a rule entry carries, applied to a checksum, gives what eqn. 3
 * gives, down to 0x0000 versus 0xffff; and it is never 0, which the fast path
 * reads as "no delta written".
 */
static void csum_delta(void)
{
	static const uint16_t edge[] = { 0, 1, 0x00ff, 0x7fff, 0x8000, 0xfffe, 0xffff };
	unsigned long bad = 0, sub_bad = 0, zero = 0, n = 0;
	uint32_t x = 12345;

	for (uint32_t from = 1; from <= 0xffff; from++)
		for (uint32_t to = 1; to <= 0xffff; to += 251) {
			if (from != to && !pr_csum_delta(htons((uint16_t)from), htons((uint16_t)to)))
				zero++;
		}
	check(!zero, "csum/delta-never-zero", "%lu port pairs with delta 0", zero);

	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		for (size_t j = 0; j < sizeof(edge) / sizeof(edge[0]); j++)
			for (size_t k = 0; k < sizeof(edge) / sizeof(edge[0]); k++, n++)
				bad += csum_triple(edge[i], edge[j], edge[k], &sub_bad);
	for (int i = 0; i < 2000000; i++, n++) {
		uint16_t c, f, t;

		x = x * 1103515245u + 12345u;
		c = (uint16_t)(x >> 8);
		x = x * 1103515245u + 12345u;
		f = (uint16_t)(x >> 8);
		x = x * 1103515245u + 12345u;
		t = (uint16_t)(x >> 8);
		bad += csum_triple(c, f, t, &sub_bad);
	}
	check(!bad, "csum/delta-matches-eqn3", "%lu of %lu (check, from, to) differ", bad, n);
	check(!sub_bad, "csum/sub-matches-eqn3-udp", "%lu of %lu (check, from, to) differ", sub_bad,
	      n);
}

/*
 * RFC 1071's reference: the one's complement sum of big-endian 16-bit
 * words, folded, in host order.
 */
static uint16_t rfc1071_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The pseudo-header sum the TC fix-up compares a checksum field with
 * (pr_csum_pseudo4/6, addr_words 1 or 4) equals RFC 1071's sum of the
 * pseudo-header written out byte by byte: the addresses, the L4 length as
 * a 32-bit field (RFC 8200, 8.1; the kernel sums IPv4's as 32 bits too, so
 * BIG TCP lengths over 16 bits count) and the protocol in the low byte of
 * another. Word order does not change the sum, so one layout serves both.
 * Random headers, and an all-ones corner where every address word is 0xffff.
 */
static void csum_pseudo(unsigned int addr_words, const char *name)
{
	static const uint32_t lens[] = { 8, 20, 1440, 1480, 65535, 65536, 185000, 0xffffff };
	unsigned long bad = 0, n = 0;
	uint32_t x = 777 + addr_words;

	for (int i = 0; i < 200000; i++) {
		uint32_t len = lens[i % 8], s[4] = { 0 }, d[4] = { 0 };
		uint8_t proto = i & 1 ? IPPROTO_TCP : IPPROTO_UDP, hdr[40] = { 0 };
		size_t at = 8 * addr_words;
		uint16_t got;

		for (unsigned int w = 0; w < addr_words; w++) {
			x = x * 1103515245u + 12345u;
			s[w] = i % 8 == 7 ? 0xffffffff : x;
			x = x * 1103515245u + 12345u;
			d[w] = i % 8 == 7 ? 0xffffffff : x ^ (x << 13);
		}
		memcpy(hdr, s, 4 * addr_words);
		memcpy(hdr + 4 * addr_words, d, 4 * addr_words);
		hdr[at] = (uint8_t)(len >> 24);
		hdr[at + 1] = (uint8_t)(len >> 16);
		hdr[at + 2] = (uint8_t)(len >> 8);
		hdr[at + 3] = (uint8_t)len;
		hdr[at + 7] = proto;
		got = addr_words == 1 ? pr_csum_pseudo4(s[0], d[0], proto, len) :
					pr_csum_pseudo6(s, d, proto, len);
		bad += got != htons(rfc1071_sum(hdr, at + 8));
		n++;
	}
	check(!bad, name, "%lu of %lu headers differ", bad, n);
}

/*
 * The flow cache's slot depends on every part of the key: 1000 flows that
 * differ in one part only (the server port, the client port, the client
 * address) spread over the 4096 slots about as random ones would (~890
 * distinct expected); a hash blind to the server port put all of the first
 * kind in one slot.
 */
static void flow_cache_slots(void)
{
	static const char *const what[] = { "server-ports", "client-ports", "client-addrs" };

	for (int v = 0; v < 3; v++) {
		static uint8_t used[PR_FLOW_CACHE_SLOTS];
		unsigned int distinct = 0;
		char name[64];

		memset(used, 0, sizeof(used));
		for (unsigned int i = 1; i <= 1000; i++) {
			struct pr_flow_key key = {
				.proto = IPPROTO_UDP,
				.kind = PR_FLOW_REDIRECT,
				.client_port = htons(v == 1 ? (uint16_t)(30000 + i) : 40000),
				.server_port = htons(v == 0 ? (uint16_t)i : 7998),
				.client_addr = { htonl(v == 2 ? 0x0a000000 + i : 0x0a000001) },
				.server_addr = { htonl(0x0a000002) },
			};
			uint32_t slot = pr_flow_cache_slot_of(&key);

			if (slot >= PR_FLOW_CACHE_SLOTS) {
				check(false, "flow-cache/slot-in-range", "slot %u", slot);
				return;
			}
			distinct += !used[slot]++;
		}
		snprintf(name, sizeof(name), "flow-cache/%s-spread", what[v]);
		check(distinct >= 800, name, "%u distinct slots for 1000 flows", distinct);
	}
}

int main(void)
{
	csum_delta();
	csum_pseudo(1, "csum/pseudo4-matches-rfc1071");
	csum_pseudo(4, "csum/pseudo6-matches-rfc1071");
	flow_cache_slots();
	parse_ok("7999", "7998", 7999, 7999, 7998);
	parse_ok("8000-8099", "9000", 8000, 8099, 9000);
	parse_ok("1", "65535", 1, 1, 65535);
	parse_ok("8000", NULL, 8000, 8000, 0);
	parse_bad("0", "1", "out of range 1-65535");
	parse_bad("65536", "1", "out of range 1-65535");
	parse_bad("abc", "1", "invalid port 'abc'");
	parse_bad("80a", "1", "invalid port '80a'");
	parse_bad("-5", "1", "invalid port range '-5'");
	parse_bad("5-", "1", "invalid port range '5-'");
	parse_bad("5-6-7", "1", "invalid port range");
	parse_bad("", "1", "missing port");
	parse_bad("10", "0", "invalid target port");
	parse_bad("10", "99999999999999999999", "out of range");
	parse_bad("10", "+5", "invalid port '+5'");

	validate(7999, 7999, 7998, NULL);
	validate(8000, 8099, 9000, NULL);
	validate(8000, 8099, 8050, NULL);
	validate(8099, 8000, 9000, "first port must not exceed the last");
	validate(7999, 7999, 7999, "redirects the port to itself");
	validate(8000, 8099, 8000, "redirects every port to itself");
	validate(65000, 65535, 65500, "past 65535");
	validate(1, 65535, 2, "past 65535");

	protos("udp", 1, PR_PROTO_MASK(PR_PROTO_UDP));
	protos("tcp,udp", 1, PR_PROTO_MASK_ALL);
	protos("udp,udp", 1, PR_PROTO_MASK(PR_PROTO_UDP));
	protos("icmp", 0, 0);
	protos("", 0, 0);
	protos(",", 0, 0);

	table_ops();
	map_ops();
	return check_summary();
}
