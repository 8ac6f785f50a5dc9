/* SPDX-License-Identifier: MIT */
#include "util/strindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static const char *key_at(struct pw_strkeys keys, uint32_t i)
{
	return (const char *)keys.base + (size_t)i * keys.stride + keys.key_off;
}

int pw_strindex_reset(struct pw_strindex *ix, uint32_t n)
{
	uint32_t cap = ix->cap ? ix->cap : 64;
	uint32_t *slots;

	while (cap / 2 < n) {
		if (cap > UINT32_MAX / 4)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap > ix->cap) {
		slots = realloc(ix->slots, (size_t)cap * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		ix->slots = slots;
		ix->cap = cap;
	}
	memset(ix->slots, 0, (size_t)ix->cap * sizeof(*ix->slots));
	ix->n = 0;
	return 0;
}

/* The slot holding key, or the empty one where it would go. */
static uint32_t *slot_of(const struct pw_strindex *ix, struct pw_strkeys keys, const char *key)
{
	uint32_t mask = ix->cap - 1, i = hash_str(key) & mask;

	while (ix->slots[i] && strcmp(key_at(keys, ix->slots[i] - 1), key))
		i = (i + 1) & mask;
	return &ix->slots[i];
}

uint32_t pw_strindex_find(const struct pw_strindex *ix, struct pw_strkeys keys, const char *key)
{
	const uint32_t *slot;

	if (!ix->cap)
		return PW_STRINDEX_NONE;
	slot = slot_of(ix, keys, key);
	return *slot ? *slot - 1 : PW_STRINDEX_NONE;
}

int pw_strindex_add(struct pw_strindex *ix, struct pw_strkeys keys, const char *key, uint32_t i)
{
	/* at most half full, so that a probe always meets an empty slot */
	if (ix->n >= ix->cap / 2 || i == PW_STRINDEX_NONE)
		return -ENOSPC;
	*slot_of(ix, keys, key) = i + 1;
	ix->n++;
	return 0;
}

void pw_strindex_free(struct pw_strindex *ix)
{
	if (!ix)
		return;
	free(ix->slots);
	ix->slots = NULL;
	ix->cap = ix->n = 0;
}
