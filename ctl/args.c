/* SPDX-License-Identifier: ISC */
/* supctl's command line (see args.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "ctl.h"
#include "output.h"
#include "proto.h"
#include "util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const struct ctl_option global_options[] = {
	{ 's', "socket", "SOCKET", "control socket (default: $SUPD_SOCKET, else supd's default)" },
	{ OPT_JSON, "json", NULL, "print JSON (job arrays, JSON lines for streams)" },
	{ 'q', "quiet", NULL, "no progress line, no summary (reload's changes, is-active's states)" },
	{ OPT_NO_LEGEND, "no-legend", NULL, "print tables without their header line" },
	{ OPT_NO_PAGER, "no-pager", NULL, "accepted for systemctl's sake: supctl never pages" },
	{ 'h', "help", NULL, "show help and exit" },
	{ OPT_VERSION, "version", NULL, "show supctl's version and exit" },
};

const struct ctl_command *args_find_command(const struct ctl_table *t, const char *name) {
	for (size_t i = 0; i < t->n; i++)
		if (streq_ptr(t->commands[i]->name, name))
			return t->commands[i];
	return NULL;
}

static const struct ctl_option *find_in(const struct ctl_option *opts, size_t n, const char *long_name, int key) {
	for (size_t i = 0; i < n && opts[i].key; i++) {
		if (long_name && streq_ptr(opts[i].long_name, long_name))
			return &opts[i];
		if (!long_name && key < 128 && opts[i].key == key)
			return &opts[i];
	}
	return NULL;
}

/* Looks an option up among the global ones, then the command's. */
static const struct ctl_option *find_option(const struct ctl_command *cmd, const char *long_name, int key) {
	const struct ctl_option *o = find_in(global_options, ELEMENTSOF(global_options), long_name, key);

	if (!o && cmd)
		o = find_in(cmd->options, CTL_MAX_OPTIONS, long_name, key);
	return o;
}

