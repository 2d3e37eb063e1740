// SPDX-License-Identifier: GPL-2.0
/* The interfaces xdp-portredir is recorded or found on: the state reader's list. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"

static int add_state(struct pr_iface_state **list, int *n, const struct pr_iface_state *st)
{
	struct pr_iface_state *grown = realloc(*list, (size_t)(*n + 1) * sizeof(**list));

	if (!grown)
		return -1;
	*list = grown;
	grown[(*n)++] = *st;
	return 0;
}

static struct pr_iface_state *find_state(struct pr_iface_state *list, int n, int ifindex)
{
	for (int i = 0; i < n; i++)
		if (list[i].ifindex == ifindex)
			return &list[i];
	return NULL;
}

int pr_iface_list(const struct pr_maps *m, struct pr_iface_state **list, int *n,
		  struct pr_errbuf *err)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	__u32 key;
	int ret = 0;

	*list = NULL;
	*n = 0;
	if (!ifs)
		return pr_err_set(err, "cannot list interfaces: %s", strerror(errno));
	for (i = ifs; i->if_index; i++) {
		struct pr_iface_state st = { 0 };

		pr_iface_inspect((int)i->if_index, &st);
		if ((st.attached || st.opaque || st.tc_ingress_id || st.tc_egress_id) &&
		    add_state(list, n, &st))
			ret = pr_err_set(err, "out of memory");
	}
	if_freenameindex(ifs);

	if (ret)
		goto fail;
	if (!m || m->ifaces < 0)
		return 0;
	if (bpf_map_get_next_key(m->ifaces, NULL, &key))
		return 0;
	do {
		struct pr_iface_rec rec;
		struct pr_iface_state *st;

		if (bpf_map_lookup_elem(m->ifaces, &key, &rec))
			continue;
		st = find_state(*list, *n, (int)key);
		if (!st) {
			struct pr_iface_state fresh = { 0 };

			pr_iface_inspect((int)key, &fresh);
			if (!fresh.exists)
				snprintf(fresh.name, sizeof(fresh.name), "%s", rec.name);
			if (add_state(list, n, &fresh)) {
				ret = pr_err_set(err, "out of memory");
				break;
			}
			st = &(*list)[*n - 1];
		}
		st->recorded = true;
		if (st->attached && !st->dispatcher) {
			st->self.priority = rec.priority;
			st->self.chain_actions = rec.chain_actions;
			st->self.frags = rec.flags & PR_IFACE_F_FRAGS;
		}
		st->meta_refused = rec.flags & PR_IFACE_F_META_REFUSED;
		st->no_action_totals = rec.flags & PR_IFACE_F_NO_ACTION_TOTALS;
		if (!st->attached)
			st->skb_mode = rec.flags & PR_IFACE_F_SKB_MODE;
	} while (!bpf_map_get_next_key(m->ifaces, &key, &key));
	if (!ret)
		return 0;
fail:
	/* Callers get no list on failure, so none of them has to free one. */
	free(*list);
	*list = NULL;
	*n = 0;
	return ret;
}

int pr_iface_count_attached(const struct pr_maps *m, struct pr_errbuf *err)
{
	struct pr_iface_state *list = NULL;
	int n = 0, count = 0;

	if (pr_iface_list(m, &list, &n, err))
		return -1;
	for (int i = 0; i < n; i++)
		count += list[i].attached;
	free(list);
	return count;
}
