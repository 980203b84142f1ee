/* SPDX-License-Identifier: ISC */
/* supctl's command line: the shape of a verb's table row, and parsing of
 * argv into global options, the verb, its options and its operands. */
#pragma once

#include <stdio.h>

/* Option keys: a printable key is also the short option letter. */
enum {
	OPT_JSON = 128,
	OPT_VERSION,
	OPT_NO_WAIT,
	OPT_TIMEOUT,
	OPT_NO_LEGEND,
	OPT_NO_PAGER,
	OPT_UP,
	_OPT_MAX,
};

struct ctl_option {
	int key;
	const char *long_name;
	const char *arg;           /* name of its argument, NULL for a flag */
	const char *help;
};

#define CTL_MAX_OPTIONS 3

struct ctl;
struct ctl_args;

/* One verb: a row of the table in supctl.c, defined next to its code in a
 * cmd-*.c file. */
struct ctl_command {
	const char *name;
	const char *usage;         /* after "supctl NAME " */
	int min_args, max_args;    /* operands; max -1 = no limit */
	int (*exec)(struct ctl *c, const struct ctl_args *a);
	const char *summary;       /* one line for "supctl --help" */
	const char *help;          /* more for "supctl help NAME", or NULL */
	struct ctl_option options[CTL_MAX_OPTIONS];
};

/* The verbs, in the order "supctl --help" lists them. */
struct ctl_table {
	const struct ctl_command *const *commands;
	size_t n;
};

/* A parsed command line. */
struct ctl_args {
	const struct ctl_table *table;
	const struct ctl_command *cmd;
	int argc;                  /* operands of the command */
	char **argv;
	const char *opt[_OPT_MAX]; /* option values by key; "" for a flag given */
};

/* Splits argv into global options, the command, its options and its
 * operands; options may come before or after the command name, up to
 * "--". Handles --help and --version. Returns -1 to go on and run a->cmd,
 * else the exit status supctl should stop with. a->argv is to be freed. */
int args_parse(const struct ctl_table *t, int argc, char **argv, struct ctl_args *a);
const struct ctl_command *args_find_command(const struct ctl_table *t, const char *name);
/* "supctl --help": every verb and the global options. */
void args_print_help(const struct ctl_table *t, FILE *f);
/* "supctl help NAME": its usage, help and options. */
void args_print_command_help(const struct ctl_command *cmd, FILE *f);
/* "supctl VERSION (protocol N)" */
void args_print_version(FILE *f);
