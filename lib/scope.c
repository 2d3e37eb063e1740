// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "../bpf/csum.h"
#include "scope.h"

static void prefix_mask(int family, unsigned int plen, uint32_t mask[4])
{
	unsigned int bits = family == 4 ? 32 : 128;

	memset(mask, 0, 4 * sizeof(mask[0]));
	for (unsigned int w = 0; w < bits / 32; w++) {
		unsigned int take = plen > 32 * w ? plen - 32 * w : 0;

		if (take >= 32)
			mask[w] = 0xffffffffU;
		else if (take)
			mask[w] = htonl(~0U << (32 - take));
	}
}

int pr_scope_parse_dst(const char *s, struct pr_scope_rule *rule, struct pr_errbuf *err)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned int bits, plen;
	uint32_t mask[4];

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return pr_err_set(err, "invalid destination '%s': expected an IPv4 or IPv6 address, "
				       "optionally /PREFIX", s ? s : "");
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(rule->addr, 0, sizeof(rule->addr));
	if (inet_pton(AF_INET, buf, rule->addr) == 1)
		rule->family = 4;
	else if (inet_pton(AF_INET6, buf, rule->addr) == 1)
		rule->family = 6;
	else
		return pr_err_set(err, "invalid destination '%s': expected an IPv4 or IPv6 address, "
				       "optionally /PREFIX", s);
	bits = rule->family == 4 ? 32 : 128;
	plen = bits;
	if (slash) {
		char *end;
		long v = strtol(slash, &end, 10);

		if (!*slash || *end || v < 0 || v > (long)bits || *slash == '+' || *slash == '-')
			return pr_err_set(err, "invalid prefix length in '%s': expected 0-%u", s,
					  bits);
		plen = (unsigned int)v;
	}
	if (plen == 0)
		return pr_err_set(err, "destination '%s' matches every address: leave --dst out",
				  s);
	rule->plen = (uint8_t)plen;
	prefix_mask(rule->family, plen, mask);
	for (int i = 0; i < 4; i++)
		rule->addr[i] &= mask[i];
	return 0;
}

int pr_scope_parse_ifname(const char *s, struct pr_scope_rule *rule, struct pr_errbuf *err)
{
	if (!s || !*s || strlen(s) >= IF_NAMESIZE || strchr(s, '/') || strchr(s, ':') ||
	    strpbrk(s, " \t\n") || !strcmp(s, ".") || !strcmp(s, ".."))
		return pr_err_set(err, "invalid interface name '%s' (1-%d characters, no '/', ':' "
				       "or blanks)", s ? s : "", IF_NAMESIZE - 1);
	memset(rule->ifname, 0, sizeof(rule->ifname));
	strcpy(rule->ifname, s);
	return 0;
}

void pr_scope_format_dst(const struct pr_scope_rule *rule, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!rule->family) {
		snprintf(buf, len, "%s", "");
		return;
	}
	inet_ntop(rule->family == 4 ? AF_INET : AF_INET6, rule->addr, a, sizeof(a));
	if (rule->plen == (rule->family == 4 ? 32 : 128))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, rule->plen);
}

void pr_scope_format_scope(const struct pr_scope_rule *rule, char *buf, size_t len)
{
	char dst[INET6_ADDRSTRLEN + 8];

	pr_scope_format_dst(rule, dst, sizeof(dst));
	snprintf(buf, len, "%s%s%s%s", rule->ifname[0] ? " on " : "", rule->ifname,
		 dst[0] ? " to " : "", dst);
}

void pr_scope_format(const struct pr_scope_rule *rule, char *buf, size_t len)
{
	struct pr_rule_spec spec;
	char r[64], sc[80];

	pr_scope_spec(rule, &spec);
	pr_rule_format(&spec, r, sizeof(r));
	pr_scope_format_scope(rule, sc, sizeof(sc));
	snprintf(buf, len, "%s%s", r, sc);
}

