/* SPDX-License-Identifier: MIT */
/* Tiers: --retention, roll-ups (mean/min/max), the tier a query picks, pruning. */
#include <errno.h>
#include <inttypes.h>

#include "history/store.h"
#include "history/tiers.h"
#include "test_history_util.h"

TestSuite(history_tiers, .init = th_setup, .fini = th_teardown);

struct ret_case {
	const char *spec;
	int64_t raw, minute, hour; /* 0: refused */
	const char *why;
};

Test(history_tiers, retention_specs)
{
	static const struct ret_case cases[] = {
		{ NULL, 86400, 14 * 86400, 365 * 86400, NULL },
		{ "", 86400, 14 * 86400, 365 * 86400, NULL },
		{ "raw=24h,minute=14d,hour=365d", 86400, 14 * 86400, 365 * 86400, NULL },
		{ "raw=2h", 7200, 14 * 86400, 365 * 86400, NULL },
		{ "hour=52w,raw=90m", 5400, 14 * 86400, 52 * 7 * 86400, NULL },
		{ "minute=3600s", 86400, 3600, 365 * 86400, NULL },
		{ "raw=1m", 60, 14 * 86400, 365 * 86400, NULL },
		{ "raw", 0, 0, 0, "not TIER=DURATION" },
		{ "raw=", 0, 0, 0, "not a duration" },
		{ "raw=24", 0, 0, 0, "not a duration" },
		{ "raw=h", 0, 0, 0, "not a duration" },
		{ "raw=24x", 0, 0, 0, "not a duration" },
		{ "raw=-1h", 0, 0, 0, "not a duration" },
		{ "raw=1.5h", 0, 0, 0, "not a duration" },
		{ "raw=30s", 0, 0, 0, "out of range" },
		{ "hour=100000w", 0, 0, 0, "out of range" },
		{ "raw=99999999999999999999d", 0, 0, 0, "not a duration" },
		{ "second=1h", 0, 0, 0, "unknown tier 'second'" },
		{ "raw=1h,raw=2h", 0, 0, 0, "given twice" },
		{ "raw=1h,", 0, 0, 0, "trailing comma" },
		{ ",raw=1h", 0, 0, 0, "not TIER=DURATION" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ret_case *c = &cases[i];
		struct pwh_retention r;
		char err[256] = "";
		int rc = pwh_retention_parse(c->spec, &r, err, sizeof(err));

		if (!c->why) {
			cr_assert_eq(rc, 0, "%s: %s", c->spec, err);
			cr_assert_eq(r.keep_s[PWH_TIER_RAW], c->raw, "%s", c->spec);
			cr_assert_eq(r.keep_s[PWH_TIER_MINUTE], c->minute, "%s", c->spec);
			cr_assert_eq(r.keep_s[PWH_TIER_HOUR], c->hour, "%s", c->spec);
		} else {
			cr_assert_eq(rc, -EINVAL, "%s", c->spec);
			cr_assert(strstr(err, c->why), "'%s': '%s' does not say '%s'", c->spec, err, c->why);
			cr_assert(strstr(err, "--retention"), "%s", err);
		}
	}
}

Test(history_tiers, a_bad_retention_fails_the_open)
{
	struct pw_history *h = NULL;
	char err[256];

	cr_assert_eq(pw_history_open(&h, th_db, "raw=forever", err, sizeof(err)), -EINVAL);
	cr_assert_null(h);
	cr_assert_neq(access(th_db, F_OK), 0, "nothing created");
}

Test(history_tiers, rollup_of_one_series)
{
	struct pwh_rollup r = { 0 };
	struct pwh_agg *hours;
	uint32_t nh;

	/* three minutes: 1..4, nothing, 10, then one sample in the next hour */
	for (int i = 1; i <= 4; i++)
		cr_assert_eq(pwh_rollup_add(&r, 3600 * 100, i), 0);
	cr_assert_eq(pwh_rollup_add(&r, 3600 * 100 + 120, 10), 0);
	cr_assert_eq(pwh_rollup_add(&r, 3600 * 101, -5), 0);
	cr_assert_eq(pwh_rollup_flush(&r), 0);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.v[0].t_s, 3600 * 100);
	cr_assert_eq(r.v[0].mean, 2.5);
	cr_assert_eq(r.v[0].min, 1);
	cr_assert_eq(r.v[0].max, 4);
	cr_assert_eq(r.v[0].n, 4);
	cr_assert_eq(r.v[1].mean, 10);
	cr_assert_eq(r.v[2].mean, -5);

	cr_assert_eq(pwh_aggs_regroup(r.v, r.n, 3600, &hours, &nh), 0);
	cr_assert_eq(nh, 2);
	cr_assert_eq(hours[0].t_s, 3600 * 100);
	cr_assert_eq(hours[0].mean, 4.0, "(1+2+3+4+10)/5, weighted by samples: %g", hours[0].mean);
	cr_assert_eq(hours[0].min, 1);
	cr_assert_eq(hours[0].max, 10);
	cr_assert_eq(hours[0].n, 5);
	cr_assert_eq(hours[1].t_s, 3600 * 101);
	cr_assert_eq(hours[1].min, -5);

	/* merging into what a day chunk already holds: the same hour combines */
	struct pwh_agg more = { 3600 * 101, 5, 5, 5, 1 };
	cr_assert_eq(pwh_aggs_merge_into(&hours, &nh, &more, 1), 0);
	cr_assert_eq(nh, 2);
	cr_assert_eq(hours[1].mean, 0);
	cr_assert_eq(hours[1].max, 5);
	cr_assert_eq(hours[1].n, 2);
	struct pwh_agg earlier = { 3600 * 99, 7, 7, 7, 3 };
	cr_assert_eq(pwh_aggs_merge_into(&hours, &nh, &earlier, 1), 0);
	cr_assert_eq(nh, 3);
	cr_assert_eq(hours[0].t_s, 3600 * 99, "kept in order");
	free(hours);

	pwh_rollup_reset(&r);
	cr_assert_eq(pwh_rollup_flush(&r), 0);
	cr_assert_eq(r.n, 0);
	pwh_rollup_free(&r);
	pwh_rollup_free(NULL);
}

