// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "scope_maps.h"
#include "totals.h"

int pr_scopes_read(const struct pr_maps *m, struct pr_scope_table *t, struct pr_errbuf *err)
{
	memset(t, 0, sizeof(*t));
	for (__u32 id = 1; id < PR_MAX_SCOPED_RULES; id++)
		if (bpf_map_lookup_elem(m->scope_rules, &id, &t->r[id]))
			return pr_err_set(err, "cannot read the scoped rules: %s", strerror(errno));
	return 0;
}

int pr_scopes_read_new(const struct pr_maps *m, struct pr_scope_table **t, struct pr_errbuf *err)
{
	*t = malloc(sizeof(**t));
	if (!*t)
		return pr_err_set(err, "out of memory");
	if (!pr_scopes_read(m, *t, err))
		return 0;
	free(*t);
	*t = NULL;
	return -1;
}

int pr_scopes_change(const struct pr_maps *m, const struct pr_rule_spec *spec,
		     const struct pr_scope_rule *scope, bool remove, struct pr_errbuf *err)
{
	struct pr_scope_rule r = *scope;

	pr_scope_from_spec(&r, spec);
	return remove ? pr_scopes_remove(m, &r, 1, err) : pr_scopes_add(m, &r, 1, err);
}

int pr_scopes_resolve(struct pr_scope_table *t)
{
	int changed = 0;

	for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
		struct pr_scope_rule *r = &t->r[id];
		__u32 ifindex;

		if (!r->used || !r->ifname[0])
			continue;
		ifindex = if_nametoindex(r->ifname);
		if (ifindex != r->ifindex) {
			r->ifindex = ifindex;
			changed++;
		}
	}
	return changed;
}

/* Map indexes of the compiled sets: the same contents keep their index. */
static int place_sets(const struct pr_maps *m, const struct pr_scope_compiled *c,
		      const struct pr_rule_table *cur, __u16 *where, bool *keep,
		      struct pr_errbuf *err)
{
	bool *ref = calloc(PR_SCOPE_SETS, sizeof(*ref));
	struct pr_scope_set have;
	__u32 next_free = 1;
	int ret = 0;

	if (!ref)
		return pr_err_set(err, "out of memory");
	for (__u32 k = 0; k < PR_RULE_SLOTS; k++)
		if (cur->entry[k].scope_set < PR_SCOPE_SETS)
			ref[cur->entry[k].scope_set] = true;
	for (unsigned int s = 1; s <= c->n_sets && !ret; s++) {
		where[s] = 0;
		for (__u32 idx = 1; idx < PR_SCOPE_SETS && !where[s]; idx++) {
			if (!ref[idx] || keep[idx] || bpf_map_lookup_elem(m->scope_sets, &idx, &have))
				continue;
			if (!memcmp(&have, &c->sets[s], sizeof(have))) {
				where[s] = (__u16)idx;
				keep[idx] = true;
			}
		}
		if (where[s])
			continue;
		/* A fresh index: never one a packet may be reading. */
		while (next_free < PR_SCOPE_SETS && (ref[next_free] || keep[next_free]))
			next_free++;
		if (next_free >= PR_SCOPE_SETS) {
			ret = pr_err_set(err, "no free scope set: too many scoped rule combinations");
			break;
		}
		if (bpf_map_update_elem(m->scope_sets, &next_free, &c->sets[s], BPF_ANY)) {
			ret = pr_err_set(err, "cannot write a scope set: %s", strerror(errno));
			break;
		}
		where[s] = (__u16)next_free;
		keep[next_free] = true;
	}
	/* Sets no entry will point at any more: cleared once nothing points at them. */
	for (__u32 idx = 1; idx < PR_SCOPE_SETS && !ret; idx++)
		keep[idx] = keep[idx] || !ref[idx];
	free(ref);
	return ret;
}

