/* SPDX-License-Identifier: MIT */
/*
 * Counts of counting perf events over an interval, with the semantics of `perf stat -a`:
 * per CPU, the delta of the counter is scaled by delta(time_enabled)/delta(time_running)
 * (an event multiplexed with others was on the PMU only part of the time), and the
 * scaled per-CPU deltas are summed. The running ratio reported is the sum of running
 * over the sum of enabled, as perf prints it ("(62.50%)").
 */
#ifndef PW_PERF_SCALE_H
#define PW_PERF_SCALE_H

#include <stdbool.h>
#include <stdint.h>

/* One reading of one event on one CPU (bpf_perf_event_read_value or read(2)). */
struct pw_pmu_reading {
	uint64_t counter;
	uint64_t enabled; /* ns */
	uint64_t running; /* ns */
};

struct pw_scaled_sum {
	double value;      /* sum of the scaled per-CPU deltas */
	uint64_t enabled;  /* sum of delta enabled */
	uint64_t running;  /* sum of delta running */
	uint32_t cpus;     /* CPUs added */
	bool backwards;    /* a reading went backwards (event replaced): the sum is unknown */
};

/* Adds one CPU's interval (prev -> cur). */
void pw_scaled_sum_add(struct pw_scaled_sum *s, const struct pw_pmu_reading *prev,
		       const struct pw_pmu_reading *cur);

/*
 * The interval's count: NAN when unknown (a reading went backwards, nothing was added, or
 * the event was enabled but never on the PMU: perf's "<not counted>").
 */
double pw_scaled_sum_value(const struct pw_scaled_sum *s);

/* running / enabled in [0, 1]; NAN when the event was never enabled in the interval. */
double pw_scaled_sum_ratio(const struct pw_scaled_sum *s);

#endif
