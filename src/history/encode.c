/* SPDX-License-Identifier: MIT */
#include "history/encode.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { TOK_NULL = 0, TOK_ZERO = 1, TOK_ABS = 2, TOK_BASE = 3 };

/* ------------------------------------------------------------ quantization */
/*
 * Sign and magnitude: the magnitude's IEEE bits rounded to PWH_MANT_BITS mantissa bits
 * (rounding carries into the exponent, which is exactly right), then placed either side
 * of PWH_Q_ZERO_DOUBLE. So keys are ordered like the values and 0.0 is one key.
 */
#define MQ_MAX 0x7FEFFFull /* the largest finite double with a 12-bit mantissa, shifted */

uint64_t pwh_q_from_double(double v)
{
	uint64_t b, m, mq;

	memcpy(&b, &v, sizeof(b));
	m = b & ~(1ull << 63);
	mq = (m + (1ull << (PWH_Q_SHIFT - 1))) >> PWH_Q_SHIFT;
	if (mq > MQ_MAX)
		mq = MQ_MAX; /* rounding the largest doubles up would give infinity */
	return (b >> 63) ? PWH_Q_ZERO_DOUBLE - mq : PWH_Q_ZERO_DOUBLE + mq;
}

double pwh_q_to_double(uint64_t q)
{
	uint64_t mq, b;
	double v;

	if (q >= PWH_Q_ZERO_DOUBLE) {
		mq = q - PWH_Q_ZERO_DOUBLE;
		if (mq > MQ_MAX)
			return NAN;
		b = mq << PWH_Q_SHIFT;
	} else {
		mq = PWH_Q_ZERO_DOUBLE - q;
		if (mq > MQ_MAX)
			return NAN;
		b = (mq << PWH_Q_SHIFT) | (1ull << 63);
	}
	memcpy(&v, &b, sizeof(v));
	return v == 0 ? 0.0 : v;
}

double pwh_q_value(enum pwh_kind k, uint64_t q)
{
	return k == PWH_KIND_DOUBLE ? pwh_q_to_double(q) : (double)q;
}

/* ------------------------------------------------------------ varints */
void pwh_put_varint(struct pw_buf *b, uint64_t v)
{
	char tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (char)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (char)v;
	pw_buf_append(b, tmp, n);
}

