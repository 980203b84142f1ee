/* SPDX-License-Identifier: ISC */
/* The cgroup v2 mount and supd's place in it (see cgroup-mount.h). */
#include <fcntl.h>
#include <stdio.h>
#include "cgroup-mount.h"
#include "util.h"

/* mountinfo escapes blanks, tabs, newlines and backslashes as \NNN. */
static char *unescape(const char *s, size_t n) {
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char) ((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* The words of one line (up to max): start and length of each. */
static size_t split_words(const char *line, size_t len, const char **w, size_t *wl, size_t max) {
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i >= len)
			break;
		w[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		wl[n] = (size_t) (line + i - w[n]);
		n++;
	}
	return n;
}

static bool word_is(const char *w, size_t n, const char *s) {
	return n == strlen(s) && memcmp(w, s, n) == 0;
}

/* "rw,nosuid" holds "ro" as one of its options. */
static bool has_option(const char *w, size_t n, const char *opt) {
	size_t ol = strlen(opt);

	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && w[j] != ',')
			j++;
		if (j - i == ol && memcmp(w + i, opt, ol) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

int cgroup_mount_parse(const char *text, struct cgroup_mount *ret) {
	struct cgroup_mount best = { 0 };
	int rank = 0;   /* 2: a usual place; 1: any other */

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t) (nl - line) : strlen(line);
		const char *w[64];
		size_t wl[64], n = split_words(line, len, w, wl, ELEMENTSOF(w)), sep;

		line = nl ? nl + 1 : NULL;
		for (sep = 6; sep < n && !word_is(w[sep], wl[sep], "-"); sep++)
			;
		if (n < 6 || sep + 1 >= n || !word_is(w[sep + 1], wl[sep + 1], "cgroup2"))
			continue;
		_cleanup_free_ char *point = unescape(w[4], wl[4]);
		int r = streq_ptr(point, "/sys/fs/cgroup") || streq_ptr(point, "/sys/fs/cgroup/unified") ? 2 : 1;
		if (r <= rank)
			continue;
		cgroup_mount_done(&best);
		best.point = TAKE_PTR(point);
		best.root = unescape(w[3], wl[3]);
		best.read_only = has_option(w[5], wl[5], "ro");
		rank = r;
	}
	if (!rank)
		return -ENOENT;
	*ret = best;
	return 0;
}

int cgroup_self_parse(const char *text, char **ret) {
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t) (nl - line) : strlen(line);

		if (len >= 3 && memcmp(line, "0::", 3) == 0 && len > 3 && line[3] == '/') {
			*ret = xstrndup(line + 3, len - 3);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

char *cgroup_mount_dir(const struct cgroup_mount *m, const char *path) {
	size_t rl = strlen(m->root);

	if (streq_ptr(m->root, "/"))
		rl = 0;
	else if (strncmp(path, m->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
		return NULL;
	const char *rest = path + rl;
	if (streq_ptr(rest, "/") || !*rest)
		return xstrdup(m->point);
	return xasprintf("%s%s", m->point, rest);
}

void cgroup_mount_done(struct cgroup_mount *m) {
	free(m->point);
	free(m->root);
	*m = (struct cgroup_mount) { 0 };
}

/* A /proc file, whole (mountinfo of a busy machine is some KB; bounded). */
static int read_proc(const char *path, char **ret) {
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b = { 0 };

	if (fd < 0)
		return -errno;
	for (;;) {
		buf_reserve(&b, 4096);
		b.data[b.len] = '\0';
		ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			buf_free(&b);
			return -e;
		}
		if (n == 0)
			break;
		b.len += (size_t) n;
		b.data[b.len] = '\0';
		if (b.len > (4u << 20)) {
			buf_free(&b);
			return -EFBIG;
		}
	}
	*ret = b.data;
	return 0;
}

int cgroup_mount_find(struct cgroup_mount *ret) {
	_cleanup_free_ char *text = NULL;
	int r = read_proc("/proc/self/mountinfo", &text);

	return r < 0 ? r : cgroup_mount_parse(text, ret);
}

int cgroup_self_find(char **ret) {
	_cleanup_free_ char *text = NULL;
	int r = read_proc("/proc/self/cgroup", &text);

	return r < 0 ? r : cgroup_self_parse(text, ret);
}
