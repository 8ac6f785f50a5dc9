/* SPDX-License-Identifier: MIT */
/* The /api/history query string: parsed without touching the database (fuzzed). */
#ifndef PW_HISTORY_QUERY_H
#define PW_HISTORY_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "history/encode.h"

#define PWH_QUERY_MAX_LEN 16384
#define PWH_QUERY_MAX_METRICS 64
#define PWH_QUERY_MAX_POINTS 10000
#define PWH_QUERY_MAX_VALUES 200000 /* metrics x points */
#define PWH_QUERY_DEFAULT_POINTS 1000
#define PWH_QUERY_DEFAULT_RANGE_MS (3600 * 1000)
#define PWH_QUERY_MAX_RANGE_MS (20LL * 366 * 86400 * 1000)

struct pwh_query {
	int64_t from_ms, to_ms; /* resolved against now */
	uint32_t points;
	uint32_t n_metrics;
	char *metrics[PWH_QUERY_MAX_METRICS]; /* decoded, distinct, owned */
	uint8_t kinds[PWH_QUERY_MAX_METRICS];
};

/*
 * Parses qs (len bytes; NULL/0 is an empty query). from/to: unix seconds ("1712345678",
 * "1712345678.5"), "now", or relative to now: "-3600", "-90m", "-24h", "-7d" (units s m
 * h d w). Defaults: to=now, from=to-1h, points=1000. metrics is required: comma-separated
 * paths, each percent-decoded after splitting (so "%2C" is a comma inside a name); it may
 * be given more than once. Other keys are ignored. -EINVAL with the reason in err.
 */
int pwh_query_parse(const char *qs, size_t len, int64_t now_ms, struct pwh_query *ret, char *err, size_t errlen);
void pwh_query_free(struct pwh_query *q); /* accepts a zeroed one */

#endif
