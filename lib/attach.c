// SPDX-License-Identifier: GPL-2.0
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
#include "log.h"
#include "object.h"
#include "pins.h"
#include "portredir.skel.h"
#include "prog_switch.h"
#include "tc.h"

static void prog_info(struct xdp_program *p, struct pr_prog_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", xdp_program__name(p));
	info->id = xdp_program__id(p);
	info->priority = xdp_program__run_prio(p);
	info->frags = xdp_program__xdp_frags_support(p);
	for (unsigned int a = XDP_ABORTED; a <= XDP_REDIRECT; a++)
		if (xdp_program__chain_call_enabled(p, a))
			info->chain_actions |= 1U << a;
}

/* Id of the pinned rule map, the mark of our programs; 0 if not pinned. */
static __u32 our_rules_map_id(void)
{
	struct bpf_map_info info;

	return pr_object_pinned_info(pr_pin_dir(), PR_MAP_RULES, &info) ? 0 : info.id;
}

/*
 * Is p this tool's program? By name, and, where the pins exist, by using
 * our rule map: a copy of the object loaded by another tool (xdp-loader)
 * has the name but its own maps, and must not be taken for ours.
 */
static bool is_ours(struct xdp_program *p, __u32 rules_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), ids[16];
	int fd = xdp_program__fd(p);

	if (!pr_prog_name_is_ours(xdp_program__name(p)))
		return false;
	if (!rules_id || fd < 0)
		return true;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return true;
	for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] == rules_id)
			return true;
	return false;
}

static void note_prog(struct pr_iface_state *st, struct xdp_program *p, __u32 rules_id)
{
	st->xdp_progs++;
	if (!st->attached && is_ours(p, rules_id)) {
		st->attached = true;
		prog_info(p, &st->self);
	} else if (st->n_others < PR_MAX_OTHERS) {
		prog_info(p, &st->others[st->n_others++]);
	}
}

void pr_iface_inspect(int ifindex, struct pr_iface_state *st)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	__u32 rules_id;

	st->ifindex = ifindex;
	st->exists = if_indextoname((unsigned int)ifindex, st->name) != NULL;
	st->attached = false;
	st->n_others = 0;
	st->xdp_progs = 0;
	st->tc_ingress_id = st->tc_egress_id = 0;
	st->opaque = false;
	if (!st->exists)
		return;
	st->tc_ingress_id = pr_tc_query(ifindex, PR_TC_INGRESS);
	st->tc_egress_id = pr_tc_query(ifindex, PR_TC_EGRESS);
	st->tc_tcx = pr_tc_is_tcx(ifindex, PR_TC_INGRESS) || pr_tc_is_tcx(ifindex, PR_TC_EGRESS);
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);

		st->opaque = !bpf_xdp_query(ifindex, 0, &q) && (q.prog_id || q.skb_prog_id);
		return;
	}
	st->skb_mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB;
	st->dispatcher = !xdp_multiprog__is_legacy(mp);
	rules_id = our_rules_map_id();
	if (st->dispatcher) {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			note_prog(st, p, rules_id);
		/* A dispatcher whose programs libxdp cannot list (its pins are gone). */
		st->opaque = st->xdp_progs == 0;
	} else if ((p = xdp_multiprog__main_prog(mp))) {
		note_prog(st, p, rules_id);
		/* libxdp saw a dispatcher but not its state: it shows it as one program. */
		st->opaque = !strcmp(xdp_program__name(p), "xdp_dispatcher");
	}
	xdp_multiprog__close(mp);
}

int pr_attach_record(const struct pr_maps *m, const struct pr_iface_state *st,
		     struct pr_errbuf *err)
{
	struct pr_iface_rec rec = { 0 };
	__u32 key = (__u32)st->ifindex;

	snprintf(rec.name, sizeof(rec.name), "%s", st->name);
	rec.xdp_prog_id = st->self.id;
	rec.flags = (st->skb_mode ? PR_IFACE_F_SKB_MODE : 0) |
		    (st->dispatcher ? PR_IFACE_F_DISPATCHER : 0) |
		    (st->self.frags ? PR_IFACE_F_FRAGS : 0) |
		    (st->meta_refused ? PR_IFACE_F_META_REFUSED : 0) |
		    (st->no_action_totals ? PR_IFACE_F_NO_ACTION_TOTALS : 0);
	rec.priority = st->self.priority;
	rec.chain_actions = st->self.chain_actions;
	rec.tc_ingress_prog_id = st->tc_ingress_id;
	rec.tc_egress_prog_id = st->tc_egress_id;
	if (bpf_map_update_elem(m->ifaces, &key, &rec, BPF_ANY))
		return pr_err_set(err, "cannot record the interface in %s: %s", pr_pin_dir(),
				  strerror(errno));
	return 0;
}

