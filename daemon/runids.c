/* SPDX-License-Identifier: ISC */
/* Run number reservation (see runids.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include "log.h"
#include "runids.h"
#include "util.h"

/* Save end as the new reserved ceiling. */
static int reserve(struct runids *r, uint64_t end) {
	char text[32];
	int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", end);

	if (pwrite(r->fd, text, (size_t) n, 0) != n || ftruncate(r->fd, n) < 0 || fdatasync(r->fd) < 0) {
		int e = errno ? errno : EIO;
		if (!r->failed)
			log_warnx("cannot reserve run numbers in %s: %s; numbers may repeat after a crash",
				  RUNIDS_FILE, strerror(e));
		r->failed = true;
		return -e;
	}
	r->failed = false;
	r->end = end;
	return 0;
}

int runids_open(const char *state_dir, uint64_t at_least, struct runids **ret) {
	_cleanup_free_ char *path = xasprintf("%s/%s", state_dir, RUNIDS_FILE);
	struct runids *r = xcalloc(1, sizeof(*r));
	char text[32] = "";

	r->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (r->fd < 0) {
		int e = errno;
		free(r);
		return log_error_errno(e, "cannot open %s", path);
	}
	ssize_t n = pread(r->fd, text, sizeof(text) - 1, 0);
	uint64_t saved = 0;
	if (n > 0) {
		text[n] = '\0';
		char *end;
		saved = strtoull(text, &end, 10);
		if (end == text || (*end && *end != '\n'))
			log_warnx("%s: not a run number, starting after the history", path);
	}
	r->next = MAX(saved, at_least);
	if (r->next == 0)
		r->next = 1;
	r->end = r->next;
	(void) reserve(r, r->next + RUNIDS_BLOCK);
	*ret = r;
	return 0;
}

uint64_t runids_take(struct runids *r) {
	/* without a saved reservation, keep trying: numbers still never repeat
	 * while supd runs, only a crash could reuse them */
	if (r->next >= r->end && reserve(r, r->next + RUNIDS_BLOCK) < 0)
		r->end = r->next + 1;
	return r->next++;
}

void runids_close(struct runids *r) {
	if (!r)
		return;
	close(r->fd);
	free(r);
}
