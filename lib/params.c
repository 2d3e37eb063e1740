// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

#define PROG "xdp-portredir"

/* Options every command takes, in addition to its own. */
static const struct pr_opt common_opts[] = {
	{ .name = "verbose", .short_name = 'v', .type = PR_OPT_COUNT,
	  .help = "Show more detail, including libbpf and libxdp messages (repeat for debug)" },
	{ .name = "help", .short_name = 'h', .type = PR_OPT_FLAG, .help = "Show this help" },
	{ 0 }
};

#define FIELD(settings, off, type) ((type *)((char *)(settings) + (off)))

/* A usage error: the message, hint (may be NULL) after it, and where --help is. */
__attribute__((format(printf, 3, 4))) static int usage(const struct pr_cmd *cmd, const char *hint,
						       const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", PROG, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (hint)
		fprintf(stderr, " %s", hint);
	fprintf(stderr, "\nTry '%s %s --help'.\n", PROG, cmd->name);
	return PR_EXIT_USAGE;
}

int pr_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	bool big = false;
	const char *c;

	for (c = s; *c >= '0' && *c <= '9'; c++) {
		unsigned long d = (unsigned long)(*c - '0');

		if (big || d > max || v > (max - d) / 10)
			big = true; /* keep reading: "99x" is invalid, not large */
		else
			v = v * 10 + d;
	}
	if (c == s || *c)
		return PR_NUM_INVALID;
	if (big || v < min)
		return PR_NUM_RANGE;
	*out = v;
	return 0;
}

static void list_values(const struct pr_enum_val *v, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; v && v->name && used < len; v++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", v->name);
}

static int parse_enum(const struct pr_enum_val *values, const char *s, unsigned int *out)
{
	for (const struct pr_enum_val *v = values; v->name; v++) {
		if (!strcmp(v->name, s)) {
			*out = v->value;
			return 0;
		}
	}
	return -1;
}

static int set_value(const struct pr_cmd *cmd, const struct pr_opt *o, const char *arg,
		     void *settings)
{
	char allowed[256];
	unsigned int v;

	switch (o->type) {
	case PR_OPT_STRING:
		*FIELD(settings, o->offset, const char *) = arg;
		return 0;
	case PR_OPT_STRING_LIST: {
		char **list = FIELD(settings, o->offset, char *);
		size_t have = *list ? strlen(*list) + 1 : 0;
		char *grown = realloc(*list, have + strlen(arg) + 1);

		if (!grown)
			return PR_EXIT_ERROR;
		if (have)
			grown[have - 1] = ',';
		strcpy(grown + have, arg);
		*list = grown;
		return 0;
	}
	case PR_OPT_UINT_OPTIONAL:
		if (!arg) {
			*FIELD(settings, o->offset, long) = -1;
			return 0;
		}
		/* fall through */
	case PR_OPT_UINT: {
		unsigned long n;

		if (pr_parse_uint(arg, (unsigned long)o->min, (unsigned long)o->max, &n)) {
			char hint[64];

			snprintf(hint, sizeof(hint), "(expected a number in %ld-%ld)", o->min,
				 o->max);
			return usage(cmd, hint, "invalid value '%s' for --%s", arg, o->name);
		}
		*FIELD(settings, o->offset, long) = (long)n;
		return 0;
	}
	case PR_OPT_ENUM:
		if (parse_enum(o->values, arg, &v)) {
			char hint[300];

			list_values(o->values, allowed, sizeof(allowed));
			snprintf(hint, sizeof(hint), "(one of: %s)", allowed);
			return usage(cmd, hint, "invalid value '%s' for --%s", arg, o->name);
		}
		*FIELD(settings, o->offset, int) = (int)v;
		return 0;
	case PR_OPT_ENUM_LIST: {
		char hint[300];

		if (!pr_enum_parse_list(o->values, arg, &v, NULL, 0)) {
			*FIELD(settings, o->offset, unsigned int) = v;
			return 0;
		}
		list_values(o->values, allowed, sizeof(allowed));
		snprintf(hint, sizeof(hint), "(a comma-separated list of: %s)", allowed);
		return usage(cmd, hint, "invalid value '%s' for --%s", arg, o->name);
	}
	default:
		return PR_EXIT_USAGE;
	}
}

