// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/csum.h"
#include "percpu.h"
#include "rules.h"
#include "totals.h"

static const char *const proto_names[PR_NUM_PROTOS] = {
	[PR_PROTO_UDP] = "udp",
	[PR_PROTO_TCP] = "tcp",
};

const struct pr_enum_val pr_proto_values[] = {
	{ "udp", PR_PROTO_MASK(PR_PROTO_UDP) },
	{ "tcp", PR_PROTO_MASK(PR_PROTO_TCP) },
	{ 0 },
};

const char *pr_proto_name(enum pr_proto proto)
{
	return proto < PR_NUM_PROTOS ? proto_names[proto] : "?";
}

int pr_proto_from_name(const char *name, enum pr_proto *proto)
{
	for (int p = 0; p < PR_NUM_PROTOS; p++) {
		if (!strcmp(name, proto_names[p])) {
			*proto = p;
			return 0;
		}
	}
	return -1;
}

int pr_rule_parse_protos(const char *list, unsigned int *mask, struct pr_errbuf *err)
{
	char bad[64];

	/* pr_proto_values' names, through the option parser's own list parser. */
	if (!list || strlen(list) >= sizeof(bad))
		return pr_err_set(err, "invalid protocol list '%s': use udp, tcp or udp,tcp",
				  list ? list : "");
	if (pr_enum_parse_list(pr_proto_values, list, mask, bad, sizeof(bad)) && *bad)
		return pr_err_set(err, "unknown protocol '%s': use udp, tcp or udp,tcp", bad);
	if (!*list || !*mask)
		return pr_err_set(err, "invalid protocol list '%s': use udp, tcp or udp,tcp", list);
	return 0;
}

int pr_rule_parse_port(const char *s, uint16_t *port, struct pr_errbuf *err)
{
	unsigned long v;

	if (!*s)
		return pr_err_set(err, "missing port number");
	switch (pr_parse_uint(s, 1, 65535, &v)) {
	case PR_NUM_INVALID:
		return pr_err_set(err, "invalid port '%s': expected a number 1-65535", s);
	case PR_NUM_RANGE:
		return pr_err_set(err, "port %s is out of range 1-65535", s);
	}
	*port = (uint16_t)v;
	return 0;
}

int pr_rule_parse(const char *range, const char *to, enum pr_proto proto,
		  struct pr_rule_spec *spec, struct pr_errbuf *err)
{
	struct pr_errbuf why;
	char buf[32];
	char *dash;

	memset(spec, 0, sizeof(*spec));
	spec->proto = proto;
	if (strlen(range) >= sizeof(buf))
		return pr_err_set(err, "invalid port range '%s'", range);
	strcpy(buf, range);
	dash = strchr(buf, '-');
	if (dash) {
		*dash = '\0';
		if (pr_rule_parse_port(buf, &spec->first, &why) ||
		    pr_rule_parse_port(dash + 1, &spec->last, &why))
			return pr_err_set(err, "invalid port range '%s': %s (expected PORT or FIRST-LAST)",
					  range, why.msg);
	} else {
		if (pr_rule_parse_port(buf, &spec->first, err))
			return -1;
		spec->last = spec->first;
	}
	if (to && pr_rule_parse_port(to, &spec->to, &why))
		return pr_err_set(err, "invalid target port: %s", why.msg);
	return 0;
}

int pr_rule_validate(const struct pr_rule_spec *spec, struct pr_errbuf *err)
{
	unsigned int span;

	if (spec->proto >= PR_NUM_PROTOS)
		return pr_err_set(err, "invalid protocol");
	if (!spec->first || !spec->to)
		return pr_err_set(err, "ports must be in 1-65535");
	if (spec->first > spec->last)
		return pr_err_set(err, "invalid range %u-%u: the first port must not exceed the last",
				  spec->first, spec->last);
	span = spec->last - spec->first;
	if ((unsigned int)spec->to + span > 65535)
		return pr_err_set(err,
				  "range %u-%u has %u ports; shifted to %u it ends at %u, past 65535",
				  spec->first, spec->last, span + 1, spec->to, spec->to + span);
	if (spec->to == spec->first) {
		char buf[64];

		pr_rule_format(spec, buf, sizeof(buf));
		return pr_err_set(err, "rule %s redirects %s to itself", buf,
				  span ? "every port" : "the port");
	}
	return 0;
}

