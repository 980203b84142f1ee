/* SPDX-License-Identifier: ISC */
/* The reader of the configuration file: files and includes, lines,
 * sections, and errors as "FILE:LINE: message".
 *
 * inih dispatches, but it is fed by our own reader (config_reader) that
 * sees every physical line first (read bounded by config-file.c). The
 * reader knows the line number and tokenises the line itself: lines of up
 * to 64 KiB (Debian builds inih with a 200-byte line buffer and no
 * realloc), a ';' inside quotes of a command or environment value, errors
 * inih would only count. It hands inih a short stand-in of the same kind
 * ("[s]", "k=v", " v", or an empty line for a blank, comment or rejected
 * line) and keeps the real key and value for the handler. So inih's state
 * (its section and the key a continuation line belongs to) follows ours,
 * and never depends on a line we reported.
 *
 * Every problem is collected as "FILE:LINE: message" in one pass; the errors
 * are sorted by file (in the order files were read) and line at the end.
 * Values are parsed by their key's row (config-keys.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <glob.h>
#include <ini.h>
#include <stdarg.h>

#include "config-check.h"
#include "config-errors.h"
#include "config-file.h"
#include "config-keys.h"
#include "cmdline.h"
#include "graph.h"
#include "names.h"
#include "subst.h"

#define INCLUDE_DEPTH_MAX 8

/* Comment characters as inih's defaults (INI_START_COMMENT_PREFIXES and
 * INI_INLINE_COMMENT_PREFIXES). */
#define START_COMMENT_CHARS ";#"
#define INLINE_COMMENT_CHARS ";"

/* What inih is handed for each kind of line. */
#define STANDIN_SECTION "[s]"
#define STANDIN_KEY "k=v"
#define STANDIN_CONT " v"

struct include_req {
	char *pattern;
	unsigned line;
};

/* A file being read. Files form a chain through parent while includes are
 * processed, which is how include loops are detected. */
struct file_ctx {
	const char *path;             /* as shown in messages; owned by the parser */
	unsigned idx;
	struct config_file *file;
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

/* Where a key was first set: for "duplicate key" messages. */
struct key_loc {
	const char *file;
	unsigned line;
};

/* The [job:NAME] section being read. */
struct job_build {
	struct job_config *jc;
	bool discard;                 /* bad name or duplicate: checked, then dropped */
	struct key_loc seen[CONFIG_KEYS_MAX];
};

struct parser {
	struct key_host host;         /* what the value parsers call */
	struct supd_config *cfg;
	struct config_msgs msgs;
	char **files;                 /* every file read, for messages and locations */
	unsigned n_files;

