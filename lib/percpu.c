// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "percpu.h"

void *pr_percpu_read(int fd, __u32 key, size_t value_size, int *ncpus)
{
	void *v;

	*ncpus = libbpf_num_possible_cpus();
	if (*ncpus <= 0)
		return NULL;
	v = calloc((size_t)*ncpus, value_size);
	if (v && bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		return NULL;
	}
	return v;
}

int pr_percpu_clear(int fd, __u32 key, size_t value_size)
{
	int ncpus = libbpf_num_possible_cpus(), ret;
	void *zero;

	if (ncpus <= 0)
		return -1;
	zero = calloc((size_t)ncpus, value_size);
	if (!zero)
		return -1;
	ret = bpf_map_update_elem(fd, &key, zero, BPF_ANY);
	free(zero);
	return ret ? -1 : 0;
}
