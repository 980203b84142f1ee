/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the NOTIFY_SOCKET message parser and STATUS=
 * sanitiser (daemon/notify.c). The input is split at 0xff bytes into
 * datagrams of one run; the rules of notify.h are checked as they fire:
 * READY once, RELOADING only after it and alternating, STOPPING once and
 * nothing of READY/RELOADING after it, STATUS= at most 256 bytes of valid
 * UTF-8 without control characters (sanitising it again changes nothing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	int ready, stopping;
	bool reloading;
};

static void on_ready(void *u) {
	struct seen *s = u;
	if (s->ready++ || s->stopping)
		abort();
}

static void on_reloading(void *u, bool on) {
	struct seen *s = u;
	if (!s->ready || s->stopping || s->reloading == on)
		abort();
	s->reloading = on;
}

static void on_stopping(void *u) {
	struct seen *s = u;
	if (s->stopping++)
		abort();
}

static void on_status(void *u, const char *text) {
	char again[NOTIFY_STATUS_MAX + 1];
	size_t n = strlen(text);
	(void) u;
	if (n > NOTIFY_STATUS_MAX || notify_status_sanitize(text, n, again) != n || memcmp(again, text, n) != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) text[i] < 0x20 || text[i] == 0x7f)
			abort();
}

static void on_usec(void *u, uint64_t n) {
	(void) u;
	(void) n;
}

static void on_ping(void *u) {
	(void) u;
}

static const struct notify_handler handler = {
	.ready = on_ready, .reloading = on_reloading, .stopping = on_stopping, .status = on_status,
	.watchdog = on_ping, .watchdog_trigger = on_ping, .watchdog_usec = on_usec, .extend_timeout = on_usec,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct notify_state st = { 0 };
	struct seen seen = { 0 };
	const uint8_t *p = data, *end = data + size;

	while (p <= end) {
		const uint8_t *sep = memchr(p, 0xff, (size_t) (end - p));
		const uint8_t *de = sep ? sep : end;
		/* an exact-size copy: ASan sees any read past the datagram */
		size_t len = (size_t) (de - p);
		char *msg = malloc(len ? len : 1);
		if (!msg)
			abort();
		memcpy(msg, p, len);
		notify_parse(&st, msg, len, &handler, &seen);
		free(msg);
		if (st.ready != (seen.ready > 0) || st.stopping != (seen.stopping > 0) ||
		    st.reloading != seen.reloading)
			abort();
		if (!sep)
			break;
		p = sep + 1;
	}
	return 0;
}
