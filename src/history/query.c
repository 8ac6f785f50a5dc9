/* SPDX-License-Identifier: MIT */
/*
 * GET /api/history?from=&to=&metrics=a.b,c.d&points=N
 *
 * 200:
 *   {"from": 1712340000, "to": 1712426400,   the range asked for, unix seconds
 *    "step": 90,                              seconds per point (bucketed), or the
 *                                             snapshot interval (raw samples)
 *    "tier": "raw",                           raw | minute | hour: where the values come from
 *    "bucketed": true,                        false: one point per stored snapshot
 *    "series": {
 *      "cpu.usage_percent": {"t": [..], "v": [..], "min": [..], "max": [..]},
 *      ...one entry per metric asked for, in the order asked
 *    }}
 *   t: unix seconds (bucket start when bucketed, with millisecond decimals for raw
 *   samples), ascending, the same for every series. v: the mean over the bucket (the value
 *   itself for raw samples); min/max: the extremes over the bucket (equal to v for raw
 *   samples). A value is null where nothing was stored: empty buckets, and for raw samples
 *   one null point is inserted wherever snapshots are missing for more than two intervals
 *   (the daemon was down). Nothing is ever interpolated. A metric never stored, or not
 *   stored in the range, has all-null values.
 * 400: {"error": "why"} for a bad metric name, range, points or query string.
 * 503: {"error": "why"} when history is off (--no-db) or the database cannot be read.
 *
 * Tier choice: the finest tier that still holds `from` (by --retention) and whose
 * resolution fits the step (to - from) / points; raw only while that is at most ~100
 * snapshots per point. Buckets are aligned to multiples of the step. The open raw chunk
 * (the journal file, and pending rows of older versions) is always read too, so the
 * newest snapshots show in every tier.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history/history.h"
#include "history/query.h"
#include "history/store.h"
#include "output/jsonw.h"
#include "util/timeutil.h"

#define MAX_TIMELINE (4u << 20)          /* raw samples one query may read */
#define RAW_SAMPLES_PER_POINT 100        /* beyond this a coarser tier answers */
#define COVER_SLACK_MS (15 * 60 * 1000)  /* a "last 24 h" asked a little late still reads raw */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ------------------------------------------------------------ output */
struct bucket_series {
	double *sum, *mn, *mx; /* sum holds the weighted sum, then the mean */
	uint64_t *cnt;
};

struct ctx {
	struct pw_history *h;
	sqlite3 *db;
	const struct pwh_query *q;
	uint32_t ids[PWH_QUERY_MAX_METRICS];
	int tier;

	/* raw timeline: every stored snapshot in range, in storage order */
	int64_t *t;
	uint32_t *iv;
	uint32_t n, cap;
	struct rchunk {
		int64_t t0;
		uint32_t base, lo, hi; /* samples lo..hi-1 of the chunk are timeline base.. */
	} *rc;
	uint32_t n_rc, cap_rc;
	uint32_t pending_base, pending_n; /* the open chunk's samples: pending rows, then journal */
	uint32_t pending_rows;             /* how many of them are pending rows */
	struct pwh_journal_image journal;  /* the journal file's copy, empty when none applies */
	int64_t journal_last_iv;           /* its newest record's interval, 0: none */

	/* bucketing */
	bool bucketed;
	int64_t start_ms, step_ms;
	uint32_t nb;
	uint32_t *bidx; /* raw sample -> bucket (UINT32_MAX: out of range) */
	struct bucket_series *bs;
	double **direct; /* raw samples, not bucketed: [metric][timeline index] */

	struct pw_buf scratch;
	int err; /* the first SQLite error */
};

static void put_time(struct pw_buf *b, int64_t ms)
{
	if (ms % 1000 == 0)
		pw_buf_printf(b, "%" PRId64, ms / 1000);
	else
		pw_buf_printf(b, "%" PRId64 ".%03d", floor_div(ms, 1000), (int)(ms - floor_div(ms, 1000) * 1000));
}

