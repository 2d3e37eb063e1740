/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Putting the program on an interface and taking it off again, through
 * libxdp (so it joins a dispatcher beside other XDP programs where the kernel
 * allows one), and finding out what is attached where.
 */
#ifndef PR_ATTACH_H
#define PR_ATTACH_H

#include <stdbool.h>
#include <string.h>
#include <net/if.h>
#include <xdp/libxdp.h>

#include "errbuf.h"
#include "maps.h"
#include "params.h"
#include "vocab.h"

/*
 * Our XDP program, in two variants of one source (bpf/portredir.bpf.c):
 * with checksum fix-up metadata, and without ("_n") where no fix-up is
 * needed or the dispatcher refuses the metadata one. Kernel names: <= 15.
 */
#define PR_PROG_NAME "xdp_portredir"
#define PR_PROG_NAME_NOMETA "xdp_portredir_n"
#define PR_MAX_OTHERS 16

/* Is name one of our program's names? */
static inline bool pr_prog_name_is_ours(const char *name)
{
	return !strcmp(name, PR_PROG_NAME) || !strcmp(name, PR_PROG_NAME_NOMETA);
}
struct pr_load_opts {
	enum pr_mode mode; /* PR_MODE_ANY: native where supported, else skb */
	long priority; /* -1: the object's XDP_RUN_CONFIG */
	unsigned int chain_actions; /* 1 << XDP_* bits; PR_CHAIN_DEFAULT: the object's */
	bool no_reply_translation; /* one-way rewrite: no flow records, no egress program */
	bool no_action_totals; /* pr_action_stats not counted (the program's rodata) */
	unsigned int flow_table_size; /* 0: the pinned table's size, else the default */
};

struct pr_prog_info {
	char name[64];
	unsigned int id;
	unsigned int priority;
	unsigned int chain_actions;
	bool frags; /* declares multi-buffer (frags) support */
};

/* What is on one interface, as far as the tool is concerned. */
struct pr_iface_state {
	int ifindex;
	char name[IF_NAMESIZE];
	bool exists; /* the interface exists now */
	bool recorded; /* pr_ifaces says the tool was loaded here */
	bool attached; /* our XDP program is attached now */
	bool dispatcher; /* through a libxdp dispatcher (not the single-program fallback) */
	bool skb_mode;
	struct pr_prog_info self;
	struct pr_prog_info others[PR_MAX_OTHERS];
	int n_others;
	int xdp_progs; /* programs on the interface, ours included */
	__u32 tc_ingress_id; /* our TC ingress program (checksum fixup), 0 if none */
	bool csum_fixup; /* load decided the interface may carry pending checksums */
	/*
	 * The kernel refused the metadata variant as a dispatcher extension
	 * (libxdp < 1.5.5 on a kernel with the changes_pkt_data check), so the
	 * variant without metadata runs and there is no checksum fix-up.
	 */
	bool meta_refused;
	bool no_action_totals; /* loaded with --no-action-totals (the record says) */
	__u32 tc_egress_id; /* our TC egress program (reply translation), 0 if none */
	bool tc_tcx; /* our TC programs are TCX links (else clsact filters) */
	/* An XDP program is attached that libxdp cannot look into (a dispatcher
	 * whose state is in an unmounted bpffs): ours may or may not be inside. */
	bool opaque;
};

/* Reads what the kernel has on ifindex into st (record fields untouched). */
void pr_iface_inspect(int ifindex, struct pr_iface_state *st);
/*
 * Can our program join the other XDP programs on an interface, as now
 * (pr_iface_inspect()) shows them? Refuses, before anything changes, what
 * libxdp would refuse, saying what to do: as the config file (config_words)
 * or as load's options spell the mode. *mode PR_MODE_ANY becomes theirs.
 */
int pr_iface_can_join(const struct pr_iface_state *now, enum pr_mode *mode, bool config_words,
		      struct pr_errbuf *err);

/*
 * Loads a fresh instance of the program (maps shared through the pins) and
 * attaches it to ifname; records it in pr_ifaces. On failure nothing stays
 * attached and nothing is recorded.
 */
int pr_iface_attach(const char *ifname, const struct pr_load_opts *o, const struct pr_maps *m,
		    struct pr_iface_state *st, struct pr_errbuf *err);

/*
 * Replaces our program on ifname by a fresh instance loaded with o, without
 * a moment in which packets pass unrewritten: without a dispatcher the
 * kernel swaps the programs atomically (XDP_FLAGS_REPLACE); with one, the
 * new instance joins first and the old one leaves after, and a packet both
 * see is rewritten once. The TC programs are replaced in place. A mode
 * change cannot be made so (the kernel refuses a native and a generic
 * program at once): it detaches and attaches, and *gapless says false.
 * Not loaded on ifname: a plain attach. On failure the old program stays.
 */
int pr_iface_reload(const char *ifname, const struct pr_load_opts *o, const struct pr_maps *m,
		    struct pr_iface_state *st, bool *gapless, struct pr_errbuf *err);

/* Detaches our program from st's interface and forgets the record. */
int pr_iface_detach(const struct pr_iface_state *st, const struct pr_maps *m,
		    struct pr_errbuf *err);

/*
 * Every interface where the tool is attached or recorded (m may be NULL:
 * then only what the kernel shows). Caller frees *list; on failure there is
 * none (*list is NULL).
 */
int pr_iface_list(const struct pr_maps *m, struct pr_iface_state **list, int *n,
		  struct pr_errbuf *err);

/* How many interfaces have our XDP program attached now; -1 on error. */
int pr_iface_count_attached(const struct pr_maps *m, struct pr_errbuf *err);


#endif