/* Fills [t0, now) every 5 s with v = i % 12 (so every full minute is 0..11) and, from the
 * second half on, a second metric that only exists then. */
static int fill(struct pw_history *h, double t0, double now)
{
	struct snapshot s;
	int i;

	snapshot_init(&s);
	for (i = 0; t0 + i * 5 < now; i++) {
		th_snap(&s, t0 + i * 5, 5, (double)(i % 12), (uint64_t)(i % 12) * 1000);
		pw_history_insert(h, &s);
		cr_assert_null(pw_history_status(h), "%s", pw_history_status(h));
	}
	snapshot_free(&s);
	return i;
}

static char qs[512];

Test(history_tiers, minute_tier_answers_when_raw_is_not_kept)
{
	double now = th_now(), t0 = floor(now / 3600) * 3600 - 3 * 3600;
	struct pw_history *h = th_open("raw=1m");
	static double t[400], v[400], mn[400], mx[400];
	const char *json;
	int n, full = 0;

	fill(h, t0, now);
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent,memory.used_bytes&points=180", t0,
		 t0 + 3 * 3600);
	json = th_query(h, qs, 200);
	cr_assert(strstr(json, "\"step\":60,\"tier\":\"minute\",\"bucketed\":true"), "%.300s", json);
	n = th_array(json, "cpu.usage_percent", "t", t, 400);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "v", v, 400), n);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "min", mn, 400), n);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "max", mx, 400), n);
	cr_assert_geq(n, 180);
	for (int i = 0; i < 180; i++) { /* the minute after is the one under way */
		cr_assert_eq(t[i], t0 + 60 * i, "buckets start on the minute");
		if (isnan(v[i]))
			continue;
		full++;
		cr_assert_eq(v[i], 5.5, "minute %d: mean %g", i, v[i]);
		cr_assert_eq(mn[i], 0);
		cr_assert_eq(mx[i], 11);
	}
	cr_assert_geq(full, 179, "every minute of the three hours is there (%d)", full);
	cr_assert_eq(th_array(json, "memory.used_bytes", "v", v, 400), n);
	cr_assert_eq(v[5], 5500);
	pw_history_close(h);
}

