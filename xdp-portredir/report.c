// SPDX-License-Identifier: GPL-2.0
/* What load and apply say about an interface they attached to: one sentence for both. */
#include <stdio.h>

#include "report.h"

void report_loaded(const struct pr_iface_state *st, const char *prefix)
{
	char chain[128];

	pr_chain_format(st->self.chain_actions, chain, sizeof(chain));
	printf("%sloaded on %s (%s mode, priority %u, chain-call %s%s%s%s)\n", prefix, st->name,
	       pr_mode_name(pr_mode_of(st->skb_mode)), st->self.priority, chain,
	       st->dispatcher ? ", libxdp dispatcher" : "",
	       st->tc_egress_id ? ", reply translation" : "",
	       st->csum_fixup	? "" :
	       st->meta_refused ? ", no checksum fix-up" :
				  ", no checksum fix-up needed (hardware NIC)");
	if (st->meta_refused)
		printf("note: the kernel refused xdp-portredir's checksum fix-up in libxdp's "
		       "dispatcher (libxdp older than 1.5.5 on a kernel that checks whether an XDP "
		       "extension changes packet data), so it runs without: checksums of locally "
		       "generated packets forwarded through %s are not fixed up; upgrade libxdp "
		       "to 1.5.5 or later and load again.\n",
		       st->name);
	if (!st->dispatcher)
		printf("note: this kernel refused the libxdp dispatcher, so xdp-portredir is attached "
		       "to %s as its only XDP program: no other XDP program can share %s while it "
		       "is loaded, and --priority and --chain-call-actions have no effect.\n",
		       st->name, st->name);
}