void pr_rule_format(const struct pr_rule_spec *spec, char *buf, size_t len)
{
	unsigned int span = spec->last - spec->first;

	if (span)
		snprintf(buf, len, "%s %u-%u -> %u-%u", pr_proto_name(spec->proto), spec->first,
			 spec->last, spec->to, spec->to + span);
	else
		snprintf(buf, len, "%s %u -> %u", pr_proto_name(spec->proto), spec->first,
			 spec->to);
}

struct pr_rule pr_rule_encode(const struct pr_rule_spec *spec, uint16_t port)
{
	struct pr_rule r = {
		.to_port = htons((uint16_t)(spec->to + (port - spec->first))),
		.first_port = spec->first,
	};

	r.csum_delta = pr_csum_delta(htons(port), r.to_port);
	return r;
}

static const struct pr_rule *entry_at(const struct pr_rule_table *t, enum pr_proto proto,
				      unsigned int port)
{
	return &t->entry[PR_RULE_KEY(proto, port)];
}

bool pr_rule_spec_eq(const struct pr_rule_spec *a, const struct pr_rule_spec *b)
{
	return a->proto == b->proto && a->first == b->first && a->last == b->last && a->to == b->to;
}

bool pr_rule_table_get(const struct pr_rule_table *t, enum pr_proto proto, uint16_t port,
		       struct pr_rule_spec *rule)
{
	const struct pr_rule *e = entry_at(t, proto, port);
	unsigned int p;

	if (!e->to_port)
		return false;
	rule->proto = proto;
	rule->first = e->first_port;
	rule->to = ntohs(entry_at(t, proto, e->first_port)->to_port);
	for (p = port; p < 65535; p++) {
		const struct pr_rule *n = entry_at(t, proto, p + 1);

		if (!n->to_port || n->first_port != e->first_port)
			break;
	}
	rule->last = (uint16_t)p;
	return true;
}

bool pr_rule_table_overlap(const struct pr_rule_table *t, const struct pr_rule_spec *spec,
			   struct pr_rule_spec *existing)
{
	for (unsigned int p = spec->first; p <= spec->last; p++) {
		if (pr_rule_table_get(t, spec->proto, (uint16_t)p, existing))
			return true;
	}
	return false;
}

int pr_rule_table_check_add(const struct pr_rule_table *t, const struct pr_rule_spec *spec,
			    bool *present, struct pr_errbuf *err)
{
	struct pr_rule_spec have;
	char a[64], b[64];

	if (present)
		*present = false;
	if (!pr_rule_table_overlap(t, spec, &have))
		return 0;
	if (present && pr_rule_spec_eq(&have, spec)) {
		*present = true;
		return 0;
	}
	pr_rule_format(spec, a, sizeof(a));
	pr_rule_format(&have, b, sizeof(b));
	return pr_err_set(err, "rule %s overlaps existing rule %s; remove that one first", a, b);
}

void pr_rule_table_set(struct pr_rule_table *t, const struct pr_rule_spec *spec)
{
	for (unsigned int p = spec->first; p <= spec->last; p++)
		t->entry[PR_RULE_KEY(spec->proto, p)] = pr_rule_encode(spec, (uint16_t)p);
}

void pr_rule_table_unset(struct pr_rule_table *t, const struct pr_rule_spec *spec)
{
	for (unsigned int p = spec->first; p <= spec->last; p++)
		memset(&t->entry[PR_RULE_KEY(spec->proto, p)], 0, sizeof(struct pr_rule));
}

int pr_rule_table_foreach(const struct pr_rule_table *t,
			  int (*fn)(const struct pr_rule_spec *rule, void *ctx), void *ctx)
{
	for (int proto = 0; proto < PR_NUM_PROTOS; proto++) {
		unsigned int port = 1;

		while (port <= 65535) {
			struct pr_rule_spec rule;
			int ret;

			if (!pr_rule_table_get(t, proto, (uint16_t)port, &rule)) {
				port++;
				continue;
			}
			ret = fn(&rule, ctx);
			if (ret)
				return ret;
			port = (unsigned int)rule.last + 1;
		}
	}
	return 0;
}