Test(history_tiers, hour_tier_answers_for_long_ranges_and_includes_the_open_hour)
{
	double now = th_now(), t0 = floor(now / 3600) * 3600 - 3 * 3600;
	struct pw_history *h = th_open("raw=1m,minute=1m");
	double t[16], v[16], mn[16], mx[16];
	const char *json;
	int n;

	fill(h, t0, now);
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.per_core.0&points=4", t0, now);
	json = th_query(h, qs, 200);
	cr_assert(strstr(json, "\"step\":3600,\"tier\":\"hour\""), "%s", json);
	n = th_array(json, "cpu.per_core.0", "t", t, 16);
	cr_assert_eq(th_array(json, "cpu.per_core.0", "v", v, 16), n);
	cr_assert_eq(th_array(json, "cpu.per_core.0", "min", mn, 16), n);
	cr_assert_eq(th_array(json, "cpu.per_core.0", "max", mx, 16), n);
	cr_assert_eq(n, 4, "%s", json);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(t[i], t0 + 3600 * i);
		cr_assert_eq(v[i], 5.5, "hour %d: %g", i, v[i]);
		cr_assert_eq(mn[i], 0);
		cr_assert_eq(mx[i], 11);
	}
	/* the hour now under way is still pending: it shows too, unless it only just began */
	if (now - (t0 + 3 * 3600) >= 60)
		cr_assert_eq(mx[3], 11, "%s", json);
	pw_history_close(h);
}

Test(history_tiers, raw_buckets_have_exact_extremes)
{
	double now = th_now(), t0 = floor(now / 60) * 60 - 1800;
	struct pw_history *h = th_open(NULL);
	double v[64], mn[64], mx[64];
	const char *json;
	int n;

	fill(h, t0, now);
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent&points=30", t0, t0 + 1800 - 1);
	json = th_query(h, qs, 200);
	cr_assert(strstr(json, "\"step\":60,\"tier\":\"raw\",\"bucketed\":true"), "%.200s", json);
	n = th_array(json, "cpu.usage_percent", "v", v, 64);
	cr_assert_eq(n, 30);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "min", mn, 64), 30);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "max", mx, 64), 30);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(v[i], 5.5);
		cr_assert_eq(mn[i], 0);
		cr_assert_eq(mx[i], 11);
	}
	pw_history_close(h);
}

Test(history_tiers, retention_prunes_old_chunks_in_small_steps)
{
	/* the data ends 50 minutes into an hour: a sweep takes a few inserts per 16 series,
	 * and one that starts at the last hour boundary has 600 inserts left to finish in
	 * (ending at the real time failed when the test ran in the first minute of an hour) */
	double now = floor(th_now() / 3600) * 3600 - 600, t0 = floor(now / 3600) * 3600 - 6 * 3600;
	struct pw_history *h = th_open("raw=1h,minute=3h");
	char sql[256];

	fill(h, t0, now);
	pw_history_close(h);
	/* raw: nothing whose whole hour ended more than 1 h + one window ago */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunk WHERE tier=0 AND t0 < %.0f", (now - 7200 - 3600) * 1000);
	cr_assert_eq(th_sql_count(sql), 0, "old raw chunks pruned");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunk WHERE tier=0 AND series=0");
	cr_assert_leq(th_sql_count(sql), 3);
	cr_assert_geq(th_sql_count(sql), 1, "recent raw kept");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunk WHERE tier=1 AND t0 < %.0f", (now - 3 * 3600 - 3600) * 1000);
	cr_assert_eq(th_sql_count(sql), 0, "old minute chunks pruned");
	cr_assert_geq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=1 AND series=1"), 3);
	cr_assert_geq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=2 AND series=1"), 1, "hours kept a year");
	cr_assert_eq(th_sql_count("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check='ok'"), 1);
}

Test(history_tiers, the_tier_follows_the_range)
{
	double now = th_now(), t0 = floor(now / 3600) * 3600 - 2 * 3600;
	struct pw_history *h = th_open(NULL);
	const char *json;

	fill(h, t0, now);
	json = th_query(h, "from=-1h&metrics=cpu.user&points=1000", 200);
	cr_assert(strstr(json, "\"tier\":\"raw\",\"bucketed\":false"), "%.200s", json);
	json = th_query(h, "from=-24h&metrics=cpu.user&points=1000", 200);
	cr_assert(strstr(json, "\"tier\":\"raw\",\"bucketed\":true"), "%.200s", json);
	json = th_query(h, "from=-7d&metrics=cpu.user&points=1000", 200);
	cr_assert(strstr(json, "\"tier\":\"minute\""), "%.200s", json);
	json = th_query(h, "from=-30d&metrics=cpu.user&points=1000", 200);
	cr_assert(strstr(json, "\"tier\":\"hour\""), "%.200s", json);
	json = th_query(h, "from=-3000d&metrics=cpu.user&points=100", 200);
	cr_assert(strstr(json, "\"tier\":\"hour\""), "%.200s", json);
	/* a 24 h range in only 2 points: 8640 snapshots a point is too many for raw */
	json = th_query(h, "from=-24h&metrics=cpu.user&points=2", 200);
	cr_assert(strstr(json, "\"tier\":\"minute\""), "%.200s", json);
	pw_history_close(h);
}

