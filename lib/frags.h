/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multi-buffer XDP (frags): when the program declares it, and what to tell
 * an operator when the kernel refuses an MTU that does not fit one page.
 */
#ifndef PR_FRAGS_H
#define PR_FRAGS_H

#include <stdbool.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "errbuf.h"

/*
 * Does the program declare frags support in this mode? Only in native mode:
 * that is where the kernel needs it for MTUs above a page. Generic (skb)
 * mode loads at any MTU without it, and declaring it there makes the kernel
 * rebuild non-linear skbs on its page pool, which has crashed kernels 6.3
 * and later on lo (see the man page, JUMBO FRAMES).
 */
static inline bool pr_frags_wanted(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_NATIVE;
}

/* The interface's MTU, 0 if it cannot be read. */
unsigned int pr_iface_mtu(const char *ifname);

/*
 * Fills err for an attach in mode (native or skb) that libxdp refused with
 * ret, saying what to do. Returns -1.
 */
int pr_attach_refusal(const char *ifname, int ret, enum xdp_attach_mode mode,
		      const struct pr_iface_state *before, struct pr_errbuf *err);

/*
 * Fills err for a native attach the kernel refused with ERANGE: names the
 * MTU and the programs on the interface without frags support (st as
 * inspected before the attach), and says what to do. Returns -1.
 */
int pr_frags_refusal(const char *ifname, unsigned int mtu, const struct pr_iface_state *st,
		     struct pr_errbuf *err);

#endif
