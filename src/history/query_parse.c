/* SPDX-License-Identifier: MIT */
#include "history/query.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/metrics.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding ('+' is a space, as forms and URLSearchParams write it). */
static int url_decode(const char *s, size_t n, char *out, size_t cap, size_t *ret_len)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			if (c == '\0')
				return -EINVAL;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (w + 1 >= cap)
			return -E2BIG;
		out[w++] = c;
	}
	out[w] = '\0';
	*ret_len = w;
	return 0;
}

static int parse_time(const char *s, size_t n, int64_t now_ms, int64_t *ret)
{
	char buf[40], *end;
	bool rel = false;
	double v, mult = 1000;
	size_t i = 0, digits = 0, dots = 0;

	if (n == 3 && !memcmp(s, "now", 3)) {
		*ret = now_ms;
		return 0;
	}
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	if (s[0] == '-') {
		rel = true;
		i = 1;
	}
	for (; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && !dots)
			dots++;
		else
			break;
	}
	if (!digits)
		return -EINVAL;
	if (i < n) {
		if (!rel || i != n - 1)
			return -EINVAL; /* a unit only on relative times, and only one letter */
		switch (s[i]) {
		case 's': mult = 1000; break;
		case 'm': mult = 60e3; break;
		case 'h': mult = 3600e3; break;
		case 'd': mult = 86400e3; break;
		case 'w': mult = 7 * 86400e3; break;
		default: return -EINVAL;
		}
	}
	memcpy(buf, s + (rel ? 1 : 0), i - (rel ? 1 : 0));
	buf[i - (rel ? 1 : 0)] = '\0';
	v = strtod(buf, &end);
	if (*end || !isfinite(v))
		return -EINVAL;
	v *= mult;
	if (v > 1e14) /* past the year 5000 either way */
		return -ERANGE;
	*ret = rel ? now_ms - (int64_t)llround(v) : (int64_t)llround(v);
	return 0;
}

static int add_metric(struct pwh_query *q, const char *raw, size_t n, char *err, size_t errlen)
{
	char name[PWH_PATH_MAX + 1];
	enum pwh_kind kind;
	size_t len;
	int rc;

	rc = url_decode(raw, n, name, sizeof(name), &len);
	if (rc < 0) {
		snprintf(err, errlen, rc == -E2BIG ? "metrics: a name is too long" : "metrics: bad %%-escape in '%.*s'",
			 (int)(n > 100 ? 100 : n), raw);
		return -EINVAL;
	}
	if (pwh_metric_check(name, len, &kind, err, errlen) < 0)
		return -EINVAL;
	for (uint32_t i = 0; i < q->n_metrics; i++)
		if (!strcmp(q->metrics[i], name))
			return 0; /* asked twice: answered once */
	if (q->n_metrics == PWH_QUERY_MAX_METRICS) {
		snprintf(err, errlen, "metrics: at most %d per query", PWH_QUERY_MAX_METRICS);
		return -EINVAL;
	}
	q->metrics[q->n_metrics] = strndup(name, len);
	if (!q->metrics[q->n_metrics]) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	q->kinds[q->n_metrics++] = (uint8_t)kind;
	return 0;
}

static int parse_metrics(struct pwh_query *q, const char *v, size_t n, char *err, size_t errlen)
{
	size_t start = 0;

	if (n == 0) {
		snprintf(err, errlen, "metrics: empty");
		return -EINVAL;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ',')
			continue;
		if (i == start) {
			snprintf(err, errlen, "metrics: empty name in the list");
			return -EINVAL;
		}
		if (add_metric(q, v + start, i - start, err, errlen) < 0)
			return -EINVAL;
		start = i + 1;
	}
	return 0;
}

static int parse_points(const char *v, size_t n, uint32_t *ret)
{
	uint64_t x = 0;

	if (n == 0 || n > 6)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x < 1 || x > PWH_QUERY_MAX_POINTS)
		return -EINVAL;
	*ret = (uint32_t)x;
	return 0;
}

