/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the BPF programs and userspace: map layouts and the
 * constants both sides must agree on. Included by bpf/ and lib/ alike, so it
 * only uses fixed-width kernel UAPI types.
 */
#ifndef PORTREDIR_ABI_H
#define PORTREDIR_ABI_H

#include <linux/types.h>

/* Directory under the bpffs mount that holds every pinned map of the tool. */
#define PR_PIN_DIR_NAME "xdp-portredir"

/*
 * The pinned maps' names, as userspace opens them under PR_PIN_DIR_NAME.
 * They must equal the map variables' names in bpf/maps.h (libbpf pins a map
 * under its name); tests/unit/test_vocab.c checks each against the object.
 */
#define PR_MAP_RULES "pr_rules"
#define PR_MAP_RULE_STATS "pr_rule_stats"
#define PR_MAP_ACTION_STATS "pr_action_stats"
#define PR_MAP_IFACES "pr_ifaces"
#define PR_MAP_FLOWS "pr_flows"
#define PR_MAP_PORT_FLAGS "pr_port_flags"
#define PR_MAP_REPLY_STATS "pr_reply_stats"
#define PR_MAP_MONITOR "pr_monitor"
#define PR_MAP_MONITOR_PCPU "pr_monitor_pcpu"
#define PR_MAP_EVENTS "pr_events"
#define PR_MAP_SCOPE_SETS "pr_scope_sets"
#define PR_MAP_SCOPE_STATS "pr_scope_stats"
#define PR_MAP_SCOPE_RULES "pr_scope_rules"

/* Run priority compiled into XDP_RUN_CONFIG. Lower runs first in the libxdp
 * dispatcher; 5 puts the rewrite ahead of xdp-filter (10), the way nftables'
 * dstnat hook runs before its filter hook, so filters see the new port.
 */
#define PR_DEFAULT_PRIORITY 5
/* The highest run priority load and the config file accept. */
#define PR_PRIORITY_MAX 1000

/* Rules are looked up by protocol and destination port in one flat array, so
 * the lookup costs the same for one rule or for every port of both protocols.
 */
enum pr_proto {
	PR_PROTO_UDP = 0,
	PR_PROTO_TCP = 1,
	PR_NUM_PROTOS = 2,
};

#define PR_PORTS 65536U
#define PR_RULE_SLOTS (PR_NUM_PROTOS * PR_PORTS)
#define PR_RULE_KEY(proto, port) (((__u32)(proto) << 16) | (__u32)(port))

/*
 * pr_rule_stats' slots for port 0, which no rule can have, so the data path
 * never counts there. RETIRED holds what removed or reset rules (scoped
 * ones too) counted, for the XDP_PASS total; SEQ is the sequence count that
 * lets readers see a move into it whole. Only userspace writes them
 * (lib/totals.c).
 */
#define PR_RULE_STATS_RETIRED PR_RULE_KEY(PR_PROTO_UDP, 0)
#define PR_RULE_STATS_SEQ PR_RULE_KEY(PR_PROTO_TCP, 0)

/*
 * One entry per (protocol, destination port). A range rule fills one entry
 * per port; all of them carry the range's first port, which names the rule
 * and keys its counters. The entry is 64 bits so the kernel writes it with a
 * single store: a packet sees either the old or the new entry, never half.
 *
 * scope_set is the feature flag of scoped rules (--interface, --dst): 0 for
 * a port no scoped rule covers, which then pays nothing more; otherwise the
 * index of the port's struct pr_scope_set in pr_scope_sets.
 */
struct pr_rule {
	__be16 to_port; /* network byte order; 0: no unscoped rule for this port */
	__u16 first_port; /* host byte order; first port of the owning rule */
	__u16 scope_set; /* 0: no scoped rule covers this port */
	/*
	 * pr_csum_delta(this port, to_port) (bpf/csum.h), so a hit's checksum
	 * update is one add and a fold. 0 where to_port is 0, and in entries
	 * an older version wrote, which the general path then computes itself.
	 */
	__u16 csum_delta;
};

/*
 * Scoped rules. Every port a scoped rule covers points (scope_set above) at
 * a set: the scoped rules of that port, most specific first, so the first
 * entry that matches the packet wins (interface and address, then address,
 * then interface; a longer prefix before a shorter one). Ports with the same
 * scoped rules share a set, so a range costs one set, not one per port.
 * Userspace never rewrites a set a rule entry points at: it writes a new set
 * at a free index, repoints the entries, then clears the old one.
 */
#define PR_SCOPE_SETS 4096 /* index 0 is never used: it means "none" */
#define PR_SCOPE_SET_SIZE 8 /* scoped rules per (protocol, port) */
#define PR_MAX_SCOPED_RULES 1024 /* ids 1..1023; 0 is never a rule */