int pwh_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	const uint8_t *s = *p;
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (s >= end)
			return -EBADMSG;
		if (shift == 63 && *s > 1)
			return -EBADMSG; /* more than 64 bits */
		v |= (uint64_t)(*s & 0x7f) << shift;
		if (!(*s++ & 0x80)) {
			*p = s;
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* ------------------------------------------------------------ columns */
static bool kind_is_dod(uint8_t kind)
{
	return kind == PWH_KIND_COUNTER || kind == PWH_KIND_TIME;
}

void pwh_col_init(struct pwh_col_state *st, enum pwh_kind kind)
{
	st->kind = (uint8_t)kind;
	st->prev = pwh_kind_zero(kind);
	st->prevd = 0;
}

void pwh_col_put(struct pwh_col_state *st, struct pw_buf *out, bool null, uint64_t q)
{
	uint64_t d, x;

	if (null) {
		pwh_put_varint(out, TOK_NULL);
		return;
	}
	if (q == pwh_kind_zero(st->kind)) {
		pwh_put_varint(out, TOK_ZERO);
		return;
	}
	d = q - st->prev;
	x = pwh_zz((int64_t)(kind_is_dod(st->kind) ? d - st->prevd : d));
	if (x > UINT64_MAX - TOK_BASE) {
		pwh_put_varint(out, TOK_ABS);
		pwh_put_varint(out, q);
	} else {
		pwh_put_varint(out, x + TOK_BASE);
	}
	st->prevd = d;
	st->prev = q;
}

int pwh_col_get(struct pwh_col_state *st, const uint8_t **p, const uint8_t *end, bool *null, uint64_t *q)
{
	uint64_t x, d, v;

	if (pwh_get_varint(p, end, &x) < 0)
		return -EBADMSG;
	if (x == TOK_NULL) {
		*null = true;
		*q = 0;
		return 0;
	}
	*null = false;
	if (x == TOK_ZERO) {
		*q = pwh_kind_zero(st->kind);
		return 0;
	}
	if (x == TOK_ABS) {
		if (pwh_get_varint(p, end, &v) < 0)
			return -EBADMSG;
		d = v - st->prev;
	} else {
		d = (uint64_t)pwh_unzz(x - TOK_BASE);
		if (kind_is_dod(st->kind))
			d += st->prevd;
		v = st->prev + d;
	}
	st->prevd = d;
	st->prev = v;
	*q = v;
	return 0;
}

void pwh_col_header(struct pw_buf *out, enum pwh_kind kind, uint32_t first_idx, uint32_t count)
{
	pwh_put_varint(out, kind);
	pwh_put_varint(out, first_idx);
	pwh_put_varint(out, count);
}

int pwh_col_open(struct pwh_col_reader *r, const uint8_t *p, const uint8_t *end)
{
	uint64_t kind, first, count;

	if (pwh_get_varint(&p, end, &kind) < 0 || kind > PWH_KIND_MAX ||
	    pwh_get_varint(&p, end, &first) < 0 || first > UINT32_MAX ||
	    pwh_get_varint(&p, end, &count) < 0 || count > UINT32_MAX - first ||
	    count > (uint64_t)(end - p)) /* every token is at least one byte */
		return -EBADMSG;
	pwh_col_init(&r->st, (enum pwh_kind)kind);
	r->first_idx = (uint32_t)first;
	r->count = (uint32_t)count;
	r->read = 0;
	r->p = p;
	r->end = end;
	return 0;
}

int pwh_col_next(struct pwh_col_reader *r, bool *null, uint64_t *q)
{
	if (r->read >= r->count)
		return -EBADMSG;
	r->read++;
	return pwh_col_get(&r->st, &r->p, r->end, null, q);
}

/* ------------------------------------------------------------ blobs */
struct pwh_packer {
	z_stream z;
};

int pwh_packer_new(struct pwh_packer **ret)
{
	struct pwh_packer *pk = calloc(1, sizeof(*pk));

	if (!pk)
		return -ENOMEM;
	/* a small window and memLevel: columns are a few KiB, and the daemon stays small */
	if (deflateInit2(&pk->z, 6, Z_DEFLATED, -13, 6, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(pk);
		return -ENOMEM;
	}
	*ret = pk;
	return 0;
}

void pwh_packer_free(struct pwh_packer *pk)
{
	if (!pk)
		return;
	deflateEnd(&pk->z);
	free(pk);
}

int pwh_blob_pack(struct pwh_packer *pk, const uint8_t *payload, size_t len, struct pw_buf *out)
{
	size_t bound, start;
	int zr;

	pw_buf_clear(out);
	if (len > PWH_BLOB_MAX)
		return -E2BIG;
	if (pk && len > 16) {
		pw_buf_append(out, "\1", 1);
		pwh_put_varint(out, len);
		bound = deflateBound(&pk->z, len);
		if (pw_buf_reserve(out, bound) < 0)
			return -ENOMEM;
		start = out->len;
		deflateReset(&pk->z);
		pk->z.next_in = (Bytef *)(uintptr_t)payload;
		pk->z.avail_in = (uInt)len;
		pk->z.next_out = (Bytef *)out->data + start;
		pk->z.avail_out = (uInt)bound;
		zr = deflate(&pk->z, Z_FINISH);
		if (zr == Z_STREAM_END && start + pk->z.total_out < 1 + len) {
			out->len = start + pk->z.total_out;
			out->data[out->len] = '\0';
			return 0;
		}
		pw_buf_clear(out);
	}
	pw_buf_append(out, "\0", 1);
	pw_buf_append(out, (const char *)payload, len);
	return out->oom ? -ENOMEM : 0;
}

int pwh_blob_unpack(const uint8_t *blob, size_t len, struct pw_buf *out)
{
	const uint8_t *p = blob + 1, *end = blob + len;
	uint64_t size;
	z_stream z;
	int zr;

	pw_buf_clear(out);
	if (len < 1)
		return -EBADMSG;
	if (blob[0] == 0) {
		pw_buf_append(out, (const char *)p, len - 1);
		return out->oom ? -ENOMEM : 0;
	}
	if (blob[0] != 1 || pwh_get_varint(&p, end, &size) < 0 || size > PWH_BLOB_MAX)
		return -EBADMSG;
	if (pw_buf_reserve(out, size) < 0)
		return -ENOMEM;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)(end - p);
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)size;
	zr = inflate(&z, Z_FINISH);
	if (zr != Z_STREAM_END || z.total_out != size) {
		inflateEnd(&z);
		return -EBADMSG;
	}
	inflateEnd(&z);
	out->len = size;
	out->data[size] = '\0';
	return 0;
}

