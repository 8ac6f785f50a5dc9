/* SPDX-License-Identifier: MIT */
/*
 * How history samples are packed: pure functions over byte buffers, no SQLite.
 *
 * Every stored value is a u64 "q":
 *  - u64 fields (counters, byte gauges) are stored exactly;
 *  - doubles are quantized to 12 explicit mantissa bits (relative error <= 2^-13, about
 *    1.2e-4, i.e. 4 significant digits) and mapped to an integer that grows with the
 *    value, so that nearby values have nearby keys (pwh_q_from_double()).
 *
 * A column is a stream of varint tokens, one per sample:
 *   0 null, 1 zero, 2 absolute (a varint q follows), 3+x the zigzag delta x (delta mode)
 *   or delta-of-delta x (dod mode) against the last nonzero value.
 * Zeros do not move the reference, so a series that idles at 0 between bursts of similar
 * size stays cheap. All arithmetic is modulo 2^64: every u64 round-trips, going backwards
 * included. Blobs of columns are then deflated (raw deflate) when that is smaller.
 */
#ifndef PW_HISTORY_ENCODE_H
#define PW_HISTORY_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* What a series holds; stored in the series table, so the numbers never change. */
enum pwh_kind {
	PWH_KIND_GAUGE = 0,   /* u64, exact, delta coded (memory bytes, connection counts) */
	PWH_KIND_COUNTER = 1, /* u64, exact, delta-of-delta coded (totals since boot) */
	PWH_KIND_DOUBLE = 2,  /* double, quantized, delta coded (percentages, rates) */
	PWH_KIND_TIME = 3,    /* u64 milliseconds, delta-of-delta (the time column) */
	PWH_KIND_MAX = 3,
};

#define PWH_MANT_BITS 12
#define PWH_Q_SHIFT (52 - PWH_MANT_BITS)
#define PWH_Q_ZERO_DOUBLE (1ull << 24) /* the key of 0.0 */
/* Decoded blobs are never larger than this: a corrupt row cannot make us allocate more. */
#define PWH_BLOB_MAX (16u << 20)

uint64_t pwh_q_from_double(double v); /* v finite */
double pwh_q_to_double(uint64_t q);
static inline uint64_t pwh_kind_zero(enum pwh_kind k) { return k == PWH_KIND_DOUBLE ? PWH_Q_ZERO_DOUBLE : 0; }
/* The value a q stands for, as a double (NAN for a q out of range for doubles). */
double pwh_q_value(enum pwh_kind k, uint64_t q);

/* ------------------------------------------------------------ varints */
static inline uint64_t pwh_zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t pwh_unzz(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }
void pwh_put_varint(struct pw_buf *b, uint64_t v);
/* 0, or -EBADMSG when the buffer ends or the varint is longer than 10 bytes. */
int pwh_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret);

/* ------------------------------------------------------------ columns */
struct pwh_col_state {
	uint8_t kind;
	uint64_t prev;  /* last nonzero value */
	uint64_t prevd; /* last delta (dod mode) */
};

void pwh_col_init(struct pwh_col_state *st, enum pwh_kind kind);
void pwh_col_put(struct pwh_col_state *st, struct pw_buf *out, bool null, uint64_t q);
/* 0 with null and q set; -EBADMSG on garbage or the end of the buffer. */
int pwh_col_get(struct pwh_col_state *st, const uint8_t **p, const uint8_t *end, bool *null, uint64_t *q);

/*
 * A column payload: varint kind, varint first_idx, varint count, then count tokens
 * (sample i of the chunk is token i - first_idx; outside [first_idx, first_idx+count) null).
 */
void pwh_col_header(struct pw_buf *out, enum pwh_kind kind, uint32_t first_idx, uint32_t count);
struct pwh_col_reader {
	struct pwh_col_state st;
	uint32_t first_idx, count, read;
	const uint8_t *p, *end;
};
int pwh_col_open(struct pwh_col_reader *r, const uint8_t *p, const uint8_t *end);
/* The value of sample idx (idx must grow by one each call from first_idx on, or use
 * pwh_col_read_all()). */
int pwh_col_next(struct pwh_col_reader *r, bool *null, uint64_t *q);

/* ------------------------------------------------------------ blobs */
/*
 * A stored blob: one byte format (0 plain, 1 raw deflate) then, for deflate, a varint of
 * the payload's size and the compressed payload. pwh_blob_pack() picks the smaller.
 */
struct pwh_packer; /* a deflate stream kept for a whole seal */
int pwh_packer_new(struct pwh_packer **ret);
void pwh_packer_free(struct pwh_packer *pk);
int pwh_blob_pack(struct pwh_packer *pk, const uint8_t *payload, size_t len, struct pw_buf *out);
/* Fills out (cleared first) with the payload; -EBADMSG for a malformed blob. */
int pwh_blob_unpack(const uint8_t *blob, size_t len, struct pw_buf *out);

/* ------------------------------------------------------------ time column */
/* Payload: varint interval_ms, then a column of kind TIME (first_idx 0). */
struct pwh_times {
	uint32_t interval_ms;
	uint32_t n;
	int64_t *t_ms; /* n entries, owned */
};
int pwh_times_decode(const uint8_t *payload, size_t len, struct pwh_times *ret);
void pwh_times_free(struct pwh_times *t);

/* ------------------------------------------------------------ aggregates */
/* One roll-up entry of the minute or hour tier. */
struct pwh_agg {
	int64_t t_s; /* start of the minute or hour, unix seconds */
	double mean, min, max;
	uint64_t n; /* samples behind it */
};

/* Payload: varint res_s, varint n, then five columns: slot (t_s / res_s), mean, min,
 * max (doubles) and n. */
void pwh_aggs_encode(struct pw_buf *out, uint32_t res_s, const struct pwh_agg *a, uint32_t n);
/* *ret (n entries) is malloc'ed; *ret_n may be 0 with *ret NULL. */
int pwh_aggs_decode(const uint8_t *payload, size_t len, uint32_t *ret_res, struct pwh_agg **ret, uint32_t *ret_n);
/* Adds b into a (same slot). */
void pwh_agg_merge(struct pwh_agg *a, const struct pwh_agg *b);

/* ------------------------------------------------------------ pending rows */
/* One snapshot as journaled in the pending table: ids ascending. */
struct pwh_item {
	uint32_t id;
	bool null;
	uint64_t q;
};
void pwh_row_encode(struct pw_buf *out, const struct pwh_item *items, uint32_t n);
/* Calls fn for each item in order; stops with its nonzero return. -EBADMSG on garbage. */
int pwh_row_decode(const uint8_t *p, size_t len, int (*fn)(void *ctx, const struct pwh_item *it), void *ctx);

#endif
