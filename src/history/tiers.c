/* SPDX-License-Identifier: MIT */
#include "history/tiers.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pwh_tier_names[PWH_N_TIERS] = { "raw", "minute", "hour" };
const uint32_t pwh_tier_res_s[PWH_N_TIERS] = { 0, 60, 3600 };
const uint32_t pwh_tier_window_s[PWH_N_TIERS] = { 3600, 3600, 86400 };

/* ------------------------------------------------------------ retention */
static int parse_duration(const char *s, size_t len, int64_t *ret)
{
	uint64_t v = 0, mult;
	size_t i = 0;

	if (len < 2)
		return -EINVAL;
	for (; i < len - 1; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 100000000)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -EINVAL;
	switch (s[len - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default: return -EINVAL;
	}
	v *= mult;
	if (v < 60 || v > 20ull * 366 * 86400)
		return -ERANGE;
	*ret = (int64_t)v;
	return 0;
}

int pwh_retention_parse(const char *spec, struct pwh_retention *ret, char *err, size_t errlen)
{
	struct pwh_retention r = { .keep_s = { 24 * 3600, 14 * 86400, 365 * 86400 } };
	bool seen[PWH_N_TIERS] = { false };
	const char *p = spec;

	while (p && *p) {
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int t, rc;

		eq = memchr(p, '=', len);
		if (!eq) {
			snprintf(err, errlen, "--retention: '%.*s' is not TIER=DURATION (e.g. raw=24h)", (int)len, p);
			return -EINVAL;
		}
		for (t = 0; t < PWH_N_TIERS; t++)
			if (strlen(pwh_tier_names[t]) == (size_t)(eq - p) && !memcmp(p, pwh_tier_names[t], (size_t)(eq - p)))
				break;
		if (t == PWH_N_TIERS) {
			snprintf(err, errlen, "--retention: unknown tier '%.*s' (raw, minute, hour)", (int)(eq - p), p);
			return -EINVAL;
		}
		if (seen[t]) {
			snprintf(err, errlen, "--retention: %s given twice", pwh_tier_names[t]);
			return -EINVAL;
		}
		seen[t] = true;
		rc = parse_duration(eq + 1, len - (size_t)(eq + 1 - p), &r.keep_s[t]);
		if (rc < 0) {
			snprintf(err, errlen,
				 rc == -ERANGE ? "--retention: %s=%.*s is out of range (1m to 20 years)"
					       : "--retention: %s=%.*s is not a duration like 90m, 24h, 14d, 52w",
				 pwh_tier_names[t], (int)(len - (size_t)(eq + 1 - p)), eq + 1);
			return -EINVAL;
		}
		p = end ? end + 1 : NULL;
		if (end && !*p) {
			snprintf(err, errlen, "--retention: trailing comma");
			return -EINVAL;
		}
	}
	*ret = r;
	return 0;
}

/* ------------------------------------------------------------ roll-ups */
int pwh_rollup_flush(struct pwh_rollup *r)
{
	if (r->cur.n == 0)
		return 0;
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 64;
		struct pwh_agg *v = realloc(r->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->cur.mean /= (double)r->cur.n;
	r->v[r->n++] = r->cur;
	r->cur.n = 0;
	return 0;
}

int pwh_rollup_add(struct pwh_rollup *r, int64_t slot_s, double v)
{
	if (r->cur.n && r->cur.t_s != slot_s && pwh_rollup_flush(r) < 0)
		return -ENOMEM;
	if (r->cur.n == 0) {
		r->cur.t_s = slot_s;
		r->cur.mean = v;
		r->cur.min = r->cur.max = v;
		r->cur.n = 1;
		return 0;
	}
	r->cur.mean += v;
	if (v < r->cur.min)
		r->cur.min = v;
	if (v > r->cur.max)
		r->cur.max = v;
	r->cur.n++;
	return 0;
}

void pwh_rollup_reset(struct pwh_rollup *r)
{
	r->n = 0;
	r->cur.n = 0;
}

void pwh_rollup_free(struct pwh_rollup *r)
{
	if (!r)
		return;
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static int cmp_agg(const void *a, const void *b)
{
	const struct pwh_agg *x = a, *y = b;

	return (x->t_s > y->t_s) - (x->t_s < y->t_s);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int pwh_aggs_regroup(const struct pwh_agg *in, uint32_t n, uint32_t res_s, struct pwh_agg **ret, uint32_t *ret_n)
{
	struct pwh_agg *out = NULL;
	uint32_t nout = 0;

	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	out = malloc((size_t)n * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct pwh_agg a = in[i];

		a.t_s = floor_div(a.t_s, res_s) * res_s;
		out[nout++] = a;
	}
	qsort(out, nout, sizeof(*out), cmp_agg);
	/* combine runs of the same slot in place */
	uint32_t w = 0;
	for (uint32_t i = 0; i < nout; i++) {
		if (w > 0 && out[w - 1].t_s == out[i].t_s)
			pwh_agg_merge(&out[w - 1], &out[i]);
		else
			out[w++] = out[i];
	}
	*ret = out;
	*ret_n = w;
	return 0;
}

int pwh_aggs_merge_into(struct pwh_agg **a, uint32_t *na, const struct pwh_agg *b, uint32_t nb)
{
	struct pwh_agg *v;
	uint32_t n = *na, w = 0;

	if (nb == 0)
		return 0;
	v = realloc(*a, ((size_t)n + nb) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v + n, b, (size_t)nb * sizeof(*v));
	n += nb;
	qsort(v, n, sizeof(*v), cmp_agg); /* stable enough: equal slots are merged below */
	for (uint32_t i = 0; i < n; i++) {
		if (w > 0 && v[w - 1].t_s == v[i].t_s)
			pwh_agg_merge(&v[w - 1], &v[i]);
		else
			v[w++] = v[i];
	}
	*a = v;
	*na = w;
	return 0;
}

/* ------------------------------------------------------------ retention */
int pwh_prune_step(sqlite3 *db, struct pwh_pruner *p, const struct pwh_retention *ret, int64_t now_s,
		   uint32_t max_id, uint32_t pairs, uint32_t batch)
{
	static const char sql[] =
		"DELETE FROM chunk WHERE id IN "
		"(SELECT id FROM chunk WHERE tier=?1 AND series=?2 AND t0<?3 ORDER BY t0 LIMIT ?4)";
	sqlite3_stmt *st = NULL;
	int deleted = 0, rc;

	if (!p->active)
		return 0;
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	while (pairs-- > 0 && p->active) {
		/* a chunk goes when all of its window is older than the retention */
		int64_t cutoff_ms = (now_s - ret->keep_s[p->tier] - (int64_t)pwh_tier_window_s[p->tier]) * 1000;

		sqlite3_bind_int(st, 1, (int)p->tier);
		sqlite3_bind_int64(st, 2, p->next_id);
		sqlite3_bind_int64(st, 3, cutoff_ms);
		sqlite3_bind_int(st, 4, (int)batch);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			return rc == SQLITE_FULL ? -ENOSPC : -EIO;
		}
		deleted += sqlite3_changes(db);
		if ((uint32_t)sqlite3_changes(db) >= batch)
			continue; /* more of this series next time */
		if (++p->next_id > max_id) {
			p->next_id = 0;
			if (++p->tier == PWH_N_TIERS) {
				p->tier = 0;
				p->active = false;
			}
		}
	}
	sqlite3_finalize(st);
	return deleted;
}