/* ------------------------------------------------------------ pruning costs nothing until due */
static int count_stmt(unsigned type, void *ctx, void *p, void *x)
{
	(void)type;
	(void)p;
	(void)x;
	(*(int *)ctx)++;
	return 0;
}

/* Inserts one snapshot at t; returns how many SQL statements the writer ran for it. */
static int insert_counting(struct pw_history *h, struct snapshot *s, double t, int i)
{
	int n = 0;

	sqlite3_trace_v2(h->db, SQLITE_TRACE_STMT, count_stmt, &n);
	th_snap(s, t, 5, (double)(i % 12), (uint64_t)(i % 12) * 1000);
	pw_history_insert(h, s);
	sqlite3_trace_v2(h->db, 0, NULL, NULL);
	cr_assert_null(pw_history_status(h), "%s", pw_history_status(h));
	return n;
}

Test(history_tiers, nothing_expired_means_no_statement_per_insert)
{
	/* from 20 minutes before the hour to 20 after: one seal in between */
	double now = th_now(), t0 = floor(now / 3600) * 3600 - 1200;
	struct pw_history *h = th_open(NULL);
	uint64_t seals;
	struct snapshot s;
	int i;

	snapshot_init(&s);
	insert_counting(h, &s, t0, 0); /* the first one also writes the series */
	seals = h->seals;
	for (i = 1; i < 480; i++) {
		int n = insert_counting(h, &s, t0 + 5 * i, i);

		if (h->seals != seals) {
			seals = h->seals;
			continue; /* the seal's own transaction */
		}
		cr_assert_eq(n, 0, "insert %d ran %d statements: the journal file takes a snapshot, not SQL", i, n);
	}
	cr_assert_eq(h->seals, 1);
	cr_assert_not(h->pruner.active);
	for (int t = 0; t < PWH_N_TIERS; t++)
		cr_assert_lt(h->pruner.oldest_ms[t], INT64_MAX, "tier %d: the sealed chunk is known", t);
	snapshot_free(&s);
	pw_history_close(h);
}

Test(history_tiers, expired_chunks_found_at_open_go_then_inserts_are_plain_again)
{
	double now = th_now(), t0 = floor(now / 3600) * 3600 - 5 * 3600;
	struct pw_history *h = th_open(NULL);
	int64_t cutoff_ms;
	struct snapshot s;
	char sql[256];
	int i, deleted = 0;

	fill(h, t0, now - 600);
	pw_history_close(h);
	cr_assert_geq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=0 AND series=0"), 4);

	/* a shorter retention at the next start: the hours before now - 2 h have expired */
	h = th_open("raw=1h,minute=2h");
	cr_assert_eq(h->pruner.oldest_ms[PWH_TIER_RAW], (int64_t)t0 * 1000, "the oldest chunk read at open");
	snapshot_init(&s);
	for (i = 0; i < 20; i++) {
		int n = insert_counting(h, &s, now - 300 + 5 * i, i);

		if (n > 0)
			deleted++;
		else
			cr_assert_not(h->pruner.active, "a sweep under way runs SQL on every insert");
	}
	cr_assert_geq(deleted, 2, "two tiers swept");
	cr_assert_not(h->pruner.active, "the sweep ended");
	cutoff_ms = pwh_prune_cutoff_ms(&h->retention, PWH_TIER_RAW, (int64_t)now - 300);
	cr_assert_geq(h->pruner.oldest_ms[PWH_TIER_RAW], cutoff_ms);
	snapshot_free(&s);
	pw_history_close(h);

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunk WHERE tier=0 AND t0 < %" PRId64, cutoff_ms);
	cr_assert_eq(th_sql_count(sql), 0, "expired raw chunks removed");
	cr_assert_geq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=0 AND series=0"), 1, "recent raw kept");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM chunk WHERE tier=1 AND t0 < %" PRId64,
		 (int64_t)(now - 300 - 2 * 3600 - 3600) * 1000);
	cr_assert_eq(th_sql_count(sql), 0, "expired minute chunks removed");
	cr_assert_geq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=1 AND series=1"), 1, "recent minutes kept");
	cr_assert_geq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=2 AND series=1"), 1, "hours kept a year");
}
