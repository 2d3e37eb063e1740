/* SPDX-License-Identifier: GPL-2.0 */
/* Shared inside the config module (config*.c) only. */
#ifndef PR_CONFIG_IMPL_H
#define PR_CONFIG_IMPL_H

#include <stddef.h>

#include "config.h"

/*
 * Makes room for element n of an array of n elements, doubling from 8. On
 * failure the array is freed and NULL returned: callers reset their count.
 */
void *pr_config_grow(void *array, int n, size_t size);
/* Why an interface in that status is not written or kept, for the user. */
const char *pr_config_status_reason(enum pr_config_iface_status s);

#endif
