/* SPDX-License-Identifier: ISC */
/* The value types of what a run is given (SPEC §8): its user and group,
 * umask, setrlimit limits and secrets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <stdarg.h>

#include "config-types.h"
#include "parse.h"
#include "userdb.h"


/* ---- user and group ---- */

/* A name or number, looked up now: an unknown one is an error, a failing
 * NSS back-end (LDAP down) only a warning, as the lookup is made again
 * when each run starts. The value is kept as written. */
static void parse_ident(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			bool is_user)
{
	char **field = FIELD(char *, k, base);
	const char *what = is_user ? "user" : "group";
	int r;

	for (const char *c = value; *c; c++)
		if (isspace((unsigned char) *c) || *c == ':' || *c == '/') {
			config_type_error(h, "invalid name for %s: %s", k->name, value);
			return;
		}
	if (is_user) {
		struct passwd *pw;
		r = userdb_user(value, &pw);
	} else {
		struct group *gr;
		r = userdb_group(value, &gr);
	}
	if (r == -ESRCH) {
		config_type_error(h, "unknown %s: %s", what, value);
		return;
	}
	if (r < 0)
		config_type_warning(h, "cannot look up %s %s: %s (looked up again when a run starts)",
			    what, value, strerror(-r));
	free(*field);
	*field = xstrdup(value);
}

static void parse_user(struct key_host *h, const struct key_desc *k, void *base,
		       const char *value, _unused_ bool cont)
{
	parse_ident(h, k, base, value, true);
}

static void parse_group(struct key_host *h, const struct key_desc *k, void *base,
			const char *value, _unused_ bool cont)
{
	parse_ident(h, k, base, value, false);
}

const struct key_type config_type_user = { parse_user, config_type_equal_string, config_type_dump_string };
const struct key_type config_type_group = { parse_group, config_type_equal_string, config_type_dump_string };

/* ---- umask ---- */

static void parse_umask(struct key_host *h, const struct key_desc *k, void *base,
			const char *value, _unused_ bool cont)
{
	mode_t m;

	if (parse_mode(value, &m) < 0 || m > 0777) {
		config_type_error(h, "invalid value for %s: %s (expected octal 0000..0777, such as 0027)", k->name, value);
		return;
	}
	*FIELD(int, k, base) = (int) m;
}

static bool equal_int(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(int, k, a) == *CFIELD(int, k, b);
}

/* Nothing when unset (supd's own umask). */
static void dump_umask(const struct key_desc *k, const void *base, FILE *out)
{
	int m = *CFIELD(int, k, base);

	if (m >= 0)
		fprintf(out, "%s = %04o\n", k->name, (unsigned) m);
}

const struct key_type config_type_umask = { parse_umask, equal_int, dump_umask };

/* ---- setrlimit limits ---- */

#define KIB ((rlim_t) 1024)

/* One side of a limit (n bytes of s): infinity, or decimal digits with,
 * for sizes, one of K, M, G (powers of 1024, SPEC §9). */
static int parse_rlim(const char *s, size_t n, bool size, rlim_t *ret)
{
	if (n == 8 && strncmp(s, "infinity", 8) == 0) {
		*ret = RLIM_INFINITY;
		return 0;
	}
	uint64_t v;
	int r = config_parse_scaled(s, n, size ? "KMG" : "", RLIM_INFINITY, &v);

	if (r < 0)
		return r;
	*ret = (rlim_t) v;   /* RLIM_INFINITY itself is spelled "infinity" */
	return 0;
}

/* N (soft and hard), SOFT:HARD, infinity. */
static void parse_limit_value(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			      bool size)
{
	struct limit_spec *l = FIELD(struct limit_spec, k, base);
	const char *colon = strchr(value, ':');
	rlim_t soft, hard;
	int r;

	if (colon) {
		r = parse_rlim(value, (size_t) (colon - value), size, &soft);
		if (r >= 0)
			r = parse_rlim(colon + 1, strlen(colon + 1), size, &hard);
	} else {
		r = parse_rlim(value, strlen(value), size, &soft);
		hard = soft;
	}
	if (r == -ERANGE) {
		config_type_error(h, "value out of range for %s: %s", k->name, value);
		return;
	}
	if (r < 0) {
		config_type_error(h, "invalid value for %s: %s (expected N%s, SOFT:HARD or infinity)", k->name, value,
			  size ? " with K, M or G" : "");
		return;
	}
	if (soft > hard) {
		config_type_error(h, "soft limit above hard limit for %s: %s", k->name, value);
		return;
	}
	*l = (struct limit_spec) { .set = true, .soft = soft, .hard = hard };
}

