// SPDX-License-Identifier: GPL-2.0
/*
 * The option parser every command goes through (lib/params.c), on a command
 * with one option of each type: values, ranges, prefixes, short option
 * bundles, positional arguments, and the exit code of each kind of mistake.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "params.h"

struct settings {
	bool flag;
	int count;
	long num;
	long wait; /* optional value */
	const char *str;
	int mode;
	unsigned int list;
	const char **args;
	int n_args;
};

static const struct pr_enum_val colours[] = { { "red", 1 }, { "green", 2 }, { "blue", 4 }, { 0 } };

static const struct pr_opt opts[] = {
	{ .name = "flag", .short_name = 'f', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct settings, flag) },
	{ .name = "count", .short_name = 'c', .type = PR_OPT_COUNT,
	  .offset = offsetof(struct settings, count) },
	{ .name = "number", .short_name = 'n', .type = PR_OPT_UINT,
	  .offset = offsetof(struct settings, num), .min = 10, .max = 20 },
	{ .name = "wait", .type = PR_OPT_UINT_OPTIONAL, .offset = offsetof(struct settings, wait),
	  .min = 1, .max = 99 },
	{ .name = "name", .short_name = 's', .type = PR_OPT_STRING,
	  .offset = offsetof(struct settings, str) },
	{ .name = "mode", .short_name = 'm', .type = PR_OPT_ENUM,
	  .offset = offsetof(struct settings, mode), .values = colours },
	{ .name = "modes", .type = PR_OPT_ENUM_LIST, .offset = offsetof(struct settings, list),
	  .values = colours },
	{ .name = "<arg>", .type = PR_OPT_ARGS, .offset = offsetof(struct settings, args),
	  .count_offset = offsetof(struct settings, n_args), .min = 1, .max = 2 },
	{ 0 },
};

static const struct pr_cmd cmd = { .name = "t", .opts = opts, .settings_size = sizeof(struct settings) };

/* Parses a blank-separated command line (argv[0] "t" added). */
static int run(const char *line, struct settings *s, bool *help, int *verbosity)
{
	char *copy = strdup(line), *argv[16] = { "t" }, *save = NULL;
	int argc = 1, ret;

	for (char *w = strtok_r(copy, " ", &save); w && argc < 15; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	memset(s, 0, sizeof(*s));
	*verbosity = 0;
	ret = pr_params_parse(&cmd, argc, argv, s, help, verbosity);
	/* The positional array points into copy: keep what the checks read. */
	if (!ret && s->n_args) {
		for (int i = 0; i < s->n_args; i++)
			s->args[i] = strdup(s->args[i]);
	}
	if (!ret && s->str)
		s->str = strdup(s->str);
	free(copy);
	return ret;
}

static void release(struct settings *s)
{
	for (int i = 0; i < s->n_args; i++)
		free((void *)s->args[i]);
	free((void *)s->str);
	pr_params_release(&cmd, s);
}

static void ok(void)
{
	struct settings s;
	bool help;
	int v, ret;

	ret = run("-f -cc --number 15 --name=x -m green --modes red,blue a b", &s, &help, &v);
	check(!ret && s.flag && s.count == 2 && s.num == 15 && !strcmp(s.str, "x") && s.mode == 2 &&
		      s.list == 5 && s.n_args == 2 && !strcmp(s.args[1], "b") && !help && !v,
	      "ok/every-type", "ret %d flag %d count %d num %ld mode %d list %u args %d", ret,
	      s.flag, s.count, s.num, s.mode, s.list, s.n_args);
	release(&s);
	ret = run("--fl --numb=10 -vv -n20 a", &s, &help, &v);
	check(!ret && s.flag && s.num == 20 && v == 2, "ok/prefix-bundle-verbose",
	      "ret %d flag %d num %ld verbosity %d", ret, s.flag, s.num, v);
	release(&s);
	ret = run("-- -f", &s, &help, &v);
	check(!ret && !s.flag && s.n_args == 1 && !strcmp(s.args[0], "-f"), "ok/double-dash",
	      "ret %d flag %d args %d", ret, s.flag, s.n_args);
	release(&s);
	/* An optional value: given (three spellings), or not (-1), and a name is no value. */
	ret = run("--wait 7 a", &s, &help, &v);
	check(!ret && s.wait == 7 && s.n_args == 1, "ok/optional-value-next", "ret %d wait %ld",
	      ret, s.wait);
	release(&s);
	ret = run("--wait=8 a", &s, &help, &v);
	check(!ret && s.wait == 8, "ok/optional-value-eq", "ret %d wait %ld", ret, s.wait);
	release(&s);
	ret = run("--wait lo", &s, &help, &v);
	check(!ret && s.wait == -1 && s.n_args == 1 && !strcmp(s.args[0], "lo"),
	      "ok/optional-value-absent", "ret %d wait %ld args %d", ret, s.wait, s.n_args);
	release(&s);
	ret = run("a --wait", &s, &help, &v);
	check(!ret && s.wait == -1, "ok/optional-value-last", "ret %d wait %ld", ret, s.wait);
	release(&s);
	ret = run("--help", &s, &help, &v);
	check(!ret && help, "ok/help-needs-no-args", "ret %d help %d", ret, help);
	release(&s);
}

static const struct {
	const char *name, *line;
} usage[] = {
	{ "unknown-long", "--nope a" },
	{ "ambiguous-prefix", "--mod red a" }, /* mode, modes */
	{ "unknown-short", "-x a" },
	{ "below-range", "--number 9 a" },
	{ "above-range", "--number 21 a" },
	{ "not-a-number", "--number 1x a" },
	{ "signed-number", "--number +15 a" },
	{ "bad-enum", "--mode pink a" },
	{ "bad-list", "--modes red,pink a" },
	{ "flag-with-value", "--flag=1 a" },
	{ "missing-value", "a --number" },
	{ "optional-above-range", "--wait 100 a" },
	{ "optional-zero", "--wait=0 a" },
	{ "missing-arg", "-f" },
	{ "too-many-args", "a b c" },
};

static void mistakes(void)
{
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
		struct settings s;
		char name[64];
		bool help;
		int v, ret = run(usage[i].line, &s, &help, &v);

		snprintf(name, sizeof(name), "usage/%s", usage[i].name);
		check(ret == PR_EXIT_USAGE, name, "'%s' returned %d, want %d", usage[i].line, ret,
		      PR_EXIT_USAGE);
	}
}