	struct file_ctx *fc;          /* the file being read */
	enum line_kind line_kind;     /* of the line inih is processing */
	const char *key_name;         /* of a key line, in the line buffer */
	const char *value;            /* of a key or continuation line */
	bool expect_call;             /* the handler has yet to see this line */
	bool prev_key;                /* there is a key that indented lines continue */
	enum section_kind section;
	char *section_name;           /* "supd", "job:web@", ... */
	struct job_build job;
	const struct key_desc *cur_key;   /* key of the last key line; NULL: ignore continuations */
	struct key_loc supd_seen[CONFIG_KEYS_MAX];
};

/* ---- errors ---- */

static _printf_(4, 0) void add_msg_va(struct parser *p, unsigned line, bool warning,
				      const char *fmt, va_list ap)
{
	config_errors_add(&p->msgs, p->fc->idx, p->fc->path, line, warning, fmt, ap);
	if (!warning)
		p->fc->n_errors++;
}

/* An error at a given line of the current file. */
static _printf_(3, 4) void error_at(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg_va(p, line, false, fmt, ap);
	va_end(ap);
}

/* An error at the line being read. */
static _printf_(2, 3) void error_here(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg_va(p, p->fc->lineno, false, fmt, ap);
	va_end(ap);
}

/* An error at a line of any file read (by its index). */
static _printf_(5, 6) void error_in(struct parser *p, unsigned file_idx, const char *path, unsigned line,
				    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_errors_add(&p->msgs, file_idx, path, line, false, fmt, ap);
	va_end(ap);
}

/* A warning at the line being read: reported, but the config is valid. */
static _printf_(2, 3) void warning_here(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg_va(p, p->fc->lineno, true, fmt, ap);
	va_end(ap);
}

/* ---- what the value parsers call ---- */

_Static_assert(offsetof(struct parser, host) == 0, "a key_host is its parser");

static void host_error(struct key_host *h, const char *msg)
{
	error_here((struct parser *) h, "%s", msg);
}

static void host_warning(struct key_host *h, const char *msg)
{
	warning_here((struct parser *) h, "%s", msg);
}

/* include = GLOB: expanded once the including file has been read. */
static void host_include(struct key_host *h, const char *pattern)
{
	struct file_ctx *fc = ((struct parser *) h)->fc;

	fc->includes = xreallocarray(fc->includes, fc->n_includes + 1, sizeof(*fc->includes));
	fc->includes[fc->n_includes++] = (struct include_req) {
		.pattern = xstrdup(pattern),
		.line = fc->lineno,
	};
}

static void host_location(struct key_host *h, const char **file, unsigned *line)
{
	struct parser *p = (struct parser *) h;

	*file = p->fc->path;
	*line = p->fc->lineno;
}

/* The line where a job key was first set in the current section, or 0. */
static unsigned job_key_line(const struct parser *p, const char *name)
{
	const struct key_desc *k = config_keys_find(&config_keys_job, name);

	return k ? p->job.seen[k - config_keys_job.keys].line : 0;
}

/* What config_check_job() reports through: the parser, at a key's line. */
struct section_check {
	struct config_check check;
	struct parser *p;
};

static void check_error(struct config_check *c, const char *key, const char *msg)
{
	struct parser *p = ((struct section_check *) c)->p;
	unsigned line = job_key_line(p, key);

	error_at(p, line ? line : p->job.jc->line, "%s", msg);
}

static bool check_has_key(struct config_check *c, const char *key)
{
	return job_key_line(((struct section_check *) c)->p, key) != 0;
}

/* ---- sections ---- */

/* The current [job:] section is complete: check what needs the whole
 * section, then keep the job or drop it. */
static void job_finish(struct parser *p)
{
	struct job_build *b = &p->job;
	struct job_config *jc = b->jc;

	if (!jc)
		return;

	struct section_check chk = { { check_error, check_has_key }, p };
	config_check_job(&chk.check, jc);

	/* cgroup = off (wherever [supd] says it) makes this an error */
	if (job_config_cgroup_key(jc))
		jc->cgroup_key_line = job_key_line(p, job_config_cgroup_key(jc));

	if (b->discard)
		job_config_unref(jc);
	else
		config_add_job(p->cfg, jc);
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
		b->jc->file_idx = p->fc->idx;
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

/* ---- lines ---- */

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

/* As inih's find_chars_or_comment(): the first of chars, or the start of
 * an inline comment (a comment char after whitespace), or the end. */
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

/* The start of an inline comment in a value, or its end. With quotes (a
 * command or environment value), text inside '...' or "..." and a
 * character after a backslash are no comment, as the splitters read them;
 * an unterminated quote runs to the end of the line. */
static char *find_comment(char *s, bool quotes)
{
	bool was_space = false;
	char quote = 0;

	if (!quotes)
		return find_chars_or_comment(s, NULL);
	for (; *s; s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
			else if (quote == '"' && *s == '\\' && s[1])
				s++;
		} else if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == '\'' || *s == '"') {
			quote = *s;
		} else if (was_space && strchr(INLINE_COMMENT_CHARS, *s)) {
			return s;
		}
		was_space = !quote && isspace((unsigned char) *s);
	}
	return s;
}

static const struct key_table *section_table(const struct parser *p)
{
	switch (p->section) {
	case SECTION_SUPD:
		return &config_keys_supd;
	case SECTION_JOB:
		return &config_keys_job;
	default:
		return NULL;
	}
}

/* The key s starts with as "KEY =" or "KEY:", if the section has it. */
static const struct key_desc *names_key(const struct parser *p, const char *s)
{
	const struct key_table *t = section_table(p);
	size_t n = strcspn(s, "=: \t");
	const char *after = s + strspn(s + n, " \t") + n;
	_cleanup_free_ char *name = NULL;

	if (!t || n == 0 || (*after != '=' && *after != ':'))
		return NULL;
	name = xstrndup(s, n);
	return config_keys_find(t, name);
}

/* An indented line: the value continues. Returns the stand-in. */
static const char *continuation_line(struct parser *p, char *start)
{
	const struct key_desc *k = p->cur_key, *other;

	*find_comment(start, k && (k->flags & KEY_QUOTED)) = '\0';
	p->value = rstrip(start);
	p->line_kind = LINE_CONT;
	/* an indented "autostart = false" silently joins the command */
	if (k && (k->flags & KEY_MULTILINE) && (other = names_key(p, start)))
		warning_here(p, "indented line continues %s; to set %s, do not indent it",
			     k->name, other->name);
	return STANDIN_CONT;
}

