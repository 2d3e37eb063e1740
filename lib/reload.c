// SPDX-License-Identifier: GPL-2.0
/*
 * Reloading an interface in place (apply): a new instance without a gap, in
 * the same XDP mode or, held by a TC program, in the other.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "attach_impl.h"
#include "frags.h"
#include "object.h"
#include "pins.h"
#include "portredir.skel.h"
#include "tc.h"

/* Swaps a program attached without a dispatcher for new_fd, atomically. */
static int replace_single(const struct pr_iface_state *cur, int new_fd, struct pr_errbuf *err)
{
	int old_fd = bpf_prog_get_fd_by_id(cur->self.id);
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
	__u32 flags = (cur->skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE) | XDP_FLAGS_REPLACE;
	int ret;

	if (old_fd < 0)
		return pr_err_set(err, "cannot get program %u: %s", cur->self.id, strerror(errno));
	ret = bpf_xdp_attach(cur->ifindex, new_fd, flags, &opts);
	close(old_fd);
	if (ret)
		return pr_err_set(err, "cannot replace the program on %s: %s", cur->name,
				  strerror(-ret));
	return 0;
}

/* Takes our TC programs off where the new instance has none. */
static int drop_unneeded_tc(const struct pr_iface_state *cur, const struct pr_iface_state *st,
			    struct pr_errbuf *err)
{
	if (cur->tc_ingress_id && !st->tc_ingress_id &&
	    pr_tc_detach(cur->ifindex, PR_TC_INGRESS, cur->tc_ingress_id, err))
		return -1;
	if (cur->tc_egress_id && !st->tc_egress_id &&
	    pr_tc_detach(cur->ifindex, PR_TC_EGRESS, cur->tc_egress_id, err))
		return -1;
	return 0;
}

/*
 * Test hooks, for tests/integration/53-mode-change.sh only: how long a mode
 * change stays without an XDP program (milliseconds), so that a test meets
 * that moment for certain, and no hold in it, so that the test shows what
 * the hold prevents.
 */
#define PR_TEST_GAP_ENV "XDP_PORTREDIR_TEST_GAP_MS"
#define PR_TEST_NO_HOLD_ENV "XDP_PORTREDIR_TEST_NO_HOLD"

/*
 * A fresh instance with only the hold loaded (its maps are the pinned ones),
 * recording flows as o asks. NULL on failure.
 */
static struct portredir_bpf *hold_load(const struct pr_load_opts *o, struct pr_errbuf *err)
{
	struct portredir_bpf *skel = pr_object_open(pr_pin_dir(), err);
	struct bpf_program *p;
	int ret;

