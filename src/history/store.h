/* SPDX-License-Identifier: MIT */
/*
 * The SQLite side of history: one writer connection (the collector thread, through
 * pw_history_insert()) and one read connection (queries, any thread, under a mutex).
 *
 * Tables (application_id 0x50576831 'PWh1', user_version 1):
 *   series(id, path, kind)          the dictionary of metric paths
 *   chunk(id, tier, series, t0, data)   packed columns; series 0 = the raw time column;
 *                                   t0 = first sample (raw, minute) or UTC day (hour), ms
 *   pending(seq, t_ms, interval_ms, data)  the crash journal of versions before the
 *                                   journal file: read, and emptied by the next seal
 *   meta(key, value)                'journal_id', 'journal_sealed': see journal.h
 * The open raw chunk's snapshots are journaled in <db>-pending (history/journal.h), one
 * record each. A kill -9 loses at most the snapshot whose record was being written: every
 * other snapshot is either in a sealed chunk or in the journal, and a seal is one
 * transaction that also records which journal generation it holds.
 */
#ifndef PW_HISTORY_STORE_H
#define PW_HISTORY_STORE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "history/encode.h"
#include "history/journal.h"
#include "history/series.h"
#include "history/tiers.h"
#include "snapshot.h"
#include "util/buf.h"

#define PWH_APPLICATION_ID 0x50576831
#define PWH_SCHEMA_VERSION 1
#define PWH_CHUNK_MAX 20000          /* samples in one raw chunk (short intervals seal early) */
#define PWH_RING_MAX_BYTES (4u << 20) /* snapshots held in memory while the database is unwritable */
#define PWH_WAL_BYTES 4194304 /* journal_size_limit, and what the WAL is given at open */
#define PWH_RETRY_MIN_NS 1000000000ull
#define PWH_RETRY_MAX_NS 30000000000ull

struct pwh_ocol {
	uint32_t id;
	uint8_t kind;
	bool used;
	uint32_t first_idx, next_idx;
	struct pwh_col_state st;
	struct pw_buf bytes;
	struct pwh_rollup minutes;
};

/* The raw chunk being filled: the in-memory image of the pending rows. */
struct pwh_open_chunk {
	int64_t window_s; /* the clock hour it belongs to */
	int64_t t0_ms;
	uint32_t interval_ms;
	uint32_t n;
	int64_t last_seq; /* the newest pending row in it */
	struct pwh_col_state tst;
	struct pw_buf tbytes;
	struct pwh_ocol **cols; /* by series id */
	uint32_t cap_cols;
	uint32_t *used; /* ids with data in this chunk */
	uint32_t n_used, cap_used;
};

/* A snapshot journaled nowhere yet: kept while the database cannot be written. */
struct pwh_ring_row {
	int64_t t_ms;
	uint32_t interval_ms;
	uint32_t len;
	uint8_t data[];
};

struct pw_history {
	char *path;
	struct pwh_retention retention;

	/* ---- writer: the collector thread only */
	sqlite3 *db;
	sqlite3_stmt *st_chunk, *st_series, *st_hour_get, *st_del_pending, *st_sealed;
	int jr_err; /* the journal's -errno that broke the store, else 0 */
	struct pwh_registry reg;
	struct pwh_series **order; /* the last snapshot's series in visit order (into reg) */
	uint32_t n_order, cap_order;
	struct pwh_open_chunk oc;
	struct pwh_pruner pruner;
	struct pwh_item *items; /* the snapshot being stored */
	uint32_t n_items, cap_items;
	struct pw_buf row, payload, blob; /* scratch */
	struct pwh_ring_row **ring;
	uint32_t ring_head, ring_n, ring_cap;
	size_t ring_bytes;
	uint64_t dropped;      /* snapshots lost since the last healthy write */
	uint64_t total_dropped;
	bool broken;
	int last_rc;           /* the SQLite code that broke it */
	uint64_t retry_at_ns, retry_delay_ns;
	char reason[PW_ERROR_MAX]; /* why it is broken */
	char status[PW_ERROR_MAX]; /* the reason with what is held and dropped */
	uint64_t inserts, seals; /* counts, for tests and the benchmark */

	/* ---- the journal file: the writer's, read by queries under its own lock */
	struct pwh_journal jr;

	/* ---- reader: any thread, under rd_lock */
	pthread_mutex_t rd_lock;
	sqlite3 *rd;
};

/*
 * Opens path for writing, creating it when missing. -EINVAL (with err) for a file that
 * is not a PerfWatch history database or is corrupt: nothing is written to it. Other
 * failures (read-only, full, locked) leave h->broken set with the reason in h->status,
 * and return 0: the store retries by itself.
 */
int pwh_store_open(struct pw_history *h, char *err, size_t errlen);
void pwh_store_close(struct pw_history *h);
/* Stores one snapshot (collector thread). Never blocks for long; never fails loudly. */
void pwh_store_insert(struct pw_history *h, const struct snapshot *s);
/* Seals the open chunk now (tests and the generator use it). */
int pwh_store_seal(struct pw_history *h);

/* Maps a SQLite result code to a negative errno. */
int pwh_sqlite_errno(int rc);

/* ---- between store.c (writing) and store_open.c (opening); nobody else calls these */
int pwh_exec(sqlite3 *db, const char *sql);
int64_t pwh_window_of(int64_t t_ms); /* the clock hour of a time, in seconds */
void pwh_oc_reset(struct pwh_open_chunk *oc);
int pwh_oc_append(struct pw_history *h, int64_t t_ms, uint32_t interval_ms, int64_t seq,
		  const struct pwh_item *items, uint32_t n);
int pwh_seal(struct pw_history *h); /* a SQLite result code */
void pwh_sort_items(struct pwh_item *v, uint32_t n);
int pwh_row_items(struct pw_history *h, const uint8_t *p, size_t len); /* into h->items */
void pwh_close_db(struct pw_history *h);
void pwh_describe_failure(struct pw_history *h, const char *what, int rc); /* into h->reason */
/* The SQLite code standing for a journal -errno, with why in h->reason. */
int pwh_journal_failure(struct pw_history *h, const char *what, int err);
/* Opens (or reopens) the writer and rebuilds the in-memory state from the file. -EINVAL
 * (err says why): a file we must not touch. Other negative: try again later. */
int pwh_open_writer(struct pw_history *h, bool integrity, char *err, size_t errlen);

#endif
