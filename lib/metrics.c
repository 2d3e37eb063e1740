// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus series from the state reader `status` uses (pr_sys_read, then
 * pr_counter_read, pr_flow_census): one way to read the maps,
 * so the two cannot disagree. The format wants every sample of a family
 * together after its HELP and TYPE lines, hence one pass per family.
 *
 * Rule counters live in pr_rule_stats keyed by (proto, first port); another
 * rule's edit never touches them, so they only grow until their own rule is
 * re-added (reset to zero, which Prometheus treats as a counter reset) or
 * removed (its series are no longer written).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "maps.h"
#include "metrics.h"
#include "totals.h"
#include "pins.h"
#include "rules.h"
#include "scope.h"
#include "scope_maps.h"
#include "state.h"

/*
 * The labels of a rule's series, in order. Together they name the rule
 * uniquely: an attribute that tells two rules apart (a scope) is one more
 * label here, which every collector fills ("" where it does not apply).
 */
enum { L_PROTO, L_FROM, L_TO, L_IFACE, L_DST, N_RULE_LABELS };
static const char *const rule_label_names[N_RULE_LABELS] = { "proto", "from_port", "to_port",
							     "interface", "dst" };

struct rule_sample {
	char val[N_RULE_LABELS][64];
	struct pr_counter c;
};

struct rule_samples {
	struct rule_sample *v;
	size_t n, cap;
	int stats_fd;
};

static void port_range(char *buf, size_t len, unsigned int first, unsigned int last)
{
	if (first == last)
		snprintf(buf, len, "%u", first);
	else
		snprintf(buf, len, "%u-%u", first, last);
}

/* A new sample with the labels every rule has filled in, the others ""; NULL if out of memory. */
static struct rule_sample *rule_sample_add(struct rule_samples *rs, const struct pr_rule_spec *r)
{
	struct rule_sample *s;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct rule_sample *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		rs->v = v;
		rs->cap = cap;
	}
	s = &rs->v[rs->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->val[L_PROTO], sizeof(s->val[L_PROTO]), "%s", pr_proto_name(r->proto));
	port_range(s->val[L_FROM], sizeof(s->val[L_FROM]), r->first, r->last);
	port_range(s->val[L_TO], sizeof(s->val[L_TO]), r->to,
		   (unsigned int)r->to + (r->last - r->first));
	return s;
}

void pr_metrics_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " PR_METRICS_PREFIX "%s %s\n# TYPE " PR_METRICS_PREFIX "%s %s\n", name,
		help, name, type);
}

struct label {
	const char *name, *value;
};

#define N_LABELS(a) (sizeof(a) / sizeof((a)[0]))

static void sample(FILE *f, const char *name, const struct label *l, size_t n, unsigned long long v)
{
	fprintf(f, PR_METRICS_PREFIX "%s", name);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "{", l[i].name);
		pr_metrics_label_value(f, l[i].value);
		fprintf(f, "\"%s", i + 1 == n ? "}" : "");
	}
	fprintf(f, " %llu\n", v);
}

static int collect_rule(const struct pr_rule_spec *r, void *p)
{
	struct rule_samples *rs = p;
	struct rule_sample *s = rule_sample_add(rs, r);

	if (!s)
		return -ENOMEM;
	pr_counter_read(rs->stats_fd, PR_RULE_KEY(r->proto, r->first), &s->c);
	return 0;
}

/* Scoped rules: their own table and counters (by rule id), their scope in two labels. */
static int collect_scoped(struct rule_samples *rs, const struct pr_maps *m, struct pr_errbuf *err)
{
	struct pr_scope_table *t = NULL;
	int ret = pr_scopes_read_new(m, &t, err);

	for (unsigned int id = 1; !ret && id < PR_MAX_SCOPED_RULES; id++) {
		const struct pr_scope_rule *r = &t->r[id];
		struct pr_rule_spec spec;
		struct rule_sample *s;

		if (!r->used)
			continue;
		pr_scope_spec(r, &spec);
		s = rule_sample_add(rs, &spec);
		if (!s) {
			ret = pr_err_set(err, "out of memory");
			break;
		}
		snprintf(s->val[L_IFACE], sizeof(s->val[L_IFACE]), "%s", r->ifname);
		pr_scope_format_dst(r, s->val[L_DST], sizeof(s->val[L_DST]));
		pr_counter_read(m->scope_stats, id, &s->c);
	}
	free(t);
	return ret;
}

