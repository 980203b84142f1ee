/* SPDX-License-Identifier: ISC */
/* Commands about supd itself: reload, shutdown, reopen, version. */
#include "commands.h"
#include "proto.h"

void cmd_reload(struct commands *cmds, struct client *c, json_t *req) {
	const struct commands_hooks *h = &cmds->hooks;
	client_reply(c, h->reload(h->userdata));
}

void cmd_shutdown(struct commands *cmds, struct client *c, json_t *req) {
	const struct commands_hooks *h = &cmds->hooks;
	client_reply(c, proto_ok());
	h->shutdown(h->userdata);
}

void cmd_reopen(struct commands *cmds, struct client *c, json_t *req) {
	const struct commands_hooks *h = &cmds->hooks;
	h->reopen(h->userdata);
	client_reply(c, proto_ok());
}

void cmd_version(struct commands *cmds, struct client *c, json_t *req) {
	client_reply(c, json_pack("{s:b, s:i, s:s}", "ok", true, "protocol", PROTO_VERSION, "version", PACKAGE_VERSION));
}
