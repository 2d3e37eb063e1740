// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for lib/output.c: the input is a program of output
 * calls (objects, arrays, strings of arbitrary bytes, numbers), run once
 * rendering JSON and once rendering text. The JSON must always be one valid
 * JSON document (checked by a strict parser here, RFC 8259, UTF-8 included),
 * whatever bytes the strings hold: interface names and config values reach
 * status --json unfiltered.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static unsigned long long n_inputs, n_docs;

static void print_stats(void)
{
	fprintf(stderr, "pr-fuzz-output: inputs=%llu json-documents=%llu mismatches=0\n", n_inputs,
		n_docs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atexit(print_stats);
	return 0;
}

/* ---- a strict JSON checker ---------------------------------------------- */

struct jp {
	const unsigned char *s;
	size_t n, i;
	int depth;
};

static void ws(struct jp *p)
{
	while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]))
		p->i++;
}

static bool lit(struct jp *p, const char *w)
{
	size_t l = strlen(w);

	if (p->n - p->i < l || memcmp(p->s + p->i, w, l))
		return false;
	p->i += l;
	return true;
}

/* One UTF-8 sequence (RFC 3629: shortest form, no surrogates, <= U+10FFFF). */
static bool utf8(struct jp *p)
{
	unsigned char c = p->s[p->i];
	unsigned int cp, need, min;

	if (c < 0x80) {
		p->i++;
		return true;
	}
	if (c >= 0xc2 && c <= 0xdf)
		need = 1, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3, cp = c & 0x07, min = 0x10000;
	else
		return false;
	if (p->n - p->i <= need)
		return false;
	for (unsigned int k = 1; k <= need; k++) {
		unsigned char d = p->s[p->i + k];

		if ((d & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (d & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	p->i += need + 1;
	return true;
}

static bool string(struct jp *p)
{
	if (!lit(p, "\""))
		return false;
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];

		if (c == '"') {
			p->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++p->i >= p->n)
				return false;
			c = p->s[p->i];
			if (c == 'u') {
				if (p->n - p->i < 5)
					return false;
				for (int k = 1; k <= 4; k++)
					if (!strchr("0123456789abcdefABCDEF", p->s[p->i + k]) ||
					    !p->s[p->i + k])
						return false;
				p->i += 5;
			} else if (strchr("\"\\/bfnrt", c) && c) {
				p->i++;
			} else {
				return false;
			}
			continue;
		}
		if (!utf8(p))
			return false;
	}
	return false;
}

static bool number(struct jp *p)
{
	size_t start = p->i;

	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n)
		return false;
	if (p->s[p->i] == '0') {
		p->i++;
	} else if (p->s[p->i] >= '1' && p->s[p->i] <= '9') {
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	} else {
		return false;
	}
	return p->i > start;
}

static bool value(struct jp *p);

static bool members(struct jp *p, char close, bool keyed)
{
	ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return true;
	}
	for (;;) {
		ws(p);
		if (keyed) {
			if (!string(p))
				return false;
			ws(p);
			if (!lit(p, ":"))
				return false;
		}
		if (!value(p))
			return false;
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return true;
		}
		return false;
	}
}

static bool value(struct jp *p)
{
	bool ok;

	ws(p);
	if (p->i >= p->n || ++p->depth > 64)
		return false;
	switch (p->s[p->i]) {
	case '{':
		p->i++;
		ok = members(p, '}', true);
		break;
	case '[':
		p->i++;
		ok = members(p, ']', false);
		break;
	case '"':
		ok = string(p);
		break;
	case 't':
		ok = lit(p, "true");
		break;
	case 'f':
		ok = lit(p, "false");
		break;
	case 'n':
		ok = lit(p, "null");
		break;
	default:
		ok = number(p);
	}
	p->depth--;
	return ok;
}

/* ---- the program of output calls ------------------------------------------ */

/* Runs the calls the input describes; keys and strings are slices of it. */
static void render(const unsigned char *d, size_t n, FILE *f, bool json)
{
	char str[64], key[16];
	int depth = 0;
	bool is_array[16];
	size_t i = 0;

	out_init(f, json);
	out_obj_begin(NULL);
	is_array[0] = false;
	while (i < n) {
		unsigned char op = d[i++] % 9, len = i < n ? d[i++] % sizeof(str) : 0;
		const char *k;

		if (len > n - i)
			len = (unsigned char)(n - i);
		memcpy(str, d + i, len);
		str[len] = '\0';
		snprintf(key, sizeof(key), "k%zu", i);
		i += len;
		/* Keys inside objects, none inside arrays, as the callers do. */
		k = is_array[depth] ? NULL : key;
		switch (op) {
		case 0:
			if (depth < 14) {
				out_obj_begin(k);
				is_array[++depth] = false;
			}
			break;
		case 1:
			if (depth < 14) {
				out_arr_begin(k);
				is_array[++depth] = true;
			}
			break;
		case 2:
			if (depth > 0) {
				if (is_array[depth])
					out_arr_end();
				else
					out_obj_end();
				depth--;
			}
			break;
		case 3:
			out_str(k, str);
			break;
		case 4:
			out_label(k, str);
			break;
		case 5:
			out_u64(k, (unsigned long long)len * 0x9e3779b97f4a7c15ULL);
			break;
		case 6:
			out_int(k, -(long long)len * 1000003);
			break;
		case 7:
			out_bool(k, len & 1);
			break;
		default:
			out_json_str(k, str);
		}
	}
	while (depth > 0) {
		if (is_array[depth])
			out_arr_end();
		else
			out_obj_end();
		depth--;
	}
	out_obj_end();
	out_finish();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jp p;

	n_inputs++;
	if (!f)
		abort();
	render(data, size, f, true);
	fclose(f);
	p = (struct jp){ .s = (const unsigned char *)buf, .n = len };
	if (!value(&p) || (ws(&p), p.i != p.n)) {
		fprintf(stderr, "\nMISMATCH: invalid JSON at byte %zu of %zu:\n%.*s\n", p.i, len,
			(int)len, buf);
		abort();
	}
	n_docs++;
	free(buf);

	/* The text form has no grammar to check; it must just not crash. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	render(data, size, f, false);
	fclose(f);
	free(buf);
	return 0;
}
