/* SPDX-License-Identifier: MIT */
/* libFuzzer: the decoders of stored history rows (a damaged or hostile database or journal file). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "history/encode.h"
#include "history/journal.h"

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

static int journal_row(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	size_t items = 0;

	(void)ctx, (void)t_ms, (void)interval_ms;
	pwh_row_decode(row, len, count, &items);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_buf out = { 0 };
	uint64_t id, gen;

	decode_payload(data, size);
	/* as the journal file: its records' rows go to the row decoder */
	if (pwh_journal_parse(data, size, &id, &gen, journal_row, NULL) > (long)size)
		abort();
	/* and as a stored blob: plain or deflated, then every decoder on what comes out */
	if (pwh_blob_unpack(data, size, &out) == 0)
		decode_payload((const uint8_t *)out.data, out.len);
	pw_buf_free(&out);
	return 0;
}
