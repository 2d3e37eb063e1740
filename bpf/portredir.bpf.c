// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-portredir's data path: rewrite the destination port of UDP and TCP
 * packets that match a rule, keeping the L4 checksum right. It never drops:
 * whatever it cannot parse, or must not touch (fragments after the first,
 * malformed headers), passes unchanged.
 *
 * Every read and write stays between data and data_end, the first buffer of
 * a multi-buffer (jumbo) frame, where the headers are; so the loader may
 * declare frags support (lib/frags.h) and the program runs unchanged.
 *
 * The TC programs that go with it are in tc_csum_fixup.bpf.c (ingress) and
 * tc_reply.bpf.c (egress); the Makefile links the three into one object.
 * The TC hold at the end of this file is the same rewrite on the skb, for
 * the moment a mode change leaves no XDP program attached.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "portredir_abi.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "flows.h"
#include "monitor.h"
#include "scope.h"
#include "rule_read.h"

/*
 * Per loaded instance (set before load): false with --no-reply-translation,
 * and the verifier then drops the flow bookkeeping altogether.
 */
const volatile bool pr_record_flows = true;

/*
 * Per loaded instance: false with --no-action-totals. The per-action totals
 * (pr_action_stats) count the frames no rule counter counts: misses, non-IP
 * frames, packets of drained flows. A rewrite counts once, in its rule's
 * counter, and userspace adds those to the XDP_PASS total (lib/totals.c):
 * one counter per hit, not two. The rest is most of what a miss or a non-IP
 * frame costs, and the program always passes, so those totals repeat the
 * interface's own receive counters; a user may do without them.
 */
const volatile bool pr_action_totals = true;

/*
 * Per loaded instance, set by `unload --drain` on the running program: no
 * new flows, only those already in pr_flows keep being redirected. A global
 * costs one load on the hit path, where a per-interface map would cost a
 * lookup.
 */
volatile __u32 pr_draining;

/*
 * Per loaded instance: nonzero while a monitor may be running (monitor.h).
 * `monitor` sets it in every attached instance when it starts and with each
 * renewal of its lease (lib/attach.c sets it in an instance loaded under a
 * live lease), and clears it when it ends; the program clears its own when
 * it finds no lease, or one run out (monitor.h). After pr_draining:
 * userspace writes each by its offset, and an older instance's .bss holds
 * pr_draining alone.
 */
volatile __u32 pr_monitoring;

/*
 * Per loaded instance: a nonzero mark (lib/object.c draws it at open) that
 * tells this instance's metadata from another's. While apply swaps an old
 * instance for a new one, both sit in one dispatcher for a moment; a packet
 * the one ahead rewrote must not follow a rule chain again in the other.
 * The same instance meeting its own mark is a frame run again (test runs
 * repeat one buffer), not a second instance.
 */
const volatile __u16 pr_instance;