void pwh_query_free(struct pwh_query *q)
{
	for (uint32_t i = 0; i < q->n_metrics; i++)
		free(q->metrics[i]);
	memset(q, 0, sizeof(*q));
}

static bool key_is(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && !memcmp(k, name, kn);
}

int pwh_query_parse(const char *qs, size_t len, int64_t now_ms, struct pwh_query *ret, char *err, size_t errlen)
{
	struct pwh_query q = { 0 };
	bool have_from = false, have_to = false, have_points = false;
	size_t i = 0;

	q.points = PWH_QUERY_DEFAULT_POINTS;
	q.to_ms = now_ms;
	if (!qs)
		len = 0;
	if (len > PWH_QUERY_MAX_LEN) {
		snprintf(err, errlen, "query string longer than %d bytes", PWH_QUERY_MAX_LEN);
		return -EINVAL;
	}
	while (i < len) {
		const char *k = qs + i, *amp = memchr(k, '&', len - i), *eq;
		size_t n = amp ? (size_t)(amp - k) : len - i, kn;
		const char *v;
		size_t vn;
		char tv[48];
		size_t tvn;

		i += n + 1;
		if (n == 0)
			continue;
		eq = memchr(k, '=', n);
		kn = eq ? (size_t)(eq - k) : n;
		v = eq ? eq + 1 : k + n;
		vn = eq ? n - kn - 1 : 0;
		if (key_is(k, kn, "metrics")) {
			if (parse_metrics(&q, v, vn, err, errlen) < 0)
				goto fail;
		} else if (key_is(k, kn, "from") || key_is(k, kn, "to")) {
			bool is_from = kn == 4;
			bool *have = is_from ? &have_from : &have_to;
			int rc;

			if (*have) {
				snprintf(err, errlen, "%s given twice", is_from ? "from" : "to");
				goto fail;
			}
			*have = true;
			rc = url_decode(v, vn, tv, sizeof(tv), &tvn);
			if (rc == 0)
				rc = parse_time(tv, tvn, now_ms, is_from ? &q.from_ms : &q.to_ms);
			if (rc < 0) {
				snprintf(err, errlen, "%s: '%.*s' is not a time (unix seconds, 'now', or relative like "
					 "-3600, -90m, -24h, -7d)", is_from ? "from" : "to", (int)(vn > 40 ? 40 : vn), v);
				goto fail;
			}
		} else if (key_is(k, kn, "points")) {
			if (have_points) {
				snprintf(err, errlen, "points given twice");
				goto fail;
			}
			have_points = true;
			if (parse_points(v, vn, &q.points) < 0) {
				snprintf(err, errlen, "points: '%.*s' is not a whole number from 1 to %d",
					 (int)(vn > 20 ? 20 : vn), v, PWH_QUERY_MAX_POINTS);
				goto fail;
			}
		}
		/* anything else (a token, a cache buster) is not ours */
	}
	if (q.n_metrics == 0) {
		snprintf(err, errlen, "metrics: required, e.g. metrics=cpu.usage_percent,memory.used_bytes");
		goto fail;
	}
	if (!have_from)
		q.from_ms = q.to_ms - PWH_QUERY_DEFAULT_RANGE_MS;
	if (q.from_ms < 0 || q.to_ms < 0) {
		snprintf(err, errlen, "range: before 1970");
		goto fail;
	}
	if (q.from_ms >= q.to_ms) {
		snprintf(err, errlen, "range: from must be before to");
		goto fail;
	}
	if (q.to_ms - q.from_ms > PWH_QUERY_MAX_RANGE_MS) {
		snprintf(err, errlen, "range: longer than 20 years");
		goto fail;
	}
	if ((uint64_t)q.n_metrics * q.points > PWH_QUERY_MAX_VALUES) {
		snprintf(err, errlen, "too many values: %u metrics x %u points (at most %d)", q.n_metrics, q.points,
			 PWH_QUERY_MAX_VALUES);
		goto fail;
	}
	*ret = q;
	return 0;
fail:
	pwh_query_free(&q);
	return -EINVAL;
}
