/* SPDX-License-Identifier: ISC */
/* Linear-probing hash map (see hashmap.h). */
#include <string.h>
#include "hashmap.h"
#include "util.h"

enum { SLOT_EMPTY, SLOT_USED, SLOT_DELETED };

struct hashmap_entry {
	uint64_t ikey;
	const char *skey;
	void *value;
	uint64_t hash;
	int kind;
};

static uint64_t hash_str(const char *s) {
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char) *s;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t hash_int(uint64_t x) {
	x ^= x >> 33;                         /* murmur3 finaliser */
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

void hashmap_init(struct hashmap *m, bool string_keys) {
	memset(m, 0, sizeof(*m));
	m->string_keys = string_keys;
}

void hashmap_clear(struct hashmap *m) {
	free(m->slots);
	hashmap_init(m, m->string_keys);
}

static bool key_eq(const struct hashmap *m, const struct hashmap_entry *e, uint64_t h,
		   const char *skey, uint64_t ikey) {
	if (e->hash != h)
		return false;
	return m->string_keys ? strcmp(e->skey, skey) == 0 : e->ikey == ikey;
}

/* Slot holding the key, or NULL. */
static struct hashmap_entry *find(const struct hashmap *m, uint64_t h, const char *skey, uint64_t ikey) {
	if (m->cap == 0)
		return NULL;
	for (size_t i = h & (m->cap - 1), probes = 0; probes < m->cap; i = (i + 1) & (m->cap - 1), probes++) {
		struct hashmap_entry *e = &m->slots[i];
		if (e->kind == SLOT_EMPTY)
			return NULL;
		if (e->kind == SLOT_USED && key_eq(m, e, h, skey, ikey))
			return e;
	}
	return NULL;
}

static void insert_slot(struct hashmap *m, const struct hashmap_entry *src) {
	for (size_t i = src->hash & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hashmap_entry *e = &m->slots[i];
		if (e->kind != SLOT_USED) {
			if (e->kind == SLOT_DELETED)
				m->tombstones--;
			*e = *src;
			e->kind = SLOT_USED;
			m->n++;
			return;
		}
	}
}

static void grow(struct hashmap *m) {
	size_t old_cap = m->cap;
	struct hashmap_entry *old = m->slots;
	size_t cap = old_cap ? old_cap : 16;
	while ((m->n + 1) * 2 > cap)   /* keep load under 1/2 after rehash */
		cap *= 2;
	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->n = m->tombstones = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].kind == SLOT_USED)
			insert_slot(m, &old[i]);
	free(old);
}

static void put(struct hashmap *m, uint64_t h, const char *skey, uint64_t ikey, void *value) {
	struct hashmap_entry *e = find(m, h, skey, ikey);
	if (e) {
		e->value = value;
		return;
	}
	if ((m->n + m->tombstones + 1) * 4 > m->cap * 3)
		grow(m);
	struct hashmap_entry n = { .ikey = ikey, .skey = skey, .value = value, .hash = h };
	insert_slot(m, &n);
}

static void *take(struct hashmap *m, struct hashmap_entry *e) {
	if (!e)
		return NULL;
	e->kind = SLOT_DELETED;
	m->n--;
	m->tombstones++;
	return e->value;
}

void hashmap_put_str(struct hashmap *m, const char *key, void *value) { put(m, hash_str(key), key, 0, value); }
void hashmap_put_int(struct hashmap *m, uint64_t key, void *value) { put(m, hash_int(key), NULL, key, value); }

void *hashmap_get_str(const struct hashmap *m, const char *key) {
	struct hashmap_entry *e = find(m, hash_str(key), key, 0);
	return e ? e->value : NULL;
}

void *hashmap_get_int(const struct hashmap *m, uint64_t key) {
	struct hashmap_entry *e = find(m, hash_int(key), NULL, key);
	return e ? e->value : NULL;
}

void *hashmap_remove_str(struct hashmap *m, const char *key) { return take(m, find(m, hash_str(key), key, 0)); }
void *hashmap_remove_int(struct hashmap *m, uint64_t key) { return take(m, find(m, hash_int(key), NULL, key)); }
