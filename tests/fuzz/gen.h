/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Turns fuzzer bytes into a small rule set and a sequence of frames. The
 * bytes mostly choose among valid structures (VLAN tags, IPv4 with options,
 * IPv6 extension chains, UDP/TCP aimed at the rules' ports, checksums that
 * land on the +0/-0 corner) and only then fill fields and payload, so that
 * frames which reach the rewrite are common; one record kind in sixteen is
 * raw bytes. All-zero bytes decode to a plain IPv4 frame aimed at the first
 * rule's first port with a correct checksum, so truncated inputs stay useful.
 * The layout is documented here because tests/fuzz/mkcorpus.c writes seeds
 * in it.
 *
 * Input: [nrules % 5] then nrules rule records of FZ_RULE_BYTES, then frame
 * records until the input ends (at most FZ_MAX_FRAMES). A record whose first
 * byte has the low nibble 0xf is raw: [kind][len hi][len lo][len bytes]; any
 * other is structured, read field by field by fz_decode_frame().
 * Reads past the end of the input yield zeros, so every input decodes.
 */
#ifndef PR_FUZZ_GEN_H
#define PR_FUZZ_GEN_H

#include <stddef.h>
#include <stdint.h>

#define FZ_MAX_RULES 4
#define FZ_RULE_BYTES 6
#define FZ_MAX_FRAMES 16
/* BPF_PROG_TEST_RUN hands an XDP program at most 4096 - 256 (headroom) -
 * 320 (skb_shared_info) = 3520 linear bytes and puts the rest in fragments,
 * which a plain SEC("xdp") program cannot see; the spec is about linear
 * frames, so frames stay below that with a margin. */
#define FZ_MAX_FRAME 3072

struct fz_in {
	const uint8_t *p;
	size_t n, pos;
};

/* A rule as decoded, before anyone decided whether it is acceptable. */
struct fz_rule {
	int tcp;
	uint16_t first, last, to;
	/* 0: unscoped; else 1 + a 6-bit scope selector (fuzz_datapath.c decodes it) */
	int scope;
};

int fz_done(const struct fz_in *in);
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);

/* Rule record byte 0: bit 0 TCP, bits 1-3 span class, bits 4-6 target class, bit 7 scoped. */
int fz_decode_rules(struct fz_in *in, struct fz_rule *rules);

/* Builds the next frame into buf (FZ_MAX_FRAME bytes); returns its length. */
size_t fz_decode_frame(struct fz_in *in, const struct fz_rule *rules, int nrules, uint8_t *buf);

/* What the decoded rules (valid or not) would map (tcp, port) to; 0 if none. */
uint16_t fz_rule_target(const struct fz_rule *rules, int nrules, int tcp, uint16_t port);

#endif
