/* SPDX-License-Identifier: ISC */
/* A configuration file read one physical line at a time, bounded (SPEC §2,
 * §11): only regular files, at most CONFIG_FILE_MAX bytes, lines of at most
 * CONFIG_LINE_MAX bytes. Memory stays below a line's worth whatever the
 * file holds; a FIFO or a device is refused without blocking. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define CONFIG_LINE_MAX (64 * 1024)
#define CONFIG_FILE_MAX (16 * 1024 * 1024)

struct config_file;

struct config_line {
	char *text;          /* without its newline, NUL-terminated; NULL if too_long */
	size_t len;          /* bytes of text (it may hold NUL bytes) */
	bool too_long;       /* over CONFIG_LINE_MAX bytes (a trailing CR not counted) */
};

/* Open path for reading. Returns 0, or -EISDIR (a directory), -EINVAL (not
 * a regular file), -EFBIG (over CONFIG_FILE_MAX) or another -errno; st (may
 * be NULL) gets the file's status when the file was opened or is a
 * directory. */
int config_file_open(const char *path, struct config_file **ret, struct stat *st);
/* The next line: 1 with *line set (valid until the next call), 0 at the
 * end, -EFBIG when the file has grown past CONFIG_FILE_MAX, or -errno. */
int config_file_read_line(struct config_file *f, struct config_line *line);
void config_file_close(struct config_file *f);
/* "is a directory", "not a regular file", "file too large (max 16 MiB)" or
 * strerror() for a result of the functions above. */
const char *config_file_strerror(int r);