static const char *section_line(struct parser *p, char *start)
{
	char *end = find_chars_or_comment(start + 1, "]"), *rest;

	if (*end != ']') {
		error_here(p, "syntax error: missing ] in section header");
		/* keys that follow belong to no section we know */
		section_leave(p);
		p->section = SECTION_BAD;
		return "";
	}
	*end = '\0';
	rest = lskip(end + 1);
	if (*rest && !strchr(INLINE_COMMENT_CHARS, *rest))
		error_here(p, "syntax error: text after section header: %s", rest);
	section_enter(p, start + 1);
	p->line_kind = LINE_SECTION;
	p->prev_key = false;
	return STANDIN_SECTION;
}

static const char *key_line(struct parser *p, char *start)
{
	char *end = find_chars_or_comment(start, "=:"), *value;
	const struct key_table *t;
	const struct key_desc *k;

	if (*end != '=' && *end != ':') {
		error_here(p, "syntax error: expected KEY = VALUE or [SECTION]: %s", start);
		return "";
	}
	if (end == start) {
		error_here(p, "syntax error: missing key before '%c'", *end);
		return "";
	}
	value = end + 1;
	*end = '\0';
	p->key_name = rstrip(start);
	t = section_table(p);
	k = t ? config_keys_find(t, p->key_name) : NULL;
	*find_comment(value, k && (k->flags & KEY_QUOTED)) = '\0';
	p->value = rstrip(lskip(value));
	p->line_kind = LINE_KEY;
	p->prev_key = true;
	return STANDIN_KEY;
}

/* What inih is to see of line (after reporting what is wrong with it);
 * sets p->line_kind, key_name and value. May modify line. */
static const char *classify_line(struct parser *p, char *line)
{
	char *start = lskip(rstrip(line));

	p->line_kind = LINE_BLANK;
	if (!*start || strchr(START_COMMENT_CHARS, *start))
		return "";
	if (p->prev_key && start > line)
		return continuation_line(p, start);
	if (*start == '[')
		return section_line(p, start);
	return key_line(p, start);
}

/* The handler did not see the line just handed to inih: a broken
 * assumption about inih, reported rather than silently ignored. */
static void check_handled(struct parser *p)
{
	if (p->expect_call)
		error_here(p, "syntax error (line not seen by inih)");
	p->expect_call = false;
}

/* inih's reader: one physical line per call, as its stand-in. */
static char *config_reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	struct file_ctx *fc = p->fc;
	struct config_line l;
	const char *standin;
	char *line;
	int r;

	check_handled(p);
	p->line_kind = LINE_BLANK;
	if (num < (int) sizeof(STANDIN_SECTION)) {
		error_here(p, "inih line buffer too small (%d bytes)", num);
		return NULL;
	}
	r = config_file_read_line(fc->file, &l);
	if (r == -EFBIG) {
		error_here(p, "file too large (max %d MiB)", CONFIG_FILE_MAX >> 20);
		return NULL;
	}
	if (r < 0) {
		error_at(p, 0, "read error: %s", strerror(-r));
		return NULL;
	}
	if (r == 0)
		return NULL;
	fc->lineno++;

	str[0] = '\0';
	if (l.too_long) {
		error_here(p, "line too long (max %d bytes)", CONFIG_LINE_MAX);
		return str;
	}
	line = l.text;
	if (fc->lineno == 1 && l.len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		l.len -= 3;
	}
	if (memchr(line, '\0', l.len)) {
		error_here(p, "syntax error: NUL byte in line");
		return str;
	}
	standin = classify_line(p, line);
	p->expect_call = p->line_kind == LINE_KEY || p->line_kind == LINE_CONT;
	strcpy(str, standin);   /* fits: checked above */
	return str;
}

static const char *section_display(const struct parser *p)
{
	return p->section_name ? p->section_name : "";
}

static void handle_continuation(struct parser *p)
{
	const struct key_desc *k = p->cur_key;
	void *base;

	if (!k || p->section == SECTION_NONE || p->section == SECTION_BAD)
		return;   /* its key was already reported */
	if (!(k->flags & KEY_MULTILINE)) {
		error_here(p, "%s does not take continuation lines", k->name);
		return;
	}
	base = p->section == SECTION_SUPD ? (void *) p->cfg : (void *) p->job.jc;
	k->type->parse(&p->host, k, base, p->value, true);
}

/* Called by inih for each stand-in of a key or continuation line; the
 * real key and value are the reader's. */
