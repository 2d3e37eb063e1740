// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "drain.h"
#include "maps.h"
#include "object.h"
#include "pins.h"
#include "portredir.skel.h"

static const struct {
	const char *name;
	size_t offset;
} map_pins[] = {
	{ PR_MAP_RULES, offsetof(struct pr_maps, rules) },
	{ PR_MAP_RULE_STATS, offsetof(struct pr_maps, rule_stats) },
	{ PR_MAP_ACTION_STATS, offsetof(struct pr_maps, action_stats) },
	{ PR_MAP_IFACES, offsetof(struct pr_maps, ifaces) },
	{ PR_MAP_FLOWS, offsetof(struct pr_maps, flows) },
	{ PR_MAP_PORT_FLAGS, offsetof(struct pr_maps, port_flags) },
	{ PR_MAP_REPLY_STATS, offsetof(struct pr_maps, reply_stats) },
	{ PR_MAP_SCOPE_SETS, offsetof(struct pr_maps, scope_sets) },
	{ PR_MAP_SCOPE_STATS, offsetof(struct pr_maps, scope_stats) },
	{ PR_MAP_SCOPE_RULES, offsetof(struct pr_maps, scope_rules) },
};

void pr_maps_close(struct pr_maps *m)
{
	for (size_t i = 0; i < sizeof(map_pins) / sizeof(map_pins[0]); i++) {
		int *fd = (int *)((char *)m + map_pins[i].offset);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int pr_maps_orphaned(struct pr_errbuf *err)
{
	struct pr_iface_state *list = NULL;
	struct pr_errbuf ignored;
	int n = 0, ret = 0;

	if (pr_iface_list(NULL, &list, &n, &ignored))
		return 0;
	for (int i = 0; i < n && !ret; i++) {
		if (list[i].attached)
			ret = pr_err_set(err, "xdp-portredir is attached to %s, but its pinned maps in %s "
					      "are gone (bpffs unmounted or the pins removed), so its rules "
					      "cannot be reached; 'xdp-portredir unload --all' takes it off, "
					      "then load it again",
					 list[i].name, pr_pin_dir());
		else if (list[i].opaque)
			ret = pr_err_set(err, "%s runs a libxdp dispatcher whose state is not in the "
					      "bpffs at %s, so it cannot be told whether xdp-portredir "
					      "is in it; work from the mount namespace it was loaded in",
					 list[i].name, PR_BPFFS_ROOT);
	}
	free(list);
	return ret;
}

int pr_maps_open(struct pr_maps *m, struct pr_errbuf *err)
{
	char path[512];

	for (size_t i = 0; i < sizeof(map_pins) / sizeof(map_pins[0]); i++) {
		int *fd = (int *)((char *)m + map_pins[i].offset);

		pr_pin_path(path, sizeof(path), map_pins[i].name);
		*fd = bpf_obj_get(path);
		if (*fd < 0) {
			int e = errno;

			pr_maps_close(m);
			if (e == ENOENT && pr_state_exists())
				return pr_err_set(err, "the state in %s is incomplete (%s is missing: was "
						       "a command killed?); 'xdp-portredir load' or "
						       "'redirect' completes it, 'unload --all' removes it",
						  pr_pin_dir(), map_pins[i].name);
			if (e == ENOENT && pr_maps_orphaned(err))
				return -1;
			if (e == ENOENT)
				return pr_err_set(err, "no state in %s: nothing is loaded and no rule is set",
						  pr_pin_dir());
			return pr_err_set(err, "cannot open %s: %s", path, strerror(e));
		}
	}
	return 0;
}

int pr_maps_create(struct pr_maps *m, unsigned int flow_table_size, struct pr_errbuf *err)
{
	struct portredir_bpf *skel;
	struct bpf_program *prog;
	int ret;

	/* Fresh maps would not be the ones an already attached program reads. */
	if (!pr_state_exists() && pr_maps_orphaned(err))
		return -1;
	skel = pr_object_open(PR_BPFFS_ROOT "/" PR_PIN_DIR_NAME, err);
	if (!skel)
		return -1;
	if (flow_table_size &&
	    !pr_object_pinned_max_entries(PR_BPFFS_ROOT "/" PR_PIN_DIR_NAME, PR_MAP_FLOWS))
		bpf_map__set_max_entries(skel->maps.pr_flows, flow_table_size);
	/* Loading with no program creates and pins the maps and nothing else. */
	bpf_object__for_each_program(prog, skel->obj)
	{
		bpf_program__set_autoload(prog, false);
	}
	ret = portredir_bpf__load(skel);
	portredir_bpf__destroy(skel);
	if (ret)
		return pr_err_set(err,
				  "cannot create the maps in %s: %s (if they were pinned by an "
				  "incompatible version, 'xdp-portredir unload --all' removes them)",
				  pr_pin_dir(), strerror(-ret));
	return pr_maps_open(m, err);
}

int pr_maps_remake_flows(struct pr_maps *m, unsigned int size, struct pr_errbuf *err)
{
	char path[512];

	pr_maps_close(m);
	pr_pin_path(path, sizeof(path), PR_MAP_FLOWS);
	if (unlink(path) && errno != ENOENT)
		return pr_err_set(err, "cannot remove %s: %s", path, strerror(errno));
	return pr_maps_create(m, size, err);
}

int pr_counter_read(int fd, __u32 key, struct pr_counter *sum)
{
	struct pr_counter *v;
	int ncpus;

	memset(sum, 0, sizeof(*sum));
	v = pr_percpu_read(fd, key, sizeof(*v), &ncpus);
	if (!v)
		return -1;
	for (int i = 0; i < ncpus; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

__u64 pr_monitor_dropped(int pcpu_fd)
{
	struct pr_monitor_pcpu *v;
	__u64 sum = 0;
	int ncpus;

	v = pr_percpu_read(pcpu_fd, 0, sizeof(*v), &ncpus);
	for (int i = 0; v && i < ncpus; i++)
		sum += v[i].dropped;
	free(v);
	return sum;
}

int pr_flow_census(int flows_fd, struct pr_flow_census *c, struct pr_errbuf *err)
{
	const __u64 both = PR_FLOW_F_CLIENT_FIN | PR_FLOW_F_SERVER_FIN;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	__u64 now = pr_flow_clock_ns();
	struct pr_flow_key key;
	struct pr_flow flow;
	int more;

	memset(c, 0, sizeof(*c));
	if (bpf_obj_get_info_by_fd(flows_fd, &info, &len))
		return pr_err_set(err, "cannot read the flow table: %s", strerror(errno));
	c->capacity = info.max_entries;
	for (more = !bpf_map_get_next_key(flows_fd, NULL, &key); more;
	     more = !bpf_map_get_next_key(flows_fd, &key, &key)) {
		if (bpf_map_lookup_elem(flows_fd, &key, &flow))
			continue;
		c->entries++;
		/* FORWARD entries only index REDIRECT ones: a flow counts once. */
		c->local += key.kind == PR_FLOW_LOCAL;
		if (!pr_flow_live(&key, &flow, now))
			continue;
		c->live++;
		c->closing += key.proto == IPPROTO_TCP && (flow.flags & both) != 0;
	}
	return 0;
}
