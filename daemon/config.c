/* The configuration file: [supd] and [job:NAME] sections, includes, strict
 * value parsing and a normalised dump for golden tests.
 *
 * inih tokenises, but it is fed by our own reader (config_reader) that sees
 * every physical line first. The reader knows the line number, reports lines
 * inih would cut (Debian builds inih with a 200-byte line buffer and no
 * realloc) or reject (it only remembers the first error), and mirrors inih's
 * line classification so the handler knows whether a call is a key line or
 * a continuation line. A line the reader rejects is handed to inih as an
 * empty line, so inih's own state never depends on a line we reported.
 *
 * Every problem is collected as "FILE:LINE: message" in one pass; the errors
 * are sorted by file (in the order files were read) and line at the end. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <glob.h>
#include <ini.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "config.h"
#include "names.h"
#include "parse.h"
#include "subst.h"

#define INCLUDE_DEPTH_MAX 8
#define MAX_PARALLEL_MAX 1000000L
#define LOG_LINES_MAX 1000000L

/* inih's comment characters (INI_START_COMMENT_PREFIXES and
 * INI_INLINE_COMMENT_PREFIXES); the reader must classify lines as inih does. */
#define START_COMMENT_CHARS ";#"
#define INLINE_COMMENT_CHARS ";"

/* One collected error; sorted by (file, line, seq) before it is returned. */
struct config_error {
	unsigned file_idx, line, seq;
	char *msg;                    /* "FILE:LINE: message" */
};

struct include_req {
	char *pattern;
	unsigned line;
};

/* A file being read. Files form a chain through parent while includes are
 * processed, which is how include loops are detected. */
struct file_ctx {
	const char *path;             /* as shown in messages; owned by the parser */
	unsigned idx;
	FILE *f;
	char *buf;
	size_t cap;
	unsigned lineno;
	unsigned n_errors;
	int depth;
	dev_t dev;
	ino_t ino;
	struct file_ctx *parent;
	struct include_req *includes;
	size_t n_includes;
};

enum section_kind { SECTION_NONE, SECTION_SUPD, SECTION_JOB, SECTION_BAD };
enum line_kind { LINE_BLANK, LINE_SECTION, LINE_KEY, LINE_CONT };

struct parser;
struct key_desc;

typedef void (*key_parse_fn)(struct parser *p, const struct key_desc *k, void *field,
			     const char *value, bool cont);

enum {
	KEY_REPEAT    = 1 << 0,   /* may be given more than once */
	KEY_MULTILINE = 1 << 1,   /* takes continuation lines */
	KEY_EMPTY     = 1 << 2,   /* may be empty on its key line (continued below) */
	KEY_PATH      = 1 << 3,   /* an absolute path */
	KEY_SUBST     = 1 << 4,   /* may contain %-specifiers */
};

struct key_desc {
	const char *name;
	key_parse_fn parse;
	size_t offset;                /* of the field in struct job_config / supd_config */
	unsigned flags;
};

/* Where a key was first set: for "duplicate key" messages. */
struct key_loc {
	const char *file;
	unsigned line;
};

#define N_JOB_KEYS 22
#define N_SUPD_KEYS 6

/* The [job:NAME] section being read. */
struct job_build {
	struct job_config *jc;
	bool discard;                 /* bad name or duplicate: checked, then dropped */
	struct key_loc seen[N_JOB_KEYS];
};

struct parser {
	struct supd_config *cfg;
	struct config_error *errs;
	size_t n_errs;
	char **files;                 /* every file read, for messages and locations */
	unsigned n_files;

	struct file_ctx *fc;          /* the file being read */
	enum line_kind line_kind;     /* of the line inih is processing */
	bool prev_key;                /* inih has a key that indented lines continue */
	enum section_kind section;
	char *section_name;           /* "supd", "job:web@", ... */
	struct job_build job;
	const struct key_desc *cur_key;   /* key of the last key line; NULL: ignore continuations */
	struct key_loc supd_seen[N_SUPD_KEYS];
};

static const char *const restart_policy_table[_RESTART_MAX] = {
	[RESTART_NO] = "no",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
};

static const char *const output_kind_table[_OUTPUT_MAX] = {
	[OUTPUT_NULL] = "null",
	[OUTPUT_INHERIT] = "inherit",
	[OUTPUT_LOG] = "log",
	[OUTPUT_JOURNAL] = "journal",
	[OUTPUT_FILE] = "file",
	[OUTPUT_APPEND] = "append",
	[OUTPUT_STDOUT] = "stdout",
};

const char *restart_policy_to_string(enum restart_policy p)
{
	if ((unsigned) p >= _RESTART_MAX)
		return NULL;
	return restart_policy_table[p];
}

const char *output_kind_to_string(enum output_kind k)
{
	if ((unsigned) k >= _OUTPUT_MAX)
		return NULL;
	return output_kind_table[k];
}

static bool is_ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_alnum(char c)
{
	return is_ascii_alpha(c) || (c >= '0' && c <= '9');
}


/* ---- errors ---- */

