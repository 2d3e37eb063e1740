/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What both TC checksum fix-ups do first (tc_csum_fixup.bpf.c for every
 * kernel, tc_csum_fixup_kctx.bpf.c where TC can read the skb's checksum
 * state): find the facts the XDP program left in the metadata, locate the
 * checksum field, and consume the mark.
 */
#ifndef PR_CSUM_FIXUP_H
#define PR_CSUM_FIXUP_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "portredir_abi.h"
#include "parse.h"

struct pr_fixup {
	struct pr_pkt pkt;
	__u16 *check; /* the L4 checksum field, in the packet */
	__u32 csum_off; /* of the same field, from skb->data */
	__u16 old_check; /* the field as the XDP program found it */
	__be16 old_port, new_port;
	__u64 csum_flags; /* for bpf_l4_csum_replace() */
};

/* The mark the XDP program left on a packet it rewrote; NULL if there is none. */
static __always_inline struct pr_meta *pr_fixup_mark(struct __sk_buff *skb)
{
	struct pr_meta *meta = (void *)(long)skb->data_meta;

	if ((void *)(meta + 1) > (void *)(long)skb->data || meta->magic != PR_META_MAGIC)
		return NULL;
	return meta;
}

/*
 * Consumes the mark, so nothing after us takes it for its own; the hold
 * (portredir.bpf.c) still sees that an XDP program rewrote the packet.
 */
static __always_inline void pr_fixup_done(struct pr_meta *meta)
{
	meta->magic = PR_META_DONE;
}

/*
 * Fills f for a packet pr_fixup_mark() found marked (meta) and consumes the
 * mark. False, mark left, if the headers cannot be parsed.
 */
static __always_inline bool pr_fixup_begin(struct __sk_buff *skb, struct pr_meta *meta,
					   struct pr_fixup *f)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;

	f->old_port = meta->old_port;
	f->old_check = meta->old_check;
	if (pr_parse(data, data_end, &f->pkt) != PR_PARSE_OK)
		return false;

	f->new_port = *(__be16 *)(f->pkt.l4 + 2);
	f->csum_flags = sizeof(__u16);
	if (f->pkt.proto == PR_PROTO_UDP) {
		f->check = f->pkt.l4 + offsetof(struct udphdr, check);
		f->csum_flags |= BPF_F_MARK_MANGLED_0;
	} else {
		f->check = f->pkt.l4 + offsetof(struct tcphdr, check);
	}
	f->csum_off = (void *)f->check - data;
	pr_fixup_done(meta);
	return true;
}

#endif /* PR_CSUM_FIXUP_H */
