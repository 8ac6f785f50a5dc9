/* SPDX-License-Identifier: MIT */
#ifndef PW_TIMEUTIL_H
#define PW_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

static inline uint64_t pw_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t pw_mono_ns(void) { return pw_clock_ns(CLOCK_MONOTONIC); }

static inline struct timespec pw_ns_to_ts(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull) };
	return ts;
}

#endif