static void add_error_va(struct parser *p, unsigned line, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	struct config_error *e;

	if (vasprintf(&msg, fmt, ap) < 0)
		abort();   /* out of memory, as xmalloc */

	p->errs = xreallocarray(p->errs, p->n_errs + 1, sizeof(*p->errs));
	e = &p->errs[p->n_errs];
	e->file_idx = p->fc->idx;
	e->line = line;
	e->seq = (unsigned) p->n_errs;
	e->msg = line > 0 ? xasprintf("%s:%u: %s", p->fc->path, line, msg)
			  : xasprintf("%s: %s", p->fc->path, msg);
	p->n_errs++;
	p->fc->n_errors++;
}

/* An error at a given line of the current file. */
static _printf_(3, 4) void error_at(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error_va(p, line, fmt, ap);
	va_end(ap);
}

/* An error at the line being read. */
static _printf_(2, 3) void error_here(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error_va(p, p->fc->lineno, fmt, ap);
	va_end(ap);
}

static int config_error_cmp(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;

	if (x->file_idx != y->file_idx)
		return x->file_idx < y->file_idx ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void config_errors_clear(struct config_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

/* ---- job configs ---- */

static struct job_config *job_config_new(void)
{
	struct job_config *jc = xcalloc(1, sizeof(*jc));

	jc->refs = 1;
	jc->instances = 1;
	jc->stdout_spec.kind = OUTPUT_LOG;
	jc->stderr_spec.kind = OUTPUT_LOG;
	jc->autostart = true;
	jc->restart = RESTART_NO;
	jc->restart_delay = 100 * USEC_PER_MSEC;
	jc->restart_max_delay = 30 * USEC_PER_SEC;
	jc->start_limit_burst = 5;
	jc->start_limit_interval = 10 * USEC_PER_SEC;
	jc->timeout = 0;
	jc->stop_signal = SIGTERM;
	jc->stop_timeout = 10 * USEC_PER_SEC;
	jc->success_exit = xcalloc(1, sizeof(int));
	jc->n_success_exit = 1;
	jc->nice = 0;
	jc->log_lines = 1000;
	return jc;
}

static void job_config_free(struct job_config *jc)
{
	free(jc->name);
	free(jc->file);
	free(jc->command);
	pipeline_free(&jc->pipeline);
	free(jc->directory);
	strv_free(jc->environment);
	free(jc->environment_file);
	free(jc->user);
	free(jc->group);
	free(jc->stdin_path);
	free(jc->stdout_spec.path);
	free(jc->stderr_spec.path);
	free(jc->success_exit);
	free(jc);
}

struct job_config *job_config_ref(struct job_config *jc)
{
	if (jc)
		jc->refs++;
	return jc;
}

void job_config_unref(struct job_config *jc)
{
	if (!jc)
		return;
	if (jc->refs == 0)
		abort();   /* over-release: a broken invariant */
	if (--jc->refs == 0)
		job_config_free(jc);
}

static bool output_spec_equal(const struct output_spec *a, const struct output_spec *b)
{
	return a->kind == b->kind && streq_ptr(a->path, b->path);
}

/* Every setting is compared, except where the job was defined. */
bool job_config_equal(const struct job_config *a, const struct job_config *b)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	return streq_ptr(a->name, b->name) &&
	       a->is_template == b->is_template &&
	       streq_ptr(a->command, b->command) &&
	       a->shell == b->shell &&
	       a->instances == b->instances &&
	       a->instances_set == b->instances_set &&
	       streq_ptr(a->directory, b->directory) &&
	       strv_equal(a->environment, b->environment) &&
	       streq_ptr(a->environment_file, b->environment_file) &&
	       streq_ptr(a->user, b->user) &&
	       streq_ptr(a->group, b->group) &&
	       streq_ptr(a->stdin_path, b->stdin_path) &&
	       output_spec_equal(&a->stdout_spec, &b->stdout_spec) &&
	       output_spec_equal(&a->stderr_spec, &b->stderr_spec) &&
	       a->autostart == b->autostart &&
	       a->restart == b->restart &&
	       a->restart_delay == b->restart_delay &&
	       a->restart_max_delay == b->restart_max_delay &&
	       a->start_limit_burst == b->start_limit_burst &&
	       a->start_limit_interval == b->start_limit_interval &&
	       a->timeout == b->timeout &&
	       a->stop_signal == b->stop_signal &&
	       a->stop_timeout == b->stop_timeout &&
	       a->n_success_exit == b->n_success_exit &&
	       (a->n_success_exit == 0 ||
		memcmp(a->success_exit, b->success_exit, a->n_success_exit * sizeof(int)) == 0) &&
	       a->nice == b->nice &&
	       a->log_lines == b->log_lines;
}

struct job_config *config_find_job(const struct supd_config *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->n_jobs; i++)
		if (strcmp(c->jobs[i]->name, name) == 0)
			return c->jobs[i];
	return NULL;
}

/* CPUs this process may run on (as nproc(1)). */
static long cpu_count(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		n = CPU_COUNT(&set);
		if (n > 0)
			return n;
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

long config_instances(const struct job_config *jc)
{
	return jc->instances < 0 ? cpu_count() : jc->instances;
}

long config_max_parallel(const struct supd_config *c)
{
	return c->max_parallel < 0 ? cpu_count() : c->max_parallel;
}

void config_free(struct supd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_jobs; i++)
		job_config_unref(c->jobs[i]);
	free(c->jobs);
	free(c->file);
	free(c->socket);
	free(c->control_group);
	free(c->state_dir);
	free(c);
}