static int point_entries(const struct pr_maps *m, const struct pr_scope_compiled *c,
			 const struct pr_rule_table *cur, const __u16 *where, struct pr_errbuf *err)
{
	__u32 *keys = calloc(PR_RULE_SLOTS, sizeof(*keys));
	struct pr_rule *vals = calloc(PR_RULE_SLOTS, sizeof(*vals));
	__u32 n = 0;
	int ret = 0;

	if (!keys || !vals) {
		ret = pr_err_set(err, "out of memory");
		goto out;
	}
	for (__u32 k = 0; k < PR_RULE_SLOTS; k++) {
		__u16 want = c->set_of[k] ? where[c->set_of[k]] : 0;

		if (cur->entry[k].scope_set == want)
			continue;
		keys[n] = k;
		vals[n] = cur->entry[k];
		vals[n].scope_set = want;
		n++;
	}
	ret = pr_rules_write_batch(m->rules, keys, vals, n, err);
out:
	free(keys);
	free(vals);
	return ret;
}

/*
 * Reads the rule entries of the ports old's or t's rules cover (the only ones
 * that can point at a set, or will); the rest of cur is zero. Reading all
 * 131,072 entries would make every scoped change cost tens of milliseconds.
 */
static int read_covered(const struct pr_maps *m, const struct pr_scope_table *old,
			const struct pr_scope_table *t, struct pr_rule_table *cur,
			struct pr_errbuf *err)
{
	for (int proto = 0; proto < PR_NUM_PROTOS; proto++) {
		unsigned int lo = 65536, hi = 0;

		for (unsigned int id = 1; id < PR_MAX_SCOPED_RULES; id++) {
			const struct pr_scope_rule *r[2] = { &old->r[id], &t->r[id] };

			for (int i = 0; i < 2; i++) {
				if (!r[i]->used || r[i]->proto != proto)
					continue;
				lo = r[i]->first < lo ? r[i]->first : lo;
				hi = r[i]->last > hi ? r[i]->last : hi;
			}
		}
		if (lo <= hi &&
		    pr_rules_read_range(m->rules, proto, lo, hi, &cur->entry[PR_RULE_KEY(proto, lo)],
					err))
			return -1;
	}
	return 0;
}

int pr_scopes_commit(const struct pr_maps *m, const struct pr_scope_table *old,
		     const struct pr_scope_table *t, struct pr_errbuf *err)
{
	struct pr_scope_compiled *c = malloc(sizeof(*c));
	struct pr_rule_table *cur = calloc(1, sizeof(*cur));
	__u16 *where = calloc(PR_SCOPE_SETS, sizeof(*where));
	bool *keep = calloc(PR_SCOPE_SETS, sizeof(*keep));
	struct pr_scope_set empty = { 0 };
	int ret = -1;

	if (!c || !cur || !where || !keep) {
		pr_err_set(err, "out of memory");
		goto out;
	}
	if (pr_scope_compile(t, c, err) || read_covered(m, old, t, cur, err))
		goto out;
	for (__u32 id = 1; id < PR_MAX_SCOPED_RULES; id++) {
		if (!memcmp(&old->r[id], &t->r[id], sizeof(t->r[id])))
			continue;
		if (bpf_map_update_elem(m->scope_rules, &id, &t->r[id], BPF_ANY)) {
			pr_err_set(err, "cannot write the scoped rules: %s", strerror(errno));
			goto out;
		}
	}
	if (place_sets(m, c, cur, where, keep, err) || point_entries(m, c, cur, where, err))
		goto out;
	for (__u32 idx = 1; idx < PR_SCOPE_SETS; idx++)
		if (!keep[idx])
			bpf_map_update_elem(m->scope_sets, &idx, &empty, BPF_ANY);
	ret = 0;
out:
	free(c);
	free(cur);
	free(where);
	free(keep);
	return ret;
}

/* Allocates the table as read (*old) and a copy to change (*t); both freed by the caller. */
static int read_for_change(const struct pr_maps *m, struct pr_scope_table **old,
			   struct pr_scope_table **t, struct pr_errbuf *err)
{
	*old = malloc(sizeof(**old));
	*t = malloc(sizeof(**t));
	if (!*old || !*t) {
		pr_err_set(err, "out of memory");
		return -1;
	}
	if (pr_scopes_read(m, *old, err))
		return -1;
	memcpy(*t, *old, sizeof(**t));
	return 0;
}