static void put_num(struct pw_buf *b, double v)
{
	if (!isfinite(v))
		pw_buf_puts(b, "null");
	else if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v)
		pw_buf_printf(b, "%" PRId64, (int64_t)v);
	else
		pw_buf_printf(b, "%.6g", v);
}

static void put_error(struct pw_buf *out, const char *msg)
{
	struct jw w;

	pw_buf_clear(out);
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kv_str(&w, "error", msg);
	jw_obj_end(&w);
}

/* ------------------------------------------------------------ reading */
static int note(struct ctx *c, int rc)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW && !c->err)
		c->err = rc;
	return rc;
}

static int timeline_push(struct ctx *c, int64_t t, uint32_t iv)
{
	if (c->n >= MAX_TIMELINE)
		return -E2BIG;
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 1024;
		int64_t *nt = realloc(c->t, (size_t)cap * sizeof(*nt));
		uint32_t *niv;

		if (!nt)
			return -ENOMEM;
		c->t = nt;
		niv = realloc(c->iv, (size_t)cap * sizeof(*niv));
		if (!niv)
			return -ENOMEM;
		c->iv = niv;
		c->cap = cap;
	}
	c->t[c->n] = t;
	c->iv[c->n++] = iv;
	return 0;
}

static sqlite3_stmt *prep(struct ctx *c, const char *sql)
{
	sqlite3_stmt *st = NULL;

	note(c, sqlite3_prepare_v2(c->db, sql, -1, &st, NULL));
	return st;
}

/* ------------------------------------------------------------ the journal file */
/* One journal record in the query's range; nonzero stops the walk. */
typedef int journal_fn(struct ctx *c, void *arg, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len);

struct journal_walk {
	struct ctx *c;
	journal_fn *fn;
	void *arg;
};

static int journal_row(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	struct journal_walk *w = ctx;

	if (t_ms < w->c->q->from_ms || t_ms > w->c->q->to_ms)
		return 0;
	return w->fn(w->c, w->arg, t_ms, interval_ms, row, len);
}

/* Calls fn for each journal record in the range, in file order. */
static void walk_journal(struct ctx *c, journal_fn *fn, void *arg)
{
	struct journal_walk w = { .c = c, .fn = fn, .arg = arg };
	uint64_t id, gen;

	if (c->journal.len)
		pwh_journal_parse(c->journal.data, c->journal.len, &id, &gen, journal_row, &w);
}

static int journal_time(struct ctx *c, void *arg, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	(void)arg, (void)row, (void)len;
	return timeline_push(c, t_ms, interval_ms) < 0;
}

static int last_interval(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	(void)t_ms, (void)row, (void)len;
	*(int64_t *)ctx = interval_ms;
	return 0;
}

/*
 * Keeps the journal image read before the transaction began only when the database in the
 * transaction does not hold its generation yet: a seal in between put its rows in a chunk.
 */
static int check_journal(struct ctx *c)
{
	sqlite3_stmt *st = prep(c, "SELECT (SELECT value FROM meta WHERE key='journal_id'),"
				   " (SELECT value FROM meta WHERE key='journal_sealed')");
	uint64_t fid, fgen;
	int64_t id = 0, sealed = 0;
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		sealed = sqlite3_column_int64(st, 1);
	} else {
		note(c, rc);
	}
	sqlite3_finalize(st);
	if (c->err)
		return -EIO;
	if (pwh_journal_parse(c->journal.data, c->journal.len, &fid, &fgen, last_interval, &c->journal_last_iv) < 0 ||
	    fid != (uint64_t)id || fgen <= (uint64_t)sealed) {
		pwh_journal_image_free(&c->journal);
		c->journal_last_iv = 0;
	}
	return 0;
}

