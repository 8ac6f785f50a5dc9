/* SPDX-License-Identifier: MIT */
/*
 * The one helper every rate in PerfWatch comes from: two raw samples of a monotonically
 * increasing counter and the time between them. The answer is null (NAN) on the first
 * sample and when the counter went backwards (a reset, a wrap, a device that came back),
 * never a made-up 0.
 */
#ifndef PW_RATE_H
#define PW_RATE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

/* dt_s <= 0 or not finite means "no previous sample". */
static inline double pw_rate(uint64_t prev, uint64_t cur, double dt_s)
{
	if (!(dt_s > 0) || !isfinite(dt_s) || cur < prev)
		return NAN;
	return (double)(cur - prev) / dt_s;
}

/* Delta of a counter; false when it went backwards. */
static inline bool pw_delta(uint64_t prev, uint64_t cur, uint64_t *ret)
{
	if (cur < prev)
		return false;
	*ret = cur - prev;
	return true;
}

/* Seconds between two CLOCK_MONOTONIC readings in ns; NAN when there was no first one. */
static inline double pw_dt_s(uint64_t prev_ns, uint64_t now_ns)
{
	if (!prev_ns || now_ns <= prev_ns)
		return NAN;
	return (double)(now_ns - prev_ns) / 1e9;
}

#endif
