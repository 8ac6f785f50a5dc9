/* SPDX-License-Identifier: MIT */
/* libFuzzer: the decoders of stored history rows (a damaged or hostile database file). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "history/encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, const struct pwh_item *it)
{
	(void)it;
	(*(size_t *)ctx)++;
	return 0;
}

static void decode_payload(const uint8_t *p, size_t len)
{
	struct pwh_col_reader r;
	struct pwh_times t;
	struct pwh_agg *a = NULL;
	uint32_t n, res;
	size_t items = 0;

	if (pwh_col_open(&r, p, p + len) == 0) {
		bool null;
		uint64_t q;

		while (pwh_col_next(&r, &null, &q) == 0)
			(void)pwh_q_to_double(q);
	}
	if (pwh_times_decode(p, len, &t) == 0)
		pwh_times_free(&t);
	if (pwh_aggs_decode(p, len, &res, &a, &n) == 0)
		free(a);
	pwh_row_decode(p, len, count, &items);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_buf out = { 0 };

	decode_payload(data, size);
	/* and as a stored blob: plain or deflated, then every decoder on what comes out */
	if (pwh_blob_unpack(data, size, &out) == 0)
		decode_payload((const uint8_t *)out.data, out.len);
	pw_buf_free(&out);
	return 0;
}
