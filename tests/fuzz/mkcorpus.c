// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus: representative inputs for both fuzzers, so a run
 * starts from frames that reach the rewrite instead of rediscovering
 * Ethernet. Data path seeds carry frames built by tests/unit/pktbuild.c (as
 * raw records) and structured records chosen to cover each branch of the
 * spec: VLAN depth, IPv4 options and fragments, IPv6 extension chains up to
 * and past the limit, truncation, and the checksum corners.
 *
 * Usage: mkcorpus DIR   (writes DIR/datapath/ and DIR/rules/)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include "gen.h"
#include "pktbuild.h"

#define SEED_MAX 8192

struct seed {
	uint8_t b[SEED_MAX];
	size_t len;
	int frames;
};

static const char *outdir;
static int n_written;

static void write_file(const char *sub, const char *name, const void *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	n_written++;
}

struct rule_rec {
	int tcp;
	uint16_t first, last, to;
};

/* Encodes rules with the explicit span (class 6, span <= 255) or, for wider
 * ranges, the 16-bit span class 7, and the raw target class. */
static void seed_rules(struct seed *s, const struct rule_rec *r, int n)
{
	s->len = 0;
	s->frames = 0;
	s->b[s->len++] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		unsigned int span = (unsigned int)(r[i].last - r[i].first);
		uint8_t *p = s->b + s->len;

		if (span == 0) {
			p[0] = (uint8_t)r[i].tcp;
			p[3] = 0;
			p[4] = (uint8_t)(r[i].to >> 8);
			p[5] = (uint8_t)r[i].to;
		} else if (span <= 255) {
			p[0] = (uint8_t)(r[i].tcp | 6 << 1);
			p[3] = (uint8_t)span;
			p[4] = (uint8_t)(r[i].to >> 8);
			p[5] = (uint8_t)r[i].to;
		} else {
			/* class 7 takes the span's low byte from the target's, so
			 * only targets with that low byte can be expressed */
			p[0] = (uint8_t)(r[i].tcp | 7 << 1);
			p[3] = (uint8_t)(span >> 8);
			p[4] = (uint8_t)(r[i].to >> 8);
			p[5] = (uint8_t)span;
		}
		p[1] = (uint8_t)(r[i].first >> 8);
		p[2] = (uint8_t)r[i].first;
		s->len += FZ_RULE_BYTES;
	}
}

static void seed_raw(struct seed *s, const uint8_t *frame, size_t len)
{
	if (s->frames >= FZ_MAX_FRAMES || s->len + 3 + len > SEED_MAX)
		return;
	s->b[s->len++] = 0x0f;
	s->b[s->len++] = (uint8_t)(len >> 8);
	s->b[s->len++] = (uint8_t)len;
	memcpy(s->b + s->len, frame, len);
	s->len += len;
	s->frames++;
}

/* Appends a structured record: the given choice bytes, then deterministic
 * filler, cut to exactly what the decoder consumes. */
static void seed_struct(struct seed *s, const uint8_t *choice, size_t n, uint32_t fill)
{
	uint8_t rec[1024], frame[FZ_MAX_FRAME];
	struct fz_rule rules[FZ_MAX_RULES];
	struct fz_in in = { .p = s->b, .n = s->len };
	int nr;

	if (s->frames >= FZ_MAX_FRAMES)
		return;
	memcpy(rec, choice, n);
	/* Mostly zeros, the decoder's plain defaults (no truncation, no
	 * corruption), with one byte in four random for variety. */
	for (size_t i = n; i < sizeof(rec); i++) {
		fill = fill * 1103515245u + 12345u;
		rec[i] = (fill >> 30) == 0 ? (uint8_t)(fill >> 16) : 0;
	}
	nr = fz_decode_rules(&in, rules);
	in = (struct fz_in){ .p = rec, .n = sizeof(rec) };
	fz_decode_frame(&in, rules, nr, frame);
	if (s->len + in.pos > SEED_MAX)
		return;
	memcpy(s->b + s->len, rec, in.pos);
	s->len += in.pos;
	s->frames++;
}

static void seed_write(const struct seed *s, const char *name)
{
	write_file("datapath", name, s->b, s->len);
}

static const uint8_t payload[] = "Hello, New Stack! 0123456789abcdefghijklmnopqrstuvwxyz";

