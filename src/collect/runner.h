/* SPDX-License-Identifier: MIT */
#ifndef PW_RUNNER_H
#define PW_RUNNER_H

#include <signal.h>
#include <stdint.h>

#include "collect/collector.h"

struct runner;

struct runner_stats {
	uint64_t cpu_ns;   /* thread CPU time of the last run */
	uint64_t wall_ns;
	bool late;
};

int runner_create(struct runner **ret, const struct collector *const *list, size_t n,
		  const struct pw_env *env);
/*
 * Starts the collectors that may block in their threads, runs the others in this
 * thread meanwhile, then waits until the threaded ones are done or deadline_ns
 * (CLOCK_MONOTONIC) passes. Finished collectors' sections are moved into out; a
 * failed or late one's sections are null with the reason in out->errors. tick (or NULL)
 * goes to the collectors' begin().
 */
void runner_collect(struct runner *r, struct snapshot *out, const struct pw_tick *tick, uint64_t deadline_ns);
/*
 * Makes runner_collect() give up waiting early when one of these signals is pending
 * (they are blocked and taken with sigtimedwait by the caller): a stop request is not
 * held up by a late collector. The set must outlive the runner.
 */
void runner_set_interrupt(struct runner *r, const sigset_t *sigs);
size_t runner_count(const struct runner *r);
const char *runner_name(const struct runner *r, size_t i);
struct runner_stats runner_stats(const struct runner *r, size_t i);
void runner_destroy(struct runner *r); /* accepts NULL */

#endif