static void print_options(FILE *f, const struct ctl_option *opts, size_t n) {
	for (size_t i = 0; i < n && opts[i].key; i++) {
		const struct ctl_option *o = &opts[i];
		_cleanup_free_ char *s = xasprintf("%c%c%c --%s%s%s",
						   o->key < 128 ? '-' : ' ', o->key < 128 ? o->key : ' ',
						   o->key < 128 ? ',' : ' ', o->long_name,
						   o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-22s %s\n", s, o->help);
	}
}

void args_print_command_help(const struct ctl_command *cmd, FILE *f) {
	fprintf(f, "usage: supctl %s%s%s\n\n%c%s.\n%s%s", cmd->name, *cmd->usage ? " " : "", cmd->usage,
		toupper((unsigned char) cmd->summary[0]), cmd->summary + 1,
		cmd->help ? cmd->help : "", cmd->help ? "\n" : "");
	if (cmd->options[0].key) {
		fputs("\nOptions:\n", f);
		print_options(f, cmd->options, CTL_MAX_OPTIONS);
	}
}

void args_print_help(const struct ctl_table *t, FILE *f) {
	fputs("usage: supctl [-s SOCKET] [--json] COMMAND [ARGS]\n\n"
	      "Control the supd process supervisor.\n\nCommands:\n", f);
	for (size_t i = 0; i < t->n; i++) {
		const struct ctl_command *cmd = t->commands[i];
		_cleanup_free_ char *s = xasprintf("%s %s", cmd->name, cmd->usage);
		fprintf(f, "  %-32s %s\n", s, cmd->summary);
	}
	fputs("\nOptions (anywhere before \"--\"):\n", f);
	print_options(f, global_options, ELEMENTSOF(global_options));
	fputs("\nPATTERN is a job name, a shell glob over names ('encrypt@*') or a\n"
	      "template or pool name meaning all its instances.\n"
	      "\nExit status: 0 success, 1 a job or a reload failed, 2 usage error,\n"
	      "3 supd not reachable, 4 request refused. run, and wait on one job, exit\n"
	      "as a shell would: the exit code, 128+N if killed by signal N, 124 if\n"
	      "timed out.\n"
	      "\nSee supctl(1).\n", f);
}

void args_print_version(FILE *f) {
	fprintf(f, "supctl %s (protocol %d)\n", PACKAGE_VERSION, PROTO_VERSION);
}

/* Sets the value of an option; returns 0 or EXIT_USAGE. */
static int take_option(struct ctl_args *a, const struct ctl_option *o, const char *inline_value,
		       int argc, char **argv, int *i) {
	if (!o->arg) {
		if (inline_value)
			return output_usage_error("option --%s takes no argument", o->long_name);
		a->opt[o->key] = "";
		return 0;
	}
	if (inline_value) {
		a->opt[o->key] = inline_value;
		return 0;
	}
	if (*i + 1 >= argc)
		return output_usage_error("option --%s requires an argument", o->long_name);
	a->opt[o->key] = argv[++*i];
	return 0;
}

/* "--name" or "--name=value" at argv[*i]. Returns 0 or EXIT_USAGE. */
static int take_long_option(struct ctl_args *a, int argc, char **argv, int *i) {
	const char *arg = argv[*i];
	_cleanup_free_ char *name = xstrdup(arg + 2);
	char *eq = strchr(name, '=');
	const struct ctl_option *o;

	if (eq)
		*eq = '\0';
	o = find_option(a->cmd, name, 0);
	if (!o)
		return output_usage_error("unknown option: --%s", name);
	return take_option(a, o, eq ? arg + 2 + (eq - name) + 1 : NULL, argc, argv, i);
}

/* "-fn5" style short options at argv[*i]. Returns 0 or EXIT_USAGE. */
static int take_short_options(struct ctl_args *a, int argc, char **argv, int *i) {
	for (const char *p = argv[*i] + 1; *p; p++) {
		const struct ctl_option *o = find_option(a->cmd, NULL, (unsigned char) *p);
		int r;

		if (!o)
			return output_usage_error("unknown option: -%c", *p);
		r = take_option(a, o, o->arg && p[1] ? p + 1 : NULL, argc, argv, i);
		if (r)
			return r;
		if (o->arg)
			break;
	}
	return 0;
}

int args_parse(const struct ctl_table *t, int argc, char **argv, struct ctl_args *a) {
	bool dashdash = false;
	int r;

	a->table = t;
	a->argv = xcalloc((size_t) argc + 1, sizeof(char *));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			if (a->cmd) {
				a->argv[a->argc++] = argv[i];
				continue;
			}
			a->cmd = args_find_command(t, arg);
			if (!a->cmd)
				return output_usage_error("unknown command: %s", arg);
			continue;
		}
		if (streq_ptr(arg, "--")) {
			dashdash = true;
			continue;
		}
		r = arg[1] == '-' ? take_long_option(a, argc, argv, &i) : take_short_options(a, argc, argv, &i);
		if (r)
			return r;
	}

	if (a->opt['h']) {
		if (a->cmd)
			args_print_command_help(a->cmd, stdout);
		else
			args_print_help(t, stdout);
		return EXIT_SUCCESS;
	}
	if (a->opt[OPT_VERSION]) {
		args_print_version(stdout);
		return EXIT_SUCCESS;
	}
	if (!a->cmd)
		return output_usage_error("no command given\nusage: supctl [-s SOCKET] [--json] COMMAND [ARGS]");
	if (a->argc < a->cmd->min_args || (a->cmd->max_args >= 0 && a->argc > a->cmd->max_args)) {
		fprintf(stderr, "supctl: %s: %s\nusage: supctl %s%s%s\n", a->cmd->name,
			a->argc < a->cmd->min_args ? "missing argument" : "too many arguments",
			a->cmd->name, *a->cmd->usage ? " " : "", a->cmd->usage);
		return EXIT_USAGE;
	}
	return -1;
}