static int config_handler(void *user, _unused_ const char *section, const char *name,
			  const char *value)
{
	struct parser *p = user;
	const struct key_table *table;
	const struct key_desc *k;
	struct key_loc *seen;
	void *base;
	size_t idx;

	if (!name || !value)
		return 1;   /* a section start (INI_CALL_HANDLER_ON_NEW_SECTION) */
	if (!p->expect_call) {
		error_here(p, "syntax error");   /* inih saw a line we did not hand it */
		return 1;
	}
	p->expect_call = false;
	if (p->line_kind == LINE_CONT) {
		handle_continuation(p);
		return 1;
	}
	p->cur_key = NULL;

	switch (p->section) {
	case SECTION_NONE:
		error_here(p, "key outside of any section: %s", p->key_name);
		return 1;
	case SECTION_BAD:
		return 1;
	case SECTION_SUPD:
		table = &config_keys_supd;
		seen = p->supd_seen;
		base = p->cfg;
		break;
	case SECTION_JOB:
	default:
		table = &config_keys_job;
		seen = p->job.seen;
		base = p->job.jc;
		break;
	}

	k = config_keys_find(table, p->key_name);
	if (!k) {
		error_here(p, "unknown key in [%s]: %s", section_display(p), p->key_name);
		return 1;
	}
	idx = (size_t) (k - table->keys);
	if (seen[idx].line && !(k->flags & KEY_REPEAT)) {
		error_here(p, "duplicate key %s (first set at %s:%u)", k->name,
			   seen[idx].file, seen[idx].line);
		return 1;
	}
	if (!seen[idx].line)
		seen[idx] = (struct key_loc) { p->fc->path, p->fc->lineno };

	p->cur_key = k;
	if (!*p->value && !(k->flags & KEY_EMPTY)) {
		error_here(p, "missing value for %s", k->name);
		return 1;
	}
	k->type->parse(&p->host, k, base, p->value, false);
	return 1;
}

/* ---- files and includes ---- */

static void include_pattern(struct parser *p, const struct include_req *req);

/* Read one open file, then the files it includes. */
static void parse_file(struct parser *p, struct config_file *f, const char *path, const struct stat *st)
{
	struct file_ctx fc = {
		.file = f,
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
	check_handled(p);
	section_leave(p);
	if (r == -2)
		error_at(p, 0, "out of memory");
	else if (r > 0 && fc.n_errors == 0)
		error_at(p, (unsigned) r, "syntax error");   /* cannot happen: the reader checks first */

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
	struct config_file *f = NULL;
	struct stat st;
	int r;

	/* a FIFO would block supd, /dev/zero would never end */
	r = config_file_open(path, &f, &st);
	if (r == -EISDIR) {
		if (!wildcard)
			error_at(p, line, "cannot include %s: is a directory", path);
		return;
	}
	if (r == -EINVAL || r == -EFBIG) {
		error_at(p, line, "cannot include %s: %s", path, config_file_strerror(r));
		return;
	}
	if (r < 0) {
		error_at(p, line, "cannot open include %s: %s", path, strerror(-r));
		return;
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
	config_file_close(f);
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

/* A cgroup key with cgroup = off is never silently ignored (SPEC §8):
 * an error at each job's first one, once every file is read. */
static void check_cgroup_off(struct parser *p)
{
	const struct key_desc *k = config_keys_find(&config_keys_supd, "cgroup");
	const struct key_loc *off = &p->supd_seen[k - config_keys_supd.keys];

	for (size_t i = 0; p->cfg->cgroup_mode == CGROUP_MODE_OFF && i < p->cfg->n_jobs; i++) {
		const struct job_config *jc = p->cfg->jobs[i];
		const char *key = job_config_cgroup_key(jc);

		if (key)
			error_in(p, jc->file_idx, jc->file, jc->cgroup_key_line,
				 "%s needs a cgroup, and cgroup = off (%s:%u)", key, off->file, off->line);
	}
}

/* A graph error at a requires line: its file is one the parser read. */
static void graph_error(void *userdata, const char *file, unsigned line, const char *msg)
{
	struct parser *p = userdata;
	struct file_ctx *top = p->fc;

	for (unsigned i = 0; i < p->n_files; i++)
		if (strcmp(p->files[i], file) == 0) {
			top->idx = i;
			top->path = p->files[i];
			break;
		}
	error_at(p, line, "%s", msg);
}

int config_load(const char *file, struct supd_config **ret, struct config_errors *errs)
{
	struct parser p = { .host = { host_error, host_warning, host_include, host_location } };
	struct file_ctx top = { .path = file };
	struct supd_config *c = config_new(file);
	struct config_file *f = NULL;
	struct stat st;
	bool failed;
	int r;

	p.cfg = c;
	r = config_file_open(file, &f, &st);
	if (r < 0) {
		p.fc = &top;
		error_at(&p, 0, "cannot open: %s", config_file_strerror(r));
	} else {
		parse_file(&p, f, file, &st);
		config_file_close(f);
		check_cgroup_off(&p);
	}

	p.fc = &top;
	(void) graph_check(c, graph_error, &p);
	failed = p.msgs.n_errors > 0;
	config_errors_take(&p.msgs, errs);
	strv_free(p.files);

	if (failed) {
		config_free(c);
		*ret = NULL;
		return -EINVAL;
	}
	*ret = c;
	return 0;
}
