/* SPDX-License-Identifier: ISC */
/* Job names, template arguments and patterns (see names.h). */
#include <fnmatch.h>
#include <string.h>
#include "names.h"

static bool is_ascii_alnum(unsigned char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool job_name_valid(const char *name) {
	if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const unsigned char *s = (const unsigned char *) name; *s; s++)
		if (!is_ascii_alnum(*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* Length of the valid UTF-8 multi-byte sequence at s (shortest form, no
 * surrogates, no C1 control, at most U+10FFFF), or 0. */
static size_t utf8_multibyte_len(const unsigned char *s) {
	unsigned cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)   /* also stops at the terminating NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* C1 controls (U+0080-U+009F) are control characters too: a
	 * terminal may act on them when status prints the name */
	if ((n == 2 && cp < 0xa0) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool instance_arg_valid(const char *arg) {
	size_t len = strlen(arg);

	if (len == 0 || len > INSTANCE_ARG_MAX || arg[0] == '-' ||
	    strcmp(arg, ".") == 0 || strcmp(arg, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *) arg; *p;) {
		if (is_ascii_alnum(*p) || strchr("._-+,=:@", *p)) {
			p++;
			continue;
		}
		size_t n = *p >= 0x80 ? utf8_multibyte_len(p) : 0;
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

bool job_name_is_instance_of(const char *name, const char *base) {
	size_t n = strlen(base);
	return strncmp(name, base, n) == 0 && name[n] == '@';
}

bool job_name_matches(const char *name, const char *pattern) {
	return strcmp(name, pattern) == 0 || fnmatch(pattern, name, 0) == 0 ||
	       job_name_is_instance_of(name, pattern);
}
