/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the configuration parser. The input is written to a
 * memfd and parsed as a config file, as supd reads one: every error path,
 * include handling and value parser runs; the normalised dump of a config
 * that loads runs too.
 *
 * fuzz/run-all caps inputs at 8 KiB, but lines of more than inih's 200
 * bytes and of more than 64 KiB (SPEC §2) must be reached: a byte 0x01
 * followed by a byte N stands for (N + 1) * 512 copies of the byte before
 * it (so "x\x01\x80" is a line of 66 KiB), up to 1 MiB in all. NUL bytes
 * and quotes come from the input itself (seeds in fuzz/corpus/config).
 *
 * The memfd is reached through a symlink in an empty private directory, so
 * a relative "include = *" globs that directory, not /proc/self/fd (where
 * it could open a pipe of the sanitizer's symbolizer and block). */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPEAT_MARK 0x01
#define REPEAT_UNIT 512
#define EXPANDED_MAX (1024 * 1024)

static char *dir, *link_path;
static FILE *devnull;

/* The input with its repeat marks expanded (see above). */
static void expand(const uint8_t *data, size_t size, struct buf *out) {
	for (size_t i = 0; i < size; i++) {
		if (data[i] == REPEAT_MARK && i + 1 < size) {
			char c = out->len > 0 ? out->data[out->len - 1] : 'x';
			size_t n = ((size_t) data[++i] + 1) * REPEAT_UNIT;

			if (n > EXPANDED_MAX - out->len)
				n = EXPANDED_MAX - out->len;
			buf_reserve(out, n);
			memset(out->data + out->len, c, n);
			out->len += n;
			out->data[out->len] = '\0';
		} else if (out->len < EXPANDED_MAX) {
			buf_append(out, &data[i], 1);
		}
	}
}

static void cleanup(void) {
	(void) unlink(link_path);
	(void) rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
	const char *tmp = getenv("TMPDIR");

	dir = xasprintf("%s/supd-fuzz-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	link_path = xasprintf("%s/fuzz.conf", dir);
	if (!(devnull = fopen("/dev/null", "we")))
		abort();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static int linked_fd = -1;
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	struct buf text = { 0 };

	expand(data, size, &text);
	int fd = memfd_create("supd-fuzz.conf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (text.len > 0 && write_all(fd, text.data, text.len) < 0)
		abort();
	buf_free(&text);
	if (fd != linked_fd) {
		_cleanup_free_ char *target = xasprintf("/proc/self/fd/%d", fd);
		(void) unlink(link_path);
		if (symlink(target, link_path) < 0)
			abort();
		linked_fd = fd;
	}
	if (config_load(link_path, &c, &errs) == 0) {
		if (errs.n != 0)
			abort();      /* a config that loads has no errors */
		config_dump(c, devnull);
		for (size_t i = 0; i < c->n_jobs; i++)
			if (!job_config_equal(c->jobs[i], c->jobs[i]))
				abort();
		config_free(c);
	} else if (c || errs.n == 0)
		abort();              /* a config that fails says why, and yields nothing */
	for (size_t i = 0; i < errs.n_warnings; i++)
		if (!strstr(errs.warnings[i], ": warning: "))
			abort();      /* warnings are marked as such */
	config_errors_clear(&errs);
	close(fd);
	return 0;
}
