/* SPDX-License-Identifier: MIT */
/*
 * Matches `perf stat -I` intervals to snapshot intervals.
 *
 * perf prints one group of lines per interval, every line of a group carrying the same
 * timestamp (seconds since perf started counting). A group is complete when every one
 * of our events has a line in it, or when a line with a later timestamp arrives, or when
 * the stream ends (perf prints a last, shorter interval when it is stopped). Complete
 * groups are summed until the snapshot takes them.
 *
 * The first interval of a perf is dropped: with -a perf opens its counters enabled and
 * only then takes the time its timestamps count from, so the first interval holds the
 * counts of perf's own start-up as well (measured here: 536 msec of cpu-clock in a
 * 0.096 s first interval on 2 CPUs, under load). Its enabled times are right, but lines
 * without them would not be, and it is perf's start-up that is measured.
 *
 * The snapshot interval and perf's intervals do not share boundaries: perf runs with an
 * -I several times shorter than the snapshot interval, and a snapshot takes the complete
 * intervals received since the previous one. Those cover a little more or less time than
 * the snapshot interval, so each count is scaled by (the snapshot interval) / (time the
 * summed intervals cover): the count over the snapshot interval, at the rate measured
 * over the most recent complete perf intervals.
 *
 * "The time an interval covers" is the kernel's, not perf's timestamp: perf takes the
 * timestamp, then reads the counters, and a perf that is kept off the CPU between the two
 * (a busy machine) prints counts for a longer time than its timestamps say; over a short
 * window that error is large (measured here: 3844 msec of cpu-clock for a 1 s snapshot on
 * 2 CPUs). Each line carries the counter's run time and the percentage it ran, hence its
 * enabled time, which the kernel measured at the very reads the count comes from; summed
 * over the CPUs, divided by their number, it is the interval's length. The timestamps are
 * the fallback for lines without those columns.
 *
 * perf has already scaled each count for multiplexing (time_enabled / time_running); the
 * share of its enabled time a counter ran is reported as running_ratio.
 */
#ifndef PW_PERFSTAT_WINDOW_H
#define PW_PERFSTAT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "perf/perfstat_parse.h"
#include "snapshot.h"

struct pw_perfstat_acc {
	double sum;        /* the event's counts over the complete intervals it was counted in */
	double counted_s;  /* how long those intervals were */
	double run_ns;     /* time it ran, summed over CPUs */
	double enabled_ns; /* time it was enabled (including intervals it was not counted in) */
	bool running_unknown; /* some line had no run time or percentage */
	bool msec;         /* perf printed the unit "msec" */
	bool not_supported;
	bool not_counted;
};

/* What a snapshot takes: the complete intervals since the previous take. */
struct pw_perfstat_take {
	unsigned n_intervals;
	double covered_s;
	struct pw_perfstat_acc acc[PW_PERF_NUM_EVENTS];
};

struct pw_perfstat_group_event {
	unsigned n_counted, n_not_supported, n_not_counted;
	double sum, run_ns, enabled_ns;
	bool times_unknown; /* a counted line without run time and percentage */
	bool msec;
};

struct pw_perfstat_window {
	unsigned n_cpus;     /* CPUs perf counts on (-a: those online at its start); 0: unknown */
	bool drop_first;     /* set by init: the stream starts at perf's start */
	bool group_open;
	double group_ts;
	unsigned group_seen; /* how many of our events have a line in the open group */
	struct pw_perfstat_group_event group[PW_PERF_NUM_EVENTS];
	double last_ts;      /* end of the last complete interval; 0 = perf's start */
	bool last_taken;     /* the interval that ended at last_ts was already taken */
	struct pw_perfstat_take pending;
	uint64_t n_late;     /* lines for an interval already taken, or out of order */
	uint64_t n_foreign;  /* lines for an event that is not one of ours */
	uint64_t n_dropped;  /* first intervals dropped */
};

/*
 * For a perf that starts now (again: its timestamps begin at 0) counting on n_cpus CPUs
 * (0: unknown, timestamps are used). Its first interval will be dropped: clear drop_first
 * afterwards to take a stream from its middle (fixtures).
 */
void pw_perfstat_window_init(struct pw_perfstat_window *w, unsigned n_cpus);
/* A line, for the event its name says (pw_perfstat_event_index()). */
void pw_perfstat_window_add(struct pw_perfstat_window *w, const struct pw_perfstat_record *rec);
/* A line for event e (an index of pw_perf_event_names; -1: not one of ours). */
void pw_perfstat_window_add_event(struct pw_perfstat_window *w, const struct pw_perfstat_record *rec, int e);
/* The stream ended (perf exited): the group being received is complete. */
void pw_perfstat_window_flush(struct pw_perfstat_window *w);
/* Moves the complete intervals into *ret and starts summing anew. */
void pw_perfstat_window_take(struct pw_perfstat_window *w, struct pw_perfstat_take *ret);

/*
 * Fills out->events, out->available and out->error from what a snapshot took, scaled
 * to span_s (the snapshot interval; not finite or <= 0: unscaled).
 * has_hw_pmu: whether the machine has a CPU PMU at all, for the reason given for
 * unsupported events. Does not touch out->source.
 */
void pw_perfstat_fill(const struct pw_perfstat_take *t, double span_s, bool has_hw_pmu, struct pw_perf *out);

#endif
