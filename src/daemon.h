/* SPDX-License-Identifier: MIT */
#ifndef PW_DAEMON_H
#define PW_DAEMON_H

#include <signal.h>
#include <stdint.h>

#include "collect/collector.h"
#include "options.h"
#include "output/output.h"

struct pw_history;

/* Per-stage CPU time of the last cycle, in ns: PerfWatch's own cost. */
struct pw_self_cost {
	uint64_t collect_cpu_ns;   /* all collector threads together */
	uint64_t json_cpu_ns;
	uint64_t outputs_cpu_ns[8];
	uint64_t cycle_cpu_ns;     /* process CPU of the whole cycle */
	uint64_t rss_bytes;
};

struct pw_daemon {
	const struct pw_options *opts;
	struct pw_env env;
	uint64_t start_mono_ns;
	double start_time;
	struct pw_history *history; /* set by the history output when it runs; else NULL */
	struct pw_self_cost cost;
	volatile sig_atomic_t stop;
};

/* Runs until SIGINT/SIGTERM (daemon) or until --count snapshots were printed (--json). */
int pw_daemon_run(const struct pw_options *opts);

#endif
