/* SPDX-License-Identifier: ISC */
/* Split a job's command into pipeline stages of argv with shell-like
 * quoting, but no shell.
 *
 * Quoting follows POSIX sh: outside quotes a backslash escapes the next
 * character, and backslash-newline is a line continuation (removed). In
 * '...' everything is literal. In "..." a backslash escapes only " \ $ `
 * (and removes a following newline); before any other character it stays
 * literally. Quotes join with adjacent text into one word; "" and '' are an
 * empty argument. Words are separated by space, tab and newline; an unquoted,
 * unescaped '|' ends a stage whether or not blanks surround it. Every other
 * byte (including ; & < > $ * and non-ASCII) is passed through unchanged. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "cmdline.h"
#include "util.h"

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Building state: the finished stages, the current argv and word. */
struct splitter {
	struct pipeline pl;
	char **argv;
	struct buf word;
	bool in_word;     /* a word has started (possibly empty, from quotes) */
};

static void splitter_end_word(struct splitter *sp)
{
	if (!sp->in_word)
		return;
	sp->argv = strv_push(sp->argv, sp->word.data ? sp->word.data : "");
	buf_consume(&sp->word, sp->word.len);
	sp->in_word = false;
}

/* Close the current stage; an empty one is an error. */
static int splitter_end_stage(struct splitter *sp)
{
	splitter_end_word(sp);
	if (!sp->argv)
		return -EINVAL;
	sp->pl.stages = xreallocarray(sp->pl.stages, sp->pl.n_stages + 1, sizeof(char **));
	sp->pl.stages[sp->pl.n_stages++] = TAKE_PTR(sp->argv);
	return 0;
}

static void splitter_add(struct splitter *sp, char c)
{
	buf_append(&sp->word, &c, 1);
	sp->in_word = true;
}

int cmdline_split(const char *s, struct pipeline *ret, const char **error)
{
	struct splitter sp = { .pl = { 0, NULL } };
	const char *reason = NULL;
	const char *p = s;

	if (!s) {
		reason = "empty command";
		goto fail;
	}

	while (*p) {
		char c = *p;

		if (is_separator(c)) {
			splitter_end_word(&sp);
			p++;
		} else if (c == '|') {
			if (splitter_end_stage(&sp) < 0) {
				reason = "empty pipeline stage";
				goto fail;
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0') {
				reason = "trailing backslash";
				goto fail;
			}
			if (p[1] != '\n')   /* backslash-newline: continuation */
				splitter_add(&sp, p[1]);
			p += 2;
		} else if (c == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (!end) {
				reason = "unterminated quote";
				goto fail;
			}
			buf_append(&sp.word, p + 1, (size_t) (end - p - 1));
			sp.in_word = true;
			p = end + 1;
		} else if (c == '"') {
			sp.in_word = true;
			for (p++; *p != '"'; p++) {
				if (*p == '\0') {
					reason = "unterminated quote";
					goto fail;
				}
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1])) {
					splitter_add(&sp, p[1]);
					p++;
				} else if (*p == '\\' && p[1] == '\n') {
					p++;
				} else {
					splitter_add(&sp, *p);
				}
			}
			p++;
		} else {
			splitter_add(&sp, c);
			p++;
		}
	}

	splitter_end_word(&sp);
	if (!sp.argv) {
		reason = sp.pl.n_stages == 0 ? "empty command" : "empty pipeline stage";
		goto fail;
	}
	(void) splitter_end_stage(&sp);   /* cannot fail: argv is not empty */

	buf_free(&sp.word);
	*ret = sp.pl;
	return 0;

fail:
	buf_free(&sp.word);
	strv_free(sp.argv);
	pipeline_free(&sp.pl);
	*ret = (struct pipeline) { 0, NULL };
	if (error)
		*error = reason;
	return -EINVAL;
}

/* Free the stages and leave p empty; safe on an empty pipeline. */
void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_stages; i++)
		strv_free(p->stages[i]);
	free(p->stages);
	p->stages = NULL;
	p->n_stages = 0;
}

void pipeline_copy(const struct pipeline *from, struct pipeline *to)
{
	to->n_stages = from->n_stages;
	to->stages = NULL;
	if (from->n_stages == 0)
		return;
	to->stages = xcalloc(from->n_stages, sizeof(char **));
	for (size_t i = 0; i < from->n_stages; i++)
		to->stages[i] = strv_copy(from->stages[i]);
}
