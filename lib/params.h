/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Table-driven command line parsing. A command declares its options once
 * (name, type, where the value goes, help text) and gets parsing, unique
 * prefix matching of long options, and its --help page from that one table.
 */
#ifndef PR_PARAMS_H
#define PR_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes of every command. */
enum pr_exit {
	PR_EXIT_OK = 0,
	PR_EXIT_ERROR = 1, /* the command was valid but could not be carried out */
	PR_EXIT_USAGE = 2, /* the command line itself is wrong */
};

enum pr_opt_type {
	PR_OPT_FLAG, /* bool; no argument */
	PR_OPT_COUNT, /* int, incremented per occurrence (-v -v) */
	PR_OPT_UINT, /* long, bounded by min..max */
	/* long, bounded by min..max; the value is optional (--opt=N or a number as the next
	 * argument), and without one the field is set to -1 */
	PR_OPT_UINT_OPTIONAL,
	PR_OPT_STRING, /* const char * */
	PR_OPT_STRING_LIST, /* char *: repeated options joined with commas (freed by release) */
	PR_OPT_ENUM, /* int: one of values[] */
	PR_OPT_ENUM_LIST, /* unsigned int: bitwise OR of a comma list of values[] */
	PR_OPT_ARGS, /* positional arguments: const char **, count in count_offset */
};

struct pr_enum_val {
	const char *name;
	unsigned int value;
};

struct pr_opt {
	const char *name; /* long name; for PR_OPT_ARGS the placeholder shown in usage */
	char short_name;
	enum pr_opt_type type;
	size_t offset; /* into the command's settings struct */
	size_t count_offset; /* PR_OPT_ARGS: where the number of arguments goes (int) */
	const char *metavar;
	const char *help;
	const struct pr_enum_val *values;
	long min, max; /* PR_OPT_UINT range; PR_OPT_ARGS count range (max 0: any) */
};

struct pr_cmd {
	const char *name;
	const char *summary; /* one line for the command list */
	const char *description; /* paragraph for --help */
	const struct pr_opt *opts; /* terminated by an entry with name == NULL */
	size_t settings_size;
	void (*defaults)(void *settings);
	int (*run)(void *settings); /* returns an enum pr_exit */
};

/*
 * Parses argv (argv[0] is the command name) into settings. Prints errors
 * with a pointer to --help. Returns PR_EXIT_OK, or PR_EXIT_USAGE; sets *help
 * when --help was asked for (the caller prints it and exits 0).
 */
int pr_params_parse(const struct pr_cmd *cmd, int argc, char **argv, void *settings,
		    bool *help, int *verbosity);
void pr_params_usage(const struct pr_cmd *cmd, FILE *out);
/* Frees what pr_params_parse() allocated inside settings. */
void pr_params_release(const struct pr_cmd *cmd, void *settings);

/* Finds a command by unique prefix; NULL and a message if none or ambiguous. */
const struct pr_cmd *pr_cmd_find(const struct pr_cmd *const *cmds, const char *name);

/*
 * The one number parser (options, ports, the config file's values): s is
 * decimal digits only, no sign or blanks, and min <= value <= max. Returns
 * 0, PR_NUM_INVALID if s is not such a number, PR_NUM_RANGE if it is one
 * outside the range (however many digits it has).
 */
enum { PR_NUM_INVALID = -1, PR_NUM_RANGE = -2 };
int pr_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/*
 * Parses "a,b,c" of values' names into the OR of their values (empty names
 * between commas are skipped); -1 if list is empty, too long, or a name is
 * unknown, which then goes into bad (when bad_len is not 0).
 */
int pr_enum_parse_list(const struct pr_enum_val *values, const char *list, unsigned int *mask,
		       char *bad, size_t bad_len);

/* Names of the bits of an ENUM_LIST value, comma separated, into buf. */
void pr_enum_list_format(const struct pr_enum_val *values, unsigned int mask, char *buf,
			 size_t len);

#endif
