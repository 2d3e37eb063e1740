/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Macros from libbpf's headers that our code uses as declarations or loop
 * heads, for cppcheck only: it is not given the system headers (reading
 * them is slow and reports their internals), so without these it stops at
 * "unknown macro". Same meaning as in <bpf/libbpf_common.h>/<bpf/libbpf.h>
 * (and <xdp/libxdp.h>).
 */
#define LIBBPF_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }
/* <xdp/libxdp.h>'s, the same shape. */
#define DECLARE_LIBXDP_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }
#define bpf_object__for_each_map(pos, obj) \
	for ((pos) = bpf_object__next_map((obj), NULL); (pos) != NULL; \
	     (pos) = bpf_object__next_map((obj), (pos)))
#define bpf_object__for_each_program(pos, obj) \
	for ((pos) = bpf_object__next_program((obj), NULL); (pos) != NULL; \
	     (pos) = bpf_object__next_program((obj), (pos)))
