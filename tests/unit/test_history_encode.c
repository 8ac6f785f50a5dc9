/* SPDX-License-Identifier: MIT */
/* History packing: varints, quantized doubles, token columns, blobs, roll-ups, journal rows. */
#include <criterion/criterion.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "history/encode.h"

static const uint8_t *bytes(const struct pw_buf *b)
{
	return (const uint8_t *)b->data;
}

Test(history_encode, varint_round_trip)
{
	static const uint64_t cases[] = { 0, 1, 127, 128, 255, 16383, 16384, UINT32_MAX, (uint64_t)1 << 63,
					  UINT64_MAX - 1, UINT64_MAX };
	struct pw_buf b = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		pwh_put_varint(&b, cases[i]);
	const uint8_t *p = bytes(&b), *end = p + b.len;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v;

		cr_assert_eq(pwh_get_varint(&p, end, &v), 0);
		cr_assert_eq(v, cases[i], "case %zu", i);
	}
	cr_assert_eq(p, end);
	pw_buf_free(&b);
}

Test(history_encode, varint_garbage)
{
	static const uint8_t truncated[] = { 0x80, 0x80 };
	static const uint8_t too_long[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
	const uint8_t *p;
	uint64_t v;

	p = truncated;
	cr_assert_eq(pwh_get_varint(&p, truncated + sizeof(truncated), &v), -EBADMSG);
	p = too_long;
	cr_assert_eq(pwh_get_varint(&p, too_long + sizeof(too_long), &v), -EBADMSG);
	p = eleven;
	cr_assert_eq(pwh_get_varint(&p, eleven + sizeof(eleven), &v), -EBADMSG);
	p = truncated;
	cr_assert_eq(pwh_get_varint(&p, truncated, &v), -EBADMSG); /* empty */
}

Test(history_encode, zigzag_extremes)
{
	static const int64_t cases[] = { 0, 1, -1, 2, -2, INT64_MAX, INT64_MIN, INT64_MIN + 1 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(pwh_unzz(pwh_zz(cases[i])), cases[i]);
	cr_assert_eq(pwh_zz(0), 0);
	cr_assert_eq(pwh_zz(-1), 1);
	cr_assert_eq(pwh_zz(1), 2);
}

Test(history_encode, quantized_doubles)
{
	/* exact: small integers, halves, zero; both zeros are one key */
	static const double exact[] = { 0.0, 1.0, -1.0, 2.5, 100.0, 8191.0, -8192.0, 0.25, 2048.5 };

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		cr_assert_eq(pwh_q_to_double(pwh_q_from_double(exact[i])), exact[i], "%g", exact[i]);
	cr_assert_eq(pwh_q_from_double(-0.0), pwh_q_from_double(0.0));
	cr_assert_eq(pwh_q_from_double(0.0), PWH_Q_ZERO_DOUBLE);

	/* relative error at most 2^-13 over a wide range of magnitudes and signs */
	srand(7);
	for (int i = 0; i < 200000; i++) {
		double m = (double)rand() / RAND_MAX, e = (double)(rand() % 600 - 300);
		double v = (rand() & 1 ? -1 : 1) * m * pow(10, e / 10);
		double back = pwh_q_to_double(pwh_q_from_double(v));

		if (v == 0)
			continue;
		cr_assert(fabs(back - v) <= fabs(v) * ldexp(1, -13), "%.17g -> %.17g", v, back);
	}

	/* the extremes stay finite, tiny values stay tiny */
	cr_assert(isfinite(pwh_q_to_double(pwh_q_from_double(DBL_MAX))));
	cr_assert(isfinite(pwh_q_to_double(pwh_q_from_double(-DBL_MAX))));
	cr_assert(pwh_q_to_double(pwh_q_from_double(DBL_MAX)) > 1e307);
	cr_assert_eq(pwh_q_to_double(pwh_q_from_double(DBL_MIN)), DBL_MIN);
	cr_assert(pwh_q_to_double(pwh_q_from_double(5e-324)) >= 0);

	/* keys are ordered like values */
	static const double ordered[] = { -1e300, -5, -1, -1e-300, 0, 1e-300, 0.001, 1, 1.001, 5, 1e300 };
	for (size_t i = 1; i < sizeof(ordered) / sizeof(ordered[0]); i++)
		cr_assert(pwh_q_from_double(ordered[i - 1]) < pwh_q_from_double(ordered[i]), "%g < %g",
			  ordered[i - 1], ordered[i]);

	/* a key out of range decodes as null, never as garbage */
	cr_assert(isnan(pwh_q_to_double(UINT64_MAX)));
	cr_assert(isnan(pwh_q_to_double(0)));
}

struct sample {
	bool null;
	uint64_t q;
};

static void column_round_trip(enum pwh_kind kind, const struct sample *s, size_t n)
{
	struct pw_buf b = { 0 };
	struct pwh_col_state st;
	struct pwh_col_reader r;

	pwh_col_header(&b, kind, 3, (uint32_t)n);
	pwh_col_init(&st, kind);
	for (size_t i = 0; i < n; i++)
		pwh_col_put(&st, &b, s[i].null, s[i].q);
	cr_assert_not(b.oom);
	cr_assert_eq(pwh_col_open(&r, bytes(&b), bytes(&b) + b.len), 0);
	cr_assert_eq(r.first_idx, 3);
	cr_assert_eq(r.count, n);
	for (size_t i = 0; i < n; i++) {
		bool null;
		uint64_t q;

		cr_assert_eq(pwh_col_next(&r, &null, &q), 0, "kind %d sample %zu", kind, i);
		cr_assert_eq(null, s[i].null, "kind %d sample %zu", kind, i);
		if (!null)
			cr_assert_eq(q, s[i].q, "kind %d sample %zu: %llu != %llu", kind, i, (unsigned long long)q,
				     (unsigned long long)s[i].q);
	}
	cr_assert_eq(r.p, bytes(&b) + b.len, "every byte read");
	bool null;
	uint64_t q;
	cr_assert_eq(pwh_col_next(&r, &null, &q), -EBADMSG, "no sample past count");
	pw_buf_free(&b);
}

Test(history_encode, columns_round_trip_every_kind)
{
	static const struct sample tricky[] = {
		{ false, 0 },
		{ false, UINT64_MAX },
		{ false, 0 },
		{ true, 0 },
		{ false, UINT64_MAX },
		{ false, 1 },               /* wraps forward past max */
		{ false, (uint64_t)1 << 63 },
		{ false, 5 },               /* going backwards by almost everything */
		{ false, 4 },               /* counter reset: backwards by one */
		{ true, 0 },
		{ true, 0 },
		{ false, 4 },
		{ false, UINT64_MAX - 1 },
		{ false, 3 },
		{ false, 0 },
		{ false, 123456789012345ull },
		{ false, 123456789012345ull },
	};
	enum pwh_kind kinds[] = { PWH_KIND_GAUGE, PWH_KIND_COUNTER, PWH_KIND_DOUBLE, PWH_KIND_TIME };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		column_round_trip(kinds[k], tricky, sizeof(tricky) / sizeof(tricky[0]));
		column_round_trip(kinds[k], tricky, 0);
	}
}

Test(history_encode, columns_random_walks)
{
	enum { N = 5000 };
	static struct sample s[N];

	srand(11);
	for (int kind = PWH_KIND_GAUGE; kind <= PWH_KIND_TIME; kind++) {
		uint64_t v = (uint64_t)rand() << 20;

		for (int i = 0; i < N; i++) {
			int r = rand() % 100;

			if (r < 5)
				s[i] = (struct sample){ true, 0 };
			else if (r < 10)
				s[i] = (struct sample){ false, pwh_kind_zero(kind) };
			else if (r < 12)
				s[i] = (struct sample){ false, v = ((uint64_t)rand() << 33) ^ (uint64_t)rand() };
			else
				s[i] = (struct sample){ false, v += (uint64_t)(int64_t)(rand() % 2001 - 1000) };
		}
		column_round_trip(kind, s, N);
	}
}

Test(history_encode, doubles_with_nulls_stay_null)
{
	static const double v[] = { 1.5, NAN, 0.0, -0.0, INFINITY, 42.25, -INFINITY, 1e-9, 99.75 };
	struct pw_buf b = { 0 };
	struct pwh_col_state st;
	struct pwh_col_reader r;
	size_t n = sizeof(v) / sizeof(v[0]);

	pwh_col_header(&b, PWH_KIND_DOUBLE, 0, (uint32_t)n);
	pwh_col_init(&st, PWH_KIND_DOUBLE);
	for (size_t i = 0; i < n; i++)
		pwh_col_put(&st, &b, !isfinite(v[i]), isfinite(v[i]) ? pwh_q_from_double(v[i]) : 0);
	cr_assert_eq(pwh_col_open(&r, bytes(&b), bytes(&b) + b.len), 0);
	for (size_t i = 0; i < n; i++) {
		bool null;
		uint64_t q;

		cr_assert_eq(pwh_col_next(&r, &null, &q), 0);
		cr_assert_eq(null, !isfinite(v[i]), "sample %zu", i);
		if (!null) {
			double back = pwh_q_to_double(q);

			cr_assert(fabs(back - v[i]) <= fabs(v[i]) * ldexp(1, -13), "%g -> %g", v[i], back);
			cr_assert_not(signbit(back) && back == 0, "no negative zero");
		}
	}
	pw_buf_free(&b);
}

Test(history_encode, constant_series_cost_one_byte_then_almost_nothing)
{
	struct pw_buf b = { 0 }, blob = { 0 }, back = { 0 };
	struct pwh_col_state st;
	struct pwh_packer *pk;

	pwh_col_init(&st, PWH_KIND_GAUGE);
	for (int i = 0; i < 720; i++)
		pwh_col_put(&st, &b, false, 17179869184ull);
	cr_assert_leq(b.len, 720 + 8, "one token per sample before deflate");
	cr_assert_eq(pwh_packer_new(&pk), 0);
	cr_assert_eq(pwh_blob_pack(pk, bytes(&b), b.len, &blob), 0);
	cr_assert_lt(blob.len, 40, "an hour of a constant packs to a few bytes, got %zu", blob.len);
	cr_assert_eq(pwh_blob_unpack(bytes(&blob), blob.len, &back), 0);
	cr_assert_eq(back.len, b.len);
	cr_assert_eq(memcmp(back.data, b.data, b.len), 0);
	pwh_packer_free(pk);
	pw_buf_free(&b);
	pw_buf_free(&blob);
	pw_buf_free(&back);
}

Test(history_encode, blobs_round_trip_and_reject_garbage)
{
	struct pw_buf blob = { 0 }, back = { 0 };
	struct pwh_packer *pk;
	uint8_t noise[3000];

	srand(3);
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)rand();
	cr_assert_eq(pwh_packer_new(&pk), 0);
	/* incompressible: stored plain */
	cr_assert_eq(pwh_blob_pack(pk, noise, sizeof(noise), &blob), 0);
	cr_assert_eq((uint8_t)blob.data[0], 0);
	cr_assert_eq(pwh_blob_unpack(bytes(&blob), blob.len, &back), 0);
	cr_assert_eq(back.len, sizeof(noise));
	cr_assert_eq(memcmp(back.data, noise, sizeof(noise)), 0);
	/* empty */
	cr_assert_eq(pwh_blob_pack(pk, noise, 0, &blob), 0);
	cr_assert_eq(pwh_blob_unpack(bytes(&blob), blob.len, &back), 0);
	cr_assert_eq(back.len, 0);
	/* no packer: plain */
	cr_assert_eq(pwh_blob_pack(NULL, noise, 100, &blob), 0);
	cr_assert_eq(blob.len, 101);

	/* garbage */
	static const uint8_t bad_format[] = { 7, 1, 2 };
	static const uint8_t huge_size[] = { 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
	static const uint8_t bad_deflate[] = { 1, 10, 0xff, 0xff, 0xff };
	cr_assert_eq(pwh_blob_unpack(bad_format, sizeof(bad_format), &back), -EBADMSG);
	cr_assert_eq(pwh_blob_unpack(huge_size, sizeof(huge_size), &back), -EBADMSG);
	cr_assert_eq(pwh_blob_unpack(bad_deflate, sizeof(bad_deflate), &back), -EBADMSG);
	cr_assert_eq(pwh_blob_unpack(bad_format, 0, &back), -EBADMSG);

	/* a deflated blob that claims a different size */
	memset(noise, 'a', sizeof(noise));
	cr_assert_eq(pwh_blob_pack(pk, noise, sizeof(noise), &blob), 0);
	cr_assert_eq((uint8_t)blob.data[0], 1);
	blob.data[1] ^= 0x01;
	cr_assert_eq(pwh_blob_unpack(bytes(&blob), blob.len, &back), -EBADMSG);
	pwh_packer_free(pk);
	pw_buf_free(&blob);
	pw_buf_free(&back);
}

Test(history_encode, aggregates_round_trip)
{
	struct pwh_agg in[] = {
		{ 1700000040, 12.5, 1.0, 99.0, 12 },
		{ 1700000100, 0.0, 0.0, 0.0, 11 },
		{ 1700000160, NAN, NAN, NAN, 0 },
		{ 1700000280, 1e12, 5e11, 2e12, 1 },
		{ 1700000220, -3.5, -10, 2, UINT64_MAX }, /* out of order is allowed */
	};
	struct pw_buf b = { 0 };
	struct pwh_agg *out;
	uint32_t n, res;

	pwh_aggs_encode(&b, 60, in, 5);
	cr_assert_eq(pwh_aggs_decode(bytes(&b), b.len, &res, &out, &n), 0);
	cr_assert_eq(res, 60);
	cr_assert_eq(n, 5);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(out[i].t_s, in[i].t_s);
		cr_assert_eq(out[i].n, in[i].n);
		if (isnan(in[i].mean)) {
			cr_assert(isnan(out[i].mean));
			continue;
		}
		cr_assert(fabs(out[i].mean - in[i].mean) <= fabs(in[i].mean) * 1.3e-4);
		cr_assert(fabs(out[i].min - in[i].min) <= fabs(in[i].min) * 1.3e-4);
		cr_assert(fabs(out[i].max - in[i].max) <= fabs(in[i].max) * 1.3e-4);
	}
	free(out);
	/* truncated: rejected at every length */
	for (size_t len = 0; len < b.len; len++) {
		out = NULL;
		cr_assert_neq(pwh_aggs_decode(bytes(&b), len, &res, &out, &n), 0, "length %zu", len);
	}
	pw_buf_free(&b);
}