static void add_pkt(struct seed *s, const struct pkt_spec *ps)
{
	uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	size_t len = pkt_build(ps, buf, sizeof(buf), &lay);

	if (len)
		seed_raw(s, buf, len);
}

/*
 * Two scoped rules of UDP 7000 that both cover an IPv6 datagram to :: on lo:
 * lo with 0::/8 (-> 7100) and 0::/128 without an interface (-> 7200). The
 * first must win: an interface and an address outrank an address alone at
 * any prefix length (a rank that did not once sent it to 7200). Scoped rule
 * records take their selector from first ^ target ^ span byte (gen.c), so
 * the span bytes below pick selectors 15 and 30 (fuzz_datapath.c's
 * decode_scope()).
 */
static void seed_scoped_rank(struct seed *s, int k)
{
	static const uint8_t rules[] = {
		2,
		0x80, 0x1b, 0x58, 0x2b, 0x1b, 0xbc, /* udp 7000 -> 7100, lo 0::/8 */
		0x80, 0x1b, 0x58, 0x26, 0x1c, 0x20, /* udp 7000 -> 7200, 0::/128 */
	};
	struct pkt_spec ps = {
		.ipv6 = 1,
		.l4proto = IPPROTO_UDP,
		.sport = 9,
		.dport = 7000,
		.payload = payload,
		.payload_len = 5,
	};
	uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	size_t len = pkt_build(&ps, buf, sizeof(buf), &lay);
	char name[64];

	memcpy(s->b, rules, sizeof(rules));
	s->len = sizeof(rules);
	s->frames = 0;
	memset(buf + lay.l3_off + 24, 0, 16); /* the destination: :: */
	seed_raw(s, buf, len);
	snprintf(name, sizeof(name), "seed-%02d-scoped-rank-ipv6", k);
	seed_write(s, name);
}

