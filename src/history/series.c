/* SPDX-License-Identifier: MIT */
#include "history/series.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

void pwh_registry_init(struct pwh_registry *r)
{
	memset(r, 0, sizeof(*r));
	r->next_id = 1;
}

void pwh_registry_free(struct pwh_registry *r)
{
	for (uint32_t i = 0; i < r->cap_id; i++) {
		if (r->by_id[i]) {
			free(r->by_id[i]->path);
			free(r->by_id[i]);
		}
	}
	free(r->slots);
	free(r->by_id);
	memset(r, 0, sizeof(*r));
}

struct pwh_series *pwh_registry_find(const struct pwh_registry *r, const char *path, size_t len)
{
	uint32_t i;

	if (!r->n_slots)
		return NULL;
	for (i = hash(path, len) & (r->n_slots - 1);; i = (i + 1) & (r->n_slots - 1)) {
		struct pwh_series *s = r->slots[i];

		if (!s)
			return NULL;
		if (!strncmp(s->path, path, len) && s->path[len] == '\0')
			return s;
	}
}

static int grow_slots(struct pwh_registry *r)
{
	uint32_t n = r->n_slots ? r->n_slots * 2 : 256;
	struct pwh_series **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -1;
	for (uint32_t i = 0; i < r->n_slots; i++) {
		struct pwh_series *s = r->slots[i];
		uint32_t j;

		if (!s)
			continue;
		for (j = hash(s->path, strlen(s->path)) & (n - 1); slots[j]; j = (j + 1) & (n - 1))
			;
		slots[j] = s;
	}
	free(r->slots);
	r->slots = slots;
	r->n_slots = n;
	return 0;
}

static int grow_ids(struct pwh_registry *r, uint32_t id)
{
	uint32_t n = r->cap_id ? r->cap_id : 256;
	struct pwh_series **p;

	while (n <= id) {
		if (n > UINT32_MAX / 2)
			return -1;
		n *= 2;
	}
	p = realloc(r->by_id, (size_t)n * sizeof(*p));
	if (!p)
		return -1;
	memset(p + r->cap_id, 0, (size_t)(n - r->cap_id) * sizeof(*p));
	r->by_id = p;
	r->cap_id = n;
	return 0;
}

struct pwh_series *pwh_registry_add(struct pwh_registry *r, const char *path, size_t len, uint32_t id,
				    enum pwh_kind kind, bool persisted)
{
	struct pwh_series *s;
	uint32_t i;

	if (id == 0)
		id = r->next_id;
	if (id == 0 || id == UINT32_MAX || pwh_registry_get(r, id) || pwh_registry_find(r, path, len))
		return NULL;
	if ((r->n + 1) * 2 > r->n_slots && grow_slots(r) < 0)
		return NULL;
	if (id >= r->cap_id && grow_ids(r, id) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->path = strndup(path, len);
	if (!s->path) {
		free(s);
		return NULL;
	}
	s->len = (uint32_t)strlen(s->path);
	s->id = id;
	s->kind = (uint8_t)kind;
	s->persisted = persisted;
	for (i = hash(path, len) & (r->n_slots - 1); r->slots[i]; i = (i + 1) & (r->n_slots - 1))
		;
	r->slots[i] = s;
	r->by_id[id] = s;
	r->n++;
	if (id >= r->next_id)
		r->next_id = id + 1;
	if (!persisted)
		r->n_unpersisted++;
	return s;
}
