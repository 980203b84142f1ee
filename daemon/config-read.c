/* The reader of the configuration file: files and includes, the line
 * reader in front of inih, sections, and errors as "FILE:LINE: message".
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
 * are sorted by file (in the order files were read) and line at the end.
 * Values are parsed by their key's row (config-keys.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <glob.h>
#include <ini.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "config-keys.h"
#include "cmdline.h"
#include "names.h"
#include "subst.h"

#define INCLUDE_DEPTH_MAX 8

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
	struct key_loc supd_seen[CONFIG_KEYS_MAX];
};

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

/* ---- what the value parsers call ---- */

_Static_assert(offsetof(struct parser, host) == 0, "a key_host is its parser");

static void host_error(struct key_host *h, const char *msg)
{
	error_here((struct parser *) h, "%s", msg);
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

/* The line where a job key was first set in the current section, or 0. */
static unsigned job_key_line(const struct parser *p, const char *name)
{
	const struct key_desc *k = config_keys_find(&config_keys_job, name);

	return k ? p->job.seen[k - config_keys_job.keys].line : 0;
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
	void *base;

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
	base = p->section == SECTION_SUPD ? (void *) p->cfg : (void *) p->job.jc;
	k->type->parse(&p->host, k, base, v, true);
}

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

	k = config_keys_find(table, name);
	if (!k) {
		error_here(p, "unknown key in [%s]: %s", section_display(p), name);
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
	if (!*value && !(k->flags & KEY_EMPTY)) {
		error_here(p, "missing value for %s", k->name);
		return 1;
	}
	k->type->parse(&p->host, k, base, value, false);
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
	struct parser p = { .host = { host_error, host_include } };
	struct file_ctx top = { .path = file };
	struct supd_config *c = config_new(file);
	struct stat st;
	FILE *f;

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
