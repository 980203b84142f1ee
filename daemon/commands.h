/* Control commands: a table of descriptors, one entry per command. Adding a
 * command means one entry here and one verb in supctl. */
#pragma once

#include <jansson.h>

struct client;

struct command {
	const char *name;
	void (*run)(struct client *c, json_t *request);
};

/* Parse one request line and run it; every path answers the client. */
void commands_dispatch(struct client *c, const char *line);
const struct command *command_find(const char *name);
