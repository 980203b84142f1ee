/* SPDX-License-Identifier: ISC */
/* The value types of the configuration keys: for each, the strict parser,
 * the comparison reload relies on, and the printer of the normalised dump. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <stdarg.h>
#include <sys/un.h>

#include "config-types.h"
#include "parse.h"
#include "subst.h"

#define MAX_PARALLEL_MAX 1000000L
#define LOG_LINES_MAX 1000000L

/* The field of row k in base, as a pointer to type. */

static bool is_ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_alnum(char c)
{
	return is_ascii_alpha(c) || (c >= '0' && c <= '9');
}

void config_type_error(struct key_host *h, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	h->error(h, msg);
}

void config_type_warning(struct key_host *h, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	h->warning(h, msg);
}

/* ---- printers ---- */

/* A canonical duration in one unit: 0, 250ms, 10s, 2m, 1h. */
static void print_duration(FILE *out, usec_t u)
{
	const usec_t min = 60 * USEC_PER_SEC, hour = 60 * min;

	if (u == 0)
		fputs("0", out);
	else if (u % hour == 0)
		fprintf(out, "%lluh", (unsigned long long) (u / hour));
	else if (u % min == 0)
		fprintf(out, "%llum", (unsigned long long) (u / min));
	else if (u % USEC_PER_SEC == 0)
		fprintf(out, "%llus", (unsigned long long) (u / USEC_PER_SEC));
	else if (u % USEC_PER_MSEC == 0)
		fprintf(out, "%llums", (unsigned long long) (u / USEC_PER_MSEC));
	else
		fprintf(out, "%lluus", (unsigned long long) u);
}

/* s as a word of a command line would quote it: bare if safe, else "..."
 * with a backslash before " \ $ `. */
static void print_word(FILE *out, const char *s)
{
	bool safe = *s != '\0';

	for (const char *c = s; *c && safe; c++)
		if (!is_ascii_alnum(*c) && !strchr("_-./:,+=@%^", *c))
			safe = false;
	if (safe) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const char *c = s; *c; c++) {
		if (strchr("\"\\$`", *c))
			fputc('\\', out);
		fputc(*c, out);
	}
	fputc('"', out);
}

/* ---- strings, paths and names ---- */

/* Checks shared by string values; false (after reporting) if v is unusable. */
bool config_type_check_string(struct key_host *h, const struct key_desc *k, const char *v)
{
	char bad;

	if ((k->flags & KEY_PATH) && v[0] != '/') {
		config_type_error(h, "%s must be an absolute path: %s", k->name, v);
		return false;
	}
	if ((k->flags & KEY_SUBST) && !subst_valid(v, &bad)) {
		if (bad == '\0')
			config_type_error(h, "incomplete specifier %% at the end of %s: %s (use %%%% for %%)",
				  k->name, v);
		else
			config_type_error(h, "unknown specifier %%%c in %s: %s (use %%%% for %%)", bad, k->name, v);
		return false;
	}
	return true;
}

static void set_string(const struct key_desc *k, void *base, const char *value)
{
	char **s = FIELD(char *, k, base);

	free(*s);
	*s = value ? xstrdup(value) : NULL;
}

static void parse_string(struct key_host *h, const struct key_desc *k, void *base,
			 const char *value, _unused_ bool cont)
{
	if (config_type_check_string(h, k, value))
		set_string(k, base, value);
}

bool config_type_equal_string(const struct key_desc *k, const void *a, const void *b)
{
	return streq_ptr(*CFIELD(char *, k, a), *CFIELD(char *, k, b));
}

/* Nothing when unset. */
void config_type_dump_string(const struct key_desc *k, const void *base, FILE *out)
{
	const char *s = *CFIELD(char *, k, base);

	if (s)
		fprintf(out, "%s = %s\n", k->name, s);
}

const struct key_type config_type_string = { parse_string, config_type_equal_string, config_type_dump_string };

