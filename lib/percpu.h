/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU map slots, read and cleared in one place: the value array is one
 * element per possible CPU, which every caller used to size and fill itself.
 */
#ifndef PR_PERCPU_H
#define PR_PERCPU_H

#include <stddef.h>
#include <linux/types.h>

/*
 * One slot of a per-CPU map: an array of *ncpus values of value_size bytes,
 * which the caller frees; NULL if it cannot be read.
 */
void *pr_percpu_read(int fd, __u32 key, size_t value_size, int *ncpus);
/* Zeroes one slot of a per-CPU map on every CPU; -1 with errno set on failure. */
int pr_percpu_clear(int fd, __u32 key, size_t value_size);

#endif
