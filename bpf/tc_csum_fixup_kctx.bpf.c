// SPDX-License-Identifier: GPL-2.0
/*
 * TC ingress checksum fix-up for kernels whose TC programs can read the
 * skb's checksum state (bpf_cast_to_kern_ctx(), Linux 6.3+); why there is a
 * fix-up at all is in tc_csum_fixup.bpf.c.
 *
 * The state is known here, so a pending (CHECKSUM_PARTIAL) checksum needs
 * only its field back: bpf_l4_csum_replace() would change nothing in a
 * pending field (without BPF_F_PSEUDO_HDR). Any other checksum needs nothing:
 * the XDP program's update is the one the helper would make, and it keeps a
 * complete skb->csum valid (the port and the field change by opposite
 * amounts). That spares the helper, ~17 ns a pending packet (bench/README.md,
 * seventh round).
 *
 * The field goes back by a store through the packet pointer, not
 * bpf_skb_store_bytes(): nothing else in a pending skb depends on it (no
 * skb->csum covers it), the program writes the metadata directly already, so
 * the verifier's unclone prologue runs either way, and the helper was half
 * of what a pending packet cost here (~19 -> ~8 ns, bench/README.md, eighth
 * round). tc_csum_fixup.bpf.c must keep the helper: its
 * bpf_l4_csum_replace() follows, and a complete checksum came out wrong
 * after a plain store there. The state is read before the headers are
 * parsed: a packet whose checksum is not pending needs no field located,
 * only its mark consumed (~6.5 -> ~2 ns a packet with complete checksums).
 *
 * Its own object, with no maps: a kfunc and a CO-RE read make libbpf parse
 * the kernel's BTF at every load of the object holding them (66 ms here,
 * seconds under valgrind), which every command that opens the main object
 * would pay. lib/object.c loads this one only to attach it, only on 6.3+.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "csum_fixup.h"

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

struct sk_buff {
	__u8 ip_summed : 2;
} __attribute__((preserve_access_index));

#define PR_CHECKSUM_PARTIAL 3 /* include/linux/skbuff.h */

SEC("tc")
int tc_portredir_in_kctx(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct pr_meta *meta = pr_fixup_mark(skb);
	struct pr_fixup f;

	if (!meta)
		return PR_TC_NEXT;
	/* Not pending: the XDP program's update stands, so nothing to parse. */
	if (BPF_CORE_READ_BITFIELD(kskb, ip_summed) != PR_CHECKSUM_PARTIAL) {
		pr_fixup_done(meta);
		return PR_TC_NEXT;
	}
	if (!pr_fixup_begin(skb, meta, &f))
		return PR_TC_NEXT;
	/* The parse bounded l4 up to its checksum; the verifier wants it seen here. */
	if ((void *)(f.check + 1) <= (void *)(long)skb->data_end)
		*f.check = f.old_check;
	return PR_TC_NEXT;
}

char _license[] SEC("license") = "GPL";
