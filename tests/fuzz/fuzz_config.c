// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the configuration file parser (lib/config.c), under
 * ASan and UBSan. Any input may be rejected, but never crash; an accepted
 * file must survive the round trip: written back with pr_config_write(), it
 * parses again without error to the same configuration, and writing that
 * gives the same bytes (save | apply | save is stable).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_report.h"

static unsigned long long n_inputs, n_accepted, n_roundtrips;

static void print_stats(void)
{
	fprintf(stderr, "pr-fuzz-config: inputs=%llu accepted=%llu roundtrips=%llu mismatches=0\n",
		n_inputs, n_accepted, n_roundtrips);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atexit(print_stats);
	return 0;
}

/* Writes cfg to a fresh buffer; the caller frees *buf. */
static size_t write_cfg(const struct pr_config *cfg, char **buf)
{
	size_t len = 0;
	FILE *f = open_memstream(buf, &len);

	if (!f)
		abort();
	if (pr_config_write(f, cfg, NULL))
		fail("pr_config_write failed on an accepted configuration");
	fclose(f);
	return len;
}

static int parse_buf(const char *buf, size_t len, struct pr_config *cfg, FILE *diag)
{
	FILE *in = fmemopen((void *)buf, len, "r");
	int errors;

	if (!in)
		return -1; /* fmemopen refuses a zero-length buffer */
	errors = pr_config_parse(in, "fuzz.conf", cfg, diag);
	fclose(in);
	return errors;
}

static void same(const struct pr_config *a, const struct pr_config *b, const char *text)
{
	if (a->flow_table_size != b->flow_table_size || a->n_ifaces != b->n_ifaces ||
	    a->n_rules != b->n_rules)
		fail("round trip changed the shape (flows %u/%u ifaces %d/%d rules %d/%d):\n%s",
		     a->flow_table_size, b->flow_table_size, a->n_ifaces, b->n_ifaces, a->n_rules,
		     b->n_rules, text);
	for (int i = 0; i < a->n_ifaces; i++) {
		const struct pr_config_iface *x = &a->ifaces[i], *y = &b->ifaces[i];

		if (strcmp(x->name, y->name) || x->mode != y->mode || x->priority != y->priority ||
		    x->chain_actions != y->chain_actions ||
		    x->no_reply_translation != y->no_reply_translation)
			fail("round trip changed interface %s:\n%s", x->name, text);
	}
	for (int i = 0; i < a->n_rules; i++) {
		const struct pr_rule_spec *x = &a->rules[i].spec, *y = &b->rules[i].spec;

		if (x->proto != y->proto || x->first != y->first || x->last != y->last ||
		    x->to != y->to)
			fail("round trip changed rule %d:\n%s", i, text);
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct pr_config cfg = { 0 }, again = { 0 }, third = { 0 };
	char *text = NULL, *text2 = NULL;
	size_t len, len2;
	FILE *diag = fopen("/dev/null", "w");

	n_inputs++;
	if (!diag)
		abort();
	if (parse_buf((const char *)data, size, &cfg, diag) != 0) {
		pr_config_free(&cfg);
		fclose(diag);
		return 0;
	}
	n_accepted++;
	len = write_cfg(&cfg, &text);
	if (parse_buf(text, len, &again, diag) != 0 && len)
		fail("the written form of an accepted file is refused:\n%s", text);
	same(&cfg, &again, text);
	len2 = write_cfg(&again, &text2);
	if (len2 != len || memcmp(text, text2, len))
		fail("writing is not stable:\n%s\n---\n%s", text, text2);
	(void)third;
	n_roundtrips++;
	free(text);
	free(text2);
	pr_config_free(&cfg);
	pr_config_free(&again);
	fclose(diag);
	return 0;
}