/* ------------------------------------------------------------ time column */
int pwh_times_decode(const uint8_t *payload, size_t len, struct pwh_times *ret)
{
	const uint8_t *p = payload, *end = payload + len;
	struct pwh_col_reader r;
	uint64_t interval, q;
	int64_t *t;
	bool null;

	if (pwh_get_varint(&p, end, &interval) < 0 || interval > UINT32_MAX || pwh_col_open(&r, p, end) < 0 ||
	    r.st.kind != PWH_KIND_TIME || r.first_idx != 0)
		return -EBADMSG;
	t = malloc(((size_t)r.count + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < r.count; i++) {
		if (pwh_col_next(&r, &null, &q) < 0 || null || q > INT64_MAX) {
			free(t);
			return -EBADMSG;
		}
		t[i] = (int64_t)q;
	}
	ret->interval_ms = (uint32_t)interval;
	ret->n = r.count;
	ret->t_ms = t;
	return 0;
}

void pwh_times_free(struct pwh_times *t)
{
	if (!t)
		return;
	free(t->t_ms);
	t->t_ms = NULL;
	t->n = 0;
}

/* ------------------------------------------------------------ aggregates */
static void put_col_d(struct pw_buf *out, const struct pwh_agg *a, uint32_t n, size_t off)
{
	struct pwh_col_state st;

	pwh_col_header(out, PWH_KIND_DOUBLE, 0, n);
	pwh_col_init(&st, PWH_KIND_DOUBLE);
	for (uint32_t i = 0; i < n; i++) {
		double v;

		memcpy(&v, (const char *)&a[i] + off, sizeof(v));
		pwh_col_put(&st, out, !isfinite(v), isfinite(v) ? pwh_q_from_double(v) : 0);
	}
}

void pwh_aggs_encode(struct pw_buf *out, uint32_t res_s, const struct pwh_agg *a, uint32_t n)
{
	struct pwh_col_state st;

	pwh_put_varint(out, res_s);
	pwh_put_varint(out, n);
	pwh_col_header(out, PWH_KIND_GAUGE, 0, n);
	pwh_col_init(&st, PWH_KIND_GAUGE);
	for (uint32_t i = 0; i < n; i++)
		pwh_col_put(&st, out, false, (uint64_t)(a[i].t_s / (int64_t)(res_s ? res_s : 1)));
	put_col_d(out, a, n, offsetof(struct pwh_agg, mean));
	put_col_d(out, a, n, offsetof(struct pwh_agg, min));
	put_col_d(out, a, n, offsetof(struct pwh_agg, max));
	pwh_col_header(out, PWH_KIND_GAUGE, 0, n);
	pwh_col_init(&st, PWH_KIND_GAUGE);
	for (uint32_t i = 0; i < n; i++)
		pwh_col_put(&st, out, false, a[i].n);
}

static int get_col(const uint8_t **p, const uint8_t *end, uint32_t n, enum pwh_kind kind, struct pwh_agg *a,
		   size_t off)
{
	struct pwh_col_reader r;
	uint64_t q;
	bool null;

	if (pwh_col_open(&r, *p, end) < 0 || r.st.kind != kind || r.first_idx != 0 || r.count != n)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		if (pwh_col_next(&r, &null, &q) < 0)
			return -EBADMSG;
		if (kind == PWH_KIND_DOUBLE) {
			double v = null ? NAN : pwh_q_to_double(q);

			memcpy((char *)&a[i] + off, &v, sizeof(v));
		} else {
			if (null)
				return -EBADMSG;
			memcpy((char *)&a[i] + off, &q, sizeof(q));
		}
	}
	*p = r.p;
	return 0;
}