static int count_one(const struct pr_rule_spec *rule, void *ctx)
{
	(void)rule;
	(*(size_t *)ctx)++;
	return 0;
}

size_t pr_rule_table_count(const struct pr_rule_table *t)
{
	size_t n = 0;

	pr_rule_table_foreach(t, count_one, &n);
	return n;
}

int pr_rules_read(int rules_fd, struct pr_rule_table *t, struct pr_errbuf *err)
{
	__u32 *keys = calloc(PR_RULE_SLOTS, sizeof(*keys));
	__u32 count = PR_RULE_SLOTS, out_batch = 0;
	int ret;

	if (!keys) {
		/* -1 spelled out: clang-analyzer cannot see that pr_err_set returns it. */
		pr_err_set(err, "out of memory");
		return -1;
	}
	/* One batch covers the whole array; the kernel fills keys in order. */
	ret = bpf_map_lookup_batch(rules_fd, NULL, &out_batch, keys, t->entry, &count, NULL);
	if (ret && errno != ENOENT) {
		ret = pr_err_set(err, "cannot read the rule map: %s", strerror(errno));
	} else if (count != PR_RULE_SLOTS) {
		ret = pr_err_set(err, "rule map returned %u of %u entries", count, PR_RULE_SLOTS);
	} else {
		ret = 0;
		for (__u32 i = 0; i < count; i++) {
			if (keys[i] != i) {
				ret = pr_err_set(err, "rule map read out of order");
				break;
			}
		}
	}
	free(keys);
	return ret;
}

/*
 * Reads the entries of ports first..last of proto (last <= 65535) into out,
 * in one batch: the whole table is 131,072 entries, and reading it for every
 * added rule made each add take ~30 ms.
 */
int pr_rules_read_range(int rules_fd, enum pr_proto proto, unsigned int first, unsigned int last,
			struct pr_rule *out, struct pr_errbuf *err)
{
	__u32 n = last - first + 1, count = n, in = PR_RULE_KEY(proto, first) - 1, next;
	__u32 *keys = calloc(n, sizeof(*keys));
	int ret = 0;

	if (!keys)
		return pr_err_set(err, "out of memory");
	/* An array's batch starts after in_batch; key first - 1 exists (port 0). */
	if (bpf_map_lookup_batch(rules_fd, &in, &next, keys, out, &count, NULL) &&
	    errno != ENOENT)
		ret = pr_err_set(err, "cannot read the rule map: %s", strerror(errno));
	else if (count != n || keys[0] != PR_RULE_KEY(proto, first))
		ret = pr_err_set(err, "rule map returned %u of %u entries", count, n);
	free(keys);
	return ret;
}

int pr_rules_write_batch(int rules_fd, __u32 *keys, struct pr_rule *vals, __u32 n,
			 struct pr_errbuf *err)
{
	__u32 count = n;

	if (n && bpf_map_update_batch(rules_fd, keys, vals, &count, NULL))
		return pr_err_set(err, "cannot write the rule map (%u of %u entries written): %s",
				  count, n, strerror(errno));
	return 0;
}

int pr_rules_write_entries(int rules_fd, const struct pr_rule_spec *spec, bool clear,
			   struct pr_errbuf *err)
{
	__u32 n = (__u32)(spec->last - spec->first) + 1;
	struct pr_rule *vals = calloc(n, sizeof(*vals));
	__u32 *keys = calloc(n, sizeof(*keys));
	int ret = 0;

	if (!keys || !vals) {
		ret = pr_err_set(err, "out of memory");
		goto out;
	}
	/* The entries also say which ports have scoped rules: keep that part. */
	if (pr_rules_read_range(rules_fd, spec->proto, spec->first, spec->last, vals, err)) {
		ret = -1;
		goto out;
	}
	for (__u32 i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(spec->first + i);
		struct pr_rule r;

		keys[i] = PR_RULE_KEY(spec->proto, port);
		/* A removed rule's flows may still arrive: see lib/drain.h. Keep the scope flag. */
		r = clear ? PR_RULE_DRAIN_MARK(port) : pr_rule_encode(spec, port);
		r.scope_set = vals[i].scope_set;
		vals[i] = r;
	}
	ret = pr_rules_write_batch(rules_fd, keys, vals, n, err);
out:
	free(keys);
	free(vals);
	return ret;
}

