// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <netinet/in.h>

#include "pktbuild.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t pkt_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

uint16_t pkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static size_t ext_len(const struct pkt_ext *e)
{
	return e->type == IPPROTO_FRAGMENT ? 8 : e->len;
}

/* The largest L4 segment built: jumbo frames (test_multibuf) included. */
#define PKT_SEG_MAX 16384

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap, struct pkt_layout *lay)
{
	uint8_t seg[PKT_SEG_MAX];
	size_t off = 0, l4_hdr, seg_len, keep, ip_hdr_len, l3, i;
	uint32_t sum;
	int v;

	memset(lay, 0, sizeof(*lay));
	memset(buf, 0, cap);
	if (cap < 64)
		return 0;

	/* Ethernet */
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	off = 12;
	for (v = 0; v < s->vlan_tags; v++) {
		put16(buf + off, s->vlan_tpid[v] ? s->vlan_tpid[v] : 0x8100);
		put16(buf + off + 2, (uint16_t)(100 + v)); /* TCI */
		off += 4;
	}
	put16(buf + off, s->ethertype ? s->ethertype : (s->ipv6 ? 0x86dd : 0x0800));
	off += 2;
	/* Ethernet header, then each tag's TCI plus the type that follows it. */
	for (v = 0; v <= s->vlan_tags; v++)
		lay->boundaries[lay->n_boundaries++] = 14 + 4 * (size_t)v;
	l3 = off;
	lay->l3_off = l3;

	/* The L4 segment, complete, checksum computed later. */
	l4_hdr = s->l4proto == IPPROTO_TCP ? 20 : 8;
	seg_len = l4_hdr + s->payload_len;
	if (seg_len > sizeof(seg))
		return 0;
	memset(seg, 0, l4_hdr);
	put16(seg, s->sport);
	put16(seg + 2, s->dport);
	if (s->l4proto == IPPROTO_TCP) {
		seg[4] = 0x12; /* sequence number, arbitrary */
		seg[7] = 0x34;
		seg[12] = 5 << 4; /* data offset */
		seg[13] = 0x18; /* PSH|ACK */
		put16(seg + 14, 512); /* window */
	} else {
		put16(seg + 4, (uint16_t)seg_len);
	}
	if (s->payload_len)
		memcpy(seg + l4_hdr, s->payload, s->payload_len);
	keep = s->l4_keep ? s->l4_keep : seg_len;

	if (!s->ipv6) {
		size_t opt = (size_t)s->ip4_opt_len;
		uint16_t fo = (uint16_t)(s->v4_frag ? (s->frag_offset & 0x1fff) |
							      (s->more_frags ? 0x2000 : 0) :
						      0);

		ip_hdr_len = 20 + opt;
		if (l3 + ip_hdr_len + keep > cap)
			return 0;
		buf[l3] = (uint8_t)((s->ip_version ? s->ip_version : 4) << 4 |
				    (s->ihl ? s->ihl : (int)(ip_hdr_len / 4)));
		put16(buf + l3 + 2, (uint16_t)(ip_hdr_len + keep));
		put16(buf + l3 + 4, 0x1234);
		put16(buf + l3 + 6, fo);
		buf[l3 + 8] = 64;
		buf[l3 + 9] = s->l4proto;
		memcpy(buf + l3 + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		if (s->dst_last)
			buf[l3 + 19] = s->dst_last;
		for (i = 0; i < opt; i++)
			buf[l3 + 20 + i] = 1; /* NOP options */
		put16(buf + l3 + 10, (uint16_t)~pkt_fold(pkt_sum(buf + l3, ip_hdr_len, 0)));
		/* pseudo-header: addresses, protocol, L4 length */
		sum = pkt_sum(buf + l3 + 12, 8, 0) + s->l4proto + (uint32_t)seg_len;
		off = l3 + ip_hdr_len;
		lay->boundaries[lay->n_boundaries++] = off;
	} else {
		uint8_t next;
		size_t ext_total = 0;
		int e;

		for (e = 0; e < s->n_ext; e++)
			ext_total += ext_len(&s->ext[e]);
		ip_hdr_len = 40;
		if (l3 + ip_hdr_len + ext_total + keep > cap)
			return 0;
		buf[l3] = (uint8_t)((s->ip_version ? s->ip_version : 6) << 4);
		buf[l3 + 1] = 0;
		put16(buf + l3 + 4, (uint16_t)(ext_total + keep));
		buf[l3 + 6] = s->n_ext ? s->ext[0].type : s->l4proto;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01",
		       16);
		memcpy(buf + l3 + 24,
		       "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02", 16);
		if (s->dst_last)
			buf[l3 + 39] = s->dst_last;
		off = l3 + 40;
		lay->boundaries[lay->n_boundaries++] = off;
		for (e = 0; e < s->n_ext; e++) {
			const struct pkt_ext *x = &s->ext[e];
			size_t len = ext_len(x);

			next = e + 1 < s->n_ext ? s->ext[e + 1].type : s->l4proto;
			buf[off] = next;
			if (x->type == IPPROTO_FRAGMENT) {
				put16(buf + off + 2, (uint16_t)(s->frag_offset << 3 |
								(s->more_frags ? 1 : 0)));
				put16(buf + off + 4, 0xabcd);
			} else if (x->type == IPPROTO_AH) {
				buf[off + 1] = (uint8_t)(len / 4 - 2);
			} else {
				buf[off + 1] = (uint8_t)(len / 8 - 1);
				if (len > 2) { /* PadN filling the rest */
					buf[off + 2] = 1;
					buf[off + 3] = (uint8_t)(len - 4);
				}
			}
			off += len;
			lay->boundaries[lay->n_boundaries++] = off;
		}
		sum = pkt_sum(buf + l3 + 8, 32, 0) + s->l4proto + (uint32_t)seg_len;
	}

	lay->l4_off = off;
	lay->l4_hdr_len = l4_hdr;
	lay->dport_off = off + 2;
	lay->csum_off = off + (s->l4proto == IPPROTO_TCP ? 16 : 6);
	lay->boundaries[lay->n_boundaries++] = off + l4_hdr;

	/* L4 checksum over pseudo-header and the whole segment (RFC 768/793/8200). */
	if (s->l4proto == IPPROTO_TCP || s->l4proto == IPPROTO_UDP) {
		uint16_t c = (uint16_t)~pkt_fold(pkt_sum(seg, seg_len, sum));
		size_t co = s->l4proto == IPPROTO_TCP ? 16 : 6;

		if (s->l4proto == IPPROTO_UDP && c == 0)
			c = 0xffff; /* RFC 768: computed zero is sent as all ones */
		if (s->l4proto == IPPROTO_UDP && s->udp_no_csum && !s->ipv6)
			c = 0;
		put16(seg + co, c);
	}
	memcpy(buf + off, seg, keep);
	lay->len = off + keep;
	return lay->len;
}
