/* SPDX-License-Identifier: ISC */
/* supctl's output (see output.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"

/* errno of the first failed write to stdout, 0 if none failed yet. */
static int output_errno;

void output_warn(const char *fmt, ...) {
	va_list ap;

	(void) fflush(stdout);   /* keep the order of output and messages */
	fputs("supctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int output_usage_error(const char *fmt, ...) {
	va_list ap;

	fputs("supctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'supctl --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

void output_json(const json_t *v) {
	/* one write of the whole text: json_dumpf's many small writes cost
	 * more than the encoding for a status of 1,000 jobs */
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	if (!s)
		return;
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
}

void output_string_line(const json_t *s) {
	fwrite(json_string_value(s), 1, json_string_length(s), stdout);
	fputc('\n', stdout);
}

bool output_reader_gone(void) {
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	return output_errno == EPIPE || (poll(&p, 1, 0) > 0 && (p.revents & POLLERR));
}

int output_flush(void) {
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (!output_errno)
			output_errno = errno ? errno : EIO;
		return output_reader_gone() ? -EPIPE : -output_errno;
	}
	return 0;
}

int output_finish(int status) {
	int r = output_flush();

	if (r == 0 && output_errno)
		r = -output_errno;   /* stdout was closed when supctl started */

	if (r == 0 || r == -EPIPE)
		return status;
	fprintf(stderr, "supctl: cannot write output: %s\n", strerror(-r));
	return status ? status : EXIT_FAILURE;
}

int output_guard_std_fds(void) {
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free fd is fd, since the ones below it are open; no
		 * O_CLOEXEC: it stands for a std fd, which children inherit */
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -errno;
		if (fd == STDOUT_FILENO)
			output_errno = EBADF;
	}
	return 0;
}