/* A user, group or group name: no blanks, no ':' or '/'. */
static void parse_name(struct key_host *h, const struct key_desc *k, void *base,
		       const char *value, _unused_ bool cont)
{
	for (const char *c = value; *c; c++)
		if (isspace((unsigned char) *c) || *c == ':' || *c == '/') {
			config_type_error(h, "invalid name for %s: %s", k->name, value);
			return;
		}
	set_string(k, base, value);
}

const struct key_type config_type_name = { parse_name, config_type_equal_string, config_type_dump_string };

static void parse_socket(struct key_host *h, const struct key_desc *k, void *base,
			 const char *value, bool cont)
{
	struct sockaddr_un sa;

	if (strlen(value) >= sizeof(sa.sun_path)) {
		config_type_error(h, "socket path too long (max %zu bytes): %s", sizeof(sa.sun_path) - 1, value);
		return;
	}
	parse_string(h, k, base, value, cont);
}

const struct key_type config_type_socket = { parse_socket, config_type_equal_string, config_type_dump_string };

/* stdin = null | PATH */
static void parse_stdin(struct key_host *h, const struct key_desc *k, void *base,
			const char *value, bool cont)
{
	if (strcmp(value, "null") == 0)
		set_string(k, base, NULL);
	else
		parse_string(h, k, base, value, cont);
}

static void dump_stdin(const struct key_desc *k, const void *base, FILE *out)
{
	const char *s = *CFIELD(char *, k, base);

	fprintf(out, "%s = %s\n", k->name, s ? s : "null");
}

const struct key_type config_type_stdin = { parse_stdin, config_type_equal_string, dump_stdin };

/* ---- booleans, numbers, durations, signals ---- */

static void parse_bool_key(struct key_host *h, const struct key_desc *k, void *base,
			   const char *value, _unused_ bool cont)
{
	if (parse_boolean(value, FIELD(bool, k, base)) < 0)
		config_type_error(h, "invalid boolean for %s: %s", k->name, value);
}

static bool equal_bool(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(bool, k, a) == *CFIELD(bool, k, b);
}

static void dump_bool(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %s\n", k->name, *CFIELD(bool, k, base) ? "true" : "false");
}

const struct key_type config_type_bool = { parse_bool_key, equal_bool, dump_bool };

static void parse_duration_key(struct key_host *h, const struct key_desc *k, void *base,
			       const char *value, _unused_ bool cont)
{
	int r = parse_duration(value, FIELD(usec_t, k, base));

	if (r == -ERANGE)
		config_type_error(h, "duration out of range for %s: %s", k->name, value);
	else if (r < 0)
		config_type_error(h, "invalid duration for %s: %s", k->name, value);
}

static bool equal_usec(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(usec_t, k, a) == *CFIELD(usec_t, k, b);
}

static void dump_duration(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = ", k->name);
	print_duration(out, *CFIELD(usec_t, k, base));
	fputc('\n', out);
}

const struct key_type config_type_duration = { parse_duration_key, equal_usec, dump_duration };

static bool equal_int(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(int, k, a) == *CFIELD(int, k, b);
}

static void parse_signal_key(struct key_host *h, const struct key_desc *k, void *base,
			     const char *value, _unused_ bool cont)
{
	if (parse_signal(value, FIELD(int, k, base)) < 0)
		config_type_error(h, "invalid signal for %s: %s", k->name, value);
}

static void dump_signal(const struct key_desc *k, const void *base, FILE *out)
{
	int sig = *CFIELD(int, k, base);
	const char *name = signal_name(sig);

	if (name)
		fprintf(out, "%s = %s\n", k->name, name);
	else
		fprintf(out, "%s = %d\n", k->name, sig);
}

const struct key_type config_type_signal = { parse_signal_key, equal_int, dump_signal };

static void parse_nice(struct key_host *h, const struct key_desc *k, void *base,
		       const char *value, _unused_ bool cont)
{
	long n;

	if (parse_int(value, -20, 19, &n) < 0) {
		config_type_error(h, "invalid value for %s: %s (expected -20..19)", k->name, value);
		return;
	}
	*FIELD(int, k, base) = (int) n;
}