/* Pass 1: the raw tier's time columns (when it answers) and the open chunk's times. */
static int read_timeline(struct ctx *c)
{
	const struct pwh_query *q = c->q;
	sqlite3_stmt *st;
	int rc;

	if (c->tier != PWH_TIER_RAW)
		goto pending;
	st = prep(c, "SELECT t0, data FROM chunk WHERE tier=0 AND series=0 AND t0>=? AND t0<=? ORDER BY t0");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, floor_div(q->from_ms, 3600000) * 3600000);
	sqlite3_bind_int64(st, 2, q->to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *b = sqlite3_column_blob(st, 1);
		struct pwh_times tm;
		struct rchunk r = { .t0 = sqlite3_column_int64(st, 0), .base = c->n };
		bool started = false;

		if (!b || pwh_blob_unpack(b, (size_t)sqlite3_column_bytes(st, 1), &c->scratch) < 0 ||
		    pwh_times_decode((const uint8_t *)c->scratch.data, c->scratch.len, &tm) < 0)
			continue; /* a damaged chunk reads as missing data */
		for (uint32_t i = 0; i < tm.n; i++) {
			if (tm.t_ms[i] < q->from_ms || tm.t_ms[i] > q->to_ms)
				continue;
			if (!started) {
				started = true;
				r.lo = i;
			} else if (i != r.hi) {
				break; /* out of order times: keep the in-range run we have */
			}
			if (timeline_push(c, tm.t_ms[i], tm.interval_ms) < 0)
				break;
			r.hi = i + 1;
		}
		pwh_times_free(&tm);
		if (started && pw_array_reserve(&c->rc, &c->cap_rc, c->n_rc + 1, sizeof(*c->rc)) == 0)
			c->rc[c->n_rc++] = r;
	}
	note(c, rc);
	sqlite3_finalize(st);
pending:
	st = prep(c, "SELECT t_ms, interval_ms FROM pending WHERE t_ms>=? AND t_ms<=? ORDER BY seq");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, q->from_ms);
	sqlite3_bind_int64(st, 2, q->to_ms);
	c->pending_base = c->n;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (timeline_push(c, sqlite3_column_int64(st, 0), (uint32_t)sqlite3_column_int64(st, 1)) < 0)
			break;
	}
	note(c, rc);
	sqlite3_finalize(st);
	c->pending_rows = c->n - c->pending_base;
	walk_journal(c, journal_time, NULL);
	c->pending_n = c->n - c->pending_base;
	return c->err ? -EIO : 0;
}

static void bucket_add(struct ctx *c, uint32_t m, uint32_t b, double mean, double mn, double mx, uint64_t n)
{
	struct bucket_series *s = &c->bs[m];

	if (!isfinite(mean) || n == 0)
		return;
	if (s->cnt[b] == 0) {
		s->mn[b] = mn;
		s->mx[b] = mx;
	} else {
		if (mn < s->mn[b])
			s->mn[b] = mn;
		if (mx > s->mx[b])
			s->mx[b] = mx;
	}
	s->sum[b] += mean * (double)n;
	s->cnt[b] += n;
}

static uint32_t bucket_of(const struct ctx *c, int64_t t_ms)
{
	int64_t b;

	if (t_ms < c->q->from_ms || t_ms > c->q->to_ms)
		return UINT32_MAX;
	b = floor_div(t_ms - c->start_ms, c->step_ms);
	return b >= 0 && b < c->nb ? (uint32_t)b : UINT32_MAX;
}

/* One raw sample of metric m at timeline index i. */
static void raw_sample(struct ctx *c, uint32_t m, uint32_t i, double v)
{
	if (!isfinite(v) || i >= c->n)
		return;
	if (!c->bucketed) {
		c->direct[m][i] = v;
		return;
	}
	if (c->bidx[i] != UINT32_MAX)
		bucket_add(c, m, c->bidx[i], v, v, v, 1);
}

