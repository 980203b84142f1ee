/* SPDX-License-Identifier: ISC */
/* An open-addressing hash map from a key (string or integer) to a pointer.
 * Used for job lookup by name and child lookup by pid: both must stay
 * O(1) with 10,000 jobs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap_entry;

struct hashmap {
	struct hashmap_entry *slots;
	size_t cap, n, tombstones;
	bool string_keys;
};

void hashmap_init(struct hashmap *m, bool string_keys);
void hashmap_clear(struct hashmap *m);
/* String keys are not copied: they must live as long as the entry. */
void hashmap_put_str(struct hashmap *m, const char *key, void *value);
void *hashmap_get_str(const struct hashmap *m, const char *key);
void *hashmap_remove_str(struct hashmap *m, const char *key);
void hashmap_put_int(struct hashmap *m, uint64_t key, void *value);
void *hashmap_get_int(const struct hashmap *m, uint64_t key);
void *hashmap_remove_int(struct hashmap *m, uint64_t key);
