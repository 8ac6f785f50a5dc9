/* SPDX-License-Identifier: MIT */
/*
 * The embedded history (SQLite). The history output writes each snapshot; the server
 * answers GET /api/history through pw_history_query() from its own thread, so the
 * query side is thread-safe.
 */
#ifndef PW_HISTORY_H
#define PW_HISTORY_H

#include "util/buf.h"

struct pw_history;

/*
 * Answers GET /api/history?<query> (the raw query string, without '?', may be NULL):
 * fills out with the JSON body and returns the HTTP status (200; 400 with
 * {"error": "..."} for a bad metric name or range; 503 when history is off or broken).
 * h may be NULL (history disabled).
 */
int pw_history_query(struct pw_history *h, const char *query, struct pw_buf *out);

#endif
