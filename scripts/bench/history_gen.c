/* SPDX-License-Identifier: MIT */
/*
 * history_gen: fills a history database with synthetic snapshots through the daemon's
 * own write path, and measures it.
 *
 *   history_gen fill DB DAYS [INTERVAL_S [SEED]]
 *       writes DAYS of snapshots ending now (one every INTERVAL_S, default 5) through
 *       pw_history_insert(), exactly as the daemon would, and prints JSON: CPU per insert
 *       (mean, p50, p99, max, over every insert including the hourly seals), bytes on disk
 *       per stored numeric sample and per snapshot for the raw tier, the whole file's size.
 *   history_gen seal DB
 *       seals the open hour of a database a real daemon wrote and prints the raw tier's
 *       bytes per stored numeric sample: the same measure on real data.
 *   history_gen query DB REPEAT METRICS...
 *       runs the 24 h and 7 d queries of METRICS at 1000 points REPEAT times each
 *       through pw_history_query() and prints JSON: median and p95 wall milliseconds.
 *
 * Built by `make build/bench/history_gen` (mk/history.mk); scripts/bench/history_bench.sh
 * runs both and is what `make bench` calls. The synthetic host is history_synth.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "history/history.h"
#include "history/journal.h"
#include "history/metrics.h"
#include "util/timeutil.h"

#include "history_synth.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct counter {
	uint64_t values, nulls;
};

static void count_value(void *ctx, const char *path, size_t len, enum pwh_kind kind, bool null, uint64_t q)
{
	struct counter *c = ctx;

	(void)path;
	(void)len;
	(void)kind;
	(void)q;
	if (null)
		c->nulls++;
	else
		c->values++;
}

/* The bytes of db's journal file (the open hour), fn called for each record. -1: unreadable. */
static int64_t journal_bytes(const char *db, pwh_journal_row_fn fn, void *ctx)
{
	char path[4096], chunk[65536];
	struct pw_buf img = { 0 };
	uint64_t id, gen;
	int64_t n;
	size_t r;
	FILE *f;

	snprintf(path, sizeof(path), "%s" PWH_JOURNAL_SUFFIX, db);
	f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		pw_buf_append(&img, chunk, r);
	fclose(f);
	n = (int64_t)img.len;
	if (fn && img.len)
		pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, fn, ctx);
	pw_buf_free(&img);
	return n;
}