static __always_inline void pr_count(struct pr_counter *c, __u64 bytes)
{
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Returns the checksum field's new value for a port change (delta: pr_csum_delta()). */
static __always_inline __u16 pr_l4_check(__u8 proto, bool ipv6, __u16 check, __u16 delta)
{
	if (proto == PR_PROTO_TCP)
		return pr_csum_apply(check, delta);
	/* Never 0, which UDP reserves for "no checksum": see pr_csum_sub(). */
	if (check != 0)
		return pr_csum_sub(check, delta);
	/*
	 * IPv4 UDP may carry no checksum at all; it must stay that way. IPv6
	 * UDP always carries one (RFC 8200), and 0xffff is the same number as 0.
	 */
	return ipv6 ? pr_csum_sub(0, delta) ?: 0xffff : 0;
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
	void *end;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return;
	/*
	 * The stores go through the bounds-checked end, at negative offsets:
	 * left to itself, clang keeps both meta and its end in registers.
	 */
	end = (void *)(long)ctx->data_meta + sizeof(*meta);
	asm volatile("" : "+r"(end));
	if (end > (void *)(long)ctx->data)
		return;
	meta = end - sizeof(*meta);
	meta->magic = PR_META_MAGIC;
	meta->old_port = old_port;
	meta->old_check = old_check;
	meta->instance = pr_instance;
}

/*
 * Does the packet carry the metadata another instance's pr_leave_meta() left?
 * data: the frame's start, ctx->data.
 */
static __always_inline bool pr_already_rewritten(struct xdp_md *ctx, void *data)
{
	struct pr_meta *meta = (void *)(long)ctx->data_meta;

	/* The common frame carries no metadata at all: one compare. */
	if ((void *)meta >= data)
		return false;
	/* Else clang would fold the test above into this one. */
	asm volatile("" : "+r"(meta));
	if ((void *)(meta + 1) > data)
		return false;
	return meta->magic == PR_META_MAGIC && meta->instance != pr_instance;
}

/*
 * Is this packet coming back to a connection a local socket opened from its
 * destination port? Asked only for ports where the egress program saw such a
 * socket, so the common hit path pays one array read for it.
 */
static __always_inline bool pr_is_local_reply(const struct pr_pkt *pkt, __be16 dport)
{
	struct pr_flow_key key;

	if (!pr_flow_key_make(&key, pkt, false, dport, *(__be16 *)pkt->l4, PR_FLOW_LOCAL))
		return false;
	return bpf_map_lookup_elem(&pr_flows, &key) != NULL;
}

/* Makes sure a UDP flow is in pr_flows, through the per-CPU cache (flows.h). */
static __always_inline void pr_udp_flow_note(struct pr_flow_key *key, __be16 orig_port,
					     __be16 new_port, __u32 ifindex)
{
	__u32 idx = pr_flow_cache_slot_of(key);
	struct pr_flow_cache_slot *slot = bpf_map_lookup_elem(&pr_flow_cache, &idx);
	bool cached = pr_flow_cache_holds(slot, key, orig_port);
	struct pr_flow *flow;
	__u64 now;

	if (cached && ++slot->hits % PR_FLOW_CACHE_RECHECK)
		return;
	now = bpf_ktime_get_coarse_ns();
	if (cached && now - slot->checked_ns < PR_FLOW_REFRESH_NS)
		return;

	flow = bpf_map_lookup_elem(&pr_flows, key);
	if (flow) {
		flow->orig_port = orig_port;
		pr_flow_touch(flow, now);
	} else {
		pr_flow_insert_redirect(key, orig_port, ifindex, now);
		pr_port_flag_set(pr_port_flags_of(PR_PROTO_UDP, new_port), PR_PORT_REPLY);
	}
	if (slot) {
		__builtin_memcpy(&slot->key, key, sizeof(*key));
		slot->orig_port = orig_port;
		slot->checked_ns = now;
		slot->hits = 0;
	}
}

/*
 * Records a rewritten packet's flow for the egress program. TCP pays only on
 * SYN, FIN and RST; an established segment costs one flag test. UDP has no
 * handshake, so every datagram looks its flow up (and refreshes it at most
 * once a second).
 */
static __always_inline void pr_flow_note(const struct pr_pkt *pkt, __be16 orig_port,
					 __be16 new_port, __u32 ifindex)
{
	__be16 sport = *(__be16 *)pkt->l4;
	struct pr_flow_key key;
	struct pr_flow *flow;
	__u8 tcp_flags = 0;

	if (pkt->proto == PR_PROTO_TCP) {
		tcp_flags = pr_tcp_flags(pkt);
		if (!(tcp_flags & (PR_TCP_SYN | PR_TCP_FIN | PR_TCP_RST)))
			return;
	}
	if (!pr_flow_key_make(&key, pkt, true, sport, new_port, PR_FLOW_REDIRECT))
		return;
	if (tcp_flags & PR_TCP_RST) {
		bpf_map_delete_elem(&pr_flows, &key);
		key.kind = PR_FLOW_FORWARD;
		key.server_port = orig_port;
		bpf_map_delete_elem(&pr_flows, &key);
		return;
	}
	if (tcp_flags & PR_TCP_FIN) {
		flow = bpf_map_lookup_elem(&pr_flows, &key);
		if (flow)
			__sync_fetch_and_or(&flow->flags, PR_FLOW_F_CLIENT_FIN);
		return;
	}
	if (pkt->proto == PR_PROTO_UDP) {
		pr_udp_flow_note(&key, orig_port, new_port, ifindex);
		return;
	}
	if (tcp_flags & PR_TCP_ACK)
		return; /* a SYN-ACK is not a new connection */
	pr_flow_insert_redirect(&key, orig_port, ifindex, bpf_ktime_get_coarse_ns());
	pr_port_flag_set(pr_port_flags_of(pkt->proto, new_port), PR_PORT_REPLY);
}

/*
 * The flow-table side of a rule hit or a drain mark, taken only when the
 * port's flags (or a draining interface, or a mark) ask for it, so the
 * common hit pays one flag test. Returns 0 if the packet must pass
 * unchanged, else the target port (network order) with PR_FOLLOWS set when
 * it came from a recorded flow rather than the rule.
 */
#define PR_FOLLOWS (1U << 16)

static __always_inline __u32 pr_flow_decide(const struct pr_pkt *pkt, __be16 dport, __u64 flags,
					    __be16 rule_to)
{
	__be16 to = 0;

	if ((flags & PR_PORT_LOCAL_SRC) && pr_is_local_reply(pkt, dport))
		return 0;
	if (!(flags & PR_PORT_DRAIN) && !pr_draining)
		return rule_to;
	if (pr_flow_follow(pkt, dport, &to))
		return PR_FOLLOWS | to;
	return pr_draining ? 0 : rule_to; /* a draining interface takes no new flows */
}

/*
 * What a rule hit decides (rule: the port's entry, nonzero), for the XDP
 * program and the TC hold alike: 0 if the packet must pass unchanged, else
 * the target port (network order), with PR_FOLLOWS set when it came from a
 * recorded flow. *key is the counter's key: the owning rule's, or a scoped
 * rule's id (then *scoped).
 */
static __always_inline __u32 pr_decide(const struct pr_pkt *pkt, __u32 ifindex, struct pr_rule rule,
				       __u32 *key, bool *scoped)
{
	/* Both headers put the destination port at offset 2. */
	__be16 dport = *(__be16 *)(pkt->l4 + 2);
	__be16 to = rule.to_port;
	__u64 *pf;

	*key = PR_RULE_KEY(pkt->proto, rule.first_port);
	*scoped = false;
	if (rule.scope_set) {
		/* Only ports some scoped rule covers pay for this. */
		__u32 picked = pr_scope_pick(pkt, ifindex, bpf_ntohs(dport), rule.scope_set);

		if (picked) {
			to = (__be16)picked;
			*key = picked >> 16;
			*scoped = true;
		}
	}
	if (!pr_record_flows)
		return to; /* a drain mark (0): no flows to follow without reply translation */
	pf = pr_port_flags_of(pkt->proto, dport);
	if (!pf || (*pf & (PR_PORT_LOCAL_SRC | PR_PORT_DRAIN)) || pr_draining || !to)
		return pr_flow_decide(pkt, dport, pf ? *pf : 0, to);
	return to;
}

/*
 * The general path of a rule hit (rule: the port's entry, nonzero). Returns
 * PR_REWRITTEN_COUNTED if the packet was rewritten and a rule counter
 * counted it, PR_REWRITTEN if it was rewritten for a flow the table
 * follows (no rule's work), with the port and checksum it had in both
 * cases; 0 if not rewritten; -1 if another instance of ours rewrote it
 * already.
 */
enum { PR_REWRITTEN = 1, PR_REWRITTEN_COUNTED = 2 };

static __always_inline int pr_rewrite(struct xdp_md *ctx, struct pr_pkt *pkt, struct pr_rule rule,
				      __u64 bytes, __be16 *old_port, __u16 *old_check)
{
	struct pr_monitor_cfg *mon;
	/* Both headers put the destination port at offset 2. */
	__be16 *dport = pkt->l4 + 2;
	__u32 ifindex = ctx->ingress_ifindex;
	__u16 *check;
	__u32 key, decided;
	bool scoped;
	__be16 old, to;

	/*
	 * Rewritten already by another instance of ours ahead of this one in
	 * a dispatcher (a reload has both attached for a moment): a second
	 * rewrite would follow a chain of rules (A -> B, B -> C) one step too
	 * far. Only a port with a rule can be such a step, so only a hit asks.
	 */
	if (pr_already_rewritten(ctx, (void *)(long)ctx->data))
		return -1;
	if (pkt->proto == PR_PROTO_UDP)
		check = &((struct udphdr *)pkt->l4)->check;
	else
		check = &((struct tcphdr *)pkt->l4)->check;
	/*
	 * The parser proved it; in pr_hit_at()'s global function the verifier
	 * no longer ties the protocol to that proof.
	 */
	if ((void *)(check + 1) > pkt->data_end)
		return 0;
	decided = pr_decide(pkt, ifindex, rule, &key, &scoped);
	to = (__be16)decided;
	if (!to)
		return 0;
	mon = pr_monitor_on();
	if (mon)
		pr_monitor_emit(mon, pkt, ifindex, (__u32)bytes,
				PR_EVENT_CHANGE(PR_EVENT_REDIRECT, *dport, to));

	old = *dport;
	*old_port = old;
	*old_check = *check;
	*dport = to;
	*check = pr_l4_check(pkt->proto, pkt->ipv6, *check, pr_csum_delta(old, to));

	/*
	 * Packets of a drained flow are no longer the current rule's work.
	 * One call site per map: the verifier inlines a lookup only where the
	 * map is known, and a shared one cost a hit 11 ns.
	 */
	if (!(decided & PR_FOLLOWS)) {
		if (scoped)
			pr_count(bpf_map_lookup_elem(&pr_scope_stats, &key), bytes);
		else
			pr_count(bpf_map_lookup_elem(&pr_rule_stats, &key), bytes);
	}
	if (pr_record_flows)
		pr_flow_note(pkt, old, to, ifindex);
	return decided & PR_FOLLOWS ? PR_REWRITTEN : PR_REWRITTEN_COUNTED;
}

/* Counts a frame the program passes as it is, and passes it. */
static __always_inline int pr_pass(struct xdp_md *ctx)
{
	if (!pr_action_totals)
		return XDP_PASS;
	/* The whole frame: with frags, data_end ends the first buffer only. */
	pr_count(bpf_map_lookup_elem(&pr_action_stats, &pr_key_pass), bpf_xdp_get_buff_len(ctx));
	return XDP_PASS;
}

/* A rule hit on the general path: the rewrite, the counters, the metadata. */
static __always_inline int pr_hit(struct xdp_md *ctx, const bool with_meta, struct pr_pkt *pkt,
				  __u64 rule_word)
{
	union {
		struct pr_rule rule;
		__u64 word;
	} r = { .word = rule_word };
	/* The whole frame: with frags, data_end ends the first buffer only. */
	__u64 bytes = bpf_xdp_get_buff_len(ctx);
	__be16 old_port;
	__u16 old_check;
	int ret;

	ret = pr_rewrite(ctx, pkt, r.rule, bytes, &old_port, &old_check);
	/* The instance that rewrote it counted it. */
	if (ret < 0)
		return XDP_PASS;
	if (ret != PR_REWRITTEN_COUNTED && pr_action_totals)
		pr_count(bpf_map_lookup_elem(&pr_action_stats, &pr_key_pass), bytes);
	/* Last: it moves data, so no packet pointer is used after it. */
	if (ret && with_meta)
		pr_leave_meta(ctx, old_port, old_check);
	return XDP_PASS;
}

/* A hit on the general path, from the headers' offsets: see pr_pkt_at(). */
static __always_inline int pr_hit_at(struct xdp_md *ctx, const bool with_meta, __u32 l3_off,
				     __u32 l4_off, __u32 kind, __u64 rule_word)
{
	struct pr_pkt pkt;

	if (!pr_pkt_at(&pkt, (void *)(long)ctx->data, (void *)(long)ctx->data_end, l3_off, l4_off,
		       kind))
		return pr_pass(ctx);
	return pr_hit(ctx, with_meta, &pkt, rule_word);
}

/* Global, not static: see pr_hit_at(). One copy per entry point, so the one
 * without metadata holds no bpf_xdp_adjust_meta call.
 */
__noinline int pr_hit_at_m(struct xdp_md *ctx, __u32 l3_off, __u32 l4_off, __u32 kind,
			   __u64 rule_word)
{
	return pr_hit_at(ctx, true, l3_off, l4_off, kind, rule_word);
}

__noinline int pr_hit_at_n(struct xdp_md *ctx, __u32 l3_off, __u32 l4_off, __u32 kind,
			   __u64 rule_word)
{
	return pr_hit_at(ctx, false, l3_off, l4_off, kind, rule_word);
}

/*
 * The general parser, as a subprogram the fast path below calls for what
 * it does not finish itself: a call keeps its register pressure and stack
 * out of the fast path's code.
 */
static __always_inline int pr_parse_general(struct xdp_md *ctx, const bool with_meta)
{
	struct pr_rule rule;
	struct pr_pkt pkt;
	__u32 key, kind;

	if (pr_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &pkt) != PR_PARSE_OK)
		return pr_pass(ctx);
	/* Both headers put the destination port at offset 2. */
	key = PR_RULE_KEY(pkt.proto, bpf_ntohs(*(__be16 *)(pkt.l4 + 2)));
	if (!pr_rule_word(&key, &rule))
		return pr_pass(ctx);
	kind = pr_pkt_kind(&pkt);
	return with_meta ? pr_hit_at_m(ctx, pkt.l3_off, pkt.l4_off, kind, *(__u64 *)&rule) :
			   pr_hit_at_n(ctx, pkt.l3_off, pkt.l4_off, kind, *(__u64 *)&rule);
}

