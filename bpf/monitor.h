/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events for `xdp-portredir monitor`. The hot path reads one global
 * (pr_monitoring) and branches; the lease (struct pr_monitor_cfg) is asked,
 * and everything else runs, only while that is set.
 */
#ifndef PR_MONITOR_H
#define PR_MONITOR_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "portredir_abi.h"
#include "maps.h"
#include "parse.h"

/*
 * Nonzero while a monitor may be running: a hint, so the hot path pays one
 * load for it where the lease's map lookup costs a call. Defined with the
 * data path's other switches (portredir.bpf.c); the TC part, linked into the
 * same object, shares it.
 */
extern volatile __u32 pr_monitoring;

static __always_inline struct pr_monitor_cfg *pr_monitor_on(void)
{
	struct pr_monitor_cfg *cfg;

	if (!pr_monitoring)
		return NULL;
	cfg = bpf_map_lookup_elem(&pr_monitor, &pr_key_zero);
	if (!cfg || !cfg->deadline_ns) {
		/* No lease: a monitor ended without switching this instance off. */
		pr_monitoring = 0;
		return NULL;
	}
	return cfg;
}

/* Packs what an event says about the change into one argument (BPF calls take five). */
#define PR_EVENT_CHANGE(kind, old_port, new_port)                                         \
	((__u64)(kind) << 32 | (__u64)(__u16)(old_port) << 16 | (__u64)(__u16)(new_port))

static __noinline int pr_monitor_emit(struct pr_monitor_cfg *cfg, const struct pr_pkt *pkt,
				      __u32 ifindex, __u32 len, __u64 change)
{
	__be16 old_port = (__be16)(change >> 16), new_port = (__be16)change;
	__u32 kind = (__u32)(change >> 32);
	__u64 now = bpf_ktime_get_coarse_ns();
	struct pr_monitor_pcpu *pcpu;
	struct pr_event *ev;
	__u32 zero = 0;

	if (!cfg || !pkt)
		return 0;
	if (now > cfg->deadline_ns) {
		/* The monitor went away without saying so: stop paying for it. */
		cfg->deadline_ns = 0;
		pr_monitoring = 0;
		return 0;
	}
	if ((cfg->ifindex && cfg->ifindex != ifindex) ||
	    (cfg->proto_mask && !(cfg->proto_mask & (1U << pkt->proto))) ||
	    (cfg->port && cfg->port != bpf_ntohs(old_port) && cfg->port != bpf_ntohs(new_port)))
		return 0;
	pcpu = bpf_map_lookup_elem(&pr_monitor_pcpu, &zero);
	if (!pcpu)
		return 0;
	if (cfg->sample > 1 && pcpu->seen++ % cfg->sample)
		return 0;

	ev = bpf_ringbuf_reserve(&pr_events, sizeof(*ev), 0);
	if (!ev) {
		pcpu->dropped++;
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = bpf_ktime_get_ns();
	ev->ifindex = ifindex;
	ev->len = len;
	ev->kind = (__u8)kind;
	ev->proto = pkt->proto;
	ev->ipv6 = pkt->ipv6;
	ev->sport = ((__be16 *)pkt->l4)[0];
	ev->dport = ((__be16 *)pkt->l4)[1];
	ev->old_port = old_port;
	ev->new_port = new_port;
	pr_pkt_addrs(pkt, ev->saddr, ev->daddr);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

#endif /* PR_MONITOR_H */