static void read_raw_series(struct ctx *c, uint32_t m)
{
	const struct pwh_query *q = c->q;
	sqlite3_stmt *st;
	uint32_t k = 0;
	int rc;

	if (!c->ids[m] || c->n_rc == 0)
		return;
	st = prep(c, "SELECT t0, data FROM chunk WHERE tier=0 AND series=? AND t0>=? AND t0<=? ORDER BY t0");
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, c->ids[m]);
	sqlite3_bind_int64(st, 2, floor_div(q->from_ms, 3600000) * 3600000);
	sqlite3_bind_int64(st, 3, q->to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t0 = sqlite3_column_int64(st, 0);
		const uint8_t *b = sqlite3_column_blob(st, 1);
		struct pwh_col_reader r;
		const struct rchunk *ch;

		while (k < c->n_rc && c->rc[k].t0 < t0)
			k++;
		if (k == c->n_rc)
			break;
		if (c->rc[k].t0 != t0 || !b)
			continue;
		ch = &c->rc[k];
		if (pwh_blob_unpack(b, (size_t)sqlite3_column_bytes(st, 1), &c->scratch) < 0 ||
		    pwh_col_open(&r, (const uint8_t *)c->scratch.data,
				 (const uint8_t *)c->scratch.data + c->scratch.len) < 0)
			continue;
		for (uint32_t j = 0; j < r.count; j++) {
			uint32_t idx = r.first_idx + j;
			uint64_t qv;
			bool null;

			if (idx >= ch->hi || pwh_col_next(&r, &null, &qv) < 0)
				break;
			if (idx < ch->lo || null)
				continue;
			raw_sample(c, m, ch->base + (idx - ch->lo), pwh_q_value((enum pwh_kind)r.st.kind, qv));
		}
	}
	note(c, rc);
	sqlite3_finalize(st);
}

struct pending_walk {
	struct ctx *c;
	uint32_t index;   /* timeline index of this row */
	const uint32_t *order; /* metric indexes sorted by id */
	uint32_t n_order, pos;
};

static int pending_item(void *ctx, const struct pwh_item *it)
{
	struct pending_walk *pw = ctx;
	struct ctx *c = pw->c;

	while (pw->pos < pw->n_order && c->ids[pw->order[pw->pos]] < it->id)
		pw->pos++;
	while (pw->pos < pw->n_order && c->ids[pw->order[pw->pos]] == it->id) {
		uint32_t m = pw->order[pw->pos++];

		if (!it->null)
			raw_sample(c, m, pw->index, pwh_q_value((enum pwh_kind)c->q->kinds[m], it->q));
	}
	return pw->pos >= pw->n_order ? 1 : 0; /* 1: nothing more wanted from this row */
}

static int journal_values(struct ctx *c, void *arg, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	struct pending_walk *pw = arg;
	struct pending_walk one = *pw;

	(void)t_ms, (void)interval_ms;
	if (pw->index >= c->pending_base + c->pending_n)
		return 1;
	pwh_row_decode(row, len, pending_item, &one);
	pw->index++;
	return 0;
}

/* Pass 2 over the open chunk (pending rows, then the journal): every metric at once. */
static void read_pending(struct ctx *c)
{
	uint32_t order[PWH_QUERY_MAX_METRICS], n = 0;
	struct pending_walk jw = { .c = c, .order = order };
	sqlite3_stmt *st;
	uint32_t k = 0;
	int rc;

	for (uint32_t m = 0; m < c->q->n_metrics; m++)
		if (c->ids[m])
			order[n++] = m;
	if (n == 0 || c->pending_n == 0)
		return;
	for (uint32_t i = 1; i < n; i++) { /* by id, as rows hold them */
		uint32_t x = order[i], j = i;

		for (; j > 0 && c->ids[order[j - 1]] > c->ids[x]; j--)
			order[j] = order[j - 1];
		order[j] = x;
	}
	st = prep(c, "SELECT data FROM pending WHERE t_ms>=? AND t_ms<=? ORDER BY seq");
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, c->q->from_ms);
	sqlite3_bind_int64(st, 2, c->q->to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < c->pending_rows) {
		struct pending_walk pw = { .c = c, .index = c->pending_base + k++, .order = order, .n_order = n };
		const uint8_t *b = sqlite3_column_blob(st, 0);

		if (b)
			pwh_row_decode(b, (size_t)sqlite3_column_bytes(st, 0), pending_item, &pw);
	}
	note(c, rc);
	sqlite3_finalize(st);
	jw.index = c->pending_base + c->pending_rows;
	jw.n_order = n;
	walk_journal(c, journal_values, &jw);
}

