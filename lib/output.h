/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structured output. A command describes what it prints once, as nested
 * objects, arrays and fields; the same calls render either human text or
 * JSON, so the two forms cannot drift apart.
 *
 * Human form: fields of top-level objects print one per line ("key: value");
 * an array prints its key as a heading and each element on its own indented
 * line, an element object's label first and then "key value" pairs.
 */
#ifndef PR_OUTPUT_H
#define PR_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

void out_init(FILE *f, bool json);
/* Like out_init, but the top object is one line in human form too (a stream of records). */
void out_init_line(FILE *f, bool json);

void out_obj_begin(const char *key); /* key is NULL inside arrays and at the top */
void out_obj_end(void);
void out_arr_begin(const char *key);
void out_arr_end(void);

/* The name of an array element: printed bare and first in human form. */
void out_label(const char *key, const char *val);
void out_str(const char *key, const char *val);
void out_u64(const char *key, unsigned long long val);
void out_int(const char *key, long long val);
void out_bool(const char *key, bool val);
/* JSON only: detail the human form already shows inside a label. */
void out_json_str(const char *key, const char *val);
void out_json_u64(const char *key, unsigned long long val);
void out_json_bool(const char *key, bool val);
/* JSON only: structure around such detail (a command whose text is prose). */
void out_json_obj_begin(const char *key);
void out_json_obj_end(void);
void out_json_arr_begin(const char *key);
void out_json_arr_end(void);
/* Human form only: a line of prose (e.g. a note); JSON ignores it. */
void out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ends the document (a final newline for JSON) and flushes. */
void out_finish(void);

/*
 * One error as a JSON line of its own, {"error":{"command":..,"message":..,
 * "exit":..}} ("exit" left out when exit_code is negative: the command goes
 * on), apart from any document in progress (errors go to stderr).
 */
void out_error(FILE *f, const char *cmd, const char *msg, int exit_code);

#endif
