// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <string.h>

#include "output.h"

#define MAX_DEPTH 16

struct frame {
	bool is_array;
	bool is_inline; /* human: rendered on the current line */
	int items;
};

static struct out_state {
	FILE *f;
	bool json;
	bool root_inline;
	int depth;
	struct frame stack[MAX_DEPTH];
} o;

void out_init(FILE *f, bool json)
{
	memset(&o, 0, sizeof(o));
	o.f = f;
	o.json = json;
}

void out_init_line(FILE *f, bool json)
{
	out_init(f, json);
	o.root_inline = true;
}

static struct frame *top(void)
{
	return o.depth ? &o.stack[o.depth - 1] : NULL;
}

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: shortest form, no
 * surrogates, at most U+10FFFF), 0 if there is none.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp, need, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (unsigned int k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need + 1;
}

/*
 * Names (interfaces, config values) may hold any byte; JSON must be UTF-8.
 * Valid sequences pass through, a stray byte becomes the code point of the
 * same value (\u00XX), so the output always parses.
 */
static void json_string_to(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		size_t n;

		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s >= 0x20 && *s != 0x7f && (n = utf8_len(s)) > 0) {
			fwrite(s, 1, n, f);
			s += n;
			continue;
		} else /* control characters and stray bytes */
			fprintf(f, "\\u%04x", *s);
		s++;
	}
	fputc('"', f);
}

static void json_string(const char *str)
{
	json_string_to(o.f, str);
}

static void indent(int level)
{
	for (int i = 0; i < level; i++)
		fputs("  ", o.f);
}

/* Human indentation: one step per level below the top object. */
static int human_level(void)
{
	return o.depth > 1 ? o.depth - 1 : 0;
}

/* Emits what precedes a value: separators, key, indentation. */
static void item_prefix(const char *key, bool bare)
{
	struct frame *t = top();

	if (o.json) {
		if (t && t->items)
			fputc(',', o.f);
		if (key && t && !t->is_array) {
			json_string(key);
			fputc(':', o.f);
		}
	} else if (t && t->is_inline) {
		if (t->items)
			fputs(t->is_array ? ", " : "  ", o.f);
		if (key && !bare && !t->is_array)
			fprintf(o.f, "%s ", key);
	} else if (t && t->is_array) {
		indent(human_level());
	} else if (key) {
		indent(human_level());
		fprintf(o.f, "%s: ", key);
	}
	if (t)
		t->items++;
}

static void item_suffix(void)
{
	struct frame *t = top();

	if (!o.json && !(t && t->is_inline))
		fputc('\n', o.f);
}

static void push(bool is_array, bool is_inline)
{
	if (o.depth < MAX_DEPTH)
		o.stack[o.depth++] = (struct frame){ .is_array = is_array, .is_inline = is_inline };
}

void out_obj_begin(const char *key)
{
	struct frame *t = top();
	bool in_array = t && t->is_array;

	if (o.json) {
		item_prefix(key, false);
		fputc('{', o.f);
		push(false, false);
		return;
	}
	if ((t && t->is_inline) || in_array) {
		/* Inside an inline object, or an array element: one line of its own. */
		item_prefix(key, false);
		push(false, true);
	} else if (!t && o.root_inline) {
		push(false, true);
	} else {
		if (key) {
			indent(human_level());
			fprintf(o.f, "%s:\n", key);
		}
		if (t)
			t->items++;
		push(false, false);
	}
}

void out_obj_end(void)
{
	struct frame *t = top();
	bool was_inline = t && t->is_inline;

	if (o.depth)
		o.depth--;
	if (o.json) {
		fputc('}', o.f);
		return;
	}
	/* An element line ends when its object does. */
	if (was_inline && !(top() && top()->is_inline))
		fputc('\n', o.f);
}

void out_arr_begin(const char *key)
{
	struct frame *t = top();

	if (o.json) {
		item_prefix(key, false);
		fputc('[', o.f);
		push(true, false);
		return;
	}
	if (t && t->is_inline) {
		item_prefix(key, false);
		push(true, true);
		return;
	}
	if (key) {
		indent(human_level());
		fprintf(o.f, "%s:\n", key);
	}
	if (t)
		t->items++;
	push(true, false);
}

void out_arr_end(void)
{
	struct frame *t = top();

	if (o.json) {
		if (o.depth)
			o.depth--;
		fputc(']', o.f);
		return;
	}
	if (t && !t->items) {
		if (t->is_inline) {
			fputc('-', o.f);
		} else {
			indent(human_level());
			fputs("(none)\n", o.f);
		}
	}
	if (o.depth)
		o.depth--;
}

void out_label(const char *key, const char *val)
{
	item_prefix(key, true);
	if (o.json)
		json_string(val);
	else
		fputs(val, o.f);
	item_suffix();
}

void out_str(const char *key, const char *val)
{
	item_prefix(key, false);
	if (o.json)
		json_string(val);
	else
		fputs(val, o.f);
	item_suffix();
}

void out_u64(const char *key, unsigned long long val)
{
	item_prefix(key, false);
	fprintf(o.f, "%llu", val);
	item_suffix();
}

void out_int(const char *key, long long val)
{
	item_prefix(key, false);
	fprintf(o.f, "%lld", val);
	item_suffix();
}

void out_bool(const char *key, bool val)
{
	item_prefix(key, false);
	fputs(o.json ? (val ? "true" : "false") : (val ? "yes" : "no"), o.f);
	item_suffix();
}

void out_json_str(const char *key, const char *val)
{
	if (o.json)
		out_str(key, val);
}

void out_json_u64(const char *key, unsigned long long val)
{
	if (o.json)
		out_u64(key, val);
}

void out_json_bool(const char *key, bool val)
{
	if (o.json)
		out_bool(key, val);
}

void out_json_obj_begin(const char *key)
{
	if (o.json)
		out_obj_begin(key);
}

void out_json_obj_end(void)
{
	if (o.json)
		out_obj_end();
}

void out_json_arr_begin(const char *key)
{
	if (o.json)
		out_arr_begin(key);
}

void out_json_arr_end(void)
{
	if (o.json)
		out_arr_end();
}

void out_note(const char *fmt, ...)
{
	va_list ap;

	if (o.json)
		return;
	va_start(ap, fmt);
	vfprintf(o.f, fmt, ap);
	va_end(ap);
	fputc('\n', o.f);
}

void out_finish(void)
{
	if (o.json)
		fputc('\n', o.f);
	fflush(o.f);
}

void out_error(FILE *f, const char *cmd, const char *msg, int exit_code)
{
	fputs("{\"error\":{\"command\":", f);
	json_string_to(f, cmd);
	fputs(",\"message\":", f);
	json_string_to(f, msg);
	if (exit_code >= 0)
		fprintf(f, ",\"exit\":%d", exit_code);
	fputs("}}\n", f);
	fflush(f);
}