static __noinline int pr_parse_general_m(struct xdp_md *ctx)
{
	return pr_parse_general(ctx, true);
}

static __noinline int pr_parse_general_n(struct xdp_md *ctx)
{
	return pr_parse_general(ctx, false);
}

/* A hit on plain IPv4 (no options, so the headers at fixed offsets) for the general path. */
static __always_inline int pr_hit_ipv4(struct xdp_md *ctx, const bool with_meta, __u8 proto,
				       __u64 rule_word)
{
	const __u32 l3_off = sizeof(struct ethhdr);
	const __u32 l4_off = l3_off + sizeof(struct iphdr);

	return with_meta ? pr_hit_at_m(ctx, l3_off, l4_off, proto, rule_word) :
			   pr_hit_at_n(ctx, l3_off, l4_off, proto, rule_word);
}

/*
 * The fast path's rewrite of a hit whose target is known: to (network
 * order), with its checksum delta, counted at key in pr_scope_stats
 * (scoped, a constant) or pr_rule_stats. A hit that needs the flow table or the monitor goes on to
 * the general path with the rule word.
 */
static __always_inline int pr_fast_rewrite(struct xdp_md *ctx, const bool with_meta, __be16 *ports,
					   const __u8 proto, __u64 rule_word, __be16 to, __u16 delta,
					   __u32 key, const bool scoped)
{
	__u16 *check = proto == PR_PROTO_UDP ? &((struct udphdr *)ports)->check :
					       &((struct tcphdr *)ports)->check;
	__u16 old_check;
	__u64 bytes, *pf;
	__be16 old;

	if (pr_record_flows) {
		if (pr_draining)
			goto general;
		if (proto == PR_PROTO_TCP &&
		    (((__u8 *)ports)[13] & (PR_TCP_SYN | PR_TCP_FIN | PR_TCP_RST)))
			goto general;
		pf = pr_port_flags_of(proto, ports[1]);
		if (!pf || (*pf & (PR_PORT_LOCAL_SRC | PR_PORT_DRAIN)))
			goto general;
		/* A UDP datagram of a flow the cache knows: see pr_udp_flow_note(). */
		if (proto == PR_PROTO_UDP &&
		    !pr_udp_flow_cached4((void *)ports - sizeof(struct iphdr), ports[0], ports[1], to))
			goto general;
	}
	if (pr_monitoring)
		goto general;
	/* See pr_rewrite(). */
	if (pr_already_rewritten(ctx, (void *)ports - sizeof(struct iphdr) - sizeof(struct ethhdr)))
		return XDP_PASS;

	old = ports[1];
	old_check = *check;
	ports[1] = to;
	/* No store for a UDP field of 0 (no checksum), which stays 0. */
	if (proto == PR_PROTO_TCP || old_check)
		*check = pr_l4_check(proto, false, old_check, delta);

	/*
	 * Before the counters, while old and old_check are still in registers:
	 * it moves data, so no packet pointer is used after it, and the
	 * counters need none.
	 */
	if (with_meta)
		pr_leave_meta(ctx, old, old_check);
	bytes = bpf_xdp_get_buff_len(ctx);
	/* One call site per map: see pr_rewrite(). The totals add it: see pr_action_totals. */
	if (scoped)
		pr_count(bpf_map_lookup_elem(&pr_scope_stats, &key), bytes);
	else
		pr_count(bpf_map_lookup_elem(&pr_rule_stats, &key), bytes);
	return XDP_PASS;

general:
	return pr_hit_ipv4(ctx, with_meta, proto, rule_word);
}