/* Finds a long option by exact name or unique prefix in both tables. */
static const struct pr_opt *find_long(const struct pr_cmd *cmd, const char *name, size_t len,
				      bool *ambiguous)
{
	const struct pr_opt *tables[2] = { cmd->opts, common_opts }, *match = NULL;
	int matches = 0;

	*ambiguous = false;
	for (int t = 0; t < 2; t++) {
		for (const struct pr_opt *o = tables[t]; o->name; o++) {
			if (o->type == PR_OPT_ARGS || strncmp(o->name, name, len))
				continue;
			if (strlen(o->name) == len)
				return o;
			match = o;
			matches++;
		}
	}
	if (matches > 1) {
		*ambiguous = true;
		return NULL;
	}
	return match;
}

static const struct pr_opt *find_short(const struct pr_cmd *cmd, char c)
{
	const struct pr_opt *tables[2] = { cmd->opts, common_opts };

	for (int t = 0; t < 2; t++)
		for (const struct pr_opt *o = tables[t]; o->name; o++)
			if (o->short_name && o->short_name == c && o->type != PR_OPT_ARGS)
				return o;
	return NULL;
}

static int apply(const struct pr_cmd *cmd, const struct pr_opt *o, const char *arg,
		 void *settings, bool *help, int *verbosity)
{
	if (o == &common_opts[0]) {
		(*verbosity)++;
		return 0;
	}
	if (o == &common_opts[1]) {
		*help = true;
		return 0;
	}
	if (o->type == PR_OPT_FLAG) {
		*FIELD(settings, o->offset, bool) = true;
		return 0;
	}
	if (o->type == PR_OPT_COUNT) {
		(*FIELD(settings, o->offset, int))++;
		return 0;
	}
	return set_value(cmd, o, arg, settings);
}

static bool takes_arg(const struct pr_opt *o)
{
	return o->type != PR_OPT_FLAG && o->type != PR_OPT_COUNT;
}

int pr_params_parse(const struct pr_cmd *cmd, int argc, char **argv, void *settings,
		    bool *help, int *verbosity)
{
	const struct pr_opt *args_opt = NULL;
	const char **positional;
	int npos = 0, ret = PR_EXIT_OK;
	bool only_positional = false;

	*help = false;
	positional = calloc((size_t)argc + 1, sizeof(*positional));
	if (!positional)
		return PR_EXIT_ERROR;
	for (const struct pr_opt *o = cmd->opts; o->name; o++)
		if (o->type == PR_OPT_ARGS)
			args_opt = o;

	for (int i = 1; i < argc && ret == PR_EXIT_OK; i++) {
		const char *a = argv[i];
		const struct pr_opt *o;

		if (only_positional || a[0] != '-' || !a[1]) {
			positional[npos++] = a;
		} else if (!strcmp(a, "--")) {
			only_positional = true;
		} else if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			bool ambiguous;

			o = find_long(cmd, a + 2, len, &ambiguous);
			if (!o) {
				ret = usage(cmd, NULL, "%s option '%s'",
					    ambiguous ? "ambiguous" : "unknown", a);
				break;
			}
			if (!takes_arg(o)) {
				if (eq)
					ret = usage(cmd, NULL, "option '--%s' takes no value",
						    o->name);
				else
					ret = apply(cmd, o, NULL, settings, help, verbosity);
			} else if (eq) {
				ret = apply(cmd, o, eq + 1, settings, help, verbosity);
			} else if (o->type == PR_OPT_UINT_OPTIONAL) {
				/* Takes the next argument only if it is a number. */
				bool num = i + 1 < argc && argv[i + 1][0] &&
					   strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1]);

				ret = apply(cmd, o, num ? argv[++i] : NULL, settings, help, verbosity);
			} else if (i + 1 < argc) {
				ret = apply(cmd, o, argv[++i], settings, help, verbosity);
			} else {
				ret = usage(cmd, NULL, "option '--%s' needs a value", o->name);
			}
		} else {
			/* one or more short options: -vv, -m skb, -mskb */
			for (const char *c = a + 1; *c && ret == PR_EXIT_OK; c++) {
				char opt[3] = { '-', *c, 0 };

				o = find_short(cmd, *c);
				if (!o) {
					ret = usage(cmd, NULL, "unknown option '%s'", opt);
				} else if (!takes_arg(o)) {
					ret = apply(cmd, o, NULL, settings, help, verbosity);
				} else if (c[1]) {
					ret = apply(cmd, o, c + 1, settings, help, verbosity);
					break;
				} else if (i + 1 < argc) {
					ret = apply(cmd, o, argv[++i], settings, help, verbosity);
				} else {
					ret = usage(cmd, NULL, "option '%s' needs a value", opt);
				}
			}
		}
	}

	if (ret == PR_EXIT_OK && !*help) {
		if (!args_opt && npos) {
			ret = usage(cmd, NULL, "unexpected argument '%s'", positional[0]);
		} else if (args_opt) {
			if (npos < args_opt->min)
				ret = usage(cmd, NULL, "missing %s", args_opt->name);
			else if (args_opt->max && npos > args_opt->max)
				ret = usage(cmd, NULL, "too many arguments starting at '%s'",
					    positional[args_opt->max]);
		}
	}
	if (ret == PR_EXIT_OK && args_opt) {
		*FIELD(settings, args_opt->offset, const char **) = positional;
		*FIELD(settings, args_opt->count_offset, int) = npos;
		return PR_EXIT_OK; /* positional stays allocated for the command's life */
	}
	free(positional);
	return ret;
}

