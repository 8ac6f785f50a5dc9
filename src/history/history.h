/* SPDX-License-Identifier: MIT */
/*
 * The embedded history (SQLite). The history output writes each snapshot; the server
 * answers GET /api/history through pw_history_query() from its own thread, so the
 * query side is thread-safe.
 */
#ifndef PW_HISTORY_H
#define PW_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "util/buf.h"

struct pw_history;

/*
 * Answers GET /api/history?<query> (the raw query string, without '?', may be NULL):
 * fills out with the JSON body and returns the HTTP status (200; 400 with
 * {"error": "..."} for a bad metric name or range; 503 when history is off or broken).
 * h may be NULL (history disabled). The response's shape is described at the top of
 * src/history/query.c and in the README.
 */
int pw_history_query(struct pw_history *h, const char *query, struct pw_buf *out);

/*
 * Opens (creating when missing) the database at path with the retention spec (NULL:
 * defaults). -EINVAL with err for a bad retention or a file that is not a PerfWatch
 * history (corrupt, foreign, newer): that file is never written to. A database that
 * cannot be written right now (read-only, full, locked) is not an error: the history
 * starts broken, says why in pw_history_status(), and retries by itself.
 */
int pw_history_open(struct pw_history **ret, const char *path, const char *retention, char *err, size_t errlen);
void pw_history_close(struct pw_history *h); /* accepts NULL */

/* Stores one snapshot. The collector thread only; never blocks for long. */
void pw_history_insert(struct pw_history *h, const struct snapshot *s);

/* NULL while every snapshot is being stored, else why not (collector thread). */
const char *pw_history_status(struct pw_history *h);

/* Counters for tests and the benchmark. */
struct pw_history_stats {
	uint64_t inserts;       /* snapshots journaled */
	uint64_t seals;         /* raw chunks sealed */
	uint64_t dropped;       /* snapshots lost for good (memory bound while broken) */
	uint32_t held;          /* snapshots waiting in memory for the database */
};
void pw_history_stats(struct pw_history *h, struct pw_history_stats *ret);
/* Seals the open raw chunk now, as the clock hour turning would (tests, the generator). */
int pw_history_flush(struct pw_history *h);

/*
 * The default database path: /var/lib/perfwatch/history.db for root, else
 * $XDG_STATE_HOME/perfwatch/history.db (~/.local/state/perfwatch/history.db). Creates
 * the folder (0750 as root, else 0700) when missing. -errno with err on failure.
 */
int pw_history_default_path(char *buf, size_t len, char *err, size_t errlen);

#endif