/*
 * The rest of pr_xdp()'s fast path for one protocol (a constant, so each
 * has its own copy with the checksum at a fixed offset).
 */
static __always_inline int pr_fast_l4(struct xdp_md *ctx, const bool with_meta, struct iphdr *iph,
				      __be16 *ports, const __u8 proto)
{
	const struct pr_scope_ent *e;
	__u16 scope_set, delta;
	__be16 to;
	__u32 key;
	__u64 w;

	key = PR_RULE_KEY(proto, bpf_ntohs(ports[1]));
	/*
	 * An all-zero entry is the common miss (one compare); a drain mark
	 * goes on. Read as the word: the general path takes it whole.
	 */
	if (!pr_rule_word64(&key, &w))
		return pr_pass(ctx);
	scope_set = pr_rule_field(w, offsetof(struct pr_rule, scope_set));
	if (scope_set) {
		/* Only ports some scoped rule covers pay for this. */
		e = pr_scope_find4(scope_set, iph, ctx);
		if (e) {
			to = bpf_htons((__u16)(bpf_ntohs(ports[1]) + e->delta));
			/* An entry an older version wrote has no delta. */
			delta = e->csum_delta ?: pr_csum_delta(ports[1], to);
			return pr_fast_rewrite(ctx, with_meta, ports, proto, w, to, delta, e->id,
					       true);
		}
	}
	/*
	 * No rule applies but a drain mark (to_port and csum_delta 0): the flow
	 * table decides. An entry an older version wrote has no delta: the
	 * general path computes it.
	 */
	delta = pr_rule_field(w, offsetof(struct pr_rule, csum_delta));
	if (__builtin_expect(!delta, 0))
		goto general;
	return pr_fast_rewrite(ctx, with_meta, ports, proto, w,
			       (__be16)pr_rule_field(w, offsetof(struct pr_rule, to_port)), delta,
			       PR_RULE_KEY(proto, pr_rule_first_port(w)), false);

general:
	return pr_hit_ipv4(ctx, with_meta, proto, w);
}