static void dump_int(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %d\n", k->name, *CFIELD(int, k, base));
}

const struct key_type config_type_nice = { parse_nice, equal_int, dump_int };

static void parse_log_lines(struct key_host *h, const struct key_desc *k, void *base,
			    const char *value, _unused_ bool cont)
{
	long n;

	if (parse_int(value, 1, LOG_LINES_MAX, &n) < 0) {
		config_type_error(h, "invalid value for %s: %s (expected 1..%ld)", k->name, value, LOG_LINES_MAX);
		return;
	}
	*FIELD(size_t, k, base) = (size_t) n;
}

static bool equal_size(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(size_t, k, a) == *CFIELD(size_t, k, b);
}

static void dump_size(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %zu\n", k->name, *CFIELD(size_t, k, base));
}

const struct key_type config_type_log_lines = { parse_log_lines, equal_size, dump_size };

static void parse_mode_key(struct key_host *h, const struct key_desc *k, void *base,
			   const char *value, _unused_ bool cont)
{
	if (parse_mode(value, FIELD(mode_t, k, base)) < 0)
		config_type_error(h, "invalid mode for %s: %s (expected octal, such as 0660)", k->name, value);
}

static bool equal_mode(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(mode_t, k, a) == *CFIELD(mode_t, k, b);
}

static void dump_mode(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %04o\n", k->name, (unsigned) *CFIELD(mode_t, k, base));
}

const struct key_type config_type_mode = { parse_mode_key, equal_mode, dump_mode };

static void parse_max_parallel(struct key_host *h, const struct key_desc *k, void *base,
			       const char *value, _unused_ bool cont)
{
	if (parse_count_or_auto(value, 0, MAX_PARALLEL_MAX, FIELD(long, k, base)) < 0)
		config_type_error(h, "invalid value for %s: %s (expected auto or 0..%ld)",
			  k->name, value, MAX_PARALLEL_MAX);
}

static bool equal_long(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(long, k, a) == *CFIELD(long, k, b);
}

/* -1 is auto */
static void dump_count_or_auto(const struct key_desc *k, const void *base, FILE *out)
{
	long n = *CFIELD(long, k, base);

	if (n < 0)
		fprintf(out, "%s = auto\n", k->name);
	else
		fprintf(out, "%s = %ld\n", k->name, n);
}

const struct key_type config_type_max_parallel = { parse_max_parallel, equal_long, dump_count_or_auto };

/* instances: also marks the job as a pool (instances_set). */
static void parse_instances(struct key_host *h, const struct key_desc *k, void *base,
			    const char *value, _unused_ bool cont)
{
	struct job_config *jc = base;

	if (jc->is_template) {
		config_type_error(h, "instances cannot be used with a template ([job:%s@])", jc->name);
		return;
	}
	if (parse_count_or_auto(value, 1, CONFIG_INSTANCES_MAX, FIELD(long, k, base)) < 0) {
		config_type_error(h, "invalid value for %s: %s (expected auto or 1..%d)",
			  k->name, value, CONFIG_INSTANCES_MAX);
		return;
	}
	jc->instances_set = true;
}

static bool equal_instances(const struct key_desc *k, const void *a, const void *b)
{
	const struct job_config *x = a, *y = b;

	return equal_long(k, a, b) && x->instances_set == y->instances_set;
}

static void dump_instances(const struct key_desc *k, const void *base, FILE *out)
{
	const struct job_config *jc = base;

	if (jc->instances_set)
		dump_count_or_auto(k, base, out);
}

const struct key_type config_type_instances = { parse_instances, equal_instances, dump_instances };

static void parse_restart(struct key_host *h, const struct key_desc *k, void *base,
			  const char *value, _unused_ bool cont)
{
	int r = restart_policy_from_string(value);

	if (r < 0)
		config_type_error(h, "invalid value for %s: %s (expected no, on-failure or always)", k->name, value);
	else
		*FIELD(enum restart_policy, k, base) = (enum restart_policy) r;
}

