/* SPDX-License-Identifier: ISC */
/* The persistent run log (see history.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include "history.h"
#include "jobjson.h"
#include "proc.h"
#include "log.h"
#include "proto.h"
#include "util.h"

/* One line: a record for fn, or a bad one counted. */
static void record_line(const char *p, size_t len, void (*fn)(json_t *rec, void *ud), void *ud, size_t *bad) {
	json_error_t err;

	if (len == 0)
		return;
	json_t *rec = json_loadb(p, len, 0, &err);
	if (json_is_object(rec))
		fn(rec, ud);
	else
		(*bad)++;
	json_decref(rec);
}

/* Call fn for each complete, parseable line of a file, read in pieces (a
 * whole 16 MB file in memory left supd at 176 MB after startup); count the
 * bad ones, a torn last line among them (*ret_torn). Returns 0 or -errno. */
static int for_each_record(const char *path, void (*fn)(json_t *rec, void *ud), void *ud, size_t *ret_bad,
			   bool *ret_torn) {
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct buf b = { 0 };
	int r = 0;

	*ret_bad = 0;
	*ret_torn = false;
	if (fd < 0)
		return -errno;
	for (;;) {
		buf_reserve(&b, 65536);
		ssize_t n = read(fd, b.data + b.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		b.len += (size_t) n;
		const char *p = b.data, *end = b.data + b.len, *nl;
		while ((nl = memchr(p, '\n', (size_t) (end - p)))) {
			record_line(p, (size_t) (nl - p), fn, ud, ret_bad);
			p = nl + 1;
		}
		buf_consume(&b, (size_t) (p - b.data));
		if (b.len > (size_t) HISTORY_MAX_SIZE) {     /* no record is that long */
			r = -EFBIG;
			break;
		}
	}
	if (r == 0 && b.len > 0) {       /* torn last line */
		(*ret_bad)++;
		*ret_torn = true;
	}
	buf_free(&b);
	return r;
}

static void note_max_run(json_t *rec, void *ud) {
	uint64_t *max = ud;
	json_int_t id = json_integer_value(json_object_get(rec, "run"));
	if (id > 0 && (uint64_t) id > *max)
		*max = (uint64_t) id;
}

int history_open(const char *state_dir, struct history **ret) {
	struct history *h = xcalloc(1, sizeof(*h));
	struct stat st;

	h->path = xasprintf("%s/%s", state_dir, HISTORY_FILE);
	h->rotated_path = xasprintf("%s.1", h->path);
	h->max_size = HISTORY_MAX_SIZE;
	h->fd = open(h->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (h->fd < 0 || fstat(h->fd, &st) < 0) {
		int r = log_error_errno(errno, "cannot open the run history %s", h->path);
		history_close(h);
		return r;
	}
	h->size = st.st_size;

	/* run numbers continue from the highest one recorded */
	for (int i = 0; i < 2; i++) {
		const char *path = i == 0 ? h->rotated_path : h->path;
		size_t bad;
		bool torn;
		int r = for_each_record(path, note_max_run, &h->last_run_id, &bad, &torn);
		if (r < 0 && r != -ENOENT)
			log_warnx("cannot read %s: %s", path, strerror(-r));
		if (bad)
			log_warnx("%s: skipped %zu unreadable record%s (a torn write from a crash?)", path, bad,
				  bad == 1 ? "" : "s");
		/* never append to a torn line: end it so it stays one bad line */
		if (i == 1 && torn && write_all(h->fd, "\n", 1) == 0)
			h->size++;
	}
	*ret = h;
	return 0;
}

void history_close(struct history *h) {
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	free(h->path);
	free(h->rotated_path);
	free(h->scratch);
	free(h);
}

void history_reopen(struct history *h) {
	int fd = open(h->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		log_warn("cannot reopen %s", h->path);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(h->fd);
	h->fd = fd;
	h->size = st.st_size;
}

static void rotate(struct history *h) {
	if (rename(h->path, h->rotated_path) < 0) {
		log_warn("cannot rotate %s", h->path);
		return;
	}
	int fd = open(h->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0) {
		log_warn("cannot reopen %s after rotation", h->path);
		return;
	}
	close(h->fd);
	h->fd = fd;
	h->size = 0;
}

int history_append(struct history *h, const char *line, size_t len, uint64_t run_id) {
	if (h->size + (off_t) len > h->max_size)
		rotate(h);
	/* O_APPEND + one write: a record lands whole or, on a crash, torn at the end */
	if (write_all(h->fd, line, len) < 0) {
		int err = errno;
		if (!h->write_failed)
			log_warnx("cannot record a run in %s: %s", h->path, strerror(err));
		/* drop a partly written record (disk full), or the next record
		 * would be glued to it and both lost */
		if (ftruncate(h->fd, h->size) < 0 && !h->write_failed)
			log_warn("cannot truncate %s after a failed write", h->path);
		h->write_failed = true;
		return -err;
	}
	if (h->write_failed)
		log_info("recording runs in %s again", h->path);
	h->write_failed = false;
	h->size += (off_t) len;
	if (run_id > h->last_run_id)
		h->last_run_id = run_id;
	return 0;
}

void history_for_each(struct history *h, void (*fn)(json_t *rec, void *ud), void *ud) {
	for (int i = 0; i < 2; i++) {
		size_t bad;
		bool torn;
		(void) for_each_record(i == 0 ? h->rotated_path : h->path, fn, ud, &bad, &torn);
	}
}

/* "started": what a restarted supd needs to find the run's processes
 * if this supd dies before the run ends (SPEC §11). */
static void append_started(struct history *h, const struct job *j) {
	const struct run *run = &j->run;
	char t[RFC3339_MAX];
	struct buf rec = { 0 };

	buf_appendf(&rec, "{\"event\":\"started\",\"run\":%" PRIu64 ",\"name\":", run->id);
	proto_append_string(&rec, j->name);
	buf_appendf(&rec, ",\"boot_id\":\"%s\",\"started_at\":\"%s\",\"cgroup\":",
		    proc_boot_id(), format_rfc3339_to(t, run->started_wall) < 0 ? "" : t);
	if (scope_cgroup_path(&j->scope))
		proto_append_string(&rec, scope_cgroup_path(&j->scope));
	else
		buf_append(&rec, "null", 4);
	buf_append(&rec, ",\"pids\":[", 9);
	for (size_t i = 0; i < run->n_stages; i++) {
		unsigned long long start = 0;
		(void) proc_start_time(run->stages[i].pid, &start);
		buf_appendf(&rec, "%s[%d,%llu]", i ? "," : "", (int) run->stages[i].pid, start);
	}
	buf_append(&rec, "]}\n", 3);
	(void) history_append(h, rec.data, rec.len, run->id);
	buf_free(&rec);
}

/* Each run is recorded when it starts and as its job object of SPEC §4
 * when it ends. */
static void on_job_changed(struct job *j, enum job_event ev, void *userdata) {
	struct history *h = userdata;
	struct buf rec = { 0 };

	if (ev == JOB_EVENT_STARTED) {
		append_started(h, j);
		return;
	}
	if (ev != JOB_EVENT_EXITED)
		return;
	job_json_append_record(&rec, j);
	buf_append(&rec, "\n", 1);
	(void) history_append(h, rec.data, rec.len, j->run.id);
	buf_free(&rec);
}

void history_observer_init(struct history *h, struct job_observer *o) {
	*o = (struct job_observer) { .changed = on_job_changed, .userdata = h };
}