static void read_aggs(struct ctx *c, uint32_t m)
{
	const struct pwh_query *q = c->q;
	int64_t win = (int64_t)pwh_tier_window_s[c->tier] * 1000;
	sqlite3_stmt *st;
	int rc;

	if (!c->ids[m])
		return;
	st = prep(c, "SELECT data FROM chunk WHERE tier=? AND series=? AND t0>=? AND t0<=? ORDER BY t0");
	if (!st)
		return;
	sqlite3_bind_int(st, 1, c->tier);
	sqlite3_bind_int64(st, 2, c->ids[m]);
	sqlite3_bind_int64(st, 3, floor_div(q->from_ms, win) * win);
	sqlite3_bind_int64(st, 4, q->to_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *b = sqlite3_column_blob(st, 0);
		struct pwh_agg *a = NULL;
		uint32_t na = 0, res;

		if (!b || pwh_blob_unpack(b, (size_t)sqlite3_column_bytes(st, 0), &c->scratch) < 0 ||
		    pwh_aggs_decode((const uint8_t *)c->scratch.data, c->scratch.len, &res, &a, &na) < 0)
			continue;
		for (uint32_t i = 0; i < na; i++) {
			uint32_t bk = bucket_of(c, a[i].t_s * 1000);

			if (bk != UINT32_MAX)
				bucket_add(c, m, bk, a[i].mean, a[i].min, a[i].max, a[i].n);
		}
		free(a);
	}
	note(c, rc);
	sqlite3_finalize(st);
}

/* ------------------------------------------------------------ planning */
static int resolve_ids(struct ctx *c)
{
	sqlite3_stmt *st = prep(c, "SELECT id, kind FROM series WHERE path=?");

	if (!st)
		return -EIO;
	for (uint32_t m = 0; m < c->q->n_metrics; m++) {
		int rc;

		sqlite3_bind_text(st, 1, c->q->metrics[m], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_int64(st, 1) == c->q->kinds[m])
			c->ids[m] = (uint32_t)sqlite3_column_int64(st, 0);
		else
			note(c, rc);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return c->err ? -EIO : 0;
}

static uint32_t latest_interval_ms(struct ctx *c)
{
	sqlite3_stmt *st = prep(c, "SELECT interval_ms FROM pending ORDER BY seq DESC LIMIT 1");
	uint32_t iv = (uint32_t)c->journal_last_iv;

	if (iv == 0 && st && sqlite3_step(st) == SQLITE_ROW)
		iv = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (iv == 0) {
		st = prep(c, "SELECT data FROM chunk WHERE tier=0 AND series=0 ORDER BY t0 DESC LIMIT 1");
		if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_blob(st, 0)) {
			const uint8_t *p;
			uint64_t v;

			if (pwh_blob_unpack(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
					    &c->scratch) == 0) {
				p = (const uint8_t *)c->scratch.data;
				if (pwh_get_varint(&p, p + c->scratch.len, &v) == 0 && v < UINT32_MAX)
					iv = (uint32_t)v;
			}
		}
		sqlite3_finalize(st);
	}
	return iv ? iv : 5000;
}

