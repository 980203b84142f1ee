/* SPDX-License-Identifier: ISC */
/* The control socket: accepting clients, checking peers with SO_PEERCRED,
 * reading newline-delimited requests with a size limit and handing each to
 * a dispatch function, writing replies without ever blocking supd. What a
 * request means is not known here (commands.c); what a command may do with
 * its client is client.h. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include "client.h"

struct control;

/* Run one request line (len bytes, NUL-terminated); every path answers c. */
typedef void control_dispatch_fn(struct client *c, const char *line, size_t len, void *userdata);

/* The limits of SPEC §11, documented in supd(8) SECURITY and doc/protocol.md. */
#define CONTROL_MAX_CLIENTS 1024                /* of all unprivileged uids together */
#define CONTROL_MAX_CLIENTS_PER_UID 64          /* of one unprivileged uid */
#define CONTROL_MAX_PRIVILEGED_CLIENTS 1024     /* of root and supd's uid, apart from the others */
#define CONTROL_MAX_OUTPUT (4u << 20)           /* unread bytes one client may hold */
#define CONTROL_MAX_TOTAL_OUTPUT (64u << 20)    /* unread bytes of all clients together */
#define CONTROL_STALL_TIMEOUT (5 * USEC_PER_SEC) /* holding more than MAX_OUTPUT without reading */

struct control_limits {
	size_t max_clients, max_clients_per_uid, max_privileged_clients;
	size_t max_output, max_total_output;
	usec_t stall_timeout;
};

int control_new(sd_event *e, int listen_fd, gid_t control_gid, bool have_group,
		control_dispatch_fn *dispatch, void *userdata, struct control **ret);
void control_free(struct control *ctl);

/* Bind PATH with its mode and group, without a path race (control-bind.c).
 * A live socket there is an error naming it; a stale one is replaced. */
int control_bind(const char *path, mode_t mode, gid_t group, bool have_group, int *ret_fd);