static void parse_limit(struct key_host *h, const struct key_desc *k, void *base,
			const char *value, _unused_ bool cont)
{
	parse_limit_value(h, k, base, value, false);
}

static void parse_limit_size(struct key_host *h, const struct key_desc *k, void *base,
			     const char *value, _unused_ bool cont)
{
	parse_limit_value(h, k, base, value, true);
}

static bool equal_limit(const struct key_desc *k, const void *a, const void *b)
{
	const struct limit_spec *x = CFIELD(struct limit_spec, k, a), *y = CFIELD(struct limit_spec, k, b);

	return x->set == y->set && (!x->set || (x->soft == y->soft && x->hard == y->hard));
}

/* In the largest unit that divides it: 10M, 1536K, 100. */
static void print_rlim(FILE *out, rlim_t v, bool size)
{
	const char *units = "GMK";
	rlim_t div = KIB * KIB * KIB;

	if (v == RLIM_INFINITY) {
		fputs("infinity", out);
		return;
	}
	for (const char *u = units; size && v > 0 && *u; u++, div /= KIB)
		if (v % div == 0) {
			fprintf(out, "%llu%c", (unsigned long long) (v / div), *u);
			return;
		}
	fprintf(out, "%llu", (unsigned long long) v);
}

static void dump_limit_value(const struct key_desc *k, const void *base, FILE *out, bool size)
{
	const struct limit_spec *l = CFIELD(struct limit_spec, k, base);

	if (!l->set)
		return;
	fprintf(out, "%s = ", k->name);
	print_rlim(out, l->soft, size);
	if (l->hard != l->soft) {
		fputc(':', out);
		print_rlim(out, l->hard, size);
	}
	fputc('\n', out);
}

static void dump_limit(const struct key_desc *k, const void *base, FILE *out)
{
	dump_limit_value(k, base, out, false);
}

static void dump_limit_size(const struct key_desc *k, const void *base, FILE *out)
{
	dump_limit_value(k, base, out, true);
}

const struct key_type config_type_limit = { parse_limit, equal_limit, dump_limit };
const struct key_type config_type_limit_size = { parse_limit_size, equal_limit, dump_limit_size };

/* ---- secrets ---- */

/* secret = FD PATH: may repeat, each FD once per job. Whether FD is below
 * limit_nofile is checked when the section ends (config-read.c). */
static void parse_secret(struct key_host *h, const struct key_desc *k, void *base,
			 const char *value, _unused_ bool cont)
{
	struct job_config *jc = base;
	size_t n = strspn(value, "0123456789");
	const char *path = value + n + strspn(value + n, " \t");
	long fd;
	_cleanup_free_ char *num = xstrndup(value, n);

	if (n == 0 || path == value + n || !*path) {
		config_type_error(h, "invalid value for %s: %s (expected FD PATH)", k->name, value);
		return;
	}
	if (parse_int(num, 3, CONFIG_SECRET_FD_MAX, &fd) < 0) {
		config_type_error(h, "invalid fd for %s: %s (expected 3..%d)", k->name, num, CONFIG_SECRET_FD_MAX);
		return;
	}
	for (size_t i = 0; i < jc->n_secrets; i++)
		if (jc->secrets[i].fd == fd) {
			config_type_error(h, "duplicate fd for %s: %ld", k->name, fd);
			return;
		}
	if (jc->n_secrets >= CONFIG_SECRETS_MAX) {
		config_type_error(h, "too many %s lines (max %d)", k->name, CONFIG_SECRETS_MAX);
		return;
	}
	if (!config_type_check_string(h, k, path))
		return;
	jc->secrets = xreallocarray(jc->secrets, jc->n_secrets + 1, sizeof(*jc->secrets));
	jc->secrets[jc->n_secrets++] = (struct secret_spec) { .fd = (int) fd, .path = xstrdup(path) };
}

static bool equal_secret(_unused_ const struct key_desc *k, const void *a, const void *b)
{
	const struct job_config *x = a, *y = b;

	if (x->n_secrets != y->n_secrets)
		return false;
	for (size_t i = 0; i < x->n_secrets; i++)
		if (x->secrets[i].fd != y->secrets[i].fd || strcmp(x->secrets[i].path, y->secrets[i].path) != 0)
			return false;
	return true;
}

/* One line a secret, in order; the path, never the content. */
static void dump_secret(const struct key_desc *k, const void *base, FILE *out)
{
	const struct job_config *jc = base;

	for (size_t i = 0; i < jc->n_secrets; i++)
		fprintf(out, "%s = %d %s\n", k->name, jc->secrets[i].fd, jc->secrets[i].path);
}

const struct key_type config_type_secret = { parse_secret, equal_secret, dump_secret };
