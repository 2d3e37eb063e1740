// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "drain.h"
#include "prog_switch.h"

__u64 pr_flow_clock_ns(void)
{
	struct timespec ts;

	/* The programs stamp flows with the coarse monotonic clock. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

bool pr_flow_live(const struct pr_flow_key *key, const struct pr_flow *flow, __u64 now)
{
	const __u64 both = PR_FLOW_F_CLIENT_FIN | PR_FLOW_F_SERVER_FIN;

	if (key->kind != PR_FLOW_REDIRECT)
		return false;
	if (key->proto == IPPROTO_TCP)
		return (flow->flags & both) != both;
	return now < flow->last_seen_ns + PR_FLOW_UDP_TIMEOUT_S * 1000000000ULL;
}

int pr_flows_foreach_live(int flows_fd,
			  int (*fn)(const struct pr_flow_key *key, const struct pr_flow *flow,
				    void *ctx),
			  void *ctx)
{
	__u64 now = pr_flow_clock_ns();
	struct pr_flow_key key;
	struct pr_flow flow;
	int more, ret;

	for (more = !bpf_map_get_next_key(flows_fd, NULL, &key); more;
	     more = !bpf_map_get_next_key(flows_fd, &key, &key)) {
		if (bpf_map_lookup_elem(flows_fd, &key, &flow) || !pr_flow_live(&key, &flow, now))
			continue;
		ret = fn(&key, &flow, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

static enum pr_proto proto_of(const struct pr_flow_key *key)
{
	return key->proto == IPPROTO_TCP ? PR_PROTO_TCP : PR_PROTO_UDP;
}

static int port_flag(int fd, __u32 slot, __u64 bit, bool on, struct pr_errbuf *err)
{
	__u64 flags = 0;

	if (bpf_map_lookup_elem(fd, &slot, &flags))
		return pr_err_set(err, "cannot read the port flags: %s", strerror(errno));
	if (!!(flags & bit) == on)
		return 0;
	flags = on ? flags | bit : flags & ~bit;
	if (bpf_map_update_elem(fd, &slot, &flags, BPF_ANY))
		return pr_err_set(err, "cannot write the port flags: %s", strerror(errno));
	return 0;
}

int pr_drain_prepare(const struct pr_maps *m, const struct pr_rule_spec *spec,
		     struct pr_errbuf *err)
{
	for (unsigned int p = spec->first; p <= spec->last; p++)
		if (port_flag(m->port_flags, PR_RULE_KEY(spec->proto, p), PR_PORT_DRAIN, true, err))
			return -1;
	return 0;
}

int pr_rule_remove_draining(const struct pr_maps *m, const struct pr_rule_spec *spec,
			    struct pr_errbuf *err)
{
	struct pr_rule_table *t = malloc(sizeof(*t));
	struct pr_rule_spec have;
	int ret = 0;

	if (!t)
		return pr_err_set(err, "out of memory");
	/*
	 * Flag the rule's ports only if pr_rules_remove() will remove it (the
	 * same match); otherwise it fails and nothing may have changed.
	 */
	if (!pr_rules_read(m->rules, t, err) &&
	    pr_rule_table_get(t, spec->proto, spec->first, &have) && have.first == spec->first &&
	    have.last == spec->last && (!spec->to || have.to == spec->to))
		ret = pr_drain_prepare(m, &have, err);
	free(t);
	return ret ? ret : pr_rules_remove(m->rules, m->rule_stats, spec, err);
}

struct need_ctx {
	const struct pr_rule_table *table;
	unsigned char *need;
};

static int note_need(const struct pr_flow_key *key, const struct pr_flow *flow, void *p)
{
	struct need_ctx *c = p;
	__u32 slot = PR_RULE_KEY(proto_of(key), ntohs(flow->orig_port));

	/* A flow whose port's rule sends it where it goes anyway needs no lookup. */
	if (c->table->entry[slot].to_port != flow->to_port)
		c->need[slot] = 1;
	return 0;
}

