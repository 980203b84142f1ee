/* SPDX-License-Identifier: ISC */
/* `ready = fd:N` (SPEC §7), s6's notification-fd: a pipe whose write end
 * every stage of the run gets at fd N; the first newline the job writes
 * makes it up. supd then closes its read end, so later writes get EPIPE
 * (SIGPIPE unless ignored), as under s6-supervise. What comes before the
 * newline is read and thrown away, a bounded chunk per wake. EOF without a
 * newline calls nothing: ready_timeout decides. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#define READYFD_READ_MAX 4096        /* bytes read per wake */

struct readyfd;
typedef void (*readyfd_fn)(void *userdata);

/* Make the pipe and watch its read end (O_CLOEXEC, non-blocking) on e.
 * *ret_write_fd is the write end (O_CLOEXEC) for the caller to put in
 * spawn's fd map at N and close once the stages are spawned. ready fires
 * at most once, after supd's end is closed (so it may free r). Returns 0
 * or -errno. */
int readyfd_open(sd_event *e, readyfd_fn ready, void *userdata, struct readyfd **ret, int *ret_write_fd);
/* Whether supd still listens: no newline and no EOF yet. */
bool readyfd_waiting(const struct readyfd *r);
/* The run ended: close what is left (NULL is fine). */
void readyfd_free(struct readyfd *r);