/*
 * The data path; with_meta is a compile-time constant, so each entry point
 * below gets its own copy and the one without metadata contains no
 * bpf_xdp_adjust_meta call at all.
 *
 * The common frame takes a fast path, with constant header offsets and
 * little state: Ethernet, IPv4 without options, UDP or TCP. A miss ends
 * there, and so does a hit on a plain rule that needs nothing but the
 * rewrite: no scope, no drain mark, no monitor, nothing the flow table must
 * see (a one-way load, or an established TCP segment of a port without
 * flags). Other hits go on to pr_hit(); VLAN, IPv6 and IPv4 with options to
 * the general parser. Frames no parser wants pass at once.
 */
static __always_inline int pr_xdp(struct xdp_md *ctx, const bool with_meta)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	/* Source and destination port: the first words of both headers. */
	__be16 *ports = (void *)(iph + 1);
	__be16 h_proto;

	/*
	 * Room for a UDP header, the shorter of the two, at once: one check
	 * for the common frame. A shorter one (which the wire pads to 60
	 * bytes anyway) takes the general parser.
	 */
	if ((void *)ports + sizeof(struct udphdr) > data_end)
		goto general;
	/* One 16-bit load: see pr_parse(). */
	h_proto = *(__be16 *)(data + offsetof(struct ethhdr, h_proto));
	if (__builtin_expect(h_proto != bpf_htons(ETH_P_IP), 0)) {
		/*
		 * IPv6, 802.1Q and 802.1ad all have the top bit set: one test
		 * instead of three, so ARP (and any type below 0x8000) passes
		 * at once. The other types from 0x8000 up (MPLS, PPPoE, LLDP)
		 * take the general parser, which passes them.
		 */
		if (h_proto & bpf_htons(0x8000))
			goto general;
		return pr_pass(ctx);
	}
	if (*(__u8 *)iph != 0x45)
		goto general;
	if (iph->frag_off & bpf_htons(PR_IP4_FRAG_OFFSET_MASK))
		return pr_pass(ctx);
	if (iph->protocol == IPPROTO_UDP)
		return pr_fast_l4(ctx, with_meta, iph, ports, PR_PROTO_UDP);
	if (iph->protocol == IPPROTO_TCP) {
		if ((void *)ports + sizeof(struct tcphdr) > data_end)
			return pr_pass(ctx);
		return pr_fast_l4(ctx, with_meta, iph, ports, PR_PROTO_TCP);
	}
	return pr_pass(ctx);