/* ---- value parsers ---- */

/* Checks shared by string values; false (after reporting) if v is unusable. */
static bool check_string(struct parser *p, const struct key_desc *k, const char *v)
{
	char bad;

	if ((k->flags & KEY_PATH) && v[0] != '/') {
		error_here(p, "%s must be an absolute path: %s", k->name, v);
		return false;
	}
	if ((k->flags & KEY_SUBST) && !subst_valid(v, &bad)) {
		if (bad == '\0')
			error_here(p, "incomplete specifier %% at the end of %s: %s (use %%%% for %%)",
				   k->name, v);
		else
			error_here(p, "unknown specifier %%%c in %s: %s (use %%%% for %%)", bad, k->name, v);
		return false;
	}
	return true;
}

static void parse_string(struct parser *p, const struct key_desc *k, void *field,
			 const char *value, _unused_ bool cont)
{
	char **s = field;

	if (!check_string(p, k, value))
		return;
	free(*s);
	*s = xstrdup(value);
}

/* A user, group or group name: no blanks, no ':' or '/'. */
static void parse_name(struct parser *p, const struct key_desc *k, void *field,
		       const char *value, _unused_ bool cont)
{
	char **s = field;

	for (const char *c = value; *c; c++)
		if (isspace((unsigned char) *c) || *c == ':' || *c == '/') {
			error_here(p, "invalid name for %s: %s", k->name, value);
			return;
		}
	free(*s);
	*s = xstrdup(value);
}

static void parse_socket(struct parser *p, const struct key_desc *k, void *field,
			 const char *value, bool cont)
{
	struct sockaddr_un sa;

	if (strlen(value) >= sizeof(sa.sun_path)) {
		error_here(p, "socket path too long (max %zu bytes): %s", sizeof(sa.sun_path) - 1, value);
		return;
	}
	parse_string(p, k, field, value, cont);
}

static void parse_bool_key(struct parser *p, const struct key_desc *k, void *field,
			   const char *value, _unused_ bool cont)
{
	if (parse_boolean(value, field) < 0)
		error_here(p, "invalid boolean for %s: %s", k->name, value);
}

static void parse_duration_key(struct parser *p, const struct key_desc *k, void *field,
			       const char *value, _unused_ bool cont)
{
	int r = parse_duration(value, field);

	if (r == -ERANGE)
		error_here(p, "duration out of range for %s: %s", k->name, value);
	else if (r < 0)
		error_here(p, "invalid duration for %s: %s", k->name, value);
}

static void parse_signal_key(struct parser *p, const struct key_desc *k, void *field,
			     const char *value, _unused_ bool cont)
{
	if (parse_signal(value, field) < 0)
		error_here(p, "invalid signal for %s: %s", k->name, value);
}

static void parse_mode_key(struct parser *p, const struct key_desc *k, void *field,
			   const char *value, _unused_ bool cont)
{
	if (parse_mode(value, field) < 0)
		error_here(p, "invalid mode for %s: %s (expected octal, such as 0660)", k->name, value);
}

static void parse_max_parallel(struct parser *p, const struct key_desc *k, void *field,
			       const char *value, _unused_ bool cont)
{
	if (parse_count_or_auto(value, 0, MAX_PARALLEL_MAX, field) < 0)
		error_here(p, "invalid value for %s: %s (expected auto or 0..%ld)",
			   k->name, value, MAX_PARALLEL_MAX);
}

static void parse_instances(struct parser *p, const struct key_desc *k, void *field,
			    const char *value, _unused_ bool cont)
{
	struct job_config *jc = p->job.jc;

	if (jc->is_template) {
		error_here(p, "instances cannot be used with a template ([job:%s@])", jc->name);
		return;
	}
	if (parse_count_or_auto(value, 1, CONFIG_INSTANCES_MAX, field) < 0) {
		error_here(p, "invalid value for %s: %s (expected auto or 1..%d)",
			   k->name, value, CONFIG_INSTANCES_MAX);
		return;
	}
	jc->instances_set = true;
}

static void parse_nice(struct parser *p, const struct key_desc *k, void *field,
		       const char *value, _unused_ bool cont)
{
	long n;

	if (parse_int(value, -20, 19, &n) < 0) {
		error_here(p, "invalid value for %s: %s (expected -20..19)", k->name, value);
		return;
	}
	*(int *) field = (int) n;
}

static void parse_log_lines(struct parser *p, const struct key_desc *k, void *field,
			    const char *value, _unused_ bool cont)
{
	long n;

	if (parse_int(value, 1, LOG_LINES_MAX, &n) < 0) {
		error_here(p, "invalid value for %s: %s (expected 1..%ld)", k->name, value, LOG_LINES_MAX);
		return;
	}
	*(size_t *) field = (size_t) n;
}

static void parse_restart(struct parser *p, const struct key_desc *k, void *field,
			  const char *value, _unused_ bool cont)
{
	for (int i = 0; i < _RESTART_MAX; i++)
		if (strcmp(value, restart_policy_table[i]) == 0) {
			*(enum restart_policy *) field = (enum restart_policy) i;
			return;
		}
	error_here(p, "invalid value for %s: %s (expected no, on-failure or always)", k->name, value);
}

