/* SPDX-License-Identifier: ISC */
/* `ready = log:ERE`: what regcomp is given and how a line is matched
 * (logmatch.h says what is refused and why). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include "logmatch.h"
#include "util.h"

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

#define LOGMATCH_DEPTH_MAX 64        /* nested groups; glibc's parser recurses per level */

/* The end of the bracket expression opening at p ('['): the ']' that
 * closes it, or NULL if none does (then regcomp says so). A ']' first is
 * a member, and "[:", "[=", "[." open classes that end at ":]", "=]", ".]". */
static const char *bracket_end(const char *p) {
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p; p++) {
		if (*p == ']')
			return p;
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char kind = p[1];
			const char *q = p + 2;
			while (*q && !(q[0] == kind && q[1] == ']'))
				q++;
			if (!*q)
				return NULL;
			p = q + 1;
		}
	}
	return NULL;
}

/* An interval {m}, {m,}, {m,n} or (glibc's extension) {,n} at p: its end
 * in *end and the number of copies glibc makes of the atom before it in
 * *copies (at most LOGMATCH_SIZE_MAX + 1); false if p does not start one
 * (then '{' is an ordinary character, or regcomp refuses it). */
static bool interval(const char *p, const char **end, size_t *copies) {
	size_t m = 0, n = 0;
	bool has_m = false, has_n = false, open = false;
	const char *q = p + 1;

	for (; *q >= '0' && *q <= '9'; q++, has_m = true)
		m = MIN(m * 10 + (size_t) (*q - '0'), (size_t) LOGMATCH_SIZE_MAX + 1);
	if (*q == ',') {
		open = true;
		for (q++; *q >= '0' && *q <= '9'; q++, has_n = true)
			n = MIN(n * 10 + (size_t) (*q - '0'), (size_t) LOGMATCH_SIZE_MAX + 1);
	}
	if (*q != '}' || (!has_m && !open))
		return false;
	*end = q;
	*copies = !open ? m : has_n ? MAX(m, n) : m + 1;
	*copies = MIN(MAX(*copies, (size_t) 1), (size_t) LOGMATCH_SIZE_MAX + 1);
	return true;
}

/* Refuse back-references, nesting past LOGMATCH_DEPTH_MAX and an
 * expansion past LOGMATCH_SIZE_MAX. Each level of parentheses keeps the
 * size of what it holds and of its last atom, which an interval repeats. */
static int check_ere(const char *ere, char **error) {
	struct { size_t total, last; } level[LOGMATCH_DEPTH_MAX + 1] = { { 0, 0 } };
	size_t depth = 0;
	const size_t cap = LOGMATCH_SIZE_MAX + 1;     /* sizes saturate here */

	for (const char *p = ere; *p; p++) {
		size_t atom = 1, copies;
		const char *end;

		switch (*p) {
		case '\\':
			if (p[1] >= '0' && p[1] <= '9') {
				*error = xasprintf("back-references are not supported: \\%c", p[1]);
				return -EINVAL;
			}
			if (p[1])
				p++;
			break;
		case '[':
			end = bracket_end(p);
			if (!end)
				return 0;           /* unterminated: regcomp's error */
			p = end;
			break;
		case '(':
			if (depth == LOGMATCH_DEPTH_MAX) {
				*error = xasprintf("parentheses nested more than %d deep", LOGMATCH_DEPTH_MAX);
				return -EINVAL;
			}
			level[++depth].total = 0;
			level[depth].last = 0;
			continue;
		case ')':
			if (depth == 0)
				break;              /* a lone ')': an ordinary character */
			atom = MAX(level[depth].total, (size_t) 1);
			depth--;
			break;
		case '{':
			if (level[depth].last == 0 || !interval(p, &end, &copies))
				break;
			p = end;
			{
				size_t grown = level[depth].last * copies;   /* both <= cap: cannot overflow */
				if (grown > cap)
					grown = cap;
				level[depth].total += grown - level[depth].last;
				level[depth].last = grown;
			}
			goto check;
		case '*': case '+': case '?':
			continue;
		case '|':
			level[depth].last = 0;
			continue;
		}
		level[depth].total += atom;
		level[depth].last = atom;
check:
		if (level[depth].total > LOGMATCH_SIZE_MAX) {
			*error = xasprintf("regular expression too large once its {m,n} bounds are multiplied out "
					   "(more than %d atoms)", LOGMATCH_SIZE_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

int logmatch_compile(const char *ere, regex_t *out, char **error) {
	regex_t re;
	char msg[256];

	*error = NULL;
	if (!*ere) {
		*error = xstrdup("empty regular expression (^ matches every line)");
		return -EINVAL;
	}
	if (check_ere(ere, error) < 0)
		return -EINVAL;
	int r = regcomp(&re, ere, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		(void) regerror(r, &re, msg, sizeof(msg));
		*error = xasprintf("invalid regular expression: %s", msg);
		return -EINVAL;
	}
	*out = re;
	return 0;
}

bool logmatch_line(const regex_t *re, const char *line, size_t len) {
	/* a NUL-terminated copy: regexec (and ASan's interceptor of it) may
	 * look for the end with strlen, whatever REG_STARTEND says */
	char buf[LOGMATCH_LINE_MAX + 1];

	if (len > LOGMATCH_LINE_MAX)
		len = LOGMATCH_LINE_MAX;
	memcpy(buf, line, len);
	buf[len] = '\0';
#ifdef REG_STARTEND
	/* the bounds given: a NUL inside the line is a byte like others */
	regmatch_t m[1] = { { .rm_so = 0, .rm_eo = (regoff_t) len } };
	return regexec(re, buf, 1, m, REG_STARTEND) == 0;
#else
	return regexec(re, buf, 0, NULL, 0) == 0;
#endif
}