general:
	return with_meta ? pr_parse_general_m(ctx) : pr_parse_general_n(ctx);
}

/* libxdp reads these to place the program in the dispatcher's chain. */
struct {
	__uint(priority, PR_DEFAULT_PRIORITY);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_portredir);

struct {
	__uint(priority, PR_DEFAULT_PRIORITY);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_portredir_n);

/* The program: leaves checksum fix-up metadata for tc_csum_fixup.bpf.c. */
SEC("xdp")
int xdp_portredir(struct xdp_md *ctx)
{
	return pr_xdp(ctx, true);
}

/*
 * The same rewrite without metadata ("_n"), for where no fix-up is needed
 * (hardware NICs: native or automatic mode, frames from the wire with
 * complete checksums; the metadata would cost ~6-10 ns per rewrite) or
 * possible: a kernel that checks whether an extension
 * changes packet data (6.12's changes_pkt_data, decided from the presence of
 * the helper call) refuses xdp_portredir in a libxdp dispatcher older than
 * 1.5.5, whose slots do not change packet data.
 */
SEC("xdp")
int xdp_portredir_n(struct xdp_md *ctx)
{
	return pr_xdp(ctx, false);
}

/*
 * The hold: TC ingress, attached only while `apply` changes an interface's
 * XDP mode (native <-> skb). The kernel takes no program in one mode while
 * the other has one, so the old XDP program is detached before the new one
 * is attached; in between this program makes the same decision on the skb
 * and rewrites what the XDP program would have, so established connections
 * see no segment at the original port (lib/reload.c). The monitor does not
 * see these packets. Their rules' counters count them, and with those the
 * XDP_PASS total (pr_action_totals): they do pass, rewritten.
 *
 * On the skb, bpf_l4_csum_replace() knows the checksum's state, so no
 * metadata and no fix-up are needed. "?": loaded only by the reload.
 */
