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
int64_t pwh_prune_cutoff_ms(const struct pwh_retention *ret, uint32_t tier, int64_t now_s)
{
	return (now_s - ret->keep_s[tier] - (int64_t)pwh_tier_window_s[tier]) * 1000;
}

/* The first t0 of (tier, series) into *ret (INT64_MAX: no chunk); a SQLite code. */
static int oldest_of(struct pwh_pruner *p, uint32_t tier, uint32_t id, int64_t *ret)
{
	sqlite3_stmt *st = p->st_oldest;
	int rc;

	sqlite3_bind_int(st, 1, (int)tier);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : INT64_MAX;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int pwh_pruner_load(struct pwh_pruner *p, uint32_t max_id)
{
	int rc = p->st_oldest ? SQLITE_OK : SQLITE_MISUSE;

	p->active = false;
	for (uint32_t t = 0; t < PWH_N_TIERS; t++) {
		p->oldest_ms[t] = INT64_MAX;
		for (uint32_t id = 0; id <= max_id && rc == SQLITE_OK; id++) {
			int64_t o;

			rc = oldest_of(p, t, id, &o);
			if (rc == SQLITE_OK && o < p->oldest_ms[t])
				p->oldest_ms[t] = o;
		}
	}
	if (rc == SQLITE_OK)
		return 0;
	for (uint32_t t = 0; t < PWH_N_TIERS; t++)
		p->oldest_ms[t] = INT64_MIN; /* unknown: the first sweep finds out */
	return rc == SQLITE_FULL ? -ENOSPC : -EIO;
}

void pwh_pruner_saw(struct pwh_pruner *p, uint32_t tier, int64_t t0_ms)
{
	if (tier >= PWH_N_TIERS)
		return;
	if (t0_ms < p->oldest_ms[tier])
		p->oldest_ms[tier] = t0_ms;
	if (p->active && p->tier == tier && t0_ms < p->sweep_oldest_ms)
		p->sweep_oldest_ms = t0_ms; /* maybe into a series the sweep has passed */
}

/* Starts a sweep of the first tier whose cutoff passed its oldest chunk; false: none. */
static bool start_sweep(struct pwh_pruner *p, const struct pwh_retention *ret, int64_t now_s)
{
	for (uint32_t t = 0; t < PWH_N_TIERS; t++) {
		if (pwh_prune_cutoff_ms(ret, t, now_s) > p->oldest_ms[t]) {
			p->tier = t;
			p->next_id = 0;
			p->sweep_oldest_ms = INT64_MAX;
			p->active = true;
			return true;
		}
	}
	return false;
}

int pwh_prune_step(sqlite3 *db, struct pwh_pruner *p, const struct pwh_retention *ret, int64_t now_s,
		   uint32_t max_id, uint32_t pairs, uint32_t batch)
{
	struct pwh_pruner saved = *p;
	sqlite3_stmt *st = p->st_delete;
	int deleted = 0, rc;

	if (!p->active && !start_sweep(p, ret, now_s))
		return 0;
	if (!st || !p->st_oldest) {
		*p = saved;
		return -EIO;
	}
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	while (rc == SQLITE_OK && pairs-- > 0 && p->active) {
		int64_t oldest;
		int n;

		sqlite3_bind_int(st, 1, (int)p->tier);
		sqlite3_bind_int64(st, 2, p->next_id);
		sqlite3_bind_int64(st, 3, pwh_prune_cutoff_ms(ret, p->tier, now_s));
		sqlite3_bind_int(st, 4, (int)batch);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
		rc = SQLITE_OK;
		n = sqlite3_changes(db);
		deleted += n;
		if ((uint32_t)n >= batch)
			continue; /* more of this series next time */
		rc = oldest_of(p, p->tier, p->next_id, &oldest);
		if (rc != SQLITE_OK)
			break;
		if (oldest < p->sweep_oldest_ms)
			p->sweep_oldest_ms = oldest;
		if (++p->next_id > max_id) {
			p->oldest_ms[p->tier] = p->sweep_oldest_ms;
			p->active = false;
			start_sweep(p, ret, now_s); /* the next tier due, if any */
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		*p = saved; /* the same step again next time */
		return (rc & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
	}
	return deleted;
}
