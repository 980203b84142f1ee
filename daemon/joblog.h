/* SPDX-License-Identifier: ISC */
/* Captured output of jobs with stdout = log / stderr = log: supd reads the
 * job's pipe without ever blocking, keeps the last log_lines lines in a
 * bounded ring in memory and appends everything to
 * STATE_DIR/logs/NAME.log (rotated to NAME.log.1 past a size). */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "util.h"

#define JOBLOG_MAX_LINE   4096              /* longer lines are split */
#define JOBLOG_FILE_MAX   (32u << 20)       /* rotate the file past this */

typedef void (*joblog_line_fn)(void *userdata, const char *line);

struct joblog {
	char *name;             /* the job's, for messages and the file name */
	char *dir;              /* STATE_DIR/logs, or NULL: memory only */
	joblog_line_fn line;    /* told of every line kept */
	void *userdata;
	char **ring;            /* last `max` lines; grows to max as lines come */
	size_t cap, max, head, n;
	struct buf partial;     /* a line not yet ended by '\n' */
	int pipe_fd;            /* read end for the current run, or -1 */
	sd_event_source *io;
	int file_fd;            /* opened on first output, -1 until then */
	off_t file_size;
	bool file_failed;       /* reported once */
};

/* A log of job `name` keeping the last max_lines lines (0: 1,000) in memory
 * and writing DIR/NAME.log (dir NULL: none); line hears of each line. */
struct joblog *joblog_new(const char *name, const char *dir, size_t max_lines, joblog_line_fn line, void *userdata);
/* Create the pipe for a new run; returns the write end for the child (the
 * caller closes it after spawning) or -errno. */
int joblog_open_run(struct joblog *l, sd_event *e, int *ret_write_fd);
/* The run's processes are gone: read what is left in the pipe, close it
 * (l may be NULL). */
void joblog_drain(struct joblog *l);
void joblog_free(struct joblog *l);
/* Close the file: the next output opens it again by name (l may be NULL). */
void joblog_reopen(struct joblog *l);
/* The last n lines (n = 0: all kept); returns a count, fills *ret. */
size_t joblog_tail(const struct joblog *l, size_t n, const char ***ret);
/* Where captured output is stored on disk (NULL if nowhere). */
char *joblog_file_path(const struct joblog *l);
