/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Builds test packets from a description and computes every checksum from
 * scratch (pseudo-header + whole segment). This is the independent reference
 * the data path is checked against: it shares no code with bpf/.
 */
#ifndef PKTBUILD_H
#define PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 4096
#define PKT_MAX_EXT 10

struct pkt_ext {
	uint8_t type; /* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, _FRAGMENT, _AH, ... */
	uint16_t len; /* bytes; multiple of 8 (AH: of 4); ignored for FRAGMENT */
};

struct pkt_spec {
	int vlan_tags; /* 0..3 */
	uint16_t vlan_tpid[3]; /* 0 means 0x8100 */
	uint16_t ethertype; /* 0: derived from ipv6 */
	int ipv6;
	int ip_version; /* 0: 4 or 6 as appropriate; else forced into the header */
	int ihl; /* 0: 5 + ip4_opt_len / 4 */
	int ip4_opt_len; /* multiple of 4, <= 40 */
	struct pkt_ext ext[PKT_MAX_EXT];
	int n_ext;
	uint16_t frag_offset; /* in 8-byte units; v4 header or v6 fragment header */
	int more_frags;
	int v4_frag; /* put frag_offset/more_frags into the IPv4 header */
	uint8_t l4proto;
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t payload_len;
	int udp_no_csum; /* IPv4 UDP sent without a checksum (0) */
	uint8_t dst_last; /* 0: destination 10.0.0.2 / 2001:db8::2; else its last byte */
	/* When nonzero: the frame carries only this many bytes of the L4 segment
	 * (a first fragment); checksums still cover the whole segment. */
	size_t l4_keep;
};

struct pkt_layout {
	size_t len; /* frame length */
	size_t l3_off;
	size_t l4_off;
	size_t l4_hdr_len;
	size_t csum_off; /* offset of the L4 checksum field */
	size_t dport_off;
	size_t boundaries[16]; /* end offset of each header, outermost first */
	int n_boundaries;
};

/* Returns the frame length, 0 on overflow. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap, struct pkt_layout *lay);

/* One's complement sum of len bytes (big-endian words), unfolded. */
uint32_t pkt_sum(const uint8_t *p, size_t len, uint32_t sum);
uint16_t pkt_fold(uint32_t sum);

#endif
