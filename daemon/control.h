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

struct control_limits {
	size_t max_clients;
	size_t max_output;          /* bytes queued to one client before it is dropped */
	size_t max_subscriber_output;
};

int control_new(sd_event *e, int listen_fd, gid_t control_gid, bool have_group,
		control_dispatch_fn *dispatch, void *userdata, struct control **ret);
void control_free(struct control *ctl);

/* Bind PATH (after checking no other supd listens there), mode and group. */
int control_bind(const char *path, mode_t mode, gid_t group, bool have_group, int *ret_fd);
