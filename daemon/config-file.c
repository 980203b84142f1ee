/* SPDX-License-Identifier: ISC */
/* The bounded reader of configuration files: see config-file.h. getline()
 * would grow a buffer to the size of a newline-free file (265 MB for a
 * 256 MB include) and fopen() blocks on a FIFO; this reads with read(2)
 * into a fixed chunk and keeps at most one line of CONFIG_LINE_MAX bytes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <stdio.h>

#include "config-file.h"
#include "util.h"

#define CHUNK_SIZE 16384

struct config_file {
	int fd;
	char chunk[CHUNK_SIZE];
	size_t pos, end;            /* unread bytes of chunk */
	bool eof;
	size_t total;               /* bytes read so far */
	char *line;                 /* the line being assembled */
	size_t len, cap;
	bool too_long;
};

/* A path that is neither a regular file nor a directory (a FIFO, a
 * device): refuse it before open() could block or have side effects. */
static int check_mode(mode_t mode)
{
	if (S_ISDIR(mode))
		return -EISDIR;
	if (!S_ISREG(mode))
		return -EINVAL;
	return 0;
}

int config_file_open(const char *path, struct config_file **ret, struct stat *st)
{
	_cleanup_close_ int fd = -1;
	struct config_file *f;
	struct stat sb;
	int r;

	if (stat(path, &sb) == 0 && (r = check_mode(sb.st_mode)) < 0) {
		if (st)
			*st = sb;
		return r;
	}
	/* O_NONBLOCK: should the path have become a FIFO meanwhile */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (st)
		*st = sb;
	r = check_mode(sb.st_mode);
	if (r < 0)
		return r;
	if (sb.st_size > CONFIG_FILE_MAX)
		return -EFBIG;

	f = xcalloc(1, sizeof(*f));
	f->fd = TAKE_FD(fd);
	*ret = f;
	return 0;
}

/* More bytes into chunk: 1, 0 at the end, or -errno. */
static int fill(struct config_file *f)
{
	ssize_t n;

	do
		n = read(f->fd, f->chunk, sizeof(f->chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0) {
		f->eof = true;
		return 0;
	}
	f->total += (size_t) n;
	if (f->total > CONFIG_FILE_MAX)
		return -EFBIG;
	f->pos = 0;
	f->end = (size_t) n;
	return 1;
}

/* Keep n more bytes of the line, or only note that it is too long. One
 * byte more than CONFIG_LINE_MAX is kept: it may be the CR of a CRLF. */
static void keep(struct config_file *f, const char *s, size_t n)
{
	if (f->too_long || f->len + n > CONFIG_LINE_MAX + 1) {
		f->too_long = true;
		return;
	}
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 256;

		while (cap < f->len + n + 1)
			cap *= 2;
		if (cap > CONFIG_LINE_MAX + 2)
			cap = CONFIG_LINE_MAX + 2;
		f->line = xrealloc(f->line, cap);
		f->cap = cap;
	}
	memcpy(f->line + f->len, s, n);
	f->len += n;
	f->line[f->len] = '\0';
}

int config_file_read_line(struct config_file *f, struct config_line *line)
{
	bool any = false;

	f->len = 0;
	f->too_long = false;
	if (f->line)
		f->line[0] = '\0';
	for (;;) {
		const char *s, *nl;
		size_t n;

		if (f->pos == f->end) {
			int r = f->eof ? 0 : fill(f);

			if (r < 0)
				return r;
			if (r == 0) {
				if (!any)
					return 0;
				break;   /* a last line without a newline */
			}
		}
		any = true;
		s = f->chunk + f->pos;
		nl = memchr(s, '\n', f->end - f->pos);
		n = nl ? (size_t) (nl - s) : f->end - f->pos;
		keep(f, s, n);
		f->pos += n + (nl ? 1 : 0);
		if (nl)
			break;
	}
	if (!f->too_long && f->len > 0 && f->line[f->len - 1] == '\r')
		f->line[--f->len] = '\0';
	if (f->len > CONFIG_LINE_MAX)
		f->too_long = true;
	if (!f->line)
		keep(f, "", 0);   /* an empty first line: text is never NULL */
	*line = (struct config_line) {
		.text = f->too_long ? NULL : f->line,
		.len = f->too_long ? 0 : f->len,
		.too_long = f->too_long,
	};
	return 1;
}

void config_file_close(struct config_file *f)
{
	if (!f)
		return;
	(void) close(f->fd);
	free(f->line);
	free(f);
}

const char *config_file_strerror(int r)
{
	switch (r) {
	case -EISDIR:
		return "is a directory";
	case -EINVAL:
		return "not a regular file";
	case -EFBIG:
		return "file too large (max 16 MiB)";
	default:
		return strerror(-r);
	}
}