int pr_drain_refresh(const struct pr_maps *m, struct pr_errbuf *err)
{
	struct pr_rule_table *t = malloc(sizeof(*t));
	unsigned char *need = calloc(PR_RULE_SLOTS, 1);
	struct need_ctx c = { t, need };
	int ret = -1;

	if (!t || !need) {
		pr_err_set(err, "out of memory");
		goto out;
	}
	if (pr_rules_read(m->rules, t, err))
		goto out;
	pr_flows_foreach_live(m->flows, note_need, &c);
	for (__u32 slot = 0; slot < PR_RULE_SLOTS; slot++) {
		struct pr_rule *e = &t->entry[slot];
		__u64 flags = 0;

		if (bpf_map_lookup_elem(m->port_flags, &slot, &flags))
			continue;
		if (!!(flags & PR_PORT_DRAIN) != need[slot] &&
		    port_flag(m->port_flags, slot, PR_PORT_DRAIN, need[slot], err))
			goto out;
		if (!e->to_port && e->first_port && !need[slot]) {
			struct pr_rule none = { .scope_set = e->scope_set };

			bpf_map_update_elem(m->rules, &slot, &none, BPF_ANY);
		} else if (!e->to_port && !e->first_port && need[slot]) {
			struct pr_rule mark = PR_RULE_DRAIN_MARK((__u16)(slot & 0xffff));

			/* The scoped rules of the port stay. */
			mark.scope_set = e->scope_set;
			bpf_map_update_elem(m->rules, &slot, &mark, BPF_ANY);
		}
	}
	ret = 0;
out:
	free(need);
	free(t);
	return ret;
}

struct groups_ctx {
	const struct pr_rule_table *table;
	struct pr_drain_group *g;
	int n, cap;
};

static int add_group(const struct pr_flow_key *key, const struct pr_flow *flow, void *p)
{
	struct groups_ctx *c = p;
	enum pr_proto proto = proto_of(key);
	__u16 port = ntohs(flow->orig_port), to = ntohs(flow->to_port);

	if (c->table->entry[PR_RULE_KEY(proto, port)].to_port == flow->to_port)
		return 0;
	for (int i = 0; i < c->n; i++) {
		if (c->g[i].proto == proto && c->g[i].port == port && c->g[i].to == to) {
			c->g[i].flows++;
			return 0;
		}
	}
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		struct pr_drain_group *g = realloc(c->g, (size_t)cap * sizeof(*g));

		if (!g)
			return -1;
		c->g = g;
		c->cap = cap;
	}
	c->g[c->n++] = (struct pr_drain_group){ proto, port, to, 1 };
	return 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct pr_drain_group *x = a, *y = b;

	if (x->proto != y->proto)
		return (int)x->proto - (int)y->proto;
	if (x->port != y->port)
		return (int)x->port - (int)y->port;
	return (int)x->to - (int)y->to;
}

int pr_drain_groups(const struct pr_maps *m, struct pr_drain_group **groups, int *n,
		    struct pr_errbuf *err)
{
	struct pr_rule_table *t = malloc(sizeof(*t));
	struct groups_ctx c = { t, NULL, 0, 0 };

	*groups = NULL;
	*n = 0;
	if (!t)
		return pr_err_set(err, "out of memory");
	if (pr_rules_read(m->rules, t, err)) {
		free(t);
		return -1;
	}
	if (pr_flows_foreach_live(m->flows, add_group, &c)) {
		free(c.g);
		free(t);
		return pr_err_set(err, "out of memory");
	}
	free(t);
	if (c.n)
		qsort(c.g, (size_t)c.n, sizeof(*c.g), group_cmp);
	*groups = c.g;
	*n = c.n;
	return 0;
}

struct on_ctx {
	__u32 ifindex;
	long n;
};

static int count_on(const struct pr_flow_key *key, const struct pr_flow *flow, void *p)
{
	struct on_ctx *c = p;

	(void)key;
	if (!c->ifindex || flow->ifindex == c->ifindex)
		c->n++;
	return 0;
}

long pr_flows_live_on(int flows_fd, __u32 ifindex)
{
	struct on_ctx c = { ifindex, 0 };

	if (flows_fd < 0)
		return 0;
	pr_flows_foreach_live(flows_fd, count_on, &c);
	return c.n;
}

void pr_flows_forget(int flows_fd, __u32 ifindex)
{
	struct pr_flow_key key, next;
	struct pr_flow flow;
	int more;

	if (flows_fd < 0)
		return;
	/* Deleting while walking: take the next key first. */
	for (more = !bpf_map_get_next_key(flows_fd, NULL, &next); more;) {
		key = next;
		more = !bpf_map_get_next_key(flows_fd, &key, &next);
		if (key.kind != PR_FLOW_LOCAL && !bpf_map_lookup_elem(flows_fd, &key, &flow) &&
		    flow.ifindex == ifindex)
			bpf_map_delete_elem(flows_fd, &key);
	}
}

int pr_prog_set_draining(__u32 prog_id, bool on, struct pr_errbuf *err)
{
	if (!pr_prog_set_switch(prog_id, PR_SWITCH_DRAINING, on, err))
		return 0;
	return pr_err_set(err, "program %u has no draining switch (an older version?)", prog_id);
}