static void print_opt(FILE *out, const struct pr_opt *o)
{
	char lhs[64], allowed[256];

	if (o->type == PR_OPT_ARGS)
		return;
	bool optional = o->type == PR_OPT_UINT_OPTIONAL;

	snprintf(lhs, sizeof(lhs), "%c%c%s--%s%s%s%s", o->short_name ? '-' : ' ',
		 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
		 takes_arg(o) ? (optional ? " [<" : " <") : "",
		 takes_arg(o) ? (o->metavar ? o->metavar : "value") : "",
		 takes_arg(o) ? (optional ? ">]" : ">") : "");
	fprintf(out, "  %-34s %s", lhs, o->help);
	if (o->values) {
		list_values(o->values, allowed, sizeof(allowed));
		fprintf(out, " (%s: %s)", o->type == PR_OPT_ENUM_LIST ? "any of" : "one of",
			allowed);
	}
	if (o->type == PR_OPT_UINT || optional)
		fprintf(out, " (%ld-%ld)", o->min, o->max);
	fputc('\n', out);
}

void pr_params_usage(const struct pr_cmd *cmd, FILE *out)
{
	const struct pr_opt *args_opt = NULL;

	for (const struct pr_opt *o = cmd->opts; o->name; o++)
		if (o->type == PR_OPT_ARGS)
			args_opt = o;
	fprintf(out, "Usage: %s %s [options]%s%s\n\n%s\n\nOptions:\n", PROG, cmd->name,
		args_opt ? " " : "", args_opt ? args_opt->name : "", cmd->description);
	for (const struct pr_opt *o = cmd->opts; o->name; o++)
		print_opt(out, o);
	for (const struct pr_opt *o = common_opts; o->name; o++)
		print_opt(out, o);
	if (args_opt && args_opt->help)
		fprintf(out, "\n%s\n", args_opt->help);
}

void pr_params_release(const struct pr_cmd *cmd, void *settings)
{
	for (const struct pr_opt *o = cmd->opts; o->name; o++) {
		if (o->type == PR_OPT_ARGS) {
			free((void *)*FIELD(settings, o->offset, const char **));
			*FIELD(settings, o->offset, const char **) = NULL;
		} else if (o->type == PR_OPT_STRING_LIST) {
			free(*FIELD(settings, o->offset, char *));
			*FIELD(settings, o->offset, char *) = NULL;
		}
	}
}

const struct pr_cmd *pr_cmd_find(const struct pr_cmd *const *cmds, const char *name)
{
	const struct pr_cmd *match = NULL;
	size_t len = strlen(name);
	int n = 0;

	for (; *cmds; cmds++) {
		if (strncmp((*cmds)->name, name, len))
			continue;
		if (strlen((*cmds)->name) == len)
			return *cmds;
		match = *cmds;
		n++;
	}
	if (n == 1)
		return match;
	fprintf(stderr, "%s: %s command '%s'\nTry '%s --help'.\n", PROG,
		n ? "ambiguous" : "unknown", name, PROG);
	return NULL;
}

int pr_enum_parse_list(const struct pr_enum_val *values, const char *list, unsigned int *mask,
		       char *bad, size_t bad_len)
{
	char buf[256], *tok, *save = NULL;
	unsigned int v;

	if (bad_len)
		bad[0] = '\0';
	*mask = 0;
	if (!*list || strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_enum(values, tok, &v)) {
			if (bad_len)
				snprintf(bad, bad_len, "%s", tok);
			return -1;
		}
		*mask |= v;
	}
	return 0;
}

void pr_enum_list_format(const struct pr_enum_val *values, unsigned int mask, char *buf,
			 size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct pr_enum_val *v = values; v->name && used < len; v++)
		if (mask & v->value)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
						 v->name);
}