/*
 * Can a packet whose checksum is still pending offload (CHECKSUM_PARTIAL)
 * reach XDP here? Only packets made by the local stack carry one: on lo, on
 * virtual devices (veth, tun, bridges, macvlan... anything without a device
 * behind it in sysfs), and in skb mode, where a paravirtual NIC may hand
 * such skbs up. Native or automatic mode on a hardware NIC sees frames from
 * the wire, whose checksums are complete.
 */
bool pr_may_see_pending_csums(const char *ifname, enum xdp_attach_mode mode)
{
	char path[128];

	if (mode == XDP_MODE_SKB)
		return true;
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	return access(path, F_OK) != 0;
}

int pr_iface_can_join(const struct pr_iface_state *now, enum pr_mode *mode, bool config_words,
		      struct pr_errbuf *err)
{
	const char *have = pr_mode_name(pr_mode_of(now->skb_mode));

	if (now->xdp_progs - now->attached <= 0)
		return 0;
	if (!now->dispatcher)
		return pr_err_set(
			err,
			"%s already has XDP program '%s' attached without a libxdp dispatcher, "
			"so no second program can join it; unload that program first",
			now->name, now->n_others ? now->others[0].name : "?");
	if (*mode == PR_MODE_ANY)
		*mode = pr_mode_of(now->skb_mode);
	else if (*mode != pr_mode_of(now->skb_mode))
		return pr_err_set(
			err,
			"%s has XDP programs in %s mode; programs in one dispatcher share "
			"its mode: %s %s%s",
			now->name, have, config_words ? "use 'mode" : "load with --mode", have,
			config_words ? "'" : "");
	return 0;
}

/*
 * What the verifier says when it refuses an extension (our program in a
 * dispatcher slot) that calls bpf_xdp_adjust_meta where the slot does not
 * change packet data: kernels with the changes_pkt_data check (6.12 stable,
 * 6.13) under libxdp < 1.5.5.
 */
#define PR_EXT_PKT_DATA_REFUSAL "changes packet data"

/*
 * Opens a fresh instance of the object (maps shared through the pins) and
 * prepares one of its XDP programs for mode: with checksum fix-up metadata
 * (meta), or the variant without it. Only that one is loaded. Returns the
 * program, NULL on failure.
 */
struct xdp_program *pr_attach_prepare(const struct pr_load_opts *o, enum xdp_attach_mode mode,
				      bool meta, struct portredir_bpf **skel, struct pr_errbuf *err)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, popts,
			    .prog_name = meta ? PR_PROG_NAME : PR_PROG_NAME_NOMETA);
	struct xdp_program *prog;
	char msg[128];
	int ret;

	*skel = pr_object_open(pr_pin_dir(), err);
	if (!*skel)
		return NULL;
	if (o->flow_table_size &&
	    bpf_map__max_entries((*skel)->maps.pr_flows) != o->flow_table_size) {
		pr_err_set(err,
			   "the flow table already exists with %u entries, shared by every "
			   "interface; unload everywhere first to change --flow-table-size",
			   bpf_map__max_entries((*skel)->maps.pr_flows));
		return NULL;
	}
	(*skel)->rodata->pr_record_flows = !o->no_reply_translation;
	(*skel)->rodata->pr_action_totals = !o->no_action_totals;
	(*skel)->bss->pr_monitoring = pr_monitoring_leased();
	bpf_program__set_autoload((*skel)->progs.xdp_portredir, meta);
	bpf_program__set_autoload((*skel)->progs.xdp_portredir_n, !meta);
	popts.obj = (*skel)->obj;
	prog = xdp_program__create(&popts);
	ret = (int)libxdp_get_error(prog);
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		pr_err_set(err, "cannot prepare the XDP program: %s", msg);
		return NULL;
	}
	if (o->priority >= 0)
		xdp_program__set_run_prio(prog, (unsigned int)o->priority);
	if (o->chain_actions != PR_CHAIN_DEFAULT)
		for (unsigned int a = XDP_ABORTED; a <= XDP_REDIRECT; a++)
			xdp_program__set_chain_call_enabled(prog, a, o->chain_actions & (1U << a));
	/* The program reads and writes only the first buffer (bpf/parse.h). */
	if (xdp_program__set_xdp_frags_support(prog, pr_frags_wanted(mode))) {
		pr_err_set(err, "cannot declare multi-buffer (frags) support");
		xdp_program__close(prog);
		return NULL;
	}
	return prog;
}

/*
 * Prepares and attaches the XDP program. Automatic mode is resolved here
 * (native, else skb), as the mode decides frags (frags.h) and the checksum
 * fix-up before the load. Where the kernel refuses the metadata variant as a
 * dispatcher extension, the variant without it is attached instead and
 * *meta_refused says so.
 */
