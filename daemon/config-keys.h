/* SPDX-License-Identifier: ISC */
/* The key table of the configuration: one row per key of [supd] and of
 * [job:NAME]. A row names the key, its value type and its field; the type
 * parses, compares and prints the value (config-types.c), so
 * job_config_equal() and config_dump() walk the table and a new key is one
 * row (with its field in config.h and, if it is not zero, its default in
 * job_config_new()). */
#pragma once

#include <stdio.h>
#include "config.h"

/* Most keys in one section (the reader keeps where each was first set). */
#define CONFIG_KEYS_MAX 64

struct key_desc;

/* What a value parser may call: the reader implements it. */
struct key_host {
	/* A problem with the value, reported at the line being read. */
	void (*error)(struct key_host *h, const char *msg);
	/* Suspect, but valid (the config loads). */
	void (*warning)(struct key_host *h, const char *msg);
	/* include = PATTERN, expanded once the current file has been read. */
	void (*include)(struct key_host *h, const char *pattern);
	/* The file and line being read (the file lives as long as the reader). */
	void (*location)(struct key_host *h, const char **file, unsigned *line);
};

/* A value type. base is the struct job_config or supd_config the row's
 * offset is relative to. */
struct key_type {
	/* Parse value into base; cont: value is a continuation line. */
	void (*parse)(struct key_host *h, const struct key_desc *k, void *base,
		      const char *value, bool cont);
	/* Same setting in a and b? NULL: the key sets nothing of its own. */
	bool (*equal)(const struct key_desc *k, const void *a, const void *b);
	/* Print "KEY = VALUE" lines that parse back to the same setting, or
	 * nothing for an unset optional value. NULL: nothing to print. */
	void (*dump)(const struct key_desc *k, const void *base, FILE *out);
};

enum {
	KEY_REPEAT    = 1 << 0,   /* may be given more than once */
	KEY_MULTILINE = 1 << 1,   /* takes continuation lines */
	KEY_EMPTY     = 1 << 2,   /* may be empty on its key line (continued below) */
	KEY_PATH      = 1 << 3,   /* an absolute path */
	KEY_SUBST     = 1 << 4,   /* may contain %-specifiers */
	KEY_QUOTED    = 1 << 5,   /* quoted as a command line: no comment inside quotes */
	KEY_NEXT_START = 1 << 6,  /* a change applies at the next start: no restart by reload */
};

struct key_desc {
	const char *name;
	const struct key_type *type;
	size_t offset;            /* of the field in struct job_config / supd_config */
	unsigned flags;
	/* A valid value other than the default (NULL: the key sets nothing);
	 * the unit tests change each key to it and expect a difference. */
	const char *example;
	/* NULL, or whether the key means anything in this section: keys that
	 * only go with another (health_* with health_command) are an error
	 * alone, so the dump leaves them out then. */
	bool (*applies)(const void *base);
};

struct key_table {
	const struct key_desc *keys;
	size_t n;
};

/* [job:NAME] and [supd], in the order of the dump. */
extern const struct key_table config_keys_job, config_keys_supd;

const struct key_desc *config_keys_find(const struct key_table *t, const char *name);
