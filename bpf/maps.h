/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps of xdp-portredir. All are pinned by name under the tool's own pin
 * directory (userspace passes it as the object's pin root), so every
 * interface the program is loaded on shares one rule table and one set of
 * counters, and the rules outlive the process that wrote them.
 */
#ifndef PR_MAPS_H
#define PR_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "portredir_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PR_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct pr_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_rules __weak SEC(".maps");

/* Keyed like pr_rules, by the rule's first port: one slot per rule. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PR_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct pr_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_rule_stats __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PR_ACTION_SLOTS);
	__type(key, __u32);
	__type(value, struct pr_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_action_stats __weak SEC(".maps");

/* Redirected flows (and local connections from rule ports), for replies. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PR_FLOW_TABLE_DEFAULT); /* load --flow-table-size */
	__type(key, struct pr_flow_key);
	__type(value, struct pr_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_flows __weak SEC(".maps");

/* Per (protocol, port) hints that keep the common paths to one array read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PR_RULE_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_port_flags __weak SEC(".maps");

/* Replies whose source port the egress program restored. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pr_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_reply_stats __weak SEC(".maps");

/* The monitor's switch, filters and drop count: see struct pr_monitor_cfg. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pr_monitor_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_monitor __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pr_monitor_pcpu);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_monitor_pcpu __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PR_EVENTS_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_events __weak SEC(".maps");

/* Scoped rules: the sets the data path scans (see struct pr_scope_set). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PR_SCOPE_SETS);
	__type(key, __u32);
	__type(value, struct pr_scope_set);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_scope_sets __weak SEC(".maps");

/* Per scoped rule (by id) packet and byte counters. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PR_MAX_SCOPED_RULES);
	__type(key, __u32);
	__type(value, struct pr_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_scope_stats __weak SEC(".maps");

/* The scoped rules as set (userspace only; the sets are compiled from them). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PR_MAX_SCOPED_RULES);
	__type(key, __u32);
	__type(value, struct pr_scope_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_scope_rules __weak SEC(".maps");

/* Userspace bookkeeping of where the tool is loaded; no program touches it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PR_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct pr_iface_rec);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pr_ifaces __weak SEC(".maps");

/*
 * Constant keys, in .rodata: a lookup takes a pointer to its key, and one
 * into .rodata is one instruction where a key stored on the stack is three.
 */
static const __u32 pr_key_zero = 0;
static const __u32 pr_key_pass = XDP_PASS;

#endif /* PR_MAPS_H */