int pwh_aggs_decode(const uint8_t *payload, size_t len, uint32_t *ret_res, struct pwh_agg **ret, uint32_t *ret_n)
{
	const uint8_t *p = payload, *end = payload + len;
	uint64_t res, n;
	struct pwh_agg *a;

	if (pwh_get_varint(&p, end, &res) < 0 || res == 0 || res > 86400 * 366 || pwh_get_varint(&p, end, &n) < 0 ||
	    n > (uint64_t)(end - p))
		return -EBADMSG;
	a = calloc(n ? n : 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (get_col(&p, end, (uint32_t)n, PWH_KIND_GAUGE, a, offsetof(struct pwh_agg, t_s)) < 0 ||
	    get_col(&p, end, (uint32_t)n, PWH_KIND_DOUBLE, a, offsetof(struct pwh_agg, mean)) < 0 ||
	    get_col(&p, end, (uint32_t)n, PWH_KIND_DOUBLE, a, offsetof(struct pwh_agg, min)) < 0 ||
	    get_col(&p, end, (uint32_t)n, PWH_KIND_DOUBLE, a, offsetof(struct pwh_agg, max)) < 0 ||
	    get_col(&p, end, (uint32_t)n, PWH_KIND_GAUGE, a, offsetof(struct pwh_agg, n)) < 0) {
		free(a);
		return -EBADMSG;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t slot;

		memcpy(&slot, &a[i].t_s, sizeof(slot));
		if (slot > (uint64_t)INT64_MAX / res) {
			free(a);
			return -EBADMSG;
		}
		a[i].t_s = (int64_t)(slot * res);
	}
	*ret_res = (uint32_t)res;
	*ret_n = (uint32_t)n;
	if (n == 0) {
		free(a);
		a = NULL;
	}
	*ret = a;
	return 0;
}

void pwh_agg_merge(struct pwh_agg *a, const struct pwh_agg *b)
{
	uint64_t n = a->n + b->n;

	if (b->n == 0)
		return;
	if (a->n == 0) {
		*a = *b;
		return;
	}
	a->mean = (a->mean * (double)a->n + b->mean * (double)b->n) / (double)n;
	if (b->min < a->min || isnan(a->min))
		a->min = b->min;
	if (b->max > a->max || isnan(a->max))
		a->max = b->max;
	a->n = n;
}

/* ------------------------------------------------------------ pending rows */
void pwh_row_encode(struct pw_buf *out, const struct pwh_item *items, uint32_t n)
{
	uint32_t prev = 0;

	pwh_put_varint(out, n);
	for (uint32_t i = 0; i < n; i++) {
		pwh_put_varint(out, items[i].id - prev);
		prev = items[i].id;
		if (items[i].null) {
			pwh_put_varint(out, 0);
		} else {
			pwh_put_varint(out, 1);
			pwh_put_varint(out, items[i].q);
		}
	}
}

int pwh_row_decode(const uint8_t *p, size_t len, int (*fn)(void *ctx, const struct pwh_item *it), void *ctx)
{
	const uint8_t *end = p + len;
	uint64_t n, d, tag, id = 0;
	struct pwh_item it;
	int r;

	if (pwh_get_varint(&p, end, &n) < 0 || n > len)
		return -EBADMSG;
	for (uint64_t i = 0; i < n; i++) {
		if (pwh_get_varint(&p, end, &d) < 0 || pwh_get_varint(&p, end, &tag) < 0 || tag > 1)
			return -EBADMSG;
		id += d;
		if (id > UINT32_MAX || (i > 0 && d == 0))
			return -EBADMSG;
		it.id = (uint32_t)id;
		it.null = tag == 0;
		it.q = 0;
		if (tag == 1 && pwh_get_varint(&p, end, &it.q) < 0)
			return -EBADMSG;
		r = fn(ctx, &it);
		if (r)
			return r;
	}
	return p == end ? 0 : -EBADMSG;
}
