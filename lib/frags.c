// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "frags.h"
#include "params.h"

unsigned int pr_iface_mtu(const char *ifname)
{
	char path[128];
	char line[32];
	unsigned long mtu;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (pr_parse_uint(line, 0, UINT_MAX, &mtu))
		mtu = 0;
	fclose(f);
	return (unsigned int)mtu;
}

int pr_frags_refusal(const char *ifname, unsigned int mtu, const struct pr_iface_state *st,
		     struct pr_errbuf *err)
{
	char names[256] = "";
	size_t len = 0;
	int lacking = 0;

	for (int i = 0; i < st->n_others; i++) {
		const struct pr_prog_info *p = &st->others[i];

		if (p->frags)
			continue;
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s' (id %u)",
						lacking ? ", " : "", p->name, p->id);
		lacking++;
	}
	if (len >= sizeof(names))
		snprintf(names + sizeof(names) - 4, 4, "...");
	if (lacking)
		return pr_err_set(
			err,
			"cannot attach to %s in native mode: its MTU (%u) needs every XDP "
			"program on it to support multi-buffer frames (frags), and %s %s "
			"not; load %s with frags support, lower the MTU (ip link set dev %s "
			"mtu 1500), or load with --mode skb",
			ifname, mtu, names, lacking > 1 ? "do" : "does",
			lacking > 1 ? "those programs" : "that program", ifname);
	return pr_err_set(
		err,
		"cannot attach to %s in native mode: the driver refuses XDP at its MTU "
		"(%u) (for veth, the peer's MTU counts); lower the MTU (ip link set dev %s "
		"mtu 1500) or load with --mode skb",
		ifname, mtu, ifname);
}

int pr_attach_refusal(const char *ifname, int ret, enum xdp_attach_mode mode,
		      const struct pr_iface_state *before, struct pr_errbuf *err)
{
	char msg[128];

	if (ret == -EOPNOTSUPP && mode == XDP_MODE_NATIVE)
		return pr_err_set(err,
				  "cannot attach to %s in native mode: the driver does not "
				  "support it; use --mode skb",
				  ifname);
	if (ret == -ERANGE && mode == XDP_MODE_NATIVE)
		return pr_frags_refusal(ifname, pr_iface_mtu(ifname), before, err);
	libxdp_strerror(ret, msg, sizeof(msg));
	return pr_err_set(err, "cannot attach to %s: %s (run with -v for libxdp's detail)", ifname,
			  msg);
}
