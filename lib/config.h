/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file (xdp-portredir.conf(5)): the interfaces the tool is
 * loaded on and the rules, as `apply` reads them and `save` writes them.
 *
 * Everything here is pure, one file per job: parsing with FILE:LINE
 * diagnostics (config_parse.c), writing a configuration back out
 * (config_write.c), and the difference between the configuration wanted and
 * the one the system has, as a list of steps (config_plan.c); config.c holds
 * what they share. The commands read the system into a struct pr_config
 * (pr_config_from_state()) and carry out the steps, so each half can be
 * tested without the other (tests/unit/test_config.c).
 */
#ifndef PR_CONFIG_H
#define PR_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "attach.h"
#include "rules.h"
#include "scope.h"

/* Not given in the file: the object's own XDP_RUN_CONFIG values. */
#define PR_CONFIG_PRIORITY_UNSET (-1L)
#define PR_CONFIG_CHAIN_UNSET PR_CHAIN_DEFAULT

/* Why an interface found on the system cannot simply stay as it is. */
enum pr_config_iface_status {
	PR_CONFIG_IFACE_OK = 0,
	PR_CONFIG_IFACE_UNRECORDED, /* attached, but not in the pin directory's records */
	PR_CONFIG_IFACE_DETACHED, /* recorded (or TC leftovers), program no longer attached */
	PR_CONFIG_IFACE_GONE, /* recorded, the interface no longer exists */
};

struct pr_config_iface {
	char name[IF_NAMESIZE];
	int line; /* in the file; 0 for state read from the system */
	enum pr_mode mode; /* PR_MODE_ANY when not given; never PR_MODE_HW */
	long priority; /* PR_CONFIG_PRIORITY_UNSET or 0..PR_PRIORITY_MAX */
	unsigned int chain_actions; /* 1 << XDP_* bits, or PR_CONFIG_CHAIN_UNSET */
	bool no_reply_translation;
	bool no_action_totals;
	enum pr_config_iface_status status; /* always OK in a parsed file */
	int ref; /* the caller's index, e.g. into its pr_iface_state list; -1 in a file */
};

struct pr_config_rule {
	struct pr_rule_spec spec;
	struct pr_scope_rule scope; /* only the scope fields; all zero: unscoped */
	int line;
};

struct pr_config {
	/*
	 * Entries of the shared flow table; 0: not given (any size will do).
	 * From the system: the pinned table's size, 0 if there is none.
	 */
	unsigned int flow_table_size;
	int flow_table_line;
	struct pr_config_iface *ifaces;
	int n_ifaces;
	struct pr_config_rule *rules;
	int n_rules;
};

/* Diagnostics stop after this many (a file of garbage should not scroll for pages). */
#define PR_CONFIG_MAX_ERRORS 20

/*
 * Reads a whole configuration from in. Every error goes to diag as
 * "NAME:LINE: message" (NAME is how the file is called in messages); checks
 * everything that does not depend on the system: syntax, values, each rule on
 * its own (pr_rule_validate()), overlapping rules and repeated interfaces.
 * Whether the interfaces exist is the caller's check. Returns the number of
 * errors; cfg holds the configuration only when that is 0.
 */
int pr_config_parse(FILE *in, const char *name, struct pr_config *cfg, FILE *diag);
void pr_config_free(struct pr_config *cfg);

/*
 * The system's state as a configuration: list is what pr_iface_list()
 * returned (each element's index becomes ->ref), table the rule map (NULL:
 * no rules), flow_table_size the pinned flow table's (0: none). Returns -1
 * when out of memory.
 */
int pr_config_from_state(const struct pr_iface_state *list, int n,
			 const struct pr_rule_table *table, unsigned int flow_table_size,
			 struct pr_config *cfg);

/* "udp 53 -> 5353 on eth0 to 198.51.100.7": a rule of a configuration, in messages. */
void pr_config_rule_format(const struct pr_rule_spec *spec, const struct pr_scope_rule *scope,
			   char *buf, size_t len);

/*
 * The scope words after a rule's ports in tok[0..n): "interface eth0[,eth1]"
 * and "dst ADDR[/PREFIX]", each at most once. Fills base's address and names
 * (at most max); returns the number of names, or -1 with err set.
 */
int pr_config_parse_scope(char **tok, int n, struct pr_scope_rule *base, char names[][IF_NAMESIZE],
			  int max, struct pr_errbuf *err);

/* Appends the scoped rules of t to cfg (after pr_config_from_state()). */
int pr_config_add_scoped(struct pr_config *cfg, const struct pr_scope_table *t);

/*
 * Writes cfg in the file format, after header (lines without the "# ",
 * may be NULL). Interfaces that are not OK are written as comments saying
 * why, since applying them would fail. Returns -1 on a write error.
 */
int pr_config_write(FILE *out, const struct pr_config *cfg, const char *header);

/* One interface's settings as the file spells them: "mode skb priority 5 ...". */
void pr_config_iface_format(const struct pr_config_iface *ifc, char *buf, size_t len);

enum pr_config_op {
	PR_CONFIG_RULE_DEL, /* rule is from have */
	PR_CONFIG_RULE_ADD, /* rule is from want */
	PR_CONFIG_DETACH, /* iface is from have */
	PR_CONFIG_FLOWS_RESIZE, /* flows[0] -> flows[1] entries; nothing attached then */
	PR_CONFIG_ATTACH, /* iface is from want */
	PR_CONFIG_RELOAD, /* iface is from want, old from have; why says what changes */
};

struct pr_config_step {
	enum pr_config_op op;
	const struct pr_config_iface *iface;
	const struct pr_config_iface *old; /* RELOAD: the running interface */
	const struct pr_config_rule *rule;
	unsigned int flows[2]; /* FLOWS_RESIZE: old and new size */
	char why[128]; /* DETACH, RELOAD: the reason, for the user */
};

struct pr_config_plan {
	struct pr_config_step *steps;
	int n;
};

/*
 * The steps that turn have into want, in the order they can be carried out:
 * rules removed, rules added, interfaces detached (not wanted or stale) or
 * reloaded in place with other settings, the flow table remade at another size (all
 * interfaces are detached for that), interfaces attached. Rules and interfaces
 * that already match are not touched, so applying twice is a no-op. The steps
 * point into want and have, which must outlive the plan. Returns -1 when out
 * of memory.
 */
int pr_config_diff(const struct pr_config *want, const struct pr_config *have,
		   struct pr_config_plan *plan);
void pr_config_plan_free(struct pr_config_plan *plan);

#endif