static __always_inline int pr_hold(struct __sk_buff *skb, struct pr_pkt *pkt, __u64 rule_word)
{
	union {
		struct pr_rule rule;
		__u64 word;
	} r = { .word = rule_word };
	__u32 ifindex = skb->ingress_ifindex;
	__u64 flags = sizeof(__u16);
	__u32 key, decided, check_off;
	bool scoped;
	__be16 old, to;

	decided = pr_decide(pkt, ifindex, r.rule, &key, &scoped);
	to = (__be16)decided;
	if (!to)
		return PR_TC_NEXT;
	old = *(__be16 *)(pkt->l4 + 2);
	if (!(decided & PR_FOLLOWS)) {
		if (scoped)
			pr_count(bpf_map_lookup_elem(&pr_scope_stats, &key), skb->len);
		else
			pr_count(bpf_map_lookup_elem(&pr_rule_stats, &key), skb->len);
	}
	if (pr_record_flows)
		pr_flow_note(pkt, old, to, ifindex);
	/* Last: the helpers below invalidate every packet pointer. */
	if (pkt->proto == PR_PROTO_UDP) {
		check_off = pkt->l4_off + offsetof(struct udphdr, check);
		flags |= BPF_F_MARK_MANGLED_0;
	} else {
		check_off = pkt->l4_off + offsetof(struct tcphdr, check);
	}
	if (bpf_l4_csum_replace(skb, check_off, old, to, flags))
		return PR_TC_NEXT;
	bpf_skb_store_bytes(skb, pkt->l4_off + 2, &to, sizeof(to), 0);
	return PR_TC_NEXT;
}

