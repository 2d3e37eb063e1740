// SPDX-License-Identifier: GPL-2.0
/*
 * What the loader says when the kernel refuses a native attach at a large
 * MTU (lib/frags.c), and in which modes the program declares frags.
 */
#include <string.h>

#include "check.h"
#include "frags.h"

static void add_prog(struct pr_iface_state *st, const char *name, unsigned int id, bool frags)
{
	struct pr_prog_info *p = &st->others[st->n_others++];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->id = id;
	p->frags = frags;
}

int main(void)
{
	struct pr_iface_state st = { 0 };
	struct pr_errbuf err;
	int ret;

	check(pr_frags_wanted(XDP_MODE_NATIVE), "frags/declared-in-native", "not declared");
	check(!pr_frags_wanted(XDP_MODE_SKB), "frags/not-declared-in-skb", "declared");
	check(!pr_frags_wanted(XDP_MODE_UNSPEC), "frags/not-declared-unresolved", "declared");

	add_prog(&st, "xdp_filter_x", 41, false);
	add_prog(&st, "frags_ok", 42, true);
	ret = pr_frags_refusal("j0", 9000, &st, &err);
	check(ret == -1, "refusal/returns-failure", "returned %d", ret);
	check(strstr(err.msg, "'xdp_filter_x' (id 41) does not") != NULL,
	      "refusal/names-the-program-without-frags", "%s", err.msg);
	check(strstr(err.msg, "frags_ok") == NULL, "refusal/leaves-out-frags-capable", "%s",
	      err.msg);
	check(strstr(err.msg, "MTU (9000)") != NULL, "refusal/names-the-mtu", "%s", err.msg);
	check(strstr(err.msg, "--mode skb") && strstr(err.msg, "ip link set dev j0 mtu"),
	      "refusal/says-what-to-do", "%s", err.msg);

	add_prog(&st, "other_old", 43, false);
	pr_frags_refusal("j0", 9000, &st, &err);
	check(strstr(err.msg, "'xdp_filter_x' (id 41), 'other_old' (id 43) do not") != NULL,
	      "refusal/names-every-program-without-frags", "%s", err.msg);

	memset(&st, 0, sizeof(st));
	add_prog(&st, "frags_ok", 42, true);
	pr_frags_refusal("j0", 9000, &st, &err);
	check(strstr(err.msg, "driver refuses XDP at its MTU (9000)") != NULL,
	      "refusal/no-culprit-blames-the-driver", "%s", err.msg);

	for (int i = st.n_others; i < PR_MAX_OTHERS; i++)
		add_prog(&st, "a_program_with_a_rather_long_name_to_fill_the_buffer", 100, false);
	pr_frags_refusal("j0", 9000, &st, &err);
	check(strstr(err.msg, "...") != NULL && strstr(err.msg, "--mode skb"),
	      "refusal/many-programs-truncated-not-cut", "%s", err.msg);
	return check_summary();
}
