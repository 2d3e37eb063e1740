/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the tool's state lives: the bpffs mount, the tool's own pin
 * directory in it, and the lock every state-changing command holds.
 */
#ifndef PR_PINS_H
#define PR_PINS_H

#include <stdbool.h>
#include <stddef.h>

#include "errbuf.h"

#define PR_BPFFS_ROOT "/sys/fs/bpf"

/* Is a bpffs mounted at PR_BPFFS_ROOT? */
bool pr_bpffs_mounted(void);
/* Mounts bpffs at PR_BPFFS_ROOT if it is not there; says how to do it by hand if that fails. */
int pr_bpffs_ensure(struct pr_errbuf *err);

/* "/sys/fs/bpf/xdp-portredir" */
const char *pr_pin_dir(void);
/* "/sys/fs/bpf/xdp-portredir/<name>" */
void pr_pin_path(char *buf, size_t len, const char *name);
bool pr_pin_dir_exists(void);
/* Does the pin directory hold any pin (rules, counters, records)? */
bool pr_state_exists(void);

/*
 * Creates the pin directory (mode 0700) if needed and takes an exclusive
 * lock on it, waiting up to timeout_s for another invocation to finish.
 * Returns the lock fd.
 */
int pr_lock(int timeout_s, struct pr_errbuf *err);
/* Drops the lock; a pin directory pr_lock() made and nothing filled goes again. */
void pr_unlock(int lock_fd);

/* Removes every pin in the pin directory and the directory itself. */
int pr_pins_remove(struct pr_errbuf *err);

#endif