static int choose_tier(struct ctx *c, int64_t now_ms)
{
	const struct pwh_query *q = c->q;
	int64_t range = q->to_ms - q->from_ms, step = range / q->points;
	uint32_t iv = latest_interval_ms(c);
	int finest_covering = -1;

	for (int t = 0; t < PWH_N_TIERS; t++) {
		bool covers = q->from_ms >= now_ms - c->h->retention.keep_s[t] * 1000 - COVER_SLACK_MS;
		bool fits = t == PWH_TIER_RAW ? range / iv <= (int64_t)RAW_SAMPLES_PER_POINT * q->points
					      : (int64_t)pwh_tier_res_s[t] * 1000 <= step;

		if (!covers)
			continue;
		if (fits)
			return t;
		if (finest_covering < 0)
			finest_covering = t;
	}
	/* coarser than asked beats a tier that no longer holds the start of the range */
	return finest_covering >= 0 ? finest_covering : PWH_TIER_HOUR;
}

static int setup_buckets(struct ctx *c, int64_t step_ms)
{
	const struct pwh_query *q = c->q;
	int64_t nb;

	c->bucketed = true;
	c->step_ms = step_ms < 1 ? 1 : step_ms;
	c->start_ms = floor_div(q->from_ms, c->step_ms) * c->step_ms;
	nb = (q->to_ms - c->start_ms) / c->step_ms + 1;
	if (nb > PWH_QUERY_MAX_POINTS + 2)
		nb = PWH_QUERY_MAX_POINTS + 2;
	c->nb = (uint32_t)nb;
	c->bs = calloc(q->n_metrics, sizeof(*c->bs));
	if (!c->bs)
		return -ENOMEM;
	for (uint32_t m = 0; m < q->n_metrics; m++) {
		struct bucket_series *s = &c->bs[m];

		s->sum = calloc(c->nb, sizeof(double));
		s->mn = calloc(c->nb, sizeof(double));
		s->mx = calloc(c->nb, sizeof(double));
		s->cnt = calloc(c->nb, sizeof(uint64_t));
		if (!s->sum || !s->mn || !s->mx || !s->cnt)
			return -ENOMEM;
	}
	if (c->n) {
		c->bidx = malloc((size_t)c->n * sizeof(*c->bidx));
		if (!c->bidx)
			return -ENOMEM;
		for (uint32_t i = 0; i < c->n; i++)
			c->bidx[i] = bucket_of(c, c->t[i]);
	}
	return 0;
}

static int setup_direct(struct ctx *c)
{
	c->bucketed = false;
	c->direct = calloc(c->q->n_metrics, sizeof(*c->direct));
	if (!c->direct)
		return -ENOMEM;
	for (uint32_t m = 0; m < c->q->n_metrics; m++) {
		c->direct[m] = malloc(((size_t)c->n + 1) * sizeof(double));
		if (!c->direct[m])
			return -ENOMEM;
		for (uint32_t i = 0; i < c->n; i++)
			c->direct[m][i] = NAN;
	}
	return 0;
}

/* ------------------------------------------------------------ JSON */
static void write_arrays_direct(struct ctx *c, struct pw_buf *out, uint32_t m)
{
	static const char *const keys[] = { "v", "min", "max" };

	pw_buf_puts(out, "{\"t\":[");
	for (uint32_t i = 0; i < c->n; i++) {
		if (i)
			pw_buf_puts(out, ",");
		if (i && c->t[i] - c->t[i - 1] > 2 * (int64_t)c->iv[i]) {
			put_time(out, c->t[i - 1] + c->iv[i - 1]); /* the daemon was down: a gap */
			pw_buf_puts(out, ",");
		}
		put_time(out, c->t[i]);
	}
	for (int k = 0; k < 3; k++) {
		pw_buf_printf(out, "],\"%s\":[", keys[k]);
		for (uint32_t i = 0; i < c->n; i++) {
			if (i)
				pw_buf_puts(out, ",");
			if (i && c->t[i] - c->t[i - 1] > 2 * (int64_t)c->iv[i])
				pw_buf_puts(out, "null,");
			put_num(out, c->direct[m][i]);
		}
	}
	pw_buf_puts(out, "]}");
}