static void datapath_seeds(void)
{
	static const struct rule_rec rules[] = {
		{ 0, 7999, 7999, 7998 },
		{ 1, 7999, 7999, 7998 },
		{ 0, 8001, 8099, 9001 },
		{ 1, 65535, 65535, 1 },
	};
	static const struct rule_rec edge_rules[] = {
		{ 0, 1, 1, 65535 },
		{ 1, 1, 256, 65280 },
		{ 0, 65535, 65535, 2 },
		{ 1, 300, 300, 299 },
	};
	static const struct rule_rec wide_rules[] = {
		{ 0, 1024, 1024 + 0x3000, 0x5000 },
		{ 1, 2, 0xf002, 0x0f00 },
	};
	const uint8_t l4[2] = { IPPROTO_UDP, IPPROTO_TCP };
	struct seed s;
	char name[64];
	int k = 0;

	/* pktbuild frames: family x protocol x VLAN depth, aimed at the rules. */
	for (int v6 = 0; v6 < 2; v6++) {
		for (int p = 0; p < 2; p++) {
			seed_rules(&s, rules, 4);
			for (int tags = 0; tags <= 3; tags++) {
				struct pkt_spec ps = {
					.vlan_tags = tags,
					.vlan_tpid = { 0x8100, 0x88a8, 0x8100 },
					.ipv6 = v6,
					.l4proto = l4[p],
					.sport = 40000,
					.dport = tags & 1 ? 8050 : 7999,
					.payload = payload,
					.payload_len = sizeof(payload) - 1 - (size_t)tags,
				};

				add_pkt(&s, &ps);
				ps.dport = 65535;
				add_pkt(&s, &ps);
				ps.dport = 8000; /* just below the range: no rule */
				add_pkt(&s, &ps);
			}
			snprintf(name, sizeof(name), "seed-%02d-pktbuild-%s-%s", k++,
				 v6 ? "ipv6" : "ipv4", p ? "tcp" : "udp");
			seed_write(&s, name);
		}
	}

	/* IPv4: options, fragments, no checksum, first fragment cut short. */
	seed_rules(&s, rules, 4);
	for (int i = 0; i < 8; i++) {
		struct pkt_spec ps = {
			.l4proto = l4[i & 1],
			.sport = 1234,
			.dport = 7999,
			.ip4_opt_len = (i & 2) ? 40 : 4 * i,
			.v4_frag = i >= 4,
			.frag_offset = (uint16_t)(i == 5 || i == 7 ? 185 : 0),
			.more_frags = i == 4 || i == 5,
			.udp_no_csum = i == 2 || i == 6,
			.l4_keep = i == 4 ? 24 : 0,
			.payload = payload,
			.payload_len = sizeof(payload) - 1,
		};

		add_pkt(&s, &ps);
	}
	snprintf(name, sizeof(name), "seed-%02d-pktbuild-ipv4-options-fragments", k++);
	seed_write(&s, name);

	/* IPv6 extension chains: every type, up to 8 and past it, fragments. */
	seed_rules(&s, rules, 4);
	{
		static const uint8_t types[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING,
						 IPPROTO_DSTOPTS, IPPROTO_AH, IPPROTO_FRAGMENT };

		for (int n = 1; n <= 9; n++) {
			struct pkt_spec ps = {
				.ipv6 = 1,
				.l4proto = l4[n & 1],
				.sport = 5353,
				.dport = (uint16_t)(n & 1 ? 65535 : 8001),
				.n_ext = n,
				.frag_offset = (uint16_t)(n == 7 ? 3 : 0),
				.more_frags = 1,
				.payload = payload,
				.payload_len = (size_t)n * 3,
			};

			for (int e = 0; e < n; e++) {
				ps.ext[e].type = types[(e + n) % 5];
				ps.ext[e].len = (uint16_t)(ps.ext[e].type == IPPROTO_AH ? 12 + 4 * (e % 3) :
											 8 * (1 + e % 2));
			}
			add_pkt(&s, &ps);
		}
	}
	snprintf(name, sizeof(name), "seed-%02d-pktbuild-ipv6-extension-headers", k++);
	seed_write(&s, name);

	/* Structured records: each choice byte walks one dimension. Fields:
	 * kind, l2 (VLAN depth), tpid, l3 (family, corruption), l4sel (proto,
	 * port aim, checksum mode), ipf (options/fragment or extension count). */
	{
		static const uint8_t choices[][6] = {
			{ 1, 0, 0, 0, 0x00, 0x00 }, /* IPv4 UDP, first port, good csum */
			{ 1, 3, 0, 3, 0x04, 0x00 }, /* one tag, IPv6, last port */
			{ 1, 5, 0x09, 0, 0x08, 0x03 }, /* QinQ 88a8/8100, IPv4 options */
			{ 1, 7, 0x00, 0, 0x00, 0x00 }, /* third tag: untouched */
			{ 1, 0, 0, 3, 0x00, 0x08 }, /* IPv6, 8 extension headers */
			{ 1, 0, 0, 3, 0x00, 0x09 }, /* IPv6, 9: past the limit */
			{ 1, 0, 0, 3, 0x00, 0x03 }, /* IPv6, 3 extension headers */
			{ 1, 0, 0, 0, 0xc0, 0x00 }, /* checksum lands on zero */
			{ 1, 0, 0, 3, 0xc0, 0x00 }, /* same, IPv6 */
			{ 1, 0, 0, 0, 0x60, 0x00 }, /* UDP checksum 0 */
			{ 1, 0, 0, 3, 0x60, 0x00 }, /* IPv6 UDP checksum 0 */
			{ 1, 0, 0, 0, 0x80, 0x00 }, /* checksum 0xffff */
			{ 1, 0, 0, 0, 0x00, 0x14 }, /* IPv4 MF, offset 0 */
			{ 1, 0, 0, 0, 0x00, 0x18 }, /* IPv4 nonzero offset */
			{ 1, 0, 0, 0x30, 0x00, 0x00 }, /* bad version */
			{ 1, 0, 0, 0x38, 0x00, 0x00 }, /* IHL < 5 */
			{ 1, 0, 0, 0, 0x03, 0x00 }, /* random protocol */
			{ 1, 0, 0, 0, 0x0c, 0x00 }, /* one below the range */
			{ 1, 0, 0, 0, 0x10, 0x00 }, /* one above the range */
			{ 1, 0, 0, 6, 0x00, 0x00 }, /* unknown ethertype */
		};
	
		for (int r = 0; r < 3; r++) {
			const struct rule_rec *rs = r == 0 ? rules : r == 1 ? edge_rules : wide_rules;

			seed_rules(&s, rs, r == 2 ? 2 : 4);
			for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]) && i < FZ_MAX_FRAMES; i++) {
				uint8_t c[6];

				memcpy(c, choices[(i + 5 * (size_t)r) % (sizeof(choices) / sizeof(choices[0]))], 6);
				c[4] ^= (uint8_t)(r == 1 ? 1 : 0); /* TCP for the edge rules */
				seed_struct(&s, c, sizeof(c), (uint32_t)(i * 7 + (size_t)r));
			}
			snprintf(name, sizeof(name), "seed-%02d-structured-%d", k++, r);
			seed_write(&s, name);
		}
	}

	/* Truncations: pktbuild frames cut one byte short of, at, and one byte
	 * past every header boundary. */
	for (int v6 = 0; v6 < 2; v6++) {
		for (int p = 0; p < 2; p++) {
			struct pkt_spec ps = {
				.vlan_tags = 1,
				.ipv6 = v6,
				.n_ext = v6 ? 2 : 0,
				.ext = { { IPPROTO_HOPOPTS, 8 }, { IPPROTO_FRAGMENT, 8 } },
				.ip4_opt_len = v6 ? 0 : 8,
				.l4proto = l4[p],
				.sport = 9,
				.dport = 7999,
				.payload = payload,
				.payload_len = 5,
			};
			uint8_t buf[PKT_MAX];
			struct pkt_layout lay;
			size_t len = pkt_build(&ps, buf, sizeof(buf), &lay);

			seed_rules(&s, rules, 4);
			for (int b = 0; b < lay.n_boundaries; b++) {
				for (size_t d = 0; d < 3; d++) {
					size_t cut = lay.boundaries[b] + d - 1;

					if (cut <= len)
						seed_raw(&s, buf, cut);
				}
			}
			snprintf(name, sizeof(name), "seed-%02d-truncated-%s-%s", k++,
				 v6 ? "ipv6" : "ipv4", p ? "tcp" : "udp");
			seed_write(&s, name);
		}
	}
	seed_scoped_rank(&s, k++);
}