	if (!skel)
		return NULL;
	bpf_object__for_each_program (p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.tc_portredir_hold);
	skel->rodata->pr_record_flows = !o->no_reply_translation;
	ret = portredir_bpf__load(skel);
	if (ret) {
		pr_err_set(err, "cannot load the TC program that holds the rewrite: %s",
			   strerror(-ret));
		portredir_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * A mode change. The kernel keeps native and generic XDP apart and refuses
 * a program in one while the other has one, so the old program is detached
 * before the new one is attached. In between, the hold on TC ingress makes
 * the same rewrite on the skb, and the TC programs stay (the egress one
 * translates replies); the new instance replaces them in place. So no
 * segment of an established connection reaches the original port. On
 * failure the old settings are attached again.
 */
static int change_mode(const char *ifname, const struct pr_load_opts *o, const struct pr_maps *m,
		       const struct pr_iface_state *cur, struct pr_iface_state *st,
		       struct pr_errbuf *err)
{
	struct pr_load_opts back = {
		.mode = pr_mode_of(cur->skb_mode),
		.priority = cur->self.priority,
		.chain_actions = cur->self.chain_actions,
		.no_reply_translation = !cur->tc_egress_id,
	};
	const char *gap_ms = getenv(PR_TEST_GAP_ENV);
	struct portredir_bpf *hold = NULL;
	struct pr_iface_state again;
	struct pr_iface_rec rec;
	struct pr_errbuf first, second, ignored;
	__u32 key = (__u32)cur->ifindex, hold_id;
	int ret = -1;

	/* Without a dispatcher only the record knows the run config. */
	if (m->ifaces >= 0 && !bpf_map_lookup_elem(m->ifaces, &key, &rec)) {
		back.priority = rec.priority;
		back.chain_actions = rec.chain_actions;
		back.no_action_totals = rec.flags & PR_IFACE_F_NO_ACTION_TOTALS;
	}
	if (!getenv(PR_TEST_NO_HOLD_ENV)) {
		hold = hold_load(o, err);
		if (!hold)
			return -1;
		if (pr_tc_attach(cur->ifindex, PR_TC_HOLD,
				 bpf_program__fd(hold->progs.tc_portredir_hold), &hold_id, err))
			goto out;
	}
	if (pr_iface_detach_xdp(cur, err))
		goto out;
	if (gap_ms)
		usleep((useconds_t)strtoul(gap_ms, NULL, 10) * 1000);
	if (!pr_iface_attach(ifname, o, m, st, &first)) {
		ret = drop_unneeded_tc(cur, st, err);
		goto out;
	}
	/* As it was: on failure the old settings stay. */
	if (pr_iface_attach(ifname, &back, m, &again, &second))
		pr_err_set(err, "%s; and it could not be loaded again as before: %s", first.msg,
			   second.msg);
	else
		*err = first;
out:
	if (hold && pr_tc_detach(cur->ifindex, PR_TC_HOLD, 0, ret ? &ignored : err))
		ret = -1;
	portredir_bpf__destroy(hold);
	return ret;
}

int pr_iface_reload(const char *ifname, const struct pr_load_opts *o, const struct pr_maps *m,
		    struct pr_iface_state *st, bool *gapless, struct pr_errbuf *err)
{
	enum xdp_attach_mode mode;
	struct portredir_bpf *skel = NULL;
	struct xdp_program *prog = NULL;
	struct pr_iface_state cur;
	struct pr_iface_rec was = { 0 };
	__u32 was_key;
	bool meta;
	int ifindex, ret;

	*gapless = false;
	memset(st, 0, sizeof(*st));
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return pr_err_set(err, "unknown interface '%s' (see 'ip link')", ifname);
	pr_iface_inspect(ifindex, &cur);
	if (!cur.attached)
		return pr_iface_attach(ifname, o, m, st, err);
	/* Where the kernel refused the metadata variant, the new one is the other. */
	was_key = (__u32)ifindex;
	if (m->ifaces >= 0)
		bpf_map_lookup_elem(m->ifaces, &was_key, &was);
	if (o->mode != PR_MODE_ANY && o->mode != pr_mode_of(cur.skb_mode)) {
		ret = change_mode(ifname, o, m, &cur, st, err);
		*gapless = !ret;
		return ret;
	}
	mode = cur.skb_mode ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	meta = !(was.flags & PR_IFACE_F_META_REFUSED) && pr_may_see_pending_csums(ifname, mode);
	prog = pr_attach_prepare(o, mode, meta, &skel, err);
	if (!prog) {
		ret = -1;
		goto out;
	}
	st->ifindex = ifindex;
	if (cur.dispatcher) {
		/*
		 * libxdp builds a dispatcher with the new instance beside the
		 * old one and swaps it in atomically; detaching the old one
		 * swaps again. Both run in between, one after the other: the
		 * second sees the first's mark and leaves the packet alone.
		 */
		ret = xdp_program__attach(prog, ifindex, mode, 0);
		if (ret) {
			ret = pr_attach_refusal(ifname, ret, mode, &cur, err);
			goto out;
		}
	} else {
		ret = bpf_object__load(skel->obj);
		if (ret) {
			ret = pr_err_set(err, "cannot load the BPF object: %s", strerror(-ret));
			goto out;
		}
	}
	/* The new TC programs first: they share every map with the old XDP program. */
	st->csum_fixup = meta;
	ret = pr_attach_tc(ifindex, o, skel, st, err);
	if (!ret)
		ret = cur.dispatcher ?
			      pr_detach_from_dispatcher(&cur, err) :
			      replace_single(&cur,
					     bpf_program__fd(meta ? skel->progs.xdp_portredir :
								    skel->progs.xdp_portredir_n),
					     err);
	if (ret) {
		struct pr_iface_state fresh = cur;
		struct pr_errbuf ignored;

		/*
		 * The old XDP program is still there; the new TC programs stay
		 * (they share every map with it). A new instance that joined
		 * the dispatcher leaves it again.
		 */
		fresh.self.id = xdp_program__id(prog);
		if (cur.dispatcher && fresh.self.id)
			pr_detach_from_dispatcher(&fresh, &ignored);
		goto out;
	}
	ret = pr_attach_after(ifname, o, skel, prog, st, err);
	st->meta_refused = was.flags & PR_IFACE_F_META_REFUSED;
	st->tc_ingress_id = st->csum_fixup ? pr_tc_query(ifindex, PR_TC_INGRESS) : 0;
	st->tc_egress_id = o->no_reply_translation ? 0 : pr_tc_query(ifindex, PR_TC_EGRESS);
	if (!ret)
		ret = drop_unneeded_tc(&cur, st, err);
	if (!ret)
		ret = pr_attach_record(m, st, err);
	if (!ret) {
		st->recorded = true;
		*gapless = true;
	}
out:
	xdp_program__close(prog);
	portredir_bpf__destroy(skel);
	return ret ? -1 : 0;
}
