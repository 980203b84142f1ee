/* SPDX-License-Identifier: ISC */
/* Collected configuration problems: see config-errors.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "config-errors.h"

struct config_msg {
	unsigned file_idx, line, seq;
	bool warning;
	char *text;               /* "FILE:LINE: message" */
};

void config_errors_add(struct config_msgs *m, unsigned file_idx, const char *path, unsigned line,
		       bool warning, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	const char *what = warning ? "warning: " : "";
	struct config_msg *e;

	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	e = &m->v[m->n];
	e->file_idx = file_idx;
	e->line = line;
	e->seq = (unsigned) m->n;
	e->warning = warning;
	e->text = line > 0 ? xasprintf("%s:%u: %s%s", path, line, what, msg)
			   : xasprintf("%s: %s%s", path, what, msg);
	m->n++;
	if (!warning)
		m->n_errors++;
}

static int config_msg_cmp(const void *a, const void *b)
{
	const struct config_msg *x = a, *y = b;

	if (x->file_idx != y->file_idx)
		return x->file_idx < y->file_idx ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void config_errors_take(struct config_msgs *m, struct config_errors *errs)
{
	if (m->n > 0)
		qsort(m->v, m->n, sizeof(*m->v), config_msg_cmp);
	if (errs) {
		config_errors_clear(errs);
		errs->n = m->n_errors;
		errs->n_warnings = m->n - m->n_errors;
		if (errs->n > 0)
			errs->v = xcalloc(errs->n, sizeof(char *));
		if (errs->n_warnings > 0)
			errs->warnings = xcalloc(errs->n_warnings, sizeof(char *));
	}
	for (size_t i = 0, e = 0, w = 0; i < m->n; i++) {
		if (!errs)
			free(m->v[i].text);
		else if (m->v[i].warning)
			errs->warnings[w++] = m->v[i].text;
		else
			errs->v[e++] = m->v[i].text;
	}
	free(m->v);
	*m = (struct config_msgs) { 0 };
}

void config_errors_clear(struct config_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->v[i]);
	free(errs->v);
	for (size_t i = 0; i < errs->n_warnings; i++)
		free(errs->warnings[i]);
	free(errs->warnings);
	*errs = (struct config_errors) { 0 };
}
