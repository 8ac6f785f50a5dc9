/* SPDX-License-Identifier: MIT */
/*
 * The writer's series dictionary in memory: path -> (id, kind). Ids are handed out here
 * (the daemon is the only writer) and written to the series table with the next
 * successful transaction, so a snapshot taken while the database is unwritable still gets
 * its ids. Id 0 is the time column.
 */
#ifndef PW_HISTORY_SERIES_H
#define PW_HISTORY_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/encode.h"

struct pwh_series {
	char *path;
	uint32_t len; /* of path */
	uint32_t id;
	uint8_t kind;
	bool persisted;
};

struct pwh_registry {
	struct pwh_series **slots; /* open addressing, power-of-two size */
	uint32_t n_slots;
	struct pwh_series **by_id; /* index: id */
	uint32_t cap_id;
	uint32_t n; /* series held */
	uint32_t next_id;
	uint32_t n_unpersisted;
};

void pwh_registry_init(struct pwh_registry *r);
void pwh_registry_free(struct pwh_registry *r); /* accepts a zeroed one */
struct pwh_series *pwh_registry_find(const struct pwh_registry *r, const char *path, size_t len);
/* Adds a series with id (0: the next free one). NULL when out of memory or id is taken. */
struct pwh_series *pwh_registry_add(struct pwh_registry *r, const char *path, size_t len, uint32_t id,
				    enum pwh_kind kind, bool persisted);
static inline struct pwh_series *pwh_registry_get(const struct pwh_registry *r, uint32_t id)
{
	return id < r->cap_id ? r->by_id[id] : NULL;
}

#endif