static int64_t sql_i64(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int fill(const char *db, double days, double interval, uint64_t seed)
{
	struct pw_history *h;
	struct snapshot snap;
	struct synth syn;
	struct counter cnt = { 0 };
	struct pw_history_stats st;
	char err[512];
	double now = (double)time(NULL), t;
	uint64_t n = (uint64_t)(days * 86400 / interval), *cpu, sum = 0, i;
	sqlite3 *s;
	struct stat sb;
	int64_t raw_payload, raw_rows, page_size, pages, free_pages, pending;

	if (pw_history_open(&h, db, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "history_gen: %s\n", err);
		return 1;
	}
	cpu = calloc(n ? n : 1, sizeof(*cpu));
	if (!cpu)
		return 1;
	synth_init(&syn, seed, &snap);
	/* the first step only sets up the counters, like the daemon's first sample */
	synth_step(&syn, &snap, now - (double)n * interval - interval, interval);
	for (i = 0; i < n; i++) {
		uint64_t t0;

		t = now - (double)(n - 1 - i) * interval + (synth_u01(&syn) - 0.5) * 0.004;
		synth_step(&syn, &snap, t, interval);
		pwh_snapshot_visit(&snap, count_value, &cnt);
		t0 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		pw_history_insert(h, &snap);
		cpu[i] = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		sum += cpu[i];
		if (pw_history_status(h)) {
			fprintf(stderr, "history_gen: %s\n", pw_history_status(h));
			return 1;
		}
	}
	pw_history_stats(h, &st);
	pw_history_close(h);
	snapshot_free(&snap);

	if (sqlite3_open(db, &s) != SQLITE_OK)
		return 1;
	sqlite3_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	raw_payload = sql_i64(s, "SELECT sum(length(data)) FROM chunk WHERE tier=0");
	raw_rows = sql_i64(s, "SELECT count(*) FROM chunk WHERE tier=0");
	pending = journal_bytes(db, NULL, NULL);
	page_size = sql_i64(s, "PRAGMA page_size");
	pages = sql_i64(s, "PRAGMA page_count");
	free_pages = sql_i64(s, "PRAGMA freelist_count");
	int64_t tier_bytes[3];
	for (int tier = 0; tier < 3; tier++) {
		char q[128];

		snprintf(q, sizeof(q), "SELECT sum(length(data)) FROM chunk WHERE tier=%d", tier);
		tier_bytes[tier] = sql_i64(s, q);
	}
	/* pages of the chunk table and its index, shared out over the tiers by payload */
	int64_t chunk_pages = sql_i64(s, "SELECT sum(pgsize) FROM dbstat WHERE name IN ('chunk','chunk_key')");
	sqlite3_close(s);
	stat(db, &sb);
	qsort(cpu, n, sizeof(*cpu), cmp_u64);

	double all_tiers = (double)(tier_bytes[0] + tier_bytes[1] + tier_bytes[2]);
	double raw_disk = chunk_pages > 0 && all_tiers > 0 ? (double)chunk_pages * (double)tier_bytes[0] / all_tiers
							    : (double)raw_payload;
	printf("{\"days\": %g, \"interval_s\": %g, \"snapshots\": %" PRIu64 ", \"numeric_samples\": %" PRIu64
	       ", \"null_samples\": %" PRIu64 ", \"series_per_snapshot\": %.1f,\n",
	       days, interval, n, cnt.values, cnt.nulls, (double)(cnt.values + cnt.nulls) / (double)(n ? n : 1));
	printf(" \"insert_cpu_us\": {\"mean\": %.1f, \"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f},\n",
	       (double)sum / (double)(n ? n : 1) / 1e3, (double)cpu[n / 2] / 1e3, (double)cpu[n * 99 / 100] / 1e3,
	       (double)cpu[n - 1] / 1e3);
	printf(" \"seals\": %" PRIu64 ", \"raw_chunk_rows\": %" PRId64 ",\n", st.seals, raw_rows);
	printf(" \"raw_payload_bytes\": %" PRId64 ", \"raw_payload_bytes_per_sample\": %.3f,\n", raw_payload,
	       (double)raw_payload / (double)cnt.values);
	printf(" \"raw_disk_bytes\": %.0f, \"raw_disk_bytes_per_sample\": %.3f, \"raw_disk_bytes_per_snapshot\": %.1f,\n",
	       raw_disk, raw_disk / (double)cnt.values, raw_disk / (double)(n ? n : 1));
	printf(" \"minute_payload_bytes\": %" PRId64 ", \"hour_payload_bytes\": %" PRId64 ", \"pending_bytes\": %" PRId64
	       ",\n",
	       tier_bytes[1], tier_bytes[2], pending);
	printf(" \"file_bytes\": %lld, \"file_pages\": %" PRId64 ", \"free_pages\": %" PRId64 ", \"page_size\": %" PRId64
	       ", \"file_bytes_per_sample\": %.3f}\n",
	       (long long)(sb.st_size + pending), pages, free_pages, page_size,
	       (double)(sb.st_size + pending) / (double)cnt.values);
	free(cpu);
	return 0;
}

static int count_nonnull(void *ctx, const struct pwh_item *it)
{
	if (!it->null)
		(*(uint64_t *)ctx)++;
	return 0;
}

struct journal_count {
	uint64_t *values, *rows;
};

static int journal_count_row(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	struct journal_count *jc = ctx;

	(void)t_ms, (void)interval_ms;
	(*jc->rows)++;
	pwh_row_decode(row, len, count_nonnull, jc->values);
	return 0;
}

static int seal(const char *db)
{
	struct pw_history *h;
	sqlite3 *s;
	uint64_t values = 0, rows = 0;
	struct journal_count jc = { &values, &rows };
	int64_t before, after;
	char err[512];

	if (sqlite3_open(db, &s) != SQLITE_OK)
		return 1;
	before = sql_i64(s, "SELECT coalesce(sum(length(data)),0) FROM chunk WHERE tier=0");
	if (journal_bytes(db, journal_count_row, &jc) < 0)
		return 1;
	sqlite3_close(s);
	if (pw_history_open(&h, db, NULL, err, sizeof(err)) < 0 || pw_history_flush(h) < 0) {
		fprintf(stderr, "history_gen: cannot seal %s: %s\n", db, err);
		return 1;
	}
	pw_history_close(h);
	if (sqlite3_open(db, &s) != SQLITE_OK)
		return 1;
	after = sql_i64(s, "SELECT coalesce(sum(length(data)),0) FROM chunk WHERE tier=0");
	sqlite3_close(s);
	printf("{\"snapshots\": %" PRIu64 ", \"numeric_samples\": %" PRIu64 ", \"raw_payload_bytes\": %" PRId64
	       ", \"raw_payload_bytes_per_sample\": %.3f, \"raw_payload_bytes_per_snapshot\": %.1f}\n",
	       rows, values, after - before, values ? (double)(after - before) / (double)values : 0.0,
	       rows ? (double)(after - before) / (double)rows : 0.0);
	return 0;
}

static double run_query(struct pw_history *h, const char *qs, int *status, size_t *bytes)
{
	struct pw_buf out = { 0 };
	uint64_t t0 = pw_mono_ns();

	*status = pw_history_query(h, qs, &out);
	*bytes = out.len;
	t0 = pw_mono_ns() - t0;
	if (*status != 200)
		fprintf(stderr, "history_gen: %d %s\n", *status, out.data ? out.data : "");
	pw_buf_free(&out);
	return (double)t0 / 1e6;
}

static int query(const char *db, int repeat, int nm, char **metrics)
{
	static const char *const ranges[] = { "-24h", "-7d" };
	struct pw_history *h;
	char err[512], qs[4096];
	int n = 0;

	if (pw_history_open(&h, db, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "history_gen: %s\n", err);
		return 1;
	}
	for (int i = 0; i < nm; i++)
		n += snprintf(qs + n, sizeof(qs) - (size_t)n, "%s%s", i ? "," : "", metrics[i]);
	printf("{");
	for (int r = 0; r < 2; r++) {
		char full[4200];
		double *ms = calloc((size_t)repeat, sizeof(double));
		size_t bytes = 0;
		int status = 0;
		struct pw_buf out = { 0 };

		snprintf(full, sizeof(full), "from=%s&metrics=%s&points=1000", ranges[r], qs);
		for (int k = 0; k < repeat; k++)
			ms[k] = run_query(h, full, &status, &bytes);
		qsort(ms, (size_t)repeat, sizeof(double), cmp_d);
		pw_history_query(h, full, &out);
		const char *tier = out.data ? strstr(out.data, "\"tier\":\"") : NULL;
		printf("%s\"%s\": {\"status\": %d, \"tier\": \"%.*s\", \"bytes\": %zu, \"median_ms\": %.2f, \"p95_ms\": %.2f, "
		       "\"max_ms\": %.2f}",
		       r ? ", " : "", ranges[r] + 1, status, tier ? (int)strcspn(tier + 8, "\"") : 0, tier ? tier + 8 : "",
		       bytes, ms[repeat / 2], ms[repeat * 95 / 100], ms[repeat - 1]);
		pw_buf_free(&out);
		free(ms);
	}
	printf("}\n");
	pw_history_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "fill"))
		return fill(argv[2], atof(argv[3]), argc > 4 ? atof(argv[4]) : 5.0,
			    argc > 5 ? strtoull(argv[5], NULL, 10) : 1);
	if (argc == 3 && !strcmp(argv[1], "seal"))
		return seal(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "query"))
		return query(argv[2], atoi(argv[3]), argc - 4, argv + 4);
	fprintf(stderr, "usage: history_gen fill DB DAYS [INTERVAL_S [SEED]]\n"
			"       history_gen seal DB\n"
			"       history_gen query DB REPEAT METRIC...\n");
	return 2;
}