static void rule_family(FILE *f, const struct rule_samples *rs, const char *name, const char *help,
			bool bytes)
{
	struct label l[N_RULE_LABELS];

	family(f, name, "counter", help);
	for (size_t i = 0; i < rs->n; i++) {
		for (size_t k = 0; k < N_RULE_LABELS; k++)
			l[k] = (struct label){ rule_label_names[k], rs->v[i].val[k] };
		sample(f, name, l, N_RULE_LABELS, bytes ? rs->v[i].c.bytes : rs->v[i].c.packets);
	}
}

static int write_rules(FILE *f, const struct pr_sys *sys, struct pr_errbuf *err)
{
	struct rule_samples rs = { .stats_fd = sys->have_maps ? sys->maps.rule_stats : -1 };
	int ret = 0;

	if (sys->table && pr_rule_table_foreach(sys->table, collect_rule, &rs))
		ret = pr_err_set(err, "out of memory");
	if (!ret && sys->have_maps)
		ret = collect_scoped(&rs, &sys->maps, err);
	if (!ret) {
		rule_family(f, &rs, "rule_packets_total", "Packets a rule redirected.", false);
		rule_family(f, &rs, "rule_bytes_total", "Bytes (frame lengths) a rule redirected.",
			    true);
	}
	free(rs.v);
	return ret;
}

static const char *iface_state(const struct pr_iface_state *st)
{
	if (st->attached)
		return "loaded";
	if (st->opaque)
		return "unknown";
	return st->exists ? "not-attached" : "interface-gone";
}

static void write_ifaces(FILE *f, const struct pr_iface_state *list, int n)
{
	family(f, "interface_info", "gauge",
	       "Interfaces xdp-portredir is attached to or recorded on (value always 1).");
	for (int i = 0; i < n; i++) {
		const struct pr_iface_state *st = &list[i];
		const char *mode = "", *dispatcher = "";
		char prio[16] = "";

		if (st->attached) {
			mode = pr_mode_name(pr_mode_of(st->skb_mode));
			dispatcher = st->dispatcher ? "true" : "false";
			snprintf(prio, sizeof(prio), "%u", st->self.priority);
		}
		const struct label l[] = {
			{ "ifname", st->name }, { "state", iface_state(st) },
			{ "mode", mode },	{ "dispatcher", dispatcher },
			{ "priority", prio },
		};

		sample(f, "interface_info", l, N_LABELS(l), 1);
	}
}

static void write_counters(FILE *f, const struct pr_maps *m, const struct pr_rule_table *rules)
{
	static const char *const kind[2] = { "packets", "bytes" };
	struct pr_counter c[PR_ACTION_SLOTS] = { 0 };
	bool have[PR_ACTION_SLOTS] = { 0 };
	char name[64], help[128];

	pr_action_totals_read(m, rules, c, have);
	for (int k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "action_%s_total", kind[k]);
		snprintf(help, sizeof(help), "%s the XDP program saw, by the action it returned.",
			 k ? "Bytes" : "Packets");
		family(f, name, "counter", help);
		for (__u32 a = 0; a < PR_ACTION_SLOTS; a++) {
			const struct label l = { "action", pr_xdp_action_name(a) };

			if (have[a])
				sample(f, name, &l, 1, k ? c[a].bytes : c[a].packets);
		}
	}
	if (!pr_counter_read(m->reply_stats, 0, &c[0])) {
		family(f, "replies_translated_total", "counter",
		       "Reply packets whose source port TC egress restored.");
		sample(f, "replies_translated_total", NULL, 0, c[0].packets);
		family(f, "replies_translated_bytes_total", "counter",
		       "Bytes of reply packets whose source port TC egress restored.");
		sample(f, "replies_translated_bytes_total", NULL, 0, c[0].bytes);
	}
}