void pr_scope_spec(const struct pr_scope_rule *rule, struct pr_rule_spec *spec)
{
	spec->proto = rule->proto;
	spec->first = rule->first;
	spec->last = rule->last;
	spec->to = rule->to;
}

void pr_scope_from_spec(struct pr_scope_rule *rule, const struct pr_rule_spec *spec)
{
	rule->proto = (uint8_t)spec->proto;
	rule->first = spec->first;
	rule->last = spec->last;
	rule->to = spec->to;
}

bool pr_scope_is_scoped(const struct pr_scope_rule *rule)
{
	return rule->ifname[0] || rule->family;
}

bool pr_scope_same(const struct pr_scope_rule *a, const struct pr_scope_rule *b)
{
	return !strncmp(a->ifname, b->ifname, sizeof(a->ifname)) && a->family == b->family &&
	       a->plen == b->plen && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/*
 * The kind of scope in the high bits, the prefix length below them: each
 * kind outranks every prefix of the kind below it, IPv6's /128 included.
 */
int pr_scope_rank(const struct pr_scope_rule *rule)
{
	int kind = rule->family ? 2 : 0;

	if (rule->ifname[0])
		kind++;
	return kind << 8 | (rule->family ? rule->plen : 0);
}

unsigned int pr_scope_table_overlap(const struct pr_scope_table *t,
				    const struct pr_scope_rule *rule)
{
	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
		const struct pr_scope_rule *o = &t->r[id];

		if (o->used && o->proto == rule->proto && pr_scope_same(o, rule) &&
		    o->first <= rule->last && rule->first <= o->last)
			return id;
	}
	return 0;
}

unsigned int pr_scope_table_find(const struct pr_scope_table *t, const struct pr_scope_rule *rule)
{
	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
		const struct pr_scope_rule *o = &t->r[id];

		if (o->used && o->proto == rule->proto && pr_scope_same(o, rule) &&
		    o->first == rule->first && (!rule->last || o->last == rule->last) &&
		    (!rule->to || o->to == rule->to))
			return id;
	}
	return 0;
}

unsigned int pr_scope_table_free_id(const struct pr_scope_table *t)
{
	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++)
		if (!t->r[id].used)
			return id;
	return 0;
}

size_t pr_scope_table_count(const struct pr_scope_table *t)
{
	size_t n = 0;

	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++)
		n += t->r[id].used;
	return n;
}

static bool live(const struct pr_scope_rule *r)
{
	return r->used && (!r->ifname[0] || r->ifindex);
}

static void fill_entry(struct pr_scope_ent *e, const struct pr_scope_rule *r, unsigned int id)
{
	memset(e, 0, sizeof(*e));
	e->ifindex = r->ifname[0] ? r->ifindex : 0;
	e->to = r->to;
	e->first = r->first;
	e->delta = (uint16_t)(r->to - r->first);
	e->csum_delta = pr_csum_delta(htons(r->first), htons(r->to));
	e->id = (uint16_t)id;
	e->family = r->family;
	if (r->family) {
		prefix_mask(r->family, r->plen, e->mask);
		memcpy(e->addr, r->addr, sizeof(e->addr));
	}
	/* The IPv4 match words (see struct pr_scope_ent). */
	if (r->family == 6) {
		e->mask4 = ~0ULL;
	} else {
		e->key4 = (uint64_t)e->addr[0] << 32 | e->ifindex;
		e->mask4 = (uint64_t)e->mask[0] << 32 | (e->ifindex ? 0xffffffffULL : 0);
	}
}

