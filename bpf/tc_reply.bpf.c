// SPDX-License-Identifier: GPL-2.0
/*
 * TC egress: reply translation. A client that sent to port 7999 expects its
 * answers from 7999, but the server (moved to 7998 by the XDP rewrite)
 * answers from 7998. For every packet leaving the interface whose source
 * port some recorded flow uses as its server port, look the flow up and, if
 * it is there, put the original port back, keeping the checksum right with
 * bpf_l4_csum_replace (which also handles checksums still pending offload).
 *
 * It also notes connections local sockets open from a rule's port (the
 * PR_FLOW_LOCAL entries), so the XDP program can leave their replies alone.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "portredir_abi.h"
#include "maps.h"
#include "parse.h"
#include "flows.h"
#include "monitor.h"
#include "rule_read.h"

static __always_inline void pr_note_local(const struct pr_pkt *pkt, __be16 sport, __be16 dport,
					  __u64 *port_flags)
{
	struct pr_flow_key key;
	struct pr_flow *flow;

	if (!pr_flow_key_make(&key, pkt, true, sport, dport, PR_FLOW_LOCAL))
		return;
	if (pr_tcp_flags(pkt) & PR_TCP_RST) {
		bpf_map_delete_elem(&pr_flows, &key);
		return;
	}
	flow = bpf_map_lookup_elem(&pr_flows, &key);
	if (flow) {
		pr_flow_touch(flow, bpf_ktime_get_coarse_ns());
		return;
	}
	pr_flow_insert(&key, sport, bpf_ktime_get_coarse_ns());
	pr_port_flag_set(port_flags, PR_PORT_LOCAL_SRC);
}

/* Does this reply end its TCP flow (so the entry can go)? */
static __always_inline bool pr_tcp_reply_ends_flow(const struct pr_pkt *pkt, struct pr_flow *flow)
{
	__u8 flags = pr_tcp_flags(pkt);
	const __u64 both = PR_FLOW_F_CLIENT_FIN | PR_FLOW_F_SERVER_FIN;

	if (flags & PR_TCP_RST)
		return true;
	if (flags & PR_TCP_FIN)
		return __sync_fetch_and_or(&flow->flags, PR_FLOW_F_SERVER_FIN) &
		       PR_FLOW_F_CLIENT_FIN;
	/* Both sides have closed: this acknowledges the client's FIN. */
	return (flow->flags & both) == both;
}

/*
 * What follows a parse, as a global function: see pr_pkt_at(). Inlined, it
 * was checked once per way the parse can end (260k verifier steps).
 */
__noinline int pr_reply_at(struct __sk_buff *skb, __u32 l3_off, __u32 l4_off, __u32 kind)
{
	struct pr_monitor_cfg *mon;
	struct pr_flow_key key;
	struct pr_flow *flow;
	struct pr_rule rule;
	struct pr_pkt pkt;
	__u32 idx, csum_off, sport_off;
	__u64 *port_flags;
	__be16 sport, dport, orig;
	__u64 flags = sizeof(__u16);
	bool ends = false;

	if (!pr_pkt_at(&pkt, (void *)(long)skb->data, (void *)(long)skb->data_end, l3_off, l4_off,
		       kind))
		return PR_TC_NEXT;
	sport = ((__be16 *)pkt.l4)[0];
	dport = ((__be16 *)pkt.l4)[1];
	idx = PR_RULE_KEY(pkt.proto, bpf_ntohs(sport));
	port_flags = bpf_map_lookup_elem(&pr_port_flags, &idx);
	if (!port_flags)
		return PR_TC_NEXT;
	if (pr_rule_read(&idx, &rule))
		pr_note_local(&pkt, sport, dport, port_flags);
	if (!(*port_flags & PR_PORT_REPLY))
		return PR_TC_NEXT;

	if (!pr_flow_key_make(&key, &pkt, false, dport, sport, PR_FLOW_REDIRECT))
		return PR_TC_NEXT;
	flow = bpf_map_lookup_elem(&pr_flows, &key);
	if (!flow)
		return PR_TC_NEXT;
	orig = flow->orig_port;
	if (pkt.proto == PR_PROTO_TCP)
		ends = pr_tcp_reply_ends_flow(&pkt, flow);
	else
		pr_flow_touch(flow, bpf_ktime_get_coarse_ns());

	mon = pr_monitor_on();
	if (mon)
		pr_monitor_emit(mon, &pkt, skb->ifindex, skb->len,
				PR_EVENT_CHANGE(PR_EVENT_REPLY, sport, orig));

	sport_off = l4_off;
	if (pkt.proto == PR_PROTO_UDP) {
		csum_off = sport_off + offsetof(struct udphdr, check);
		flags |= BPF_F_MARK_MANGLED_0;
	} else {
		csum_off = sport_off + offsetof(struct tcphdr, check);
	}
	if (bpf_l4_csum_replace(skb, csum_off, sport, orig, flags) ||
	    bpf_skb_store_bytes(skb, sport_off, &orig, sizeof(orig), 0))
		return PR_TC_NEXT;
	if (ends) {
		bpf_map_delete_elem(&pr_flows, &key);
		/* And its index by the original port (flows.h). */
		key.kind = PR_FLOW_FORWARD;
		key.server_port = orig;
		bpf_map_delete_elem(&pr_flows, &key);
	}

	idx = 0;
	{
		struct pr_counter *c = bpf_map_lookup_elem(&pr_reply_stats, &idx);

		if (c) {
			c->packets++;
			c->bytes += skb->len;
		}
	}
	return PR_TC_NEXT;
}

SEC("tc")
int tc_portredir_out(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct pr_pkt pkt;
	int ret;

	ret = pr_parse(data, data_end, &pkt);
	if (ret == PR_PARSE_MALFORMED && skb->len > data_end - data) {
		/* Headers not all in the linear area: pull them in and retry once. */
		if (bpf_skb_pull_data(skb, skb->len < 256 ? skb->len : 256))
			return PR_TC_NEXT;
		data_end = (void *)(long)skb->data_end;
		data = (void *)(long)skb->data;
		ret = pr_parse(data, data_end, &pkt);
	}
	if (ret != PR_PARSE_OK)
		return PR_TC_NEXT;
	return pr_reply_at(skb, pkt.l3_off, pkt.l4_off, pr_pkt_kind(&pkt));
}

char _license[] SEC("license") = "GPL";
