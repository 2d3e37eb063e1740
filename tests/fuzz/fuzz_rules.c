// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzer for the userspace rule model (lib/rules.c), under ASan and UBSan.
 * Each input is [flags] range \n to \n protocols \n [7 raw spec bytes]. Every
 * answer of the library is checked against a small oracle written here from
 * the documented grammar, and the invariants that matter to the data path:
 *   - pr_rule_parse_protos / pr_rule_parse accept exactly the grammar, and
 *     return the numbers written;
 *   - pr_rule_validate never accepts port 0, a reversed range, a target range
 *     past 65535, or a rule that maps a port to itself;
 *   - pr_rule_format of a valid rule parses back to the same rule, and never
 *     writes past the buffer it is given;
 *   - the map encoding and the pure table operations give the rule back.
 * PR_FUZZ_INJECT=roundtrip makes the oracle expect a wrong target port after
 * the round trip, to prove the check can fail (tests/integration/90-fuzz.sh).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "rules.h"
#include "fuzz_report.h"

static struct pr_rule_table *table;
static int inject;
static unsigned long long n_inputs, n_parsed, n_valid, n_roundtrips, n_protos_ok;

static void print_stats(void)
{
	fprintf(stderr,
		"pr-fuzz-rules: inputs=%llu parsed=%llu valid=%llu roundtrips=%llu protos-ok=%llu mismatches=0\n",
		n_inputs, n_parsed, n_valid, n_roundtrips, n_protos_ok);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *inj = getenv("PR_FUZZ_INJECT");

	(void)argc;
	(void)argv;
	table = calloc(1, sizeof(*table));
	if (!table)
		abort();
	if (inj && !strcmp(inj, "roundtrip"))
		inject = 1;
	else if (inj && *inj) {
		fprintf(stderr, "pr-fuzz-rules: unknown PR_FUZZ_INJECT '%s'\n", inj);
		exit(1);
	}
	atexit(print_stats);
	return 0;
}

static void check_err(const struct pr_errbuf *err, const char *what)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));

	if (n == 0 || n == sizeof(err->msg))
		fail("%s failed with %s error message", what, n ? "an unterminated" : "an empty");
}

/* A port as the grammar has it: digits only, value 1..65535. */
static int oracle_port(const char *s, size_t len, unsigned int *port)
{
	unsigned long v = 0;
	size_t i = 0;

	if (!len)
		return 0;
	for (size_t j = 0; j < len; j++) {
		if (s[j] < '0' || s[j] > '9')
			return 0;
	}
	while (i < len && s[i] == '0')
		i++;
	if (len - i > 5)
		return 0;
	for (; i < len; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v < 1 || v > 65535)
		return 0;
	*port = (unsigned int)v;
	return 1;
}

/* "udp", "tcp", "udp,tcp": comma-separated names; empty items are skipped
 * (the library tokenises with strtok_r), at least one name is needed. */
static int oracle_protos(const char *s, unsigned int *mask)
{
	const char *p = s;

	*mask = 0;
	if (strlen(s) >= 64)
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 3 && !strncmp(p, "udp", 3))
			*mask |= PR_PROTO_MASK(PR_PROTO_UDP);
		else if (n == 3 && !strncmp(p, "tcp", 3))
			*mask |= PR_PROTO_MASK(PR_PROTO_TCP);
		else if (n)
			return 0;
		p += n;
		if (*p)
			p++;
	}
	return *mask != 0;
}

static int oracle_valid(const struct pr_rule_spec *s)
{
	return s->proto < PR_NUM_PROTOS && s->first >= 1 && s->to >= 1 && s->first <= s->last &&
	       (unsigned int)s->to + (unsigned int)(s->last - s->first) <= 65535 &&
	       s->to != s->first;
}

static void check_protos(const char *list)
{
	unsigned int mask = 0xdead, want;
	struct pr_errbuf err;
	int ok = !pr_rule_parse_protos(list, &mask, &err);

	if (ok != oracle_protos(list, &want))
		fail("pr_rule_parse_protos(\"%s\") %s it", list, ok ? "accepted" : "refused");
	if (!ok) {
		check_err(&err, "pr_rule_parse_protos");
		return;
	}
	n_protos_ok++;
	if (mask != want)
		fail("pr_rule_parse_protos(\"%s\") gave mask %#x, want %#x", list, mask, want);
}

