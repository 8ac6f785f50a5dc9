/* SPDX-License-Identifier: MIT */
/* Shared by the history unit tests: a scratch folder, simple snapshots, reading answers. */
#ifndef PW_TEST_HISTORY_UTIL_H
#define PW_TEST_HISTORY_UTIL_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "history/history.h"
#include "history/journal.h"
#include "snapshot.h"

static char th_dir[256];
static char th_db[300];

static inline void th_setup(void)
{
	snprintf(th_dir, sizeof(th_dir), "/tmp/pw-history-test-XXXXXX");
	cr_assert_not_null(mkdtemp(th_dir));
	snprintf(th_db, sizeof(th_db), "%s/history.db", th_dir);
}

static inline int th_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void th_teardown(void)
{
	nftw(th_dir, th_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* now, in whole seconds */
static inline double th_now(void)
{
	return (double)time(NULL);
}

/* A snapshot with cpu (usage = v, per-core v and v/2) and memory (used = u). */
static inline void th_snap(struct snapshot *s, double t, double interval, double v, uint64_t u)
{
	snapshot_reset(s);
	s->timestamp = t;
	s->interval_s = interval;
	s->cpu.valid = true;
	s->cpu.usage_percent = v;
	pw_array_reserve(&s->cpu.per_core, &s->cpu.cap_per_core, 2, sizeof(double));
	s->cpu.n_per_core = 2;
	s->cpu.per_core[0] = v;
	s->cpu.per_core[1] = isnan(v) ? v : v / 2;
	s->memory.valid = true;
	s->memory.used_bytes = u;
	s->memory.total_bytes = 8ull << 30;
}

static inline struct pw_history *th_open(const char *retention)
{
	struct pw_history *h = NULL;
	char err[512] = "";

	cr_assert_eq(pw_history_open(&h, th_db, retention, err, sizeof(err)), 0, "open: %s", err);
	cr_assert_null(pw_history_status(h), "healthy at start: %s", pw_history_status(h));
	return h;
}

/*
 * Reads the array `key` ("t", "v", "min", "max") of `series` from a /api/history answer
 * into out (NAN for null); returns how many values, or -1 when not found.
 */
static inline int th_array(const char *json, const char *series, const char *key, double *out, int max)
{
	char pat[700];
	const char *p;
	int n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":{", series);
	p = strstr(json, pat);
	if (!p)
		return -1;
	snprintf(pat, sizeof(pat), "\"%s\":[", key);
	p = strstr(p, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p && *p != ']') {
		char *end;

		if (!strncmp(p, "null", 4)) {
			if (n < max)
				out[n] = NAN;
			p += 4;
		} else {
			double v = strtod(p, &end);

			if (end == p)
				return -1;
			if (n < max)
				out[n] = v;
			p = end;
		}
		n++;
		if (*p == ',')
			p++;
	}
	return n;
}

/* Runs a query; asserts the status; returns the body (static, overwritten by the next call). */
static inline const char *th_query(struct pw_history *h, const char *qs, int want)
{
	static struct pw_buf out;
	int status;

	pw_buf_clear(&out);
	status = pw_history_query(h, qs, &out);
	cr_assert_eq(status, want, "%s -> %d %s", qs ? qs : "(null)", status, out.data ? out.data : "");
	return out.data ? out.data : "";
}

/* The first column of the first row of sql, read from th_db by sqlite itself; -1 for no row. */
static inline int64_t th_sql_count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	cr_assert_eq(sqlite3_open(th_db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static inline int th_count_row(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	(void)t_ms, (void)interval_ms, (void)row, (void)len;
	(*(int64_t *)ctx)++;
	return 0;
}

/* th_db's journal file. */
static inline const char *th_db_journal(void)
{
	static char path[400];

	snprintf(path, sizeof(path), "%s" PWH_JOURNAL_SUFFIX, th_db);
	return path;
}

/* Records in th_db's journal file (of its generation; sealed or not). */
static inline int64_t th_journal_count(void)
{
	const char *path = th_db_journal();
	struct pw_buf img = { 0 };
	uint64_t id, gen;
	int64_t n = 0;
	FILE *f;
	char chunk[65536];
	size_t r;

	f = fopen(path, "rb");
	if (!f)
		return 0;
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		pw_buf_append(&img, chunk, r);
	fclose(f);
	if (pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, th_count_row, &n) < 0)
		n = -1;
	pw_buf_free(&img);
	return n;
}

static inline bool th_close_enough(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= fabs(b) * 2e-4 + 1e-9;
}

#endif