int pr_scopes_add(const struct pr_maps *m, const struct pr_scope_rule *rules, int n,
		  struct pr_errbuf *err)
{
	struct pr_scope_table *old = NULL, *t = NULL;
	unsigned int ids[2 * PR_SCOPE_SET_SIZE * 8];
	int ret = -1;

	if (n > (int)(sizeof(ids) / sizeof(ids[0]))) {
		pr_err_set(err, "too many scoped rules in one command (at most %zu)",
			   sizeof(ids) / sizeof(ids[0]));
		goto out;
	}
	if (read_for_change(m, &old, &t, err))
		goto out;
	pr_scopes_resolve(t);
	for (int i = 0; i < n; i++) {
		unsigned int other = pr_scope_table_overlap(t, &rules[i]);
		char a[160], b[160];

		pr_scope_format(&rules[i], a, sizeof(a));
		if (other) {
			pr_scope_format(&t->r[other], b, sizeof(b));
			pr_err_set(err, "rule %s overlaps existing rule %s; remove that one first", a,
				   b);
			goto out;
		}
		ids[i] = pr_scope_table_free_id(t);
		if (!ids[i]) {
			pr_err_set(err, "cannot add rule %s: all %d scoped rules are in use", a,
				   PR_MAX_SCOPED_RULES - 1);
			goto out;
		}
		t->r[ids[i]] = rules[i];
		t->r[ids[i]].used = 1;
		t->r[ids[i]].ifindex = rules[i].ifname[0] ? if_nametoindex(rules[i].ifname) : 0;
	}
	/* What a removed rule's late packets left there stays in the totals. */
	for (int i = 0; i < n; i++)
		if (pr_counter_retire(m->rule_stats, m->scope_stats, ids[i])) {
			pr_err_set(err, "cannot reset the rule's counters: %s", strerror(errno));
			goto out;
		}
	ret = pr_scopes_commit(m, old, t, err);
out:
	free(old);
	free(t);
	return ret;
}

int pr_scopes_remove(const struct pr_maps *m, struct pr_scope_rule *rules, int n,
		     struct pr_errbuf *err)
{
	struct pr_scope_table *old = NULL, *t = NULL;
	unsigned int ids[2 * PR_SCOPE_SET_SIZE * 8];
	int ret = -1;

	if (n > (int)(sizeof(ids) / sizeof(ids[0]))) {
		pr_err_set(err, "too many scoped rules in one command (at most %zu)",
			   sizeof(ids) / sizeof(ids[0]));
		goto out;
	}
	if (read_for_change(m, &old, &t, err))
		goto out;
	for (int i = 0; i < n; i++) {
		unsigned int id = ids[i] = pr_scope_table_find(t, &rules[i]);
		char a[160];

		if (!id) {
			pr_scope_format(&rules[i], a, sizeof(a));
			if (!rules[i].to)
				pr_scope_format_scope(&rules[i], a, sizeof(a));
			pr_err_set(err, "no %s rule for port %u%s; 'xdp-portredir status' lists the "
					"rules",
				   pr_proto_name(rules[i].proto), rules[i].first,
				   rules[i].to ? "" : a);
			goto out;
		}
		rules[i] = t->r[id];
		memset(&t->r[id], 0, sizeof(t->r[id]));
	}
	ret = pr_scopes_commit(m, old, t, err);
	/* Their counts stay in the totals; the rules are gone either way. */
	for (int i = 0; !ret && i < n; i++)
		pr_counter_retire(m->rule_stats, m->scope_stats, ids[i]);
out:
	free(old);
	free(t);
	return ret;
}

int pr_scopes_refresh(const struct pr_maps *m, struct pr_errbuf *err)
{
	struct pr_scope_table *old = NULL, *t = NULL;
	int ret = -1;

	if (read_for_change(m, &old, &t, err))
		goto out;
	ret = pr_scopes_resolve(t) ? pr_scopes_commit(m, old, t, err) : 0;
out:
	free(old);
	free(t);
	return ret;
}