static void check_format_bounds(const struct pr_rule_spec *s, size_t len)
{
	char full[128], *buf = malloc(len ? len : 1);

	if (!buf)
		abort();
	pr_rule_format(s, full, sizeof(full));
	/* An exact-size heap buffer: ASan catches a write past len. */
	pr_rule_format(s, buf, len);
	if (len && (strnlen(buf, len) == len || strncmp(buf, full, len - 1)))
		fail("pr_rule_format into %zu bytes gave \"%.*s\", not a prefix of \"%s\"", len,
		     (int)len, buf, full);
	free(buf);
}

static void check_roundtrip(const struct pr_rule_spec *s)
{
	char text[128], proto[16], range[32], arrow[8], target[32], extra[8];
	struct pr_rule_spec back;
	enum pr_proto p;
	struct pr_errbuf err;
	unsigned int span = (unsigned int)(s->last - s->first), t_first, t_last;
	char *dash;
	int n;

	pr_rule_format(s, text, sizeof(text));
	n = sscanf(text, "%15s %31s %7s %31s %7s", proto, range, arrow, target, extra);
	if (n != 4 || strcmp(arrow, "->"))
		fail("pr_rule_format gave \"%s\": not \"PROTO RANGE -> TARGET\"", text);
	if (pr_proto_from_name(proto, &p) || p != s->proto)
		fail("pr_rule_format gave \"%s\": protocol does not read back", text);
	dash = strchr(target, '-');
	if (dash)
		*dash = '\0';
	if (!oracle_port(target, strlen(target), &t_first) ||
	    (dash && !oracle_port(dash + 1, strlen(dash + 1), &t_last)))
		fail("pr_rule_format gave \"%s\": target is not PORT or PORT-PORT", text);
	if (!!dash != !!span || (dash && t_last != t_first + span))
		fail("pr_rule_format gave \"%s\": target range does not match %u ports", text,
		     span + 1);
	if (pr_rule_parse(range, target, p, &back, &err))
		fail("pr_rule_format gave \"%s\", which pr_rule_parse refuses: %s", text, err.msg);
	if (inject)
		back.to++;
	if (back.proto != s->proto || back.first != s->first || back.last != s->last ||
	    back.to != s->to)
		fail("\"%s\" parses back as %s %u-%u -> %u", text, pr_proto_name(back.proto),
		     back.first, back.last, back.to);
	if (pr_rule_validate(&back, &err))
		fail("\"%s\" parses back to a rule pr_rule_validate refuses: %s", text, err.msg);
	n_roundtrips++;
}

static void check_encode_and_table(const struct pr_rule_spec *s, uint16_t pick)
{
	unsigned int span = (unsigned int)(s->last - s->first);
	uint16_t ports[3] = { s->first, s->last, (uint16_t)(s->first + pick % (span + 1)) };
	struct pr_rule_spec got;

	pr_rule_table_set(table, s);
	for (int i = 0; i < 3; i++) {
		struct pr_rule e = pr_rule_encode(s, ports[i]);

		if (ntohs(e.to_port) != s->to + (ports[i] - s->first) || e.first_port != s->first)
			fail("pr_rule_encode(port %u) gave to %u first %u", ports[i],
			     ntohs(e.to_port), e.first_port);
		if (!pr_rule_table_get(table, s->proto, ports[i], &got) ||
		    got.proto != s->proto || got.first != s->first || got.last != s->last ||
		    got.to != s->to)
			fail("table lookup of port %u does not give the rule back", ports[i]);
	}
	if (s->first > 1 && pr_rule_table_get(table, s->proto, (uint16_t)(s->first - 1), &got))
		fail("table has a rule for port %u, one below the only rule", s->first - 1);
	if (s->last < 65535 && pr_rule_table_get(table, s->proto, (uint16_t)(s->last + 1), &got))
		fail("table has a rule for port %u, one above the only rule", s->last + 1);
	if (pr_rule_table_get(table, !s->proto, s->first, &got))
		fail("table has a rule for the other protocol");
	if (!pr_rule_table_overlap(table, s, &got))
		fail("a rule does not overlap itself");
	/* Counting scans all 128K slots: now and then is enough. */
	if (n_valid % 512 == 1 && pr_rule_table_count(table) != 1)
		fail("table with one rule counts %zu", pr_rule_table_count(table));
	pr_rule_table_unset(table, s);
	if (pr_rule_table_get(table, s->proto, s->first, &got))
		fail("rule still in the table after unset");
}