static bool equal_restart(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(enum restart_policy, k, a) == *CFIELD(enum restart_policy, k, b);
}

static void dump_restart(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %s\n", k->name, restart_policy_to_string(*CFIELD(enum restart_policy, k, base)));
}

const struct key_type config_type_restart = { parse_restart, equal_restart, dump_restart };

/* start_limit = BURST/INTERVAL | none: two fields of struct job_config. */
static void parse_start_limit_key(struct key_host *h, const struct key_desc *k, void *base,
				  const char *value, _unused_ bool cont)
{
	struct job_config *jc = base;

	if (parse_start_limit(value, &jc->start_limit_burst, &jc->start_limit_interval) < 0)
		config_type_error(h, "invalid value for %s: %s (expected BURST/INTERVAL, such as 5/10s, or none)",
			  k->name, value);
}

static bool equal_start_limit(_unused_ const struct key_desc *k, const void *a, const void *b)
{
	const struct job_config *x = a, *y = b;

	return x->start_limit_burst == y->start_limit_burst &&
	       x->start_limit_interval == y->start_limit_interval;
}

static void dump_start_limit(const struct key_desc *k, const void *base, FILE *out)
{
	const struct job_config *jc = base;

	if (jc->start_limit_burst == 0) {
		fprintf(out, "%s = none\n", k->name);
		return;
	}
	fprintf(out, "%s = %u/", k->name, jc->start_limit_burst);
	print_duration(out, jc->start_limit_interval);
	fputc('\n', out);
}

const struct key_type config_type_start_limit = { parse_start_limit_key, equal_start_limit, dump_start_limit };

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *) a, y = *(const int *) b;

	return (x > y) - (x < y);
}

/* Exit codes separated by blanks or commas; kept sorted and unique. */
static void parse_success_exit(struct key_host *h, const struct key_desc *k, void *base,
			       const char *value, _unused_ bool cont)
{
	struct job_config *jc = base;
	_cleanup_free_ char *copy = xstrdup(value);
	_cleanup_free_ int *v = NULL;
	size_t n = 0, m = 0;
	char *save = NULL;

	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		long code;

		if (parse_int(tok, 0, 255, &code) < 0) {
			config_type_error(h, "invalid exit status for %s: %s (expected 0..255)", k->name, tok);
			return;
		}
		v = xreallocarray(v, n + 1, sizeof(int));
		v[n++] = (int) code;
	}
	if (n == 0) {
		config_type_error(h, "missing value for %s", k->name);
		return;
	}
	qsort(v, n, sizeof(int), int_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || v[m - 1] != v[i])
			v[m++] = v[i];
	free(jc->success_exit);
	jc->success_exit = TAKE_PTR(v);
	jc->n_success_exit = m;
}

static bool equal_success_exit(_unused_ const struct key_desc *k, const void *a, const void *b)
{
	const struct job_config *x = a, *y = b;

	return x->n_success_exit == y->n_success_exit &&
	       (x->n_success_exit == 0 ||
		memcmp(x->success_exit, y->success_exit, x->n_success_exit * sizeof(int)) == 0);
}

static void dump_success_exit(const struct key_desc *k, const void *base, FILE *out)
{
	const struct job_config *jc = base;

	fputs(k->name, out);
	fputs(" =", out);
	for (size_t i = 0; i < jc->n_success_exit; i++)
		fprintf(out, " %d", jc->success_exit[i]);
	fputc('\n', out);
}

const struct key_type config_type_success_exit = { parse_success_exit, equal_success_exit, dump_success_exit };

/* ---- outputs ---- */

/* stdout, stderr = null | inherit | log | journal | PATH | append:PATH;
 * stderr also "stdout". */