static int attach_xdp(const char *ifname, const struct pr_load_opts *o,
		      const struct pr_iface_state *before, enum xdp_attach_mode mode,
		      struct portredir_bpf **skel, struct xdp_program **prog, bool *meta_refused,
		      struct pr_errbuf *err)
{
	enum xdp_attach_mode try = mode == XDP_MODE_UNSPEC ? XDP_MODE_NATIVE : mode;
	bool meta, refused;
	int ret;

	*meta_refused = false;
	for (;;) {
		meta = !*meta_refused && pr_may_see_pending_csums(ifname, try);
		*prog = pr_attach_prepare(o, try, meta, skel, err);
		if (!*prog)
			return -1;
		pr_log_watch(PR_EXT_PKT_DATA_REFUSAL);
		ret = xdp_program__attach(*prog, before->ifindex, try, 0);
		refused = pr_log_watch_end();
		if (ret && meta && refused) {
			pr_verbose("the kernel refused %s in the libxdp dispatcher (it changes "
				   "packet data, the dispatcher's slot does not): trying %s\n",
				   PR_PROG_NAME, PR_PROG_NAME_NOMETA);
			*meta_refused = true;
		} else if (ret == -EOPNOTSUPP && mode == XDP_MODE_UNSPEC &&
			   try == XDP_MODE_NATIVE) {
			try = XDP_MODE_SKB;
		} else {
			break;
		}
		xdp_program__close(*prog);
		*prog = NULL;
		portredir_bpf__destroy(*skel);
		*skel = NULL;
	}
	return ret ? pr_attach_refusal(ifname, ret, try, before, err) : 0;
}

/* Reads back what was attached, with the settings only the record keeps. */
int pr_attach_after(const char *ifname, const struct pr_load_opts *o,
		    const struct portredir_bpf *skel, struct xdp_program *prog,
		    struct pr_iface_state *st, struct pr_errbuf *err)
{
	pr_iface_inspect(st->ifindex, st);
	if (!st->attached)
		return pr_err_set(err, "attached to %s, but the program is not there afterwards",
				  ifname);
	if (!st->dispatcher) {
		/*
		 * No dispatcher keeps a run config, so the record is the only
		 * place the requested one lives (status shows it from there).
		 */
		if (o->priority >= 0)
			st->self.priority = (unsigned int)o->priority;
		if (o->chain_actions != PR_CHAIN_DEFAULT)
			st->self.chain_actions = o->chain_actions;
		st->self.frags = xdp_program__xdp_frags_support(prog);
	}
	/* The variant with metadata is the one loaded where a fix-up is needed. */
	st->csum_fixup = bpf_program__autoload(skel->progs.xdp_portredir);
	st->no_action_totals = !skel->rodata->pr_action_totals;
	return 0;
}

/*
 * Puts the loaded instance's TC programs on the interface: the ingress
 * checksum fixup where st->csum_fixup says so, the egress reply translation
 * unless it is off. A program of ours already there is replaced in place.
 */
int pr_attach_tc(int ifindex, const struct pr_load_opts *o, const struct portredir_bpf *skel,
		 struct pr_iface_state *st, struct pr_errbuf *err)
{
	int ret = 0;

	if (st->csum_fixup) {
		int kctx_fd = pr_object_fixup_kctx_fd();

		ret = pr_tc_attach(ifindex, PR_TC_INGRESS,
				   kctx_fd >= 0 ? kctx_fd : bpf_program__fd(skel->progs.tc_portredir_in),
				   &st->tc_ingress_id, err);
	}
	if (!ret && !o->no_reply_translation)
		ret = pr_tc_attach(ifindex, PR_TC_EGRESS,
				   bpf_program__fd(skel->progs.tc_portredir_out), &st->tc_egress_id,
				   err);
	return ret;
}

/* What detach() leaves on the interface. */
enum pr_keep {
	PR_KEEP_HOLD = 1 << 0,
	PR_KEEP_TC_IN = 1 << 1,
	PR_KEEP_TC_EG = 1 << 2,
};

static int detach(const struct pr_iface_state *st, const struct pr_maps *m, unsigned int keep,
		  struct pr_errbuf *err)
{
	__u32 key = (__u32)st->ifindex;
	int ret;