/* Cuts the next '\n'-terminated field out of data; the last may be unterminated. */
static char *next_field(const uint8_t **data, size_t *size)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl ? (size_t)(nl - *data) : *size;
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, *data, n);
	s[n] = '\0';
	*data += nl ? n + 1 : n;
	*size -= nl ? n + 1 : n;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_rule_spec spec, raw;
	struct pr_errbuf err;
	uint8_t flags;
	char *range, *to, *protos;
	int ok;

	if (!size)
		return 0;
	n_inputs++;
	flags = data[0];
	data++;
	size--;
	range = next_field(&data, &size);
	to = next_field(&data, &size);
	protos = next_field(&data, &size);

	check_protos(protos);

	ok = !pr_rule_parse(range, flags & 2 ? NULL : to, flags & 1, &spec, &err);
	{
		struct pr_rule_spec want = { .proto = flags & 1 };
		unsigned int a, b = 0, t = 0;
		size_t rl = strlen(range);
		const char *dash = strchr(range, '-');
		int good = rl < 32;

		if (good && dash)
			good = oracle_port(range, (size_t)(dash - range), &a) &&
			       oracle_port(dash + 1, strlen(dash + 1), &b);
		else if (good)
			good = oracle_port(range, rl, &a), b = a;
		if (good && !(flags & 2))
			good = oracle_port(to, strlen(to), &t);
		if (ok != good)
			fail("pr_rule_parse(\"%s\", %s%s%s) %s it", range, flags & 2 ? "" : "\"",
			     flags & 2 ? "NULL" : to, flags & 2 ? "" : "\"",
			     ok ? "accepted" : "refused");
		if (ok) {
			want.first = (uint16_t)a;
			want.last = (uint16_t)b;
			want.to = (uint16_t)t;
			if (spec.proto != want.proto || spec.first != want.first ||
			    spec.last != want.last || spec.to != want.to)
				fail("pr_rule_parse(\"%s\", \"%s\") gave %u-%u -> %u", range, to,
				     spec.first, spec.last, spec.to);
		} else {
			check_err(&err, "pr_rule_parse");
		}
	}

	/* Then a rule straight from bytes, bypassing the parser. */
	if (size >= 7) {
		raw.proto = data[0] & 1;
		raw.first = (uint16_t)(data[1] << 8 | data[2]);
		raw.last = (uint16_t)(data[3] << 8 | data[4]);
		raw.to = (uint16_t)(data[5] << 8 | data[6]);
	} else {
		raw = spec;
	}

	for (int i = 0; i < 2; i++) {
		const struct pr_rule_spec *s = i ? &raw : &spec;
		int valid;

		if (!i && !ok)
			continue;
		n_parsed += !i;
		valid = !pr_rule_validate(s, &err);
		if (valid != oracle_valid(s))
			fail("pr_rule_validate %s %s %u-%u -> %u", valid ? "accepted" : "refused",
			     pr_proto_name(s->proto), s->first, s->last, s->to);
		check_format_bounds(s, (size_t)(flags >> 2));
		if (!valid) {
			check_err(&err, "pr_rule_validate");
			continue;
		}
		n_valid++;
		check_roundtrip(s);
		/* Table operations walk every port of a range: keep wide ranges
		 * rare so the parser, the real target here, gets the time. */
		if (s->last - s->first < 1024 || (flags & 0xf0) == 0xf0)
			check_encode_and_table(s, (uint16_t)(flags * 257u + s->to));
	}
	free(range);
	free(to);
	free(protos);
	return 0;
}