struct pr_scope_ent {
	/*
	 * An IPv4 packet's (daddr << 32 | ifindex) matches where it equals
	 * key4 in the bits mask4 sets: address and interface in one compare.
	 * An IPv6 entry has mask4 ~0 and ifindex 0 in key4, which no packet
	 * has, so it never matches an IPv4 packet.
	 */
	__u64 key4;
	__u64 mask4;
	__u32 ifindex; /* 0: any interface */
	__u16 to; /* host order: target of the rule's first port; 0: empty entry */
	__u16 first; /* host order: the rule's first port */
	__u16 delta; /* to - first: new port = port + delta (mod 65536) */
	__u16 id; /* the rule's slot in pr_scope_rules and pr_scope_stats */
	__u8 family; /* 0: any address; 4 or 6 */
	__u8 pad;
	/*
	 * pr_csum_delta() of any port of the range and its target (network
	 * order): the same for every port, since the target is the port plus
	 * a constant that never wraps. 0: written by an older version, the
	 * data path computes it.
	 */
	__u16 csum_delta;
	__be32 addr[4]; /* already masked; IPv4 uses [0]; all 0 for family 0 */
	__be32 mask[4]; /* all 0 for family 0: the data path relies on it */
};

struct pr_scope_set {
	__u32 n;
	__u32 pad;
	struct pr_scope_ent e[PR_SCOPE_SET_SIZE];
};

/*
 * A scoped rule as the user gave it (userspace only: the data path reads the
 * compiled sets). The interface is kept by name, so a rule can be set before
 * the interface exists or the tool is loaded on it; ifindex is the name's
 * index when it was last resolved (0: not present then).
 */
struct pr_scope_rule {
	char ifname[16]; /* "": any interface */
	__u32 ifindex;
	__u8 used;
	__u8 proto; /* enum pr_proto */
	__u8 family; /* 0: any address; 4 or 6 */
	__u8 plen;
	__u16 first;
	__u16 last;
	__u16 to;
	__u16 pad;
	__be32 addr[4];
};

/*
 * to_port 0 with first_port set: no rule, but flows that a removed rule
 * redirected may still arrive here (PR_PORT_DRAIN). An all-zero entry stays
 * the one-compare miss.
 */
#define PR_RULE_DRAIN_MARK(port) ((struct pr_rule){ .to_port = 0, .first_port = (port) })

/* Per-CPU packet and byte counters, summed by userspace. */
struct pr_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Left by the XDP program in the packet's metadata area when it rewrites a
 * port, for the TC ingress program that finishes the checksum update on the
 * skb (see bpf/tc_csum_fixup.bpf.c).
 */
#define PR_META_MAGIC 0x5052u /* "PR" */
/* What the fix-up leaves in magic once it has consumed the metadata. */
#define PR_META_DONE 0x7072u /* "pr" */

struct pr_meta {
	__u16 magic;
	__be16 old_port;
	__u16 old_check; /* the L4 checksum field before the XDP program touched it */
	__u16 instance; /* pr_instance of the program that left it (never 0) */
};

/* pr_action_stats has one slot per XDP action (XDP_ABORTED..XDP_REDIRECT). */
#define PR_ACTION_SLOTS 5

/*
 * Reply translation. The XDP program records each redirected flow as the
 * server sees it after the rewrite; the TC egress program finds replies by
 * the same key (addresses and ports swapped back) and restores the port the
 * client asked for. PR_FLOW_LOCAL entries are connections a local socket
 * opened FROM a rule's port: packets coming back to it are replies, not new
 * traffic for the rule, and are left alone (conntrack's reply direction).
 * PR_FLOW_FORWARD entries index the same flows by the port the client asked
 * for, so a flow keeps its target after its rule is removed or changed; they
 * are read only for ports flagged PR_PORT_DRAIN (or on a draining interface).
 */
enum pr_flow_kind {
	PR_FLOW_REDIRECT = 0,
	PR_FLOW_LOCAL = 1,
	PR_FLOW_FORWARD = 2, /* server_port is the original port */
};

struct pr_flow_key {
	__u8 proto; /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 kind; /* enum pr_flow_kind */
	__u8 ipv6;
	__u8 pad;
	__be16 client_port; /* REDIRECT: the remote client; LOCAL: the local socket */
	__be16 server_port; /* REDIRECT: the new port; LOCAL: the remote peer */
	__be32 client_addr[4]; /* IPv4 uses [0], the rest stays 0 */
	__be32 server_addr[4];
};

struct pr_flow {
	__be16 orig_port; /* REDIRECT: the port the client asked for */
	__be16 to_port; /* REDIRECT, FORWARD: the port the flow is sent to */
	__u32 ifindex; /* REDIRECT: the interface it came in on */
	__u64 flags; /* PR_FLOW_F_*; atomic or from XDP and TC (64 bits: BPF ISA v1) */
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns(), refreshed at most every second */
};

#define PR_FLOW_F_CLIENT_FIN (1U << 0)
#define PR_FLOW_F_SERVER_FIN (1U << 1)