static void write_arrays_buckets(struct ctx *c, struct pw_buf *out, uint32_t m)
{
	const struct bucket_series *s = &c->bs[m];

	pw_buf_puts(out, "{\"t\":[");
	for (uint32_t b = 0; b < c->nb; b++) {
		if (b)
			pw_buf_puts(out, ",");
		put_time(out, c->start_ms + (int64_t)b * c->step_ms);
	}
	pw_buf_puts(out, "],\"v\":[");
	for (uint32_t b = 0; b < c->nb; b++) {
		if (b)
			pw_buf_puts(out, ",");
		put_num(out, s->cnt[b] ? s->sum[b] / (double)s->cnt[b] : NAN);
	}
	pw_buf_puts(out, "],\"min\":[");
	for (uint32_t b = 0; b < c->nb; b++) {
		if (b)
			pw_buf_puts(out, ",");
		put_num(out, s->cnt[b] ? s->mn[b] : NAN);
	}
	pw_buf_puts(out, "],\"max\":[");
	for (uint32_t b = 0; b < c->nb; b++) {
		if (b)
			pw_buf_puts(out, ",");
		put_num(out, s->cnt[b] ? s->mx[b] : NAN);
	}
	pw_buf_puts(out, "]}");
}

static void write_json(struct ctx *c, struct pw_buf *out)
{
	const struct pwh_query *q = c->q;

	pw_buf_clear(out);
	pw_buf_puts(out, "{\"from\":");
	put_time(out, q->from_ms);
	pw_buf_puts(out, ",\"to\":");
	put_time(out, q->to_ms);
	pw_buf_puts(out, ",\"step\":");
	put_time(out, c->step_ms);
	pw_buf_printf(out, ",\"tier\":\"%s\",\"bucketed\":%s,\"series\":{", pwh_tier_names[c->tier],
		      c->bucketed ? "true" : "false");
	for (uint32_t m = 0; m < q->n_metrics; m++) {
		if (m)
			pw_buf_puts(out, ",");
		pw_buf_puts(out, "\"");
		json_escape_append(out, q->metrics[m], strlen(q->metrics[m]));
		pw_buf_puts(out, "\":");
		if (c->bucketed)
			write_arrays_buckets(c, out, m);
		else
			write_arrays_direct(c, out, m);
	}
	pw_buf_puts(out, "}}");
}

/* ------------------------------------------------------------ the query */
static void ctx_free(struct ctx *c)
{
	free(c->t);
	free(c->iv);
	free(c->rc);
	free(c->bidx);
	pwh_journal_image_free(&c->journal);
	if (c->bs) {
		for (uint32_t m = 0; m < c->q->n_metrics; m++) {
			free(c->bs[m].sum);
			free(c->bs[m].mn);
			free(c->bs[m].mx);
			free(c->bs[m].cnt);
		}
		free(c->bs);
	}
	if (c->direct) {
		for (uint32_t m = 0; m < c->q->n_metrics; m++)
			free(c->direct[m]);
		free(c->direct);
	}
	pw_buf_free(&c->scratch);
}

static int open_reader(struct pw_history *h, char *err, size_t errlen)
{
	int rc;

	if (h->rd)
		return 0;
	rc = sqlite3_open_v2(h->path, &h->rd, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(h->rd, 250);
		rc = sqlite3_exec(h->rd, "PRAGMA query_only=1; PRAGMA cache_size=-1024;", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "history database %s cannot be read: %s", h->path,
			 h->rd ? sqlite3_errmsg(h->rd) : sqlite3_errstr(rc));
		sqlite3_close_v2(h->rd);
		h->rd = NULL;
		return -EIO;
	}
	return 0;
}

