// SPDX-License-Identifier: GPL-2.0
/*
 * The words spelled once in lib/vocab.c and bpf/portredir_abi.h agree with
 * the BPF object they describe: every map name names a map of the object,
 * and the object's XDP_RUN_CONFIG holds the defaults userspace assumes.
 */
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "check.h"
#include "object.h"
#include "vocab.h"
#include "portredir.skel.h"

static void map_named(struct portredir_bpf *skel, const char *name)
{
	char what[64];

	snprintf(what, sizeof(what), "map-name/%s", name);
	check(bpf_object__find_map_by_name(skel->obj, name) != NULL, what,
	      "the object has no map called %s", name);
}

static void round_trip(unsigned int mask, const char *want)
{
	unsigned int back = ~0U;
	char buf[96], what[64];

	pr_chain_format(mask, buf, sizeof(buf));
	snprintf(what, sizeof(what), "chain/format '%s'", want);
	check(!strcmp(buf, want), what, "got '%s'", buf);
	snprintf(what, sizeof(what), "chain/parse '%s'", want);
	check(!pr_chain_parse(buf, &back) && back == mask, what, "got %#x, want %#x", back, mask);
}

int main(void)
{
	struct xdp_program *prog;
	struct portredir_bpf *skel;
	unsigned int chain = 0;
	struct pr_errbuf err;

	skel = pr_object_open(NULL, &err);
	if (!check(skel != NULL, "object/open", "%s", err.msg))
		return check_summary();
	map_named(skel, PR_MAP_RULES);
	map_named(skel, PR_MAP_RULE_STATS);
	map_named(skel, PR_MAP_ACTION_STATS);
	map_named(skel, PR_MAP_IFACES);
	map_named(skel, PR_MAP_FLOWS);
	map_named(skel, PR_MAP_PORT_FLAGS);
	map_named(skel, PR_MAP_REPLY_STATS);
	map_named(skel, PR_MAP_MONITOR);
	map_named(skel, PR_MAP_MONITOR_PCPU);
	map_named(skel, PR_MAP_EVENTS);
	map_named(skel, PR_MAP_SCOPE_SETS);
	map_named(skel, PR_MAP_SCOPE_STATS);
	map_named(skel, PR_MAP_SCOPE_RULES);
	check(bpf_map__max_entries(skel->maps.pr_flows) == PR_FLOW_TABLE_DEFAULT,
	      "limits/flow-table-default", "the object's pr_flows has %u entries, want %d",
	      bpf_map__max_entries(skel->maps.pr_flows), PR_FLOW_TABLE_DEFAULT);
	check(PR_FLOW_TABLE_MIN <= PR_FLOW_TABLE_DEFAULT && PR_FLOW_TABLE_DEFAULT <= PR_FLOW_TABLE_MAX,
	      "limits/flow-table-default-in-range", "%d not in %d-%d", PR_FLOW_TABLE_DEFAULT,
	      PR_FLOW_TABLE_MIN, PR_FLOW_TABLE_MAX);

	prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
	if (check(!libxdp_get_error(prog), "run-config/read", "libxdp cannot read the object")) {
		for (unsigned int a = XDP_ABORTED; a <= XDP_REDIRECT; a++)
			if (xdp_program__chain_call_enabled(prog, a))
				chain |= 1U << a;
		check(chain == PR_CHAIN_OBJECT, "run-config/chain-call", "object %#x, vocab %#x",
		      chain, PR_CHAIN_OBJECT);
		check(xdp_program__run_prio(prog) == PR_DEFAULT_PRIORITY, "run-config/priority",
		      "object %u, abi %d", xdp_program__run_prio(prog), PR_DEFAULT_PRIORITY);
		xdp_program__close(prog);
	}
	portredir_bpf__destroy(skel);

	round_trip(0, "none");
	round_trip(1U << XDP_PASS, "pass");
	round_trip((1U << XDP_DROP) | (1U << XDP_PASS), "drop,pass");
	round_trip(0x1f, "aborted,drop,pass,tx,redirect");
	check(!strcmp(pr_mode_name(PR_MODE_SKB), "skb") && !strcmp(pr_mode_name(PR_MODE_NATIVE), "native") &&
		      !strcmp(pr_mode_name(PR_MODE_ANY), "any"),
	      "mode/names", "skb, native, any");
	for (const struct pr_enum_val *v = pr_mode_values; v->name; v++) {
		char what[64];

		snprintf(what, sizeof(what), "mode/table-name %s", v->name);
		check(!strcmp(pr_mode_name((enum pr_mode)v->value), v->name), what,
		      "pr_mode_name says '%s'", pr_mode_name((enum pr_mode)v->value));
	}
	check(!strcmp(pr_xdp_action_name(XDP_PASS), "XDP_PASS") &&
		      !strcmp(pr_xdp_action_name(99), "XDP_UNKNOWN"),
	      "action/names", "XDP_PASS, XDP_UNKNOWN");
	return check_summary();
}