/* The flow table's size: the default, and the range load and the config file accept. */
#define PR_FLOW_TABLE_DEFAULT 65536
#define PR_FLOW_TABLE_MIN 256
#define PR_FLOW_TABLE_MAX 16777216
/* A UDP flow counts as live this long after its last packet (conntrack's default). */
#define PR_FLOW_UDP_TIMEOUT_S 30
#define PR_FLOW_REFRESH_NS 1000000000ULL

/* pr_port_flags bits, one __u64 per (protocol, port) like pr_rules. */
#define PR_PORT_REPLY (1U << 0) /* some flow's server port: egress looks up replies */
#define PR_PORT_LOCAL_SRC (1U << 1) /* a local socket sent from this rule port */
/* Flows to this port outlive its rule (removed or changed): look them up. */
#define PR_PORT_DRAIN (1U << 2)

/*
 * Monitor. The data path emits events only while deadline_ns lies in the
 * future: the monitor keeps pushing it forward, so if the monitor dies (even
 * by kill -9) the flag lapses by itself, and the first packet after the
 * deadline clears it, returning the hit path to one branch.
 */
struct pr_monitor_cfg {
	__u64 deadline_ns; /* 0: no monitor; else bpf_ktime_get_coarse_ns() limit */
	__u32 owner_pid; /* the monitor process, so a second one can refuse */
	__u32 ifindex; /* 0: any interface */
	__u32 proto_mask; /* 1 << enum pr_proto; 0: any */
	__u32 port; /* host order; 0: any; matches the original or the new port */
	__u32 sample; /* report one event in `sample` (0 and 1: all) */
};

/* Per CPU, so the monitor can rewrite pr_monitor without losing counts. */
struct pr_monitor_pcpu {
	__u64 seen; /* events that passed the filters, for --sample */
	__u64 dropped; /* events the ring buffer had no room for */
};

#define PR_MONITOR_LEASE_NS 2000000000ULL
#define PR_EVENTS_RING_BYTES (256 * 1024)

enum pr_event_kind {
	PR_EVENT_REDIRECT = 0, /* XDP rewrote a destination port */
	PR_EVENT_REPLY = 1, /* TC egress restored a reply's source port */
};

struct pr_event {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u32 ifindex;
	__u32 len; /* frame length */
	__u8 kind; /* enum pr_event_kind */
	__u8 proto; /* enum pr_proto */
	__u8 ipv6;
	__u8 pad;
	__be16 sport; /* as the packet arrived, before the change */
	__be16 dport;
	__be16 old_port; /* the port before the change */
	__be16 new_port;
	__u32 pad2;
	__be32 saddr[4];
	__be32 daddr[4];
};

/*
 * Where the tool is loaded, written by `load` and read by `status` and
 * `unload`: it outlives an interface that disappears, so status can say so.
 * Only userspace uses this map. Keyed by ifindex.
 */
#define PR_MAX_IFACES 1024

struct pr_iface_rec {
	char name[16]; /* IF_NAMESIZE */
	__u32 xdp_prog_id; /* our XDP program (component id under a dispatcher) */
	__u32 flags; /* PR_IFACE_F_* */
	__u32 priority; /* as requested; only in effect under a dispatcher */
	__u32 chain_actions; /* bitmask of 1 << XDP_* */
	__u32 tc_ingress_prog_id; /* checksum fixup (bpf/tc_csum_fixup.bpf.c) */
	__u32 tc_egress_prog_id; /* reply translation, 0 if not attached */
};

/* Where the tool's TC programs sit: clsact, this handle and priority. */
#define PR_TC_HANDLE 0x7072
#define PR_TC_PRIORITY 1
/* The hold (a mode change's moment without XDP) sits after the fix-up. */
#define PR_TC_HOLD_PRIORITY 2
/*
 * What the TC programs return: no verdict of their own (TC_ACT_UNSPEC, which
 * TCX calls TCX_NEXT), so the programs after them on the hook, TCX links or
 * clsact filters, still run, and with none left the packet goes on.
 * TC_ACT_OK would end the hook's chain there.
 */
#define PR_TC_NEXT (-1)

#define PR_IFACE_F_SKB_MODE (1U << 0)
#define PR_IFACE_F_DISPATCHER (1U << 1)
/* Loaded declaring frags (the kernel tells no one without a dispatcher). */
#define PR_IFACE_F_FRAGS (1U << 2)
/*
 * The dispatcher refused the metadata variant (libxdp < 1.5.5, kernel with
 * the changes_pkt_data check): the one without runs, no checksum fix-up.
 */
#define PR_IFACE_F_META_REFUSED (1U << 3)
/* Loaded with --no-action-totals: pr_action_stats not counted here. */
#define PR_IFACE_F_NO_ACTION_TOTALS (1U << 4)

#endif /* PORTREDIR_ABI_H */
