// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-portredir's data path: rewrite the destination port of UDP and TCP
 * packets that match a rule, keeping the L4 checksum right. It never drops:
 * whatever it cannot parse, or must not touch (fragments after the first,
 * malformed headers), passes unchanged.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "portredir_abi.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"

/* libxdp reads this to place the program in the dispatcher's chain. */
struct {
	__uint(priority, PR_DEFAULT_PRIORITY);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_portredir);

static __always_inline void pr_count(struct pr_counter *c, __u64 bytes)
{
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Returns the checksum field's new value for a port change old -> new. */
static __always_inline __u16 pr_l4_check(const struct pr_pkt *pkt, __u16 check,
					 __u16 old, __u16 new)
{
	/* IPv4 UDP may carry no checksum at all (0); it must stay that way. */
	if (pkt->proto == PR_PROTO_UDP && !pkt->ipv6 && check == 0)
		return 0;
	check = pr_csum_replace16(check, old, new);
	/* For UDP, 0 on the wire means "no checksum"; the same value is 0xffff. */
	if (pkt->proto == PR_PROTO_UDP && check == 0)
		check = 0xffff;
	return check;
}

/*
 * Leaves the facts the TC ingress program needs to redo the checksum update
 * on the skb. Returns nothing: where metadata is unsupported (some native
 * drivers), frames come straight from the wire with complete checksums, and
 * the update already made here is the right one.
 */
static __always_inline void pr_leave_meta(struct xdp_md *ctx, __be16 old_port, __u16 old_check)
{
	struct pr_meta *meta;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return;
	meta->magic = PR_META_MAGIC;
	meta->old_port = old_port;
	meta->old_check = old_check;
	meta->pad = 0;
}

/* Returns true if the packet was rewritten, with the port and checksum it had. */
static __always_inline bool pr_rewrite(struct pr_pkt *pkt, __u64 bytes, __be16 *old_port,
				       __u16 *old_check)
{
	/* Both headers put the destination port at offset 2. */
	__be16 *dport = pkt->l4 + 2;
	__u16 *check;
	struct pr_rule *rule;
	__u32 key;
	__be16 old;

	key = PR_RULE_KEY(pkt->proto, bpf_ntohs(*dport));
	rule = bpf_map_lookup_elem(&pr_rules, &key);
	if (!rule || !rule->to_port)
		return false;

	if (pkt->proto == PR_PROTO_UDP)
		check = &((struct udphdr *)pkt->l4)->check;
	else
		check = &((struct tcphdr *)pkt->l4)->check;

	old = *dport;
	*old_port = old;
	*old_check = *check;
	*dport = rule->to_port;
	*check = pr_l4_check(pkt, *check, old, rule->to_port);

	key = PR_RULE_KEY(pkt->proto, rule->first_port);
	pr_count(bpf_map_lookup_elem(&pr_rule_stats, &key), bytes);
	return true;
}

SEC("xdp")
int xdp_portredir(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u64 bytes = data_end - data;
	struct pr_pkt pkt;
	__u32 action = XDP_PASS;
	__be16 old_port;
	__u16 old_check;

	if (pr_parse(data, data_end, &pkt) == PR_PARSE_OK &&
	    pr_rewrite(&pkt, bytes, &old_port, &old_check))
		pr_leave_meta(ctx, old_port, old_check);

	pr_count(bpf_map_lookup_elem(&pr_action_stats, &action), bytes);
	return action;
}

#include "csum_fixup.h"

char _license[] SEC("license") = "GPL";
