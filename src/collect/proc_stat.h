/* SPDX-License-Identifier: MIT */
/*
 * /proc/stat: CPU times (the "cpu" line and one "cpuN" line per online CPU), the
 * interrupt total ("intr") and context switches ("ctxt"), and the percentages computed
 * from two samples the way psutil 5.9 computes them on Linux.
 */
#ifndef PW_PROC_STAT_H
#define PW_PROC_STAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* The columns of a cpu line, in kernel order (Documentation/filesystems/proc.rst). */
enum pw_cpu_time_field {
	PW_CT_USER,
	PW_CT_NICE,
	PW_CT_SYSTEM,
	PW_CT_IDLE,
	PW_CT_IOWAIT,  /* Linux 2.5.41 */
	PW_CT_IRQ,     /* 2.6.0 */
	PW_CT_SOFTIRQ, /* 2.6.0 */
	PW_CT_STEAL,   /* 2.6.11 */
	PW_CT_GUEST,   /* 2.6.24: already counted in user */
	PW_CT_GUEST_NICE, /* 2.6.33: already counted in nice */
	PW_CT_NUM
};

/* A kernel older than 2.5.41 prints the first four columns only. */
#define PW_CT_MIN 4

struct pw_cpu_times {
	uint64_t t[PW_CT_NUM]; /* clock ticks; columns the kernel does not print are 0 */
};

struct pw_proc_stat_cpu {
	uint32_t id; /* N of "cpuN" */
	struct pw_cpu_times times;
};

/* One parsed sample. Its array is reused from one parse to the next. */
struct pw_proc_stat {
	uint32_t n_fields; /* columns of the "cpu" line, PW_CT_MIN..PW_CT_NUM */
	struct pw_cpu_times total;
	uint32_t n_cpus; /* online CPUs: the kernel prints a cpuN line only for those */
	uint32_t cap_cpus;
	struct pw_proc_stat_cpu *cpus; /* ids strictly increasing, as the kernel prints them */
	uint64_t intr; /* interrupts since boot: the first number of "intr" */
	uint64_t ctxt; /* context switches since boot */
};

/*
 * Parses the text of /proc/stat into st (whose contents are unspecified on failure).
 * Returns 0; -EBADMSG for text that is not /proc/stat (empty, truncated, garbage, a
 * cpuN line with fewer columns than the cpu line, ids out of order); -ERANGE for a number
 * over UINT64_MAX; -ENOMEM. err (may be NULL) gets the reason on failure.
 */
int proc_stat_parse(const char *buf, size_t len, struct pw_proc_stat *st, char *err, size_t errlen);
void proc_stat_free(struct pw_proc_stat *st); /* accepts a zeroed one */

/* Percentages of one cpu line over an interval, as psutil.cpu_times_percent(). */
struct pw_cpu_pct {
	double field[PW_CT_NUM]; /* NAN for columns the kernel does not print */
	double busy;             /* psutil.cpu_percent(): 100 - idle - iowait */
};

/*
 * psutil semantics: each column's delta over the sum of all deltas except guest and
 * guest_nice (they are already inside user and nice). A column that went backwards
 * counts as 0 (iowait does on NO_HZ kernels; psutil and top do the same), but a line
 * whose total went backwards, or did not move at all, gives NAN everywhere.
 */
void pw_cpu_times_percent(const struct pw_cpu_times *prev, const struct pw_cpu_times *cur,
			  uint32_t n_fields, struct pw_cpu_pct *ret);

/*
 * Fills c (keeping its arrays, growing them when needed) from the sample cur and the
 * previous sample prev (NULL on the first one), dt_s seconds apart: percentages, per
 * core (matched by CPU id, so a CPU that came online since prev reads null), interrupts
 * and their rate, context switches, CPUs online. The overall percentages are null when
 * the set of online CPUs changed in between: the kernel's totals jump on hot-plug.
 * Leaves frequency and temperature alone. 0 or -ENOMEM.
 */
int proc_stat_fill_cpu(const struct pw_proc_stat *prev, const struct pw_proc_stat *cur, double dt_s,
		       struct pw_cpu *c);

#endif