/* Runs a parsed query on the read connection (held under rd_lock). */
static int run(struct pw_history *h, const struct pwh_query *q, int64_t now_ms, struct pw_buf *out)
{
	struct ctx c = { .h = h, .db = h->rd, .q = q };
	char err[PW_ERROR_MAX];
	int status = 200, jerr;

	/* the journal before the transaction: a seal after this point is in what it reads */
	jerr = pwh_journal_read(&h->jr, &c.journal);
	if (jerr < 0) {
		snprintf(err, sizeof(err), "history journal %s cannot be read: %s", h->jr.path, strerror(-jerr));
		put_error(out, err);
		ctx_free(&c);
		return 503;
	}
	if (sqlite3_exec(c.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_sql;
	if (check_journal(&c) < 0 || resolve_ids(&c) < 0)
		goto fail_sql;
	c.tier = choose_tier(&c, now_ms);
	if (read_timeline(&c) < 0)
		goto fail_sql;
	if (c.tier == PWH_TIER_RAW) {
		uint32_t max_iv = 0;

		for (uint32_t i = 0; i < c.n; i++)
			if (c.iv[i] > max_iv)
				max_iv = c.iv[i];
		if (c.n <= q->points) {
			if (setup_direct(&c) < 0)
				goto fail_oom;
			c.step_ms = c.n ? c.iv[c.n - 1] : max_iv;
		} else {
			int64_t step = (q->to_ms - q->from_ms + q->points - 1) / q->points;

			/* at least two intervals wide: no bucket is empty from jitter alone */
			if (step < 2 * (int64_t)max_iv)
				step = 2 * (int64_t)max_iv;
			if (step > 1000)
				step = (step + 999) / 1000 * 1000; /* whole seconds read better */
			if (setup_buckets(&c, step) < 0)
				goto fail_oom;
		}
		for (uint32_t m = 0; m < q->n_metrics; m++)
			read_raw_series(&c, m);
	} else {
		int64_t res = (int64_t)pwh_tier_res_s[c.tier] * 1000;
		int64_t step = (q->to_ms - q->from_ms + q->points - 1) / q->points;

		step = (step + res - 1) / res * res;
		if (setup_buckets(&c, step) < 0)
			goto fail_oom;
		for (uint32_t m = 0; m < q->n_metrics; m++)
			read_aggs(&c, m);
	}
	read_pending(&c);
	if (c.err)
		goto fail_sql;
	write_json(&c, out);
	if (out->oom)
		goto fail_oom;
	goto out;
fail_oom:
	put_error(out, "out of memory");
	status = 503;
	goto out;
fail_sql:
	snprintf(err, sizeof(err), "history database %s cannot be read: %s", h->path,
		 sqlite3_errstr(c.err ? c.err : sqlite3_errcode(c.db)));
	put_error(out, err);
	status = 503;
out:
	sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL);
	ctx_free(&c);
	if (status == 503) {
		/* a fresh connection next time: the file may have been replaced or repaired */
		sqlite3_close_v2(h->rd);
		h->rd = NULL;
	}
	return status;
}

int pw_history_query(struct pw_history *h, const char *query, struct pw_buf *out)
{
	struct pwh_query q;
	char err[PW_ERROR_MAX];
	int64_t now_ms = (int64_t)(pw_clock_ns(CLOCK_REALTIME) / 1000000);
	int status;

	if (!h) {
		put_error(out, "history is off (--no-db)");
		return 503;
	}
	if (pwh_query_parse(query, query ? strlen(query) : 0, now_ms, &q, err, sizeof(err)) < 0) {
		put_error(out, err);
		return 400;
	}
	pthread_mutex_lock(&h->rd_lock);
	if (open_reader(h, err, sizeof(err)) < 0) {
		put_error(out, err);
		status = 503;
	} else {
		status = run(h, &q, now_ms, out);
	}
	pthread_mutex_unlock(&h->rd_lock);
	pwh_query_free(&q);
	return status;
}
