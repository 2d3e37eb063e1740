/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counts the BPF instructions an XDP program executes on one frame, by
 * running the program's loaded instructions (libbpf's final copy: relocated,
 * subprograms appended, map FDs filled in, exactly what went to the kernel)
 * through a small interpreter. Map lookups read the kernel's maps of that
 * same loaded instance (per-CPU maps: the given CPU's value); helpers are
 * emulated (each call counts as one instruction, its body none). See bench/README.md for what the count
 * includes and where it differs from the verifier's rewritten program.
 */
#ifndef ICOUNT_H
#define ICOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>

struct icount_result {
	uint32_t retval;
	unsigned long insns; /* instructions executed, helper calls included */
	unsigned long calls; /* helper calls among them */
	size_t len; /* frame bytes written to out (metadata not included) */
	size_t meta_len; /* metadata the program left in front of the frame */
};

/*
 * Runs prog on the frame in (in_len bytes) as it would run on CPU cpu (the
 * slot it sees of per-CPU maps); out must hold in_len bytes.
 * Returns 0, or -1 with the reason in err (an instruction or helper the
 * interpreter does not know, an access outside every known region).
 */
int icount_xdp(const struct bpf_program *prog, int cpu, const void *in, size_t in_len, void *out,
	       struct icount_result *res, char *err, size_t errlen);

#endif
