// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "vocab.h"

const struct pr_enum_val pr_mode_values[] = {
	{ "native", PR_MODE_NATIVE },
	{ "skb", PR_MODE_SKB },
	{ "hw", PR_MODE_HW },
	{ 0 },
};

const char pr_mode_hw_refused[] = "offloaded programs cannot share maps with the host or run "
				  "beside the TC programs this tool needs";

const char *pr_mode_name(enum pr_mode mode)
{
	switch (mode) {
	case PR_MODE_NATIVE:
		return "native";
	case PR_MODE_SKB:
		return "skb";
	case PR_MODE_HW:
		return "hw";
	default:
		return "any";
	}
}

enum xdp_attach_mode pr_mode_to_xdp(enum pr_mode mode)
{
	switch (mode) {
	case PR_MODE_NATIVE:
		return XDP_MODE_NATIVE;
	case PR_MODE_SKB:
		return XDP_MODE_SKB;
	case PR_MODE_HW:
		return XDP_MODE_HW;
	default:
		return XDP_MODE_UNSPEC;
	}
}

const struct pr_enum_val pr_chain_action_values[] = {
	{ "none", 0 },
	{ "aborted", 1U << XDP_ABORTED },
	{ "drop", 1U << XDP_DROP },
	{ "pass", 1U << XDP_PASS },
	{ "tx", 1U << XDP_TX },
	{ "redirect", 1U << XDP_REDIRECT },
	{ 0 },
};

void pr_chain_format(unsigned int mask, char *buf, size_t len)
{
	pr_enum_list_format(pr_chain_action_values, mask, buf, len);
	if (!buf[0])
		snprintf(buf, len, "none");
}

int pr_chain_parse(const char *list, unsigned int *mask)
{
	return pr_enum_parse_list(pr_chain_action_values, list, mask, NULL, 0);
}

static const char *const action_names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					    "XDP_REDIRECT" };

const char *pr_xdp_action_name(unsigned int action)
{
	return action < sizeof(action_names) / sizeof(action_names[0]) ? action_names[action] :
									"XDP_UNKNOWN";
}
