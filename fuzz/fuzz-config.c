/* libFuzzer target: the configuration parser. The input is written to a
 * memfd and parsed as a config file, as supd reads one: every error path,
 * include handling and value parser runs; the normalised dump of a config
 * that loads runs too.
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

static char *dir, *link_path;
static FILE *devnull;

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

	int fd = memfd_create("supd-fuzz.conf", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size > 0 && write_all(fd, data, size) < 0)
		abort();
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
	config_errors_clear(&errs);
	close(fd);
	return 0;
}