static void parse_output(struct key_host *h, const struct key_desc *k, void *base,
			 const char *value, _unused_ bool cont)
{
	struct output_spec *o = FIELD(struct output_spec, k, base);
	bool is_stderr = k->offset == offsetof(struct job_config, stderr_spec);
	enum output_kind kind = OUTPUT_FILE;
	const char *path = value;
	int r = output_kind_from_string(value);

	/* "file" and "append" are kinds, not keywords */
	if (r >= 0 && r != OUTPUT_FILE && r != OUTPUT_APPEND && (r != OUTPUT_STDOUT || is_stderr)) {
		o->kind = (enum output_kind) r;
		free(o->path);
		o->path = NULL;
		return;
	}

	if (strncmp(value, "append:", 7) == 0) {
		kind = OUTPUT_APPEND;
		path = value + 7;
	}
	if (path[0] != '/') {
		if (kind == OUTPUT_APPEND || strpbrk(value, "/.%"))
			config_type_error(h, "%s must be an absolute path: %s", k->name, value);
		else
			config_type_error(h, "invalid value for %s: %s (expected null, inherit, log, journal%s, "
				  "a path or append:PATH)", k->name, value, is_stderr ? ", stdout" : "");
		return;
	}
	if (!config_type_check_string(h, k, path))
		return;
	o->kind = kind;
	free(o->path);
	o->path = xstrdup(path);
}

static bool equal_output(const struct key_desc *k, const void *a, const void *b)
{
	const struct output_spec *x = CFIELD(struct output_spec, k, a);
	const struct output_spec *y = CFIELD(struct output_spec, k, b);

	return x->kind == y->kind && streq_ptr(x->path, y->path);
}

static void dump_output(const struct key_desc *k, const void *base, FILE *out)
{
	const struct output_spec *o = CFIELD(struct output_spec, k, base);

	fprintf(out, "%s = ", k->name);
	switch (o->kind) {
	case OUTPUT_FILE:
		fputs(o->path, out);
		break;
	case OUTPUT_APPEND:
		fprintf(out, "append:%s", o->path);
		break;
	default:
		fputs(output_kind_to_string(o->kind), out);
		break;
	}
	fputc('\n', out);
}

const struct key_type config_type_output = { parse_output, equal_output, dump_output };

/* ---- command and environment ---- */

/* command: continuation lines are appended with a space. The command is
 * checked and split once the section ends (shell may follow it), so the
 * split pipeline is derived from command and shell and not compared. */
static void parse_command(_unused_ struct key_host *h, const struct key_desc *k, void *base,
			  const char *value, bool cont)
{
	char **s = FIELD(char *, k, base);
	char *joined;

	if (!cont || !*s || !**s) {
		free(*s);
		*s = xstrdup(value);
		return;
	}
	joined = xasprintf("%s %s", *s, value);
	free(*s);
	*s = joined;
}

/* The command as written, and as split (a comment). */
static void dump_command(const struct key_desc *k, const void *base, FILE *out)
{
	const struct job_config *jc = base;

	fprintf(out, "%s = %s\n", k->name, *CFIELD(char *, k, base));
	if (jc->pipeline.n_stages == 0)
		return;
	fputs("; argv:", out);
	for (size_t i = 0; i < jc->pipeline.n_stages; i++) {
		if (i > 0)
			fputs(" |", out);
		for (char **a = jc->pipeline.stages[i]; *a; a++) {
			fputc(' ', out);
			print_word(out, *a);
		}
	}
	fputc('\n', out);
}

const struct key_type config_type_command = { parse_command, config_type_equal_string, dump_command };