static void rules_seed(const char *name, uint8_t flags, const char *text, const uint8_t raw[7])
{
	uint8_t b[256];
	size_t n = strlen(text);

	b[0] = flags;
	memcpy(b + 1, text, n);
	if (raw)
		memcpy(b + 1 + n, raw, 7);
	write_file("rules", name, b, 1 + n + (raw ? 7 : 0));
}

static void rules_seeds(void)
{
	static const struct {
		uint8_t flags;
		const char *text;
	} s[] = {
		{ 0x80, "8000\n9000\nudp\n" },
		{ 0x81, "8000-8099\n9000\nudp,tcp\n" },
		{ 0x41, "65535\n1\ntcp\n" },
		{ 0x40, "1-65535\n1\ntcp,udp\n" },
		{ 0x02, "7999-8001\n\n,udp,\n" },
		{ 0x00, "0-5\n00080\nudp,,tcp\n" },
		{ 0x00, "65534-65535\n65535\nicmp\n" },
		{ 0x04, "8000\n8000\nudp\n" },
		{ 0x30, "100-50\n7\nudp\n" },
		{ 0x10, "99999999999999999999\n1\ntcp\n" },
	};
	static const uint8_t raw[][7] = {
		{ 0, 0x1f, 0x40, 0x1f, 0xa3, 0x23, 0x28 }, /* udp 8000-8099 -> 9000 */
		{ 1, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01 }, /* tcp 65535 -> 1 */
		{ 1, 0x00, 0x01, 0xff, 0xff, 0x00, 0x01 }, /* self-redirect of everything */
		{ 0, 0x00, 0x02, 0xff, 0xff, 0x00, 0x01 }, /* 2-65535 -> 1-65534 */
		{ 0, 0x00, 0x01, 0xff, 0xfe, 0x00, 0x02 }, /* ends at 65535+... just fits */
	};
	char name[64];

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		snprintf(name, sizeof(name), "seed-%02zu", i);
		rules_seed(name, s[i].flags, s[i].text, raw[i % 5]);
	}
}

int main(int argc, char **argv)
{
	char path[512];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	snprintf(path, sizeof(path), "%s/datapath", outdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/rules", outdir);
	mkdir(path, 0755);
	datapath_seeds();
	rules_seeds();
	printf("mkcorpus: wrote %d files under %s\n", n_written, outdir);
	return 0;
}
