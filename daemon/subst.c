/* SPDX-License-Identifier: ISC */
/* %-specifiers in job settings: %i (instance), %n (full job name), %%. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "subst.h"
#include "util.h"

/* v as one single-quoted /bin/sh word ('\'' for a quote inside). */
static void append_sh_quoted(struct buf *b, const char *v)
{
	buf_append(b, "'", 1);
	for (const char *q; (q = strchr(v, '\'')); v = q + 1) {
		buf_append(b, v, (size_t) (q - v));
		buf_append(b, "'\\''", 4);
	}
	buf_append(b, v, strlen(v));
	buf_append(b, "'", 1);
}

/* Expand %i, %n and %%; a NULL instance or name expands to "". Unknown
 * specifiers (rejected earlier by subst_valid) are copied unchanged. */
static char *expand(const char *s, const char *instance, const char *name, bool sh_quote)
{
	struct buf b = { 0 };

	for (const char *p = s; *p; p++) {
		const char *v = NULL;

		if (*p != '%' || !p[1]) {
			buf_append(&b, p, 1);
			continue;
		}
		switch (p[1]) {
		case 'i':
			v = instance ? instance : "";
			break;
		case 'n':
			v = name ? name : "";
			break;
		case '%':
			v = "%";
			break;
		default:
			buf_append(&b, p, 2);
			p++;
			continue;
		}
		if (sh_quote && p[1] != '%')
			append_sh_quoted(&b, v);
		else
			buf_append(&b, v, strlen(v));
		p++;
	}
	if (!b.data)
		return xstrdup("");
	return b.data;
}

char *subst_expand(const char *s, const char *instance, const char *name)
{
	return expand(s, instance, name, false);
}

char *subst_expand_sh(const char *s, const char *instance, const char *name)
{
	return expand(s, instance, name, true);
}

/* On failure *bad is the character after the '%', or '\0' for a lone '%'
 * at the end of s. */
bool subst_valid(const char *s, char *bad)
{
	for (const char *p = s; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] != 'i' && p[1] != 'n' && p[1] != '%') {
			if (bad)
				*bad = p[1];
			return false;
		}
		p++;
	}
	return true;
}
