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

struct job;

struct joblog {
	struct job *job;
	char **ring;            /* last `max` lines; grows to max as lines come */
	size_t cap, max, head, n;
	struct buf partial;     /* a line not yet ended by '\n' */
	int pipe_fd;            /* read end for the current run, or -1 */
	sd_event_source *io;
	int file_fd;            /* opened on first output, -1 until then */
	off_t file_size;
	bool file_failed;       /* reported once */
};

/* Create the pipe for a new run; returns the write end for the child (the
 * caller closes it after spawning) or -errno. */
int joblog_open_run(struct job *j, sd_event *e, int *ret_write_fd);
/* The run's processes are gone: read what is left in the pipe, close it. */
void joblog_drain(struct job *j);
void joblog_free(struct joblog *l);
/* The last n lines (n = 0: all kept); returns a count, fills *ret. */
size_t joblog_tail(const struct joblog *l, size_t n, const char ***ret);
/* Where captured output is stored on disk (NULL if no state_dir). */
char *joblog_file_path(const struct job *j);
