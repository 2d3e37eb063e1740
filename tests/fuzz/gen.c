// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "gen.h"

#define IPP_TCP 6
#define IPP_UDP 17

int fz_done(const struct fz_in *in)
{
	return in->pos >= in->n;
}

uint8_t fz_u8(struct fz_in *in)
{
	return in->pos < in->n ? in->p[in->pos++] : 0;
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t hi = fz_u8(in);

	return (uint16_t)(hi << 8 | fz_u8(in));
}

static void fz_fill(struct fz_in *in, uint8_t *dst, size_t n)
{
	size_t have = in->pos < in->n ? in->n - in->pos : 0;

	if (have > n)
		have = n;
	memcpy(dst, in->p + in->pos, have);
	memset(dst + have, 0, n - have);
	in->pos += have;
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int fz_decode_rules(struct fz_in *in, struct fz_rule *rules)
{
	int n = fz_u8(in) % (FZ_MAX_RULES + 1);

	/* Callers compare rule sets with memcmp: no stray padding bytes. */
	memset(rules, 0, sizeof(*rules) * FZ_MAX_RULES);
	for (int i = 0; i < n; i++) {
		struct fz_rule *r = &rules[i];
		uint8_t c = fz_u8(in), s;
		uint16_t t;
		unsigned int span, last;

		r->first = fz_u16(in);
		s = fz_u8(in);
		t = fz_u16(in);
		r->tcp = c & 1;
		r->scope = c & 0x80 ? 1 + ((r->first ^ t ^ s) & 0x3f) : 0;
		switch ((c >> 1) & 7) {
		case 4:
		case 5:
			span = s & 15;
			break;
		case 6:
			span = s;
			break;
		case 7: /* up to the whole port space, rarely */
			span = (unsigned int)s << 8 | (t & 0xff);
			break;
		default:
			span = 0;
		}
		last = r->first + span;
		r->last = (uint16_t)(last > 65535 ? 65535 : last);
		span = r->last - r->first;
		switch ((c >> 4) & 7) {
		case 4:
			r->to = (uint16_t)(r->first + 1 + (t & 3));
			break;
		case 5: /* the last target port is 65535 */
			r->to = (uint16_t)(65535 - span);
			break;
		case 6: /* one past: must be refused (0 when span is 0) */
			r->to = (uint16_t)(65536 - span);
			break;
		case 7: /* self-redirect: must be refused */
			r->to = r->first;
			break;
		default:
			r->to = t;
		}
	}
	return n;
}

uint16_t fz_rule_target(const struct fz_rule *rules, int nrules, int tcp, uint16_t port)
{
	for (int i = 0; i < nrules; i++) {
		const struct fz_rule *r = &rules[i];

		if (r->tcp == tcp && port >= r->first && port <= r->last)
			return (uint16_t)(r->to + (port - r->first));
	}
	return 0;
}

static const uint16_t tpids[8] = { 0x8100, 0x88a8, 0x8100, 0x88a8, 0x9100, 0x8100, 0x88a8, 0 };
static const uint8_t ext_types[8] = { 0, 43, 60, 51, 44, 44, 60, 0xff };

size_t fz_decode_frame(struct fz_in *in, const struct fz_rule *rules, int nrules, uint8_t *f)
{
	uint8_t kind = fz_u8(in), l2, tp, l3, l4sel, ipf, tr, pl;
	size_t off, l3off, l4off, hdr, plen, seglen, total, ext_total = 0;
	unsigned int ntags, proto, sel, corrupt, csum_mode;
	uint16_t dport, x;
	uint32_t psum;
	int v6, ipp_tcp, i;

	if ((kind & 0x0f) == 0x0f) {
		size_t len = fz_u16(in) % (FZ_MAX_FRAME + 1);

		fz_fill(in, f, len);
		return len;
	}
	memset(f, 0, FZ_MAX_FRAME);
	l2 = fz_u8(in);
	tp = fz_u8(in);
	l3 = fz_u8(in);
	l4sel = fz_u8(in);
	ipf = fz_u8(in);

	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	f[11] ^= kind;
	off = 12;
	ntags = (unsigned int[]){ 0, 0, 0, 1, 1, 2, 2, 3 }[l2 & 7];
	for (unsigned int t = 0; t < ntags; t++) {
		unsigned int tpid = t < 2 ? tpids[(tp >> (3 * t)) & 7] : tpids[(tp >> 6) * 2 % 8];

		if (!tpid)
			tpid = fz_u16(in);
		put16(f + off, tpid);
		put16(f + off + 2, (l2 >> 3) * 97u + t); /* TCI: PCP, DEI, VID */
		off += 4;
	}

	sel = l3 & 7;
	corrupt = (l3 >> 3) & 7;
	v6 = sel >= 3 && sel <= 5;
	if (sel == 6 || sel == 7)
		v6 = !!(l3 & 0x80);
	if (sel == 6)
		put16(f + off, fz_u16(in));
	else if (sel == 7) /* a header of the other family */
		put16(f + off, v6 ? 0x0800 : 0x86dd);
	else
		put16(f + off, v6 ? 0x86dd : 0x0800);
	off += 2;
	l3off = off;

	/* The L4 protocol: the aimed-at rule's, the other one, or any byte. */
	x = fz_u16(in);
	{
		const struct fz_rule *r = nrules ? &rules[fz_u8(in) % nrules] : NULL;
		unsigned int span = r ? (unsigned int)(r->last - r->first) : 0;

		ipp_tcp = r ? r->tcp : (l4sel >> 7);
		switch (l4sel & 3) {
		case 2:
			ipp_tcp = !ipp_tcp;
			/* fall through */
		case 0:
		case 1:
			proto = ipp_tcp ? IPP_TCP : IPP_UDP;
			break;
		default:
			proto = fz_u8(in);
			ipp_tcp = proto == IPP_TCP;
		}
		switch ((l4sel >> 2) & 7) {
		case 0:
			dport = r ? r->first : x;
			break;
		case 1:
			dport = r ? r->last : x;
			break;
		case 3:
			dport = (uint16_t)(r ? r->first - 1 : x);
			break;
		case 4:
			dport = (uint16_t)(r ? r->last + 1 : x);
			break;
		case 5:
			dport = x;
			break;
		default:
			dport = (uint16_t)(r ? r->first + x % (span + 1) : x);
		}
	}
	csum_mode = (l4sel >> 5) & 7;

	if (!v6) {
		size_t optlen = (ipf & 3) == 3 ? (size_t)(fz_u8(in) % 11) * 4 : 0;
		unsigned int frag;

		f[off] = (uint8_t)(0x40 | (20 + optlen) / 4);
		put16(f + off + 4, 0x1234);
		switch ((ipf >> 2) & 7) {
		case 4:
			frag = 0x4000; /* DF */
			break;
		case 5:
			frag = 0x2000; /* MF, offset 0: a first fragment */
			break;
		case 6:
			frag = (fz_u16(in) & 0xe000) | (1 + fz_u16(in) % 0x1fff);
			break;
		case 7:
			frag = fz_u16(in);
			break;
		default:
			frag = 0;
		}
		put16(f + off + 6, frag);
		f[off + 8] = 64;
		f[off + 9] = (uint8_t)proto;
		fz_fill(in, f + off + 12, 8);
		fz_fill(in, f + off + 20, optlen);
		l4off = off + 20 + optlen;
		psum = sum16(f + off + 12, 8, 0) + proto;
	} else {
		unsigned int next_at = (unsigned int)(off + 6), n = fz_u8(in);

		f[off] = 0x60;
		f[off + 7] = 64;
		fz_fill(in, f + off + 8, 32);
		psum = sum16(f + off + 8, 32, 0) + proto;
		l4off = off + 40;
		n = (n & 0x0f) > 10 ? 0 : (n & 0x0f);
		for (i = 0; i < (int)n; i++) {
			uint8_t ty = fz_u8(in), hl = fz_u8(in), type = ext_types[ty & 7];
			size_t len;

			if (type == 0xff)
				type = fz_u8(in);
			if (type == 44) {
				len = 8;
			} else {
				if (!(ty & 0x18))
					hl &= 3; /* mostly short headers, sometimes long ones */
				len = type == 51 ? ((size_t)hl + 2) * 4 : ((size_t)hl + 1) * 8;
			}
			if (l4off + len + 20 > FZ_MAX_FRAME)
				break;
			f[next_at] = type;
			next_at = (unsigned int)l4off;
			if (type == 44) {
				unsigned int fo = ty & 0x20 ? (1u + hl) : 0;

				put16(f + l4off + 2, fo << 3 | !!(ty & 0x40));
				put16(f + l4off + 4, 0xabcd);
			} else {
				f[l4off + 1] = hl;
			}
			l4off += len;
			ext_total += len;
		}
		f[next_at] = (uint8_t)proto;
	}

	hdr = proto == IPP_TCP ? 20 : 8;
	off = l4off;
	put16(f + off, fz_u16(in));
	put16(f + off + 2, dport);
	if (proto == IPP_TCP) {
		fz_fill(in, f + off + 4, 8); /* sequence and acknowledgement numbers */
		f[off + 12] = 0x50;
		f[off + 13] = fz_u8(in);
		put16(f + off + 14, fz_u16(in));
	}
	pl = fz_u8(in);
	plen = pl & 0x80 ? ((size_t)(pl & 0x7f) << 5 | (fz_u8(in) & 31)) : (pl & 0x7f);
	if (off + hdr + plen > FZ_MAX_FRAME)
		plen = FZ_MAX_FRAME - off - hdr;
	fz_fill(in, f + off + hdr, plen);
	seglen = hdr + plen;
	if (proto != IPP_TCP)
		put16(f + off + 4, ipf & 0x20 ? fz_u16(in) : (unsigned int)seglen);

	if (!v6) {
		size_t ihl = l4off - l3off;

		put16(f + l3off + 2, ipf & 0x40 ? fz_u16(in) : (unsigned int)(ihl + seglen));
		put16(f + l3off + 10, (uint16_t)~fold(sum16(f + l3off, ihl, 0)));
		psum += (uint32_t)seglen;
	} else {
		put16(f + l3off + 4, ipf & 0x40 ? fz_u16(in) : (unsigned int)(ext_total + seglen));
		psum += (uint32_t)seglen;
	}

	{
		size_t co = off + (proto == IPP_TCP ? 16 : 6);
		uint16_t good = (uint16_t)~fold(sum16(f + off, seglen, psum)), csum, newp;

		if (proto == IPP_UDP && !good)
			good = 0xffff;
		switch (csum_mode) {
		case 3:
			csum = 0;
			break;
		case 4:
			csum = 0xffff;
			break;
		case 5:
			csum = fz_u16(in);
			break;
		case 6:
			/* Chosen so the rewritten field is a one's complement zero. */
			newp = fz_rule_target(rules, nrules, ipp_tcp, dport);
			csum = (uint16_t)(((uint32_t)newp + 0xffff - dport) % 0xffff);
			break;
		case 7:
			csum = (uint16_t)(good ^ (1u << (x & 15)));
			break;
		default:
			csum = good;
		}
		put16(f + co, csum);
	}
	if (corrupt == 6) {
		f[l3off] = (uint8_t)((f[l3off] & 0x0f) | (fz_u8(in) & 0xf0));
	} else if (corrupt == 7) {
		if (v6)
			f[l3off] = (uint8_t)(fz_u8(in) & 0xf0);
		else
			f[l3off] = (uint8_t)(0x40 | (fz_u8(in) % 5));
	}

	total = off + seglen;
	tr = fz_u8(in);
	switch (tr & 7) {
	case 5: /* cut inside or right at the end of the L4 header */
		total = off + fz_u8(in) % (hdr + 1);
		break;
	case 6:
		total = fz_u16(in) % (total + 1);
		break;
	case 7: /* cut somewhere in the headers */
		total = 12 + fz_u16(in) % (off - 12 + 1);
		break;
	default:
		break;
	}
	if (tr & 0x80) { /* Ethernet padding past the IP length */
		size_t pad = (tr >> 3) & 15;

		if (total + pad > FZ_MAX_FRAME)
			pad = FZ_MAX_FRAME - total;
		fz_fill(in, f + total, pad);
		total += pad;
	}
	return total;
}