static void enum_lists(void)
{
	unsigned int mask = 0;
	char buf[64];

	check(!pr_enum_parse_list(colours, "blue,red", &mask, NULL, 0) && mask == 5, "list/parse",
	      "mask %u", mask);
	check(pr_enum_parse_list(colours, "", &mask, NULL, 0) &&
		      pr_enum_parse_list(colours, "red,pink", &mask, NULL, 0),
	      "list/bad-refused", "accepted");
	check(pr_enum_parse_list(colours, "red,pink,blue", &mask, buf, sizeof(buf)) &&
		      !strcmp(buf, "pink"),
	      "list/bad-name-named", "got '%s'", buf);
	pr_enum_list_format(colours, 6, buf, sizeof(buf));
	check(!strcmp(buf, "green,blue"), "list/format", "got '%s'", buf);
}

static const struct {
	const char *s;
	unsigned long min, max;
	int ret;
	unsigned long v;
} numbers[] = {
	{ "0", 0, 10, 0, 0 },
	{ "10", 0, 10, 0, 10 },
	{ "007", 0, 10, 0, 7 },
	{ "65535", 1, 65535, 0, 65535 },
	{ "65536", 1, 65535, PR_NUM_RANGE, 0 },
	{ "0", 1, 65535, PR_NUM_RANGE, 0 },
	{ "99999999999999999999999", 1, 65535, PR_NUM_RANGE, 0 },
	{ "99999999999999999999x", 1, 65535, PR_NUM_INVALID, 0 },
	{ "", 0, 10, PR_NUM_INVALID, 0 },
	{ "+5", 0, 10, PR_NUM_INVALID, 0 },
	{ "-5", 0, 10, PR_NUM_INVALID, 0 },
	{ " 5", 0, 10, PR_NUM_INVALID, 0 },
	{ "5 ", 0, 10, PR_NUM_INVALID, 0 },
	{ "0x10", 0, 100, PR_NUM_INVALID, 0 },
	{ "16777216", 256, 16777216, 0, 16777216 },
};

static void number_cases(void)
{
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		unsigned long v = 0;
		int ret = pr_parse_uint(numbers[i].s, numbers[i].min, numbers[i].max, &v);
		char name[80];

		snprintf(name, sizeof(name), "number/'%s' in %lu-%lu", numbers[i].s, numbers[i].min,
			 numbers[i].max);
		check(ret == numbers[i].ret && (ret || v == numbers[i].v), name,
		      "returned %d value %lu, want %d value %lu", ret, v, numbers[i].ret,
		      numbers[i].v);
	}
}

int main(void)
{
	number_cases();
	ok();
	mistakes();
	enum_lists();
	return check_summary();
}
