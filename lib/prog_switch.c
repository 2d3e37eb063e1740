// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "../bpf/portredir_abi.h"
#include "object.h"
#include "pins.h"
#include "prog_switch.h"

#define MAX_PROG_MAPS 32

/* Writes value at off of the map's only value, if it is a .bss that holds one there. */
static int write_word(int map_fd, size_t off, __u32 value)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	long page = sysconf(_SC_PAGESIZE);
	size_t size;
	void *mem;

	if (bpf_obj_get_info_by_fd(map_fd, &mi, &len) || !strstr(mi.name, ".bss") ||
	    mi.value_size < off + sizeof(value) || !(mi.map_flags & BPF_F_MMAPABLE) || page <= 0)
		return -1;
	size = ((size_t)mi.value_size + (size_t)page - 1) / (size_t)page * (size_t)page;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (mem == MAP_FAILED)
		return -1;
	__atomic_store_n((__u32 *)((char *)mem + off), value, __ATOMIC_SEQ_CST);
	munmap(mem, size);
	return 0;
}

/* The ids of the maps program id uses, into ids (MAX_PROG_MAPS); how many, -1 on error. */
static int prog_map_ids(__u32 id, __u32 *ids)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), n = -1;

	if (fd < 0)
		return -1;
	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		n = info.nr_map_ids < MAX_PROG_MAPS ? (int)info.nr_map_ids : MAX_PROG_MAPS;
	close(fd);
	return n;
}

/* Writes the switch into whichever of the maps ids[0..n) is the program's .bss. */
static int set_in_maps(const __u32 *ids, int n, size_t off, __u32 value)
{
	int ret = -1;

	for (int i = 0; i < n && ret; i++) {
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		ret = write_word(mfd, off, value);
		close(mfd);
	}
	return ret;
}

int pr_prog_set_switch(__u32 prog_id, size_t off, __u32 value, struct pr_errbuf *err)
{
	__u32 ids[MAX_PROG_MAPS] = { 0 };
	int n = prog_map_ids(prog_id, ids);

	if (n < 0)
		return pr_err_set(err, "cannot read program %u: %s", prog_id, strerror(errno));
	if (set_in_maps(ids, n, off, value))
		return pr_err_set(err, "program %u has no such switch (an older version?)",
				  prog_id);
	return 0;
}

void pr_monitoring_set_all(bool on)
{
	struct bpf_map_info rules;
	__u32 id = 0;

	/*
	 * Every program that uses our pinned rules is an instance of ours,
	 * whatever interface or network namespace it runs in: the events all
	 * go to the one pinned ring buffer.
	 */
	if (pr_object_pinned_info(pr_pin_dir(), PR_MAP_RULES, &rules))
		return;
	while (!bpf_prog_get_next_id(id, &id)) {
		__u32 ids[MAX_PROG_MAPS] = { 0 };
		int n = prog_map_ids(id, ids);

		for (int i = 0; i < n; i++) {
			if (ids[i] == rules.id) {
				set_in_maps(ids, n, PR_SWITCH_MONITORING, on);
				break;
			}
		}
	}
}

bool pr_monitoring_leased(void)
{
	struct pr_monitor_cfg cfg;
	char path[512];
	__u32 zero = 0;
	bool leased;
	int fd;

	pr_pin_path(path, sizeof(path), PR_MAP_MONITOR);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	/* A lease run out is harmless: the program clears the switch when it sees it. */
	leased = !bpf_map_lookup_elem(fd, &zero, &cfg) && cfg.deadline_ns;
	close(fd);
	return leased;
}