static int collect(void *ctx, const struct pwh_item *it)
{
	struct pwh_item **p = ctx;

	*(*p)++ = *it;
	return 0;
}

Test(history_encode, journal_rows_round_trip)
{
	const struct pwh_item in[] = {
		{ 1, false, 0 }, { 2, true, 0 }, { 3, false, UINT64_MAX }, { 700, false, 42 }, { UINT32_MAX - 1, false, 1 },
	};
	struct pwh_item out[5], *w = out;
	struct pw_buf b = { 0 };

	pwh_row_encode(&b, in, 5);
	cr_assert_eq(pwh_row_decode(bytes(&b), b.len, collect, &w), 0);
	cr_assert_eq(w - out, 5);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(out[i].id, in[i].id);
		cr_assert_eq(out[i].null, in[i].null);
		if (!in[i].null)
			cr_assert_eq(out[i].q, in[i].q);
	}
	for (size_t len = 0; len < b.len; len++) {
		w = out;
		cr_assert_neq(pwh_row_decode(bytes(&b), len, collect, &w), 0, "truncated at %zu", len);
	}
	pw_buf_free(&b);
}

static int count_items(void *ctx, const struct pwh_item *it)
{
	(void)it;
	(*(int *)ctx)++;
	return 0;
}

Test(history_encode, random_garbage_never_crashes)
{
	uint8_t buf[256];
	struct pw_buf out = { 0 };

	srand(99);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf));
		struct pwh_col_reader r;
		struct pwh_times t;
		struct pwh_agg *a = NULL;
		uint32_t n, res;
		int items = 0;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(rand() % 4 ? rand() % 8 : rand());
		if (pwh_col_open(&r, buf, buf + len) == 0) {
			bool null;
			uint64_t q;

			while (pwh_col_next(&r, &null, &q) == 0)
				;
		}
		if (pwh_times_decode(buf, len, &t) == 0)
			pwh_times_free(&t);
		if (pwh_aggs_decode(buf, len, &res, &a, &n) == 0)
			free(a);
		pwh_row_decode(buf, len, count_items, &items);
		pwh_blob_unpack(buf, len, &out);
	}
	pw_buf_free(&out);
}