/*
 * A new rule's counters start at zero; what the slot held (a removed rule's
 * late packets) stays in the totals (lib/totals.h).
 */
static int reset_counters(int stats_fd, const struct pr_rule_spec *spec, struct pr_errbuf *err)
{
	__u32 key = PR_RULE_KEY(spec->proto, spec->first);

	if (stats_fd >= 0 && pr_counter_retire(stats_fd, stats_fd, key))
		return pr_err_set(err, "cannot reset the rule's counters: %s", strerror(errno));
	return 0;
}

/* Does any of spec's ports already have a rule? Reads only those ports. */
static int range_in_use(int rules_fd, const struct pr_rule_spec *spec, bool *used,
			struct pr_errbuf *err)
{
	unsigned int n = (unsigned int)(spec->last - spec->first) + 1;
	struct pr_rule *e = calloc(n, sizeof(*e));
	int ret;

	if (!e)
		return pr_err_set(err, "out of memory");
	*used = false;
	ret = pr_rules_read_range(rules_fd, spec->proto, spec->first, spec->last, e, err);
	for (unsigned int i = 0; !ret && i < n && !*used; i++)
		*used = e[i].to_port != 0;
	free(e);
	return ret;
}

int pr_rules_add(int rules_fd, int stats_fd, const struct pr_rule_spec *spec,
		 struct pr_errbuf *err)
{
	struct pr_rule_table *t;
	bool used = false;
	int ret;

	if (pr_rule_validate(spec, err))
		return -1;
	if (range_in_use(rules_fd, spec, &used, err))
		return -1;
	if (!used)
		goto write;
	/* Taken: read the whole table to name the rule in the way. */
	t = malloc(sizeof(*t));
	if (!t)
		return pr_err_set(err, "out of memory");
	ret = pr_rules_read(rules_fd, t, err);
	if (!ret)
		ret = pr_rule_table_check_add(t, spec, NULL, err);
	free(t);
	if (ret)
		return ret;
write:
	if (reset_counters(stats_fd, spec, err))
		return -1;
	if (pr_rules_write_entries(rules_fd, spec, false, err)) {
		struct pr_errbuf ignored;

		/* Take back whatever part of the batch landed. */
		pr_rules_write_entries(rules_fd, spec, true, &ignored);
		return -1;
	}
	return 0;
}

int pr_rules_remove(int rules_fd, int stats_fd, const struct pr_rule_spec *spec,
		    struct pr_errbuf *err)
{
	struct pr_rule_table *t = malloc(sizeof(*t));
	struct pr_rule_spec have;
	char a[64], b[64];
	int ret;

	if (!t)
		return pr_err_set(err, "out of memory");
	ret = pr_rules_read(rules_fd, t, err);
	if (ret)
		goto out;
	pr_rule_format(spec, a, sizeof(a));
	if (!pr_rule_table_get(t, spec->proto, spec->first, &have)) {
		ret = pr_err_set(err, "no %s rule for port %u; 'xdp-portredir status' lists the rules",
				 pr_proto_name(spec->proto), spec->first);
		goto out;
	}
	pr_rule_format(&have, b, sizeof(b));
	if (have.first != spec->first || have.last != spec->last ||
	    (spec->to && have.to != spec->to)) {
		if (!spec->to && spec->last != spec->first)
			snprintf(a, sizeof(a), "%s %u-%u", pr_proto_name(spec->proto), spec->first,
				 spec->last);
		else if (!spec->to)
			snprintf(a, sizeof(a), "%s %u", pr_proto_name(spec->proto), spec->first);
		ret = pr_err_set(err, "no rule %s; port %u belongs to rule %s: remove that rule whole",
				 a, spec->first, b);
		goto out;
	}
	ret = pr_rules_write_entries(rules_fd, &have, true, err);
	/*
	 * Its counts stay in the totals. The rule is gone either way, so a
	 * failure here costs only a count, not the removal.
	 */
	if (!ret && stats_fd >= 0)
		pr_counter_retire(stats_fd, stats_fd, PR_RULE_KEY(have.proto, have.first));
out:
	free(t);
	return ret;
}