static int by_rank(const void *a, const void *b, void *t)
{
	const struct pr_scope_rule *x = &((const struct pr_scope_table *)t)->r[*(const uint16_t *)a];
	const struct pr_scope_rule *y = &((const struct pr_scope_table *)t)->r[*(const uint16_t *)b];

	if (pr_scope_rank(x) != pr_scope_rank(y))
		return pr_scope_rank(y) - pr_scope_rank(x);
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The set holding exactly the entries of ids[0..n), reused or made; 0 if none fits. */
static unsigned int set_for(const struct pr_scope_table *t, struct pr_scope_compiled *out,
			    const uint16_t *ids, unsigned int n)
{
	struct pr_scope_set want = { .n = n };

	for (unsigned int i = 0; i < n; i++)
		fill_entry(&want.e[i], &t->r[ids[i]], ids[i]);
	for (unsigned int s = out->n_sets; s >= 1; s--)
		if (!memcmp(&out->sets[s], &want, sizeof(want)))
			return s;
	if (out->n_sets + 1 >= PR_SCOPE_SETS)
		return 0;
	out->sets[++out->n_sets] = want;
	return out->n_sets;
}

int pr_scope_compile(const struct pr_scope_table *t, struct pr_scope_compiled *out,
		     struct pr_errbuf *err)
{
	uint16_t cand[PR_MAX_SCOPED_RULES], ids[PR_SCOPE_SET_SIZE], prev[PR_SCOPE_SET_SIZE];

	/* sets[] is written as sets are made: clearing all 1.5 MB would cost more. */
	memset(out->set_of, 0, sizeof(out->set_of));
	memset(&out->sets[0], 0, sizeof(out->sets[0]));
	out->n_sets = 0;
	for (int proto = 0; proto < PR_NUM_PROTOS; proto++) {
		unsigned int nc = 0, lo = 65536, hi = 0, nprev = 0, prev_set = 0;

		for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
			const struct pr_scope_rule *r = &t->r[id];

			if (!live(r) || r->proto != proto)
				continue;
			cand[nc++] = (uint16_t)id;
			lo = r->first < lo ? r->first : lo;
			hi = r->last > hi ? r->last : hi;
		}
		qsort_r(cand, nc, sizeof(cand[0]), by_rank, (void *)t);
		for (unsigned int port = lo; port <= hi; port++) {
			unsigned int n = 0, set;

			for (unsigned int i = 0; i < nc; i++) {
				const struct pr_scope_rule *r = &t->r[cand[i]];

				if (port < r->first || port > r->last)
					continue;
				if (n == PR_SCOPE_SET_SIZE)
					return pr_err_set(err, "%s port %u would have more than %d scoped "
							       "rules; remove one first",
							  pr_proto_name(proto), port,
							  PR_SCOPE_SET_SIZE);
				ids[n++] = cand[i];
			}
			if (n && n == nprev && !memcmp(ids, prev, n * sizeof(ids[0]))) {
				set = prev_set;
			} else if (n) {
				set = set_for(t, out, ids, n);
				if (!set)
					return pr_err_set(err, "too many different scoped rule "
							       "combinations (at most %d)",
							  PR_SCOPE_SETS - 1);
			} else {
				set = 0;
			}
			out->set_of[PR_RULE_KEY(proto, port)] = (uint16_t)set;
			memcpy(prev, ids, n * sizeof(ids[0]));
			nprev = n;
			prev_set = set;
		}
	}
	return 0;
}

bool pr_scope_dst_matches(const struct pr_scope_rule *r, int family, const uint32_t daddr[4])
{
	uint32_t mask[4];

	if (!r->family)
		return true;
	if (r->family != family)
		return false;
	prefix_mask(family, r->plen, mask);
	for (int i = 0; i < 4; i++)
		if ((daddr[i] & mask[i]) != r->addr[i])
			return false;
	return true;
}

unsigned int pr_scope_match(const struct pr_scope_table *t, enum pr_proto proto, uint16_t port,
			    uint32_t ifindex, int family, const uint32_t daddr[4])
{
	unsigned int best = 0;

	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
		const struct pr_scope_rule *r = &t->r[id];

		if (!live(r) || r->proto != proto || port < r->first || port > r->last)
			continue;
		if (r->ifname[0] && r->ifindex != ifindex)
			continue;
		if (!pr_scope_dst_matches(r, family, daddr))
			continue;
		if (!best || pr_scope_rank(r) > pr_scope_rank(&t->r[best]))
			best = id;
	}
	return best;
}