static void parse_start_limit_key(struct parser *p, const struct key_desc *k, _unused_ void *field,
				  const char *value, _unused_ bool cont)
{
	struct job_config *jc = p->job.jc;

	if (parse_start_limit(value, &jc->start_limit_burst, &jc->start_limit_interval) < 0)
		error_here(p, "invalid value for %s: %s (expected BURST/INTERVAL, such as 5/10s, or none)",
			   k->name, value);
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *) a, y = *(const int *) b;

	return (x > y) - (x < y);
}

/* Exit codes separated by blanks or commas; kept sorted and unique. */
static void parse_success_exit(struct parser *p, const struct key_desc *k, _unused_ void *field,
			       const char *value, _unused_ bool cont)
{
	struct job_config *jc = p->job.jc;
	_cleanup_free_ char *copy = xstrdup(value);
	_cleanup_free_ int *v = NULL;
	size_t n = 0, m = 0;
	char *save = NULL;

	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		long code;

		if (parse_int(tok, 0, 255, &code) < 0) {
			error_here(p, "invalid exit status for %s: %s (expected 0..255)", k->name, tok);
			return;
		}
		v = xreallocarray(v, n + 1, sizeof(int));
		v[n++] = (int) code;
	}
	if (n == 0) {
		error_here(p, "missing value for %s", k->name);
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

/* stdin = null | PATH */
static void parse_stdin(struct parser *p, const struct key_desc *k, void *field,
			const char *value, bool cont)
{
	char **s = field;

	if (strcmp(value, "null") == 0) {
		free(*s);
		*s = NULL;
		return;
	}
	parse_string(p, k, field, value, cont);
}

/* stdout, stderr = null | inherit | log | journal | PATH | append:PATH;
 * stderr also "stdout". */
static void parse_output(struct parser *p, const struct key_desc *k, void *field,
			 const char *value, _unused_ bool cont)
{
	static const enum output_kind keywords[] = {
		OUTPUT_NULL, OUTPUT_INHERIT, OUTPUT_LOG, OUTPUT_JOURNAL, OUTPUT_STDOUT,
	};
	struct output_spec *o = field;
	bool is_stderr = o == &p->job.jc->stderr_spec;
	enum output_kind kind = OUTPUT_FILE;
	const char *path = value;

	for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
		if (strcmp(value, output_kind_table[keywords[i]]) == 0) {
			if (keywords[i] == OUTPUT_STDOUT && !is_stderr)
				break;
			o->kind = keywords[i];
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
			error_here(p, "%s must be an absolute path: %s", k->name, value);
		else
			error_here(p, "invalid value for %s: %s (expected null, inherit, log, journal%s, "
				   "a path or append:PATH)", k->name, value, is_stderr ? ", stdout" : "");
		return;
	}
	if (!check_string(p, k, path))
		return;
	o->kind = kind;
	free(o->path);
	o->path = xstrdup(path);
}

/* command: continuation lines are appended with a space. The command is
 * checked and split once the section ends (shell may follow it). */
static void parse_command(_unused_ struct parser *p, _unused_ const struct key_desc *k,
			  void *field, const char *value, bool cont)
{
	char **s = field;
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
static void parse_environment(struct parser *p, const struct key_desc *k, void *field,
			      const char *value, _unused_ bool cont)
{
	char ***env = field;
	const char *error = NULL;
	char **words = env_split(value, &error);

	if (!words) {
		error_here(p, "invalid %s: %s: %s", k->name, error, value);
		return;
	}
	for (char **w = words; *w; w++) {
		const char *eq = strchr(*w, '=');
		size_t n = eq ? (size_t) (eq - *w) : 0;
		bool replaced = false;

		if (!eq || !env_name_valid(*w, n)) {
			error_here(p, "invalid %s assignment (expected NAME=VALUE): %s", k->name, *w);
			continue;
		}
		if (!check_string(p, k, *w))
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

/* include = GLOB: expanded once the including file has been read. */
static void parse_include(struct parser *p, _unused_ const struct key_desc *k,
			  _unused_ void *field,
			  const char *value, _unused_ bool cont)
{
	struct file_ctx *fc = p->fc;

	fc->includes = xreallocarray(fc->includes, fc->n_includes + 1, sizeof(*fc->includes));
	fc->includes[fc->n_includes++] = (struct include_req) {
		.pattern = xstrdup(value),
		.line = fc->lineno,
	};
}

#define JOB_FIELD(f) offsetof(struct job_config, f)
#define SUPD_FIELD(f) offsetof(struct supd_config, f)

static const struct key_desc job_keys[] = {
	{ "command",           parse_command,         JOB_FIELD(command),
	  KEY_MULTILINE | KEY_EMPTY },
	{ "shell",             parse_bool_key,        JOB_FIELD(shell), 0 },
	{ "instances",         parse_instances,       JOB_FIELD(instances), 0 },
	{ "directory",         parse_string,          JOB_FIELD(directory), KEY_PATH | KEY_SUBST },
	{ "environment",       parse_environment,     JOB_FIELD(environment),
	  KEY_REPEAT | KEY_MULTILINE | KEY_EMPTY | KEY_SUBST },
	{ "environment_file",  parse_string,          JOB_FIELD(environment_file), KEY_PATH | KEY_SUBST },
	{ "user",              parse_name,            JOB_FIELD(user), 0 },
	{ "group",             parse_name,            JOB_FIELD(group), 0 },
	{ "stdin",             parse_stdin,           JOB_FIELD(stdin_path), KEY_PATH | KEY_SUBST },
	{ "stdout",            parse_output,          JOB_FIELD(stdout_spec), KEY_SUBST },
	{ "stderr",            parse_output,          JOB_FIELD(stderr_spec), KEY_SUBST },
	{ "autostart",         parse_bool_key,        JOB_FIELD(autostart), 0 },
	{ "restart",           parse_restart,         JOB_FIELD(restart), 0 },
	{ "restart_delay",     parse_duration_key,    JOB_FIELD(restart_delay), 0 },
	{ "restart_max_delay", parse_duration_key,    JOB_FIELD(restart_max_delay), 0 },
	{ "start_limit",       parse_start_limit_key, JOB_FIELD(start_limit_burst), 0 },
	{ "timeout",           parse_duration_key,    JOB_FIELD(timeout), 0 },
	{ "stop_signal",       parse_signal_key,      JOB_FIELD(stop_signal), 0 },
	{ "stop_timeout",      parse_duration_key,    JOB_FIELD(stop_timeout), 0 },
	{ "success_exit",      parse_success_exit,    JOB_FIELD(success_exit), 0 },
	{ "nice",              parse_nice,            JOB_FIELD(nice), 0 },
	{ "log_lines",         parse_log_lines,       JOB_FIELD(log_lines), 0 },
};

static const struct key_desc supd_keys[] = {
	{ "socket",        parse_socket,       SUPD_FIELD(socket), KEY_PATH },
	{ "socket_mode",   parse_mode_key,     SUPD_FIELD(socket_mode), 0 },
	{ "control_group", parse_name,         SUPD_FIELD(control_group), 0 },
	{ "state_dir",     parse_string,       SUPD_FIELD(state_dir), KEY_PATH },
	{ "max_parallel",  parse_max_parallel, SUPD_FIELD(max_parallel), 0 },
	{ "include",       parse_include,      0, KEY_REPEAT },
};

_Static_assert(ELEMENTSOF(job_keys) == N_JOB_KEYS, "N_JOB_KEYS");
_Static_assert(ELEMENTSOF(supd_keys) == N_SUPD_KEYS, "N_SUPD_KEYS");

static const struct key_desc *find_key(const struct key_desc *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

/* The line where a job key was first set in the current section, or 0. */
static unsigned job_key_line(const struct parser *p, const char *name)
{
	const struct key_desc *k = find_key(job_keys, N_JOB_KEYS, name);

	return k ? p->job.seen[k - job_keys].line : 0;
}

/* ---- sections ---- */

/* The current [job:] section is complete: check what needs the whole
 * section, then keep the job or drop it. */
static void job_finish(struct parser *p)
{
	struct job_build *b = &p->job;
	struct job_config *jc = b->jc;
	unsigned cmd_line = job_key_line(p, "command");

	if (!jc)
		return;

	if (!jc->command) {
		error_at(p, jc->line, "missing command in [job:%s%s]", jc->name,
			 jc->is_template ? "@" : "");
	} else if (!*jc->command) {
		error_at(p, cmd_line, "missing value for command");
	} else {
		char bad;

		if (!subst_valid(jc->command, &bad)) {
			if (bad == '\0')
				error_at(p, cmd_line, "incomplete specifier %% at the end of command (use %%%% for %%)");
			else
				error_at(p, cmd_line, "unknown specifier %%%c in command (use %%%% for %%)", bad);
		}
		if (!jc->shell) {
			const char *why = NULL;

			if (cmdline_split(jc->command, &jc->pipeline, &why) < 0)
				error_at(p, cmd_line, "invalid command: %s", why ? why : "syntax error");
		}
	}

	if (jc->restart_delay > jc->restart_max_delay) {
		unsigned line = job_key_line(p, "restart_delay");

		if (!line)
			line = job_key_line(p, "restart_max_delay");
		error_at(p, line, "restart_delay must not exceed restart_max_delay");
	}

	if (b->discard) {
		job_config_unref(jc);
	} else {
		struct supd_config *c = p->cfg;

		c->jobs = xreallocarray(c->jobs, c->n_jobs + 1, sizeof(*c->jobs));
		c->jobs[c->n_jobs++] = jc;
	}
	memset(b, 0, sizeof(*b));
}

static void section_leave(struct parser *p)
{
	job_finish(p);
	free(p->section_name);
	p->section_name = NULL;
	p->section = SECTION_NONE;
	p->cur_key = NULL;
}

static void section_enter(struct parser *p, const char *name)
{
	section_leave(p);
	p->section_name = xstrdup(name);

	if (strcmp(name, "supd") == 0) {
		p->section = SECTION_SUPD;
	} else if (strncmp(name, "job:", 4) == 0) {
		const char *n = name + 4;
		size_t len = strlen(n);
		struct job_build *b = &p->job;
		struct job_config *other;

		b->jc = job_config_new();
		b->jc->is_template = len > 0 && n[len - 1] == '@';
		b->jc->name = xstrndup(n, b->jc->is_template ? len - 1 : len);
		b->jc->file = xstrdup(p->fc->path);
		b->jc->line = p->fc->lineno;
		p->section = SECTION_JOB;

		if (!job_name_valid(b->jc->name)) {
			error_here(p, "invalid job name in [%s] (use letters, digits, _ . -)", name);
			b->discard = true;
		} else if ((other = config_find_job(p->cfg, b->jc->name))) {
			error_here(p, "duplicate job %s (first defined at %s:%u)",
				   b->jc->name, other->file, other->line);
			b->discard = true;
		}
	} else {
		error_here(p, "unknown section [%s]", name);
		p->section = SECTION_BAD;
	}
}

/* ---- the line reader and the inih handler ---- */

static char *rstrip(char *s)
{
	char *e = s + strlen(s);

	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

static char *lskip(char *s)
{
	while (*s && isspace((unsigned char) *s))
		s++;
	return s;
}

/* inih's find_chars_or_comment(): the first of chars, or the start of an
 * inline comment (a comment char after whitespace), or the end. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	bool was_space = false;

	while (*s && (!chars || !strchr(chars, *s)) &&
	       !(was_space && strchr(INLINE_COMMENT_CHARS, *s))) {
		was_space = isspace((unsigned char) *s);
		s++;
	}
	return s;
}

/* Classify a line as inih will; false (after reporting) if inih must not
 * see it. May modify line. */
static bool classify_line(struct parser *p, char *line)
{
	char *start = lskip(rstrip(line)), *end;

	p->line_kind = LINE_BLANK;
	if (!*start || strchr(START_COMMENT_CHARS, *start))
		return true;

	if (p->prev_key && start > line) {
		p->line_kind = LINE_CONT;
		return true;
	}

	if (*start == '[') {
		char *rest;

		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			error_here(p, "syntax error: missing ] in section header");
			/* keys that follow belong to no section we know */
			section_leave(p);
			p->section = SECTION_BAD;
			return false;
		}
		*end = '\0';
		rest = lskip(end + 1);
		if (*rest && !strchr(INLINE_COMMENT_CHARS, *rest))
			error_here(p, "syntax error: text after section header: %s", rest);
		section_enter(p, start + 1);
		p->line_kind = LINE_SECTION;
		p->prev_key = false;
		return true;
	}

	end = find_chars_or_comment(start, "=:");
	if (*end != '=' && *end != ':') {
		error_here(p, "syntax error: expected KEY = VALUE or [SECTION]: %s", start);
		return false;
	}
	if (end == start) {
		error_here(p, "syntax error: missing key before '%c'", *end);
		return false;
	}
	p->line_kind = LINE_KEY;
	p->prev_key = true;
	return true;
}

/* inih's reader: one physical line per call, without its newline. */
static char *config_reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	struct file_ctx *fc = p->fc;
	ssize_t n;
	size_t len;
	char *line;

	errno = 0;
	n = getline(&fc->buf, &fc->cap, fc->f);
	if (n < 0) {
		if (ferror(fc->f))
			error_at(p, 0, "read error: %s", strerror(errno ? errno : EIO));
		return NULL;
	}
	fc->lineno++;
	p->line_kind = LINE_BLANK;

	line = fc->buf;
	len = (size_t) n;
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (fc->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		len -= 3;
	}

	str[0] = '\0';
	if (strlen(line) != len) {
		error_here(p, "syntax error: NUL byte in line");
		return str;
	}
	if (len > (size_t) num - 1) {
		error_here(p, "line too long (max %d characters)", num - 1);
		return str;
	}
	memcpy(str, line, len + 1);
	if (!classify_line(p, line))
		str[0] = '\0';
	return str;
}

static const char *section_display(const struct parser *p)
{
	return p->section_name ? p->section_name : "";
}

static void handle_continuation(struct parser *p, const char *value)
{
	const struct key_desc *k = p->cur_key;
	_cleanup_free_ char *v = NULL;
	char *base;

	if (!k || p->section == SECTION_NONE || p->section == SECTION_BAD)
		return;   /* its key was already reported */
	if (!(k->flags & KEY_MULTILINE)) {
		error_here(p, "%s does not take continuation lines", k->name);
		return;
	}
	/* inih r55 strips inline comments from key lines only */
	v = xstrdup(value);
	*find_chars_or_comment(v, NULL) = '\0';
	rstrip(v);
	if (!*v)
		return;
	base = p->section == SECTION_SUPD ? (char *) p->cfg : (char *) p->job.jc;
	k->parse(p, k, base + k->offset, v, true);
}

static int config_handler(void *user, _unused_ const char *section, const char *name,
			  const char *value)
{
	struct parser *p = user;
	const struct key_desc *table, *k;
	struct key_loc *seen;
	char *base;
	size_t n, idx;

	if (!name || !value)
		return 1;   /* a section start (INI_CALL_HANDLER_ON_NEW_SECTION) */
	if (p->line_kind == LINE_CONT) {
		handle_continuation(p, value);
		return 1;
	}
	p->cur_key = NULL;
	if (p->line_kind != LINE_KEY) {
		/* inih saw something our reader did not expect */
		error_here(p, "syntax error");
		return 1;
	}

	switch (p->section) {
	case SECTION_NONE:
		error_here(p, "key outside of any section: %s", name);
		return 1;
	case SECTION_BAD:
		return 1;
	case SECTION_SUPD:
		table = supd_keys;
		n = ELEMENTSOF(supd_keys);
		seen = p->supd_seen;
		base = (char *) p->cfg;
		break;
	case SECTION_JOB:
	default:
		table = job_keys;
		n = ELEMENTSOF(job_keys);
		seen = p->job.seen;
		base = (char *) p->job.jc;
		break;
	}

	k = find_key(table, n, name);
	if (!k) {
		error_here(p, "unknown key in [%s]: %s", section_display(p), name);
		return 1;
	}
	idx = (size_t) (k - table);
	if (seen[idx].line && !(k->flags & KEY_REPEAT)) {
		error_here(p, "duplicate key %s (first set at %s:%u)", k->name,
			   seen[idx].file, seen[idx].line);
		return 1;
	}
	if (!seen[idx].line)
		seen[idx] = (struct key_loc) { p->fc->path, p->fc->lineno };

	p->cur_key = k;
	if (!*value && !(k->flags & KEY_EMPTY)) {
		error_here(p, "missing value for %s", k->name);
		return 1;
	}
	k->parse(p, k, base + k->offset, value, false);
	return 1;
}

/* ---- files and includes ---- */

static void include_pattern(struct parser *p, const struct include_req *req);

/* Read one open file, then the files it includes. */
static void parse_file(struct parser *p, FILE *f, const char *path, const struct stat *st)
{
	struct file_ctx fc = {
		.f = f,
		.dev = st->st_dev,
		.ino = st->st_ino,
		.parent = p->fc,
		.depth = p->fc ? p->fc->depth + 1 : 0,
	};
	int r;

	p->files = strv_push(p->files, path);
	fc.path = p->files[p->n_files];
	fc.idx = p->n_files++;
	p->fc = &fc;
	p->section = SECTION_NONE;
	p->prev_key = false;
	p->cur_key = NULL;

	r = ini_parse_stream(config_reader, p, config_handler, p);
	section_leave(p);
	if (r == -2)
		error_at(p, 0, "out of memory");
	else if (r > 0 && fc.n_errors == 0)
		error_at(p, (unsigned) r, "syntax error");   /* cannot happen: the reader checks first */
	free(fc.buf);

	for (size_t i = 0; i < fc.n_includes; i++) {
		include_pattern(p, &fc.includes[i]);
		free(fc.includes[i].pattern);
	}
	free(fc.includes);
	p->fc = fc.parent;
}

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* PATTERN relative to the directory of the including file; with escape,
 * glob metacharacters in that directory are escaped. */
static char *include_path(const char *including, const char *pattern, bool escape)
{
	const char *slash = strrchr(including, '/');
	struct buf b = { 0 };

	if (pattern[0] == '/' || !slash)
		return xstrdup(pattern);
	for (const char *c = including; c < slash; c++) {
		if (escape && strchr("*?[\\", *c))
			buf_append(&b, "\\", 1);
		buf_append(&b, c, 1);
	}
	buf_appendf(&b, "/%s", pattern);
	return b.data;
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void include_file(struct parser *p, unsigned line, const char *path, bool wildcard)
{
	struct stat st;
	FILE *f;

	/* a FIFO would block supd, /dev/zero would never end */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		error_at(p, line, "cannot include %s: not a regular file", path);
		return;
	}
	f = fopen(path, "re");
	if (!f) {
		error_at(p, line, "cannot open include %s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fileno(f), &st) < 0) {
		error_at(p, line, "cannot open include %s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!wildcard)
			error_at(p, line, "cannot include %s: is a directory", path);
		goto out;
	}
	for (const struct file_ctx *a = p->fc; a; a = a->parent)
		if (a->dev == st.st_dev && a->ino == st.st_ino) {
			error_at(p, line, "include loop: %s", path);
			goto out;
		}
	if (p->fc->depth + 1 > INCLUDE_DEPTH_MAX) {
		error_at(p, line, "includes nested too deeply (max %d): %s", INCLUDE_DEPTH_MAX, path);
		goto out;
	}
	parse_file(p, f, path, &st);
out:
	fclose(f);
}

static void include_pattern(struct parser *p, const struct include_req *req)
{
	_cleanup_free_ char *pattern = include_path(p->fc->path, req->pattern, true);
	bool wildcard = has_wildcard(req->pattern);
	glob_t g;
	int r;

	r = glob(pattern, GLOB_NOSORT, NULL, &g);
	if (r == GLOB_NOMATCH) {
		if (!wildcard) {
			_cleanup_free_ char *path = include_path(p->fc->path, req->pattern, false);

			error_at(p, req->line, "include file not found: %s", path);
		}
		globfree(&g);
		return;
	}
	if (r != 0) {
		error_at(p, req->line, "cannot expand include %s", req->pattern);
		globfree(&g);
		return;
	}
	qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), strcmp_ptr);
	for (size_t i = 0; i < g.gl_pathc; i++)
		include_file(p, req->line, g.gl_pathv[i], wildcard);
	globfree(&g);
}

int config_load(const char *file, struct supd_config **ret, struct config_errors *errs)
{
	struct parser p = { 0 };
	struct file_ctx top = { .path = file };
	struct supd_config *c;
	struct stat st;
	FILE *f;

	c = xcalloc(1, sizeof(*c));
	c->file = xstrdup(file);
	c->socket_mode = 0660;
	c->max_parallel = -1;
	p.cfg = c;

	f = fopen(file, "re");
	if (!f || fstat(fileno(f), &st) < 0) {
		p.fc = &top;
		error_at(&p, 0, "cannot open: %s", strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		p.fc = &top;
		error_at(&p, 0, "cannot open: is a directory");
	} else {
		parse_file(&p, f, file, &st);
	}
	if (f)
		fclose(f);

	if (p.n_errs > 0)
		qsort(p.errs, p.n_errs, sizeof(*p.errs), config_error_cmp);
	if (errs) {
		config_errors_clear(errs);
		if (p.n_errs > 0)
			errs->v = xcalloc(p.n_errs, sizeof(char *));
		errs->n = p.n_errs;
	}
	for (size_t i = 0; i < p.n_errs; i++) {
		if (errs)
			errs->v[i] = p.errs[i].msg;
		else
			free(p.errs[i].msg);
	}
	free(p.errs);
	strv_free(p.files);

	if (p.n_errs > 0) {
		config_free(c);
		*ret = NULL;
		return -EINVAL;
	}
	*ret = c;
	return 0;
}

/* ---- dump ---- */

/* A canonical duration in one unit: 0, 250ms, 10s, 2m, 1h. */
static void dump_duration(FILE *out, usec_t u)
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

static void dump_duration_key(FILE *out, const char *key, usec_t u)
{
	fprintf(out, "%s = ", key);
	dump_duration(out, u);
	fputc('\n', out);
}

/* A word as the config would quote it: bare if safe, else "..." */
static void dump_word(FILE *out, const char *s)
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

static void dump_output(FILE *out, const char *key, const struct output_spec *o)
{
	fprintf(out, "%s = ", key);
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

static void dump_job(const struct job_config *jc, FILE *out)
{
	const char *sig = signal_name(jc->stop_signal);

	fprintf(out, "\n[job:%s%s]\n", jc->name, jc->is_template ? "@" : "");
	fprintf(out, "; defined at %s:%u\n", jc->file, jc->line);
	fprintf(out, "command = %s\n", jc->command);
	if (jc->pipeline.n_stages > 0) {
		fputs("; argv:", out);
		for (size_t i = 0; i < jc->pipeline.n_stages; i++) {
			if (i > 0)
				fputs(" |", out);
			for (char **a = jc->pipeline.stages[i]; *a; a++) {
				fputc(' ', out);
				dump_word(out, *a);
			}
		}
		fputc('\n', out);
	}
	fprintf(out, "shell = %s\n", jc->shell ? "true" : "false");
	if (jc->instances_set) {
		if (jc->instances < 0)
			fputs("instances = auto\n", out);
		else
			fprintf(out, "instances = %ld\n", jc->instances);
	}
	if (jc->directory)
		fprintf(out, "directory = %s\n", jc->directory);
	for (char **e = jc->environment; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		fprintf(out, "environment = %.*s=", (int) (eq - *e), *e);
		dump_word(out, eq + 1);
		fputc('\n', out);
	}
	if (jc->environment_file)
		fprintf(out, "environment_file = %s\n", jc->environment_file);
	if (jc->user)
		fprintf(out, "user = %s\n", jc->user);
	if (jc->group)
		fprintf(out, "group = %s\n", jc->group);
	fprintf(out, "stdin = %s\n", jc->stdin_path ? jc->stdin_path : "null");
	dump_output(out, "stdout", &jc->stdout_spec);
	dump_output(out, "stderr", &jc->stderr_spec);
	fprintf(out, "autostart = %s\n", jc->autostart ? "true" : "false");
	fprintf(out, "restart = %s\n", restart_policy_to_string(jc->restart));
	dump_duration_key(out, "restart_delay", jc->restart_delay);
	dump_duration_key(out, "restart_max_delay", jc->restart_max_delay);
	if (jc->start_limit_burst == 0) {
		fputs("start_limit = none\n", out);
	} else {
		fprintf(out, "start_limit = %u/", jc->start_limit_burst);
		dump_duration(out, jc->start_limit_interval);
		fputc('\n', out);
	}
	dump_duration_key(out, "timeout", jc->timeout);
	if (sig)
		fprintf(out, "stop_signal = %s\n", sig);
	else
		fprintf(out, "stop_signal = %d\n", jc->stop_signal);
	dump_duration_key(out, "stop_timeout", jc->stop_timeout);
	fputs("success_exit =", out);
	for (size_t i = 0; i < jc->n_success_exit; i++)
		fprintf(out, " %d", jc->success_exit[i]);
	fputc('\n', out);
	fprintf(out, "nice = %d\n", jc->nice);
	fprintf(out, "log_lines = %zu\n", jc->log_lines);
}

void config_dump(const struct supd_config *c, FILE *out)
{
	fputs("[supd]\n", out);
	if (c->socket)
		fprintf(out, "socket = %s\n", c->socket);
	fprintf(out, "socket_mode = %04o\n", (unsigned) c->socket_mode);
	if (c->control_group)
		fprintf(out, "control_group = %s\n", c->control_group);
	if (c->state_dir)
		fprintf(out, "state_dir = %s\n", c->state_dir);
	if (c->max_parallel < 0)
		fputs("max_parallel = auto\n", out);
	else
		fprintf(out, "max_parallel = %ld\n", c->max_parallel);
	for (size_t i = 0; i < c->n_jobs; i++)
		dump_job(c->jobs[i], out);
}
