/* SPDX-License-Identifier: ISC */
/* Secrets handed to a run (SPEC §8, secret = FD PATH). supd reads PATH
 * itself, with its own rights, when a run starts; every stage gets FD on a
 * pipe of its own holding the whole secret. supd writes what the pipe
 * takes before the stage execs and the rest from the event loop (a
 * secret_feed), then closes its end: the job reads to EOF. The bytes are
 * wiped from supd's memory when the last pipe has them. No message of
 * this module or its callers ever holds a secret's content, only its path. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

struct secret;
struct secret_feed;

/* Read PATH (a regular file of at most JOBFILE_DATA_MAX bytes) as supd.
 * Returns 0 with *ret (one reference), or -errno with *why a reason that
 * strerror() would not give, or NULL. */
int secret_read(const char *path, struct secret **ret, const char **why);
size_t secret_size(const struct secret *s);
void secret_unref(struct secret *s);

/* A new pipe holding s: *ret_fd is its read end (O_CLOEXEC, blocking),
 * for the job. supd's write end is non-blocking; what the pipe does not
 * take now is queued on *feed (made when first needed) and written once
 * secret_feed_start() has run. Returns 0 or -errno. */
int secret_pipe(struct secret *s, struct secret_feed **feed, int *ret_fd);

/* Queue the bytes of s from off on fd (a non-blocking write end, which
 * the feed then owns) on *feed, made when first needed. */
void secret_feed_add(struct secret_feed **feed, int fd, struct secret *s, size_t off);

/* Write the rest from the event loop e: each write end is closed once all
 * is written or its reader has gone. Returns 0 or -errno (then the rest
 * cannot be written). */
int secret_feed_start(struct secret_feed *f, sd_event *e);
/* Pipes the feed has not finished yet. */
size_t secret_feed_pending(const struct secret_feed *f);
/* Close every write end not yet done (the run ended). NULL is fine. */
void secret_feed_free(struct secret_feed *f);