	/* XDP first: no packet may be rewritten once its TC fixup is gone. */
	ret = pr_iface_detach_xdp(st, err);
	/*
	 * Also where the interface is gone: its TCX link pins are ours to
	 * remove. A hold is there only if a mode change was cut short.
	 */
	if (!ret && !(keep & PR_KEEP_HOLD))
		ret = pr_tc_detach(st->ifindex, PR_TC_HOLD, 0, err);
	if (!ret && !(keep & PR_KEEP_TC_IN))
		ret = pr_tc_detach(st->ifindex, PR_TC_INGRESS, st->tc_ingress_id, err);
	if (!ret && !(keep & PR_KEEP_TC_EG))
		ret = pr_tc_detach(st->ifindex, PR_TC_EGRESS, st->tc_egress_id, err);
	if (ret)
		return ret;
	if (m && m->ifaces >= 0 && bpf_map_delete_elem(m->ifaces, &key) && errno != ENOENT)
		return pr_err_set(err, "cannot update %s: %s", pr_pin_dir(), strerror(errno));
	return 0;
}

int pr_iface_attach(const char *ifname, const struct pr_load_opts *o, const struct pr_maps *m,
		    struct pr_iface_state *st, struct pr_errbuf *err)
{
	enum pr_mode want = o->mode;
	enum xdp_attach_mode mode;
	struct portredir_bpf *skel = NULL;
	struct xdp_program *prog = NULL;
	bool meta_refused = false;
	__u32 had_in, had_eg;
	int ifindex, ret;

	memset(st, 0, sizeof(*st));
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return pr_err_set(err, "unknown interface '%s' (see 'ip link')", ifname);
	pr_iface_inspect(ifindex, st);
	if (st->attached)
		return pr_err_set(err,
				  "xdp-portredir is already loaded on %s; "
				  "unload it first with 'xdp-portredir unload %s'",
				  ifname, ifname);
	had_in = st->tc_ingress_id;
	had_eg = st->tc_egress_id;
	if (pr_iface_can_join(st, &want, false, err))
		return -1;
	mode = pr_mode_to_xdp(want);
	ret = attach_xdp(ifname, o, st, mode, &skel, &prog, &meta_refused, err);
	if (ret)
		goto out;
	ret = pr_attach_after(ifname, o, skel, prog, st, err);
	st->meta_refused = meta_refused;
	if (!ret) {
		/* The object is loaded now (libxdp did it), so its TC programs have fds. */
		ret = pr_attach_tc(ifindex, o, skel, st, err);
	}
	if (!ret)
		ret = pr_attach_record(m, st, err);
	if (ret) {
		struct pr_errbuf ignored;

		/*
		 * Only what this attempt added goes. A mode change keeps its
		 * hold, and the TC programs that were there before, while the
		 * old settings are attached again (the attempt may have
		 * replaced them in place, which changes nothing they do).
		 */
		detach(st, m,
		       PR_KEEP_HOLD | (had_in ? PR_KEEP_TC_IN : 0) | (had_eg ? PR_KEEP_TC_EG : 0),
		       &ignored);
		goto out;
	}
	st->recorded = true;
out:
	xdp_program__close(prog);
	portredir_bpf__destroy(skel);
	return ret ? -1 : 0;
}

/* Detaches a program attached without a dispatcher, only if it is still ours. */
static int detach_single(const struct pr_iface_state *st, struct pr_errbuf *err)
{
	int fd = bpf_prog_get_fd_by_id(st->self.id);
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);
	__u32 flags = st->skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int ret;

	if (fd < 0)
		return pr_err_set(err, "cannot get program %u: %s", st->self.id, strerror(errno));
	ret = bpf_xdp_detach(st->ifindex, flags, &opts);
	close(fd);
	if (ret)
		return pr_err_set(err, "cannot detach from %s: %s", st->name, strerror(-ret));
	return 0;
}

int pr_detach_from_dispatcher(const struct pr_iface_state *st, struct pr_errbuf *err)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(st->ifindex);
	struct xdp_program *p;
	char msg[128];
	int ret = -ENOENT;

	if (libxdp_get_error(mp) || !mp)
		return pr_err_set(err, "no XDP programs on %s any more", st->name);
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (xdp_program__id(p) != st->self.id)
			continue;
		/* The dispatcher's own mode: with UNSPEC the kernel is asked for
		 * native mode, and an skb-mode dispatcher then answers EBUSY. */
		ret = xdp_program__detach(p, st->ifindex,
					  st->skb_mode ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
		break;
	}
	xdp_multiprog__close(mp);
	if (ret) {
		libxdp_strerror(ret, msg, sizeof(msg));
		return pr_err_set(err, "cannot detach from %s: %s (run with -v for detail)",
				  st->name, msg);
	}
	return 0;
}

int pr_iface_detach_xdp(const struct pr_iface_state *st, struct pr_errbuf *err)
{
	if (!st->attached)
		return 0;
	return st->dispatcher ? pr_detach_from_dispatcher(st, err) : detach_single(st, err);
}

int pr_iface_detach(const struct pr_iface_state *st, const struct pr_maps *m, struct pr_errbuf *err)
{
	return detach(st, m, 0, err);
}
