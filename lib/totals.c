// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP_PASS total from its parts (totals.h). Readers take no lock (status
 * and the metrics server must not wait behind a long drain), so a retire
 * brackets its two writes with a sequence count, as the kernel's seqcount
 * does: odd while a move is under way, and a reader that saw it change or
 * odd reads again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "scope_maps.h"
#include "totals.h"

/* Reads after which a reader takes what it has: a writer that died mid-move leaves SEQ odd. */
#define READ_TRIES 5

/* Writes sum into a slot the data path never counts in: all of it on CPU 0. */
static int slot_write(int fd, __u32 key, const struct pr_counter *sum)
{
	int ncpus = libbpf_num_possible_cpus(), ret;
	struct pr_counter *v;

	if (ncpus <= 0)
		return -1;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return -1;
	v[0] = *sum;
	ret = bpf_map_update_elem(fd, &key, v, BPF_ANY) ? -1 : 0;
	free(v);
	return ret;
}

static __u64 seq_read(int rule_stats_fd)
{
	struct pr_counter c;

	return pr_counter_read(rule_stats_fd, PR_RULE_STATS_SEQ, &c) ? 0 : c.packets;
}

static int seq_write(int rule_stats_fd, __u64 seq)
{
	struct pr_counter c = { .packets = seq };

	return slot_write(rule_stats_fd, PR_RULE_STATS_SEQ, &c);
}

int pr_counter_retire(int rule_stats_fd, int stats_fd, __u32 key)
{
	struct pr_counter moving, retired;
	__u64 seq;
	int ret = -1, saved;

	if (pr_counter_read(stats_fd, key, &moving))
		return -1;
	if (!moving.packets && !moving.bytes)
		return 0;
	if (pr_counter_read(rule_stats_fd, PR_RULE_STATS_RETIRED, &retired))
		return -1;
	seq = seq_read(rule_stats_fd) | 1;
	if (seq_write(rule_stats_fd, seq))
		return -1;
	retired.packets += moving.packets;
	retired.bytes += moving.bytes;
	if (!slot_write(rule_stats_fd, PR_RULE_STATS_RETIRED, &retired) &&
	    !pr_percpu_clear(stats_fd, key, sizeof(struct pr_counter)))
		ret = 0;
	saved = errno;
	seq_write(rule_stats_fd, seq + 1);
	errno = saved;
	return ret;
}

struct rule_sum {
	int stats_fd;
	struct pr_counter sum;
};

static int add_rule(const struct pr_rule_spec *rule, void *p)
{
	struct rule_sum *rs = p;
	struct pr_counter c;

	if (!pr_counter_read(rs->stats_fd, PR_RULE_KEY(rule->proto, rule->first), &c)) {
		rs->sum.packets += c.packets;
		rs->sum.bytes += c.bytes;
	}
	return 0;
}

/* What the rules counted, live and retired: the rewrites among the frames passed. */
static void rules_counted(const struct pr_maps *m, const struct pr_rule_table *rules,
			  const struct pr_scope_table *scoped, struct pr_counter *sum)
{
	struct rule_sum rs = { .stats_fd = m->rule_stats };
	struct pr_counter c;

	if (!pr_counter_read(m->rule_stats, PR_RULE_STATS_RETIRED, &c))
		rs.sum = c;
	if (rules)
		pr_rule_table_foreach(rules, add_rule, &rs);
	for (__u32 id = 1; scoped && id < PR_MAX_SCOPED_RULES; id++) {
		if (scoped->r[id].used && !pr_counter_read(m->scope_stats, id, &c)) {
			rs.sum.packets += c.packets;
			rs.sum.bytes += c.bytes;
		}
	}
	*sum = rs.sum;
}

void pr_action_totals_read(const struct pr_maps *m, const struct pr_rule_table *rules,
			   struct pr_counter c[PR_ACTION_SLOTS], bool have[PR_ACTION_SLOTS])
{
	struct pr_scope_table *scoped = NULL;
	struct pr_counter counted = { 0 };
	struct pr_errbuf ignored;

	if (m->scope_rules >= 0 && m->scope_stats >= 0)
		pr_scopes_read_new(m, &scoped, &ignored);
	for (int try = 0; try < READ_TRIES; try++) {
		__u64 seq = seq_read(m->rule_stats);

		for (__u32 a = 0; a < PR_ACTION_SLOTS; a++)
			have[a] = !pr_counter_read(m->action_stats, a, &c[a]);
		rules_counted(m, rules, scoped, &counted);
		if (!(seq & 1) && seq == seq_read(m->rule_stats))
			break;
		usleep(1000);
	}
	free(scoped);
	if (have[XDP_PASS]) {
		c[XDP_PASS].packets += counted.packets;
		c[XDP_PASS].bytes += counted.bytes;
	}
}
