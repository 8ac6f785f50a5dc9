/* SPDX-License-Identifier: MIT */
#ifndef PW_DAEMON_H
#define PW_DAEMON_H

#include <signal.h>
#include <stdint.h>

#include "collect/collector.h"
#include "options.h"
#include "output/output.h"

struct pw_history;

struct pw_daemon {
	const struct pw_options *opts;
	struct pw_env env;
	uint64_t start_mono_ns;
	double start_time;
	struct pw_history *history; /* set by the history output when it runs; else NULL */
	volatile sig_atomic_t stop;
};

/* Runs until SIGINT/SIGTERM (daemon) or until --count snapshots were printed (--json). */
int pw_daemon_run(const struct pw_options *opts);

#endif