static bool env_name_valid(const char *s, size_t n)
{
	if (n == 0 || !(is_ascii_alpha(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(is_ascii_alnum(s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* Split s into words with shell-like quoting: '...' literal, "..." where a
 * backslash escapes only " \ $ `, and a backslash outside quotes escapes the
 * next character. Returns NULL with *error set on a syntax error. */
static char **env_split(const char *s, const char **error)
{
	struct buf w = { 0 };
	char **words = NULL;
	const char *c = s;

	for (;;) {
		bool in_word = false;

		while (*c == ' ' || *c == '\t')
			c++;
		if (!*c)
			break;
		buf_consume(&w, w.len);
		while (*c && *c != ' ' && *c != '\t') {
			in_word = true;
			if (*c == '\\') {
				if (!c[1]) {
					*error = "trailing backslash";
					goto fail;
				}
				buf_append(&w, c + 1, 1);
				c += 2;
			} else if (*c == '\'') {
				const char *end = strchr(c + 1, '\'');

				if (!end) {
					*error = "unterminated quote";
					goto fail;
				}
				buf_append(&w, c + 1, (size_t) (end - c - 1));
				c = end + 1;
			} else if (*c == '"') {
				for (c++; *c != '"'; c++) {
					if (!*c) {
						*error = "unterminated quote";
						goto fail;
					}
					if (*c == '\\' && c[1] && strchr("\"\\$`", c[1]))
						c++;
					buf_append(&w, c, 1);
				}
				c++;
			} else {
				buf_append(&w, c, 1);
				c++;
			}
		}
		if (in_word)
			words = strv_push(words, w.data ? w.data : "");
	}
	buf_free(&w);
	return words ? words : xcalloc(1, sizeof(char *));

fail:
	buf_free(&w);
	strv_free(words);
	return NULL;
}

/* environment = KEY=VALUE ...; may repeat and continue on more lines; a later
 * assignment to the same KEY replaces the earlier one in place. */
static void parse_environment(struct key_host *h, const struct key_desc *k, void *base,
			      const char *value, _unused_ bool cont)
{
	char ***env = FIELD(char **, k, base);
	const char *error = NULL;
	char **words = env_split(value, &error);

	if (!words) {
		config_type_error(h, "invalid %s: %s: %s", k->name, error, value);
		return;
	}
	for (char **w = words; *w; w++) {
		const char *eq = strchr(*w, '=');
		size_t n = eq ? (size_t) (eq - *w) : 0;
		bool replaced = false;

		if (!eq || !env_name_valid(*w, n)) {
			config_type_error(h, "invalid %s assignment (expected NAME=VALUE): %s", k->name, *w);
			continue;
		}
		if (!config_type_check_string(h, k, *w))
			continue;
		for (char **e = *env; e && *e; e++)
			if (strncmp(*e, *w, n + 1) == 0) {
				free(*e);
				*e = xstrdup(*w);
				replaced = true;
				break;
			}
		if (!replaced)
			*env = strv_push(*env, *w);
	}
	strv_free(words);
}

static bool equal_strv(const struct key_desc *k, const void *a, const void *b)
{
	return strv_equal(*CFIELD(char **, k, a), *CFIELD(char **, k, b));
}

/* One assignment a line. */
static void dump_environment(const struct key_desc *k, const void *base, FILE *out)
{
	for (char *const *e = *CFIELD(char **, k, base); e && *e; e++) {
		const char *eq = strchr(*e, '=');

		fprintf(out, "%s = %.*s=", k->name, (int) (eq - *e), *e);
		print_word(out, eq + 1);
		fputc('\n', out);
	}
}

const struct key_type config_type_environment = { parse_environment, equal_strv, dump_environment };

/* ---- include ---- */

/* include = GLOB: handed to the reader; the jobs it brings are dumped as
 * jobs, so it is neither compared nor printed. */
static void parse_include(struct key_host *h, _unused_ const struct key_desc *k,
			  _unused_ void *base, const char *value, _unused_ bool cont)
{
	h->include(h, value);
}

const struct key_type config_type_include = { parse_include, NULL, NULL };

int config_parse_scaled(const char *s, size_t n, const char *units, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0, mult = 1;

	if (n > 1 && s[n - 1] && strchr(units, s[n - 1])) {
		for (const char *x = units; *x; x++) {
			mult *= 1024;
			if (*x == s[n - 1])
				break;
		}
		n--;
	}
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (max - 1 - (uint64_t) (s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v > (max - 1) / mult)
		return -ERANGE;
	*ret = v * mult;
	return 0;
}
