/* SPDX-License-Identifier: ISC */
/* Names of supd's cgroups (see cgroup-name.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "cgroup-name.h"

#define HASH_DIGITS 16

static uint64_t fnv1a64(const char *s) {
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char) *s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void cgroup_name_job(const char *name, char out[CGROUP_NAME_MAX + 1]) {
	size_t len = strlen(name);

	if (2 + len <= CGROUP_NAME_MAX) {
		memcpy(out, "j-", 2);
		memcpy(out + 2, name, len + 1);
		return;
	}
	/* "j-" + prefix + "~" + hash fills the name exactly */
	size_t keep = CGROUP_NAME_MAX - 2 - 1 - HASH_DIGITS;
	while (keep > 0 && ((unsigned char) name[keep] & 0xc0) == 0x80)
		keep--;   /* name[keep] would start the cut-off part inside a character */
	(void) snprintf(out, CGROUP_NAME_MAX + 1, "j-%.*s~%016" PRIx64, (int) keep, name, fnv1a64(name));
}

void cgroup_name_run(char kind, uint64_t run, char out[CGROUP_NAME_MAX + 1]) {
	(void) snprintf(out, CGROUP_NAME_MAX + 1, "%c-%" PRIu64, kind, run);
}

uint64_t cgroup_name_parse_run(const char *name, char *kind) {
	uint64_t v = 0;

	if ((name[0] != 'r' && name[0] != 'c') || name[1] != '-' || name[2] < '1' || name[2] > '9')
		return 0;
	for (const char *p = name + 2; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	if (kind)
		*kind = name[0];
	return v;
}