/* Global, as pr_hit_at_m(): checked once for any header offsets. */
__noinline int pr_hold_at(struct __sk_buff *skb, __u32 l3_off, __u32 l4_off, __u32 kind,
			  __u64 rule_word)
{
	struct pr_pkt pkt;

	if (!skb || !pr_pkt_at(&pkt, (void *)(long)skb->data, (void *)(long)skb->data_end, l3_off,
			       l4_off, kind))
		return PR_TC_NEXT;
	return pr_hold(skb, &pkt, rule_word);
}

SEC("?tc")
int tc_portredir_hold(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct pr_meta *meta = (void *)(long)skb->data_meta;
	struct pr_rule rule;
	struct pr_pkt pkt;
	__u32 key;

	/*
	 * An XDP program of ours rewrote it: the new one, attached a moment
	 * before this program goes. The fix-up may have run first on a
	 * clsact hook, and it leaves PR_META_DONE.
	 */
	if ((void *)(meta + 1) <= data &&
	    (meta->magic == PR_META_MAGIC || meta->magic == PR_META_DONE))
		return PR_TC_NEXT;
	if (pr_parse(data, data_end, &pkt) != PR_PARSE_OK)
		return PR_TC_NEXT;
	key = PR_RULE_KEY(pkt.proto, bpf_ntohs(*(__be16 *)(pkt.l4 + 2)));
	if (!pr_rule_word(&key, &rule))
		return PR_TC_NEXT;
	return pr_hold_at(skb, pkt.l3_off, pkt.l4_off, pr_pkt_kind(&pkt), *(__u64 *)&rule);
}

char _license[] SEC("license") = "GPL";
