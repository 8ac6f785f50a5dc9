/* SPDX-License-Identifier: MIT */
/*
 * The three tiers and what moves data between them:
 *   raw     every snapshot, in chunks of at most one clock hour (default kept 24 h)
 *   minute  mean/min/max/count per minute, one chunk per hour (default kept 14 d)
 *   hour    mean/min/max/count per hour, one chunk per UTC day (default kept 365 d)
 * Roll-ups are computed when a raw chunk is sealed; retention removes whole chunks, a few
 * at a time, so no statement runs long.
 */
#ifndef PW_HISTORY_TIERS_H
#define PW_HISTORY_TIERS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/encode.h"

enum pwh_tier { PWH_TIER_RAW = 0, PWH_TIER_MINUTE = 1, PWH_TIER_HOUR = 2, PWH_N_TIERS = 3 };

extern const char *const pwh_tier_names[PWH_N_TIERS];
extern const uint32_t pwh_tier_res_s[PWH_N_TIERS];    /* 0 for raw: as often as snapshots */
extern const uint32_t pwh_tier_window_s[PWH_N_TIERS]; /* the aligned span one chunk stays in */

struct pwh_retention {
	int64_t keep_s[PWH_N_TIERS];
};

#define PWH_DEFAULT_RETENTION "raw=24h,minute=14d,hour=365d"

/* "raw=24h,minute=14d,hour=365d": any subset, units s m h d w; NULL or "" = defaults. */
int pwh_retention_parse(const char *spec, struct pwh_retention *ret, char *err, size_t errlen);

/* ------------------------------------------------------------ roll-ups */
/* Entries of one series being built slot by slot (minutes of the open raw chunk). */
struct pwh_rollup {
	struct pwh_agg cur; /* the slot being summed: mean holds the sum until flushed */
	struct pwh_agg *v;
	uint32_t n, cap;
};

int pwh_rollup_add(struct pwh_rollup *r, int64_t slot_s, double v); /* -ENOMEM */
int pwh_rollup_flush(struct pwh_rollup *r);
void pwh_rollup_reset(struct pwh_rollup *r); /* keeps the allocation */
void pwh_rollup_free(struct pwh_rollup *r);

/* Regroups entries into slots of res_s seconds (minutes into hours), in order of slot. */
int pwh_aggs_regroup(const struct pwh_agg *in, uint32_t n, uint32_t res_s, struct pwh_agg **ret, uint32_t *ret_n);
/* Merges b (any order) into the sorted array *a, combining equal slots. */
int pwh_aggs_merge_into(struct pwh_agg **a, uint32_t *na, const struct pwh_agg *b, uint32_t nb);

/* ------------------------------------------------------------ retention */
/*
 * The pruner knows per tier a time no chunk of that tier starts before (read from the
 * file when it opens, lowered by pwh_pruner_saw() for every chunk written), so while
 * nothing can have expired an insert costs three comparisons and no SQL. When a tier's
 * cutoff passes that time, a sweep visits the tier's series a few per insert, each step
 * one transaction, and learns the oldest chunk left behind.
 */
struct pwh_pruner {
	/* prepared and finalized by the store with its other statements */
	sqlite3_stmt *st_delete; /* ?1 tier, ?2 series, ?3 cutoff ms, ?4 batch */
	sqlite3_stmt *st_oldest; /* ?1 tier, ?2 series: the first t0 */
	int64_t oldest_ms[PWH_N_TIERS]; /* no chunk of the tier starts before; INT64_MAX: none */
	int64_t sweep_oldest_ms;        /* the oldest chunk the sweep under way leaves */
	uint32_t tier;                  /* the tier being swept */
	uint32_t next_id;               /* the series whose old chunks go next; 0 is the time column */
	bool active;                    /* a sweep is under way */
};

#define PWH_PRUNE_DELETE_SQL                                                                      \
	"DELETE FROM chunk WHERE id IN "                                                          \
	"(SELECT id FROM chunk WHERE tier=?1 AND series=?2 AND t0<?3 ORDER BY t0 LIMIT ?4)"
#define PWH_PRUNE_OLDEST_SQL "SELECT t0 FROM chunk WHERE tier=?1 AND series=?2 ORDER BY t0 LIMIT 1"

/* A chunk of tier goes when it started before this: all of its window is older than the
 * retention, counted back from now_s. */
int64_t pwh_prune_cutoff_ms(const struct pwh_retention *ret, uint32_t tier, int64_t now_s);
/* Learns the oldest chunk of every tier from the file (an index seek per tier and series
 * up to max_id) and ends any sweep. On failure every tier is due for a sweep. */
int pwh_pruner_load(struct pwh_pruner *p, uint32_t max_id);
/* A chunk of tier starting at t0_ms was written. */
void pwh_pruner_saw(struct pwh_pruner *p, uint32_t tier, int64_t t0_ms);

/*
 * One small step of retention: when a sweep is under way or a tier is due, deletes in
 * one transaction at most `batch` whole expired chunks of each of at most `pairs`
 * (tier, series). Returns the number of chunks deleted (0 without touching the database
 * when nothing can have expired), or a negative errno; a failed step is rolled back and
 * repeated next time.
 */
int pwh_prune_step(sqlite3 *db, struct pwh_pruner *p, const struct pwh_retention *ret, int64_t now_s,
		   uint32_t max_id, uint32_t pairs, uint32_t batch);

#endif