static void write_flows(FILE *f, const struct pr_maps *m)
{
	struct pr_flow_census c;
	struct pr_errbuf ignored;

	if (pr_flow_census(m->flows, &c, &ignored))
		return;

	const struct {
		const char *name, *help;
		__u32 v;
	} g[] = {
		{ "flow_table_capacity", "Entries the flow table can hold.", c.capacity },
		{ "flow_table_entries", "Entries in the flow table, dead or alive.", c.entries },
		{ "flows_live", "Redirected flows still in use.", c.live },
		{ "flows_closing", "Redirected TCP flows with a FIN seen on one side.", c.closing },
		{ "flows_local", "Connections local sockets opened from rule ports.", c.local },
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		family(f, g[i].name, "gauge", g[i].help);
		sample(f, g[i].name, NULL, 0, g[i].v);
	}
}

static void write_monitor(FILE *f)
{
	char path[512];
	int fd;

	pr_pin_path(path, sizeof(path), PR_MAP_MONITOR_PCPU);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return; /* made by the first load: no program, no events */
	family(f, "monitor_dropped_events_total", "counter",
	       "Monitor events the kernel dropped because the reader was too slow.");
	sample(f, "monitor_dropped_events_total", NULL, 0, pr_monitor_dropped(fd));
	close(fd);
}

static void write_build_info(FILE *f)
{
	const struct label l[] = {
		{ "version", PR_VERSION },
		{ "libbpf_version", libbpf_version_string() },
		{ "libxdp_version", PR_LIBXDP_BUILD_VERSION },
	};

	family(f, "build_info", "gauge",
	       "Versions of xdp-portredir, the libbpf it runs with and the libxdp it was built "
	       "with (value always 1).");
	sample(f, "build_info", l, N_LABELS(l), 1);
}

/* Fails where status fails: programs run whose state this process cannot see. */
static int state_reachable(const struct pr_iface_state *list, int n, bool mounted, bool have_maps,
			   struct pr_errbuf *err)
{
	for (int i = 0; i < n; i++) {
		if (!list[i].attached && !list[i].opaque)
			continue;
		if (!mounted || (list[i].opaque && !have_maps))
			return pr_err_set(err,
					  "the state of the XDP programs on %s is out of reach "
					  "(bpffs is not mounted at %s, or is another "
					  "instance); 'xdp-portredir status' says more",
					  list[i].name, PR_BPFFS_ROOT);
		break;
	}
	return 0;
}

static int render(FILE *f, struct pr_errbuf *err)
{
	struct pr_sys sys;
	int ret;

	if (pr_sys_read(&sys, err))
		return -1;
	ret = state_reachable(sys.list, sys.n, pr_bpffs_mounted(), sys.have_maps, err);
	if (!ret) {
		write_build_info(f);
		write_ifaces(f, sys.list, sys.n);
		ret = write_rules(f, &sys, err);
	}
	if (!ret && sys.have_maps) {
		write_counters(f, &sys.maps, sys.table);
		write_flows(f, &sys.maps);
		write_monitor(f);
	}
	pr_sys_release(&sys);
	return ret;
}

int pr_metrics_render(char **text, size_t *len, struct pr_errbuf *err)
{
	FILE *f = open_memstream(text, len);
	int ret, bad;

	*text = NULL;
	if (!f)
		return pr_err_set(err, "out of memory");
	ret = render(f, err);
	bad = ferror(f);
	if (fclose(f) || bad) {
		if (!ret)
			ret = pr_err_set(err, "out of memory");
	}
	if (ret) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return ret;
}
