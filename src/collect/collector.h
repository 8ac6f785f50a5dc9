/* SPDX-License-Identifier: MIT */
/*
 * A collector fills its sections of a snapshot. The runner (runner.c) runs a collector
 * whose calls can block (may_block) in a thread of its own with a deadline, unless it
 * says that this time they cannot (blocks_now), and the others one after another in the
 * caller's thread: waking a thread costs more than most collectors do. A collector works
 * on a private snapshot and the runner moves its sections into the published one only
 * when it finished in time, so a late collector can never write into a snapshot that
 * outputs are reading.
 */
#ifndef PW_COLLECTOR_H
#define PW_COLLECTOR_H

#include <stddef.h>

#include "options.h"
#include "snapshot.h"

/* Where collectors read from: directory fds of the proc and sys roots. */
struct pw_env {
	int proc_fd;
	int sys_fd;
	const struct pw_options *opts;
};

int pw_env_open(struct pw_env *env, const struct pw_options *opts, char *err, size_t errlen);
void pw_env_close(struct pw_env *env);

enum pw_section {
	PW_SEC_CPU = 1u << 0,
	PW_SEC_MEMORY = 1u << 1,
	PW_SEC_NETWORK = 1u << 2,
	PW_SEC_DISK = 1u << 3,
	PW_SEC_PERF = 1u << 4, /* never null: on failure available=false with the reason */
	PW_SEC_BPF = 1u << 5,
};

/* When a collection was due (CLOCK_MONOTONIC), and the interval to the next ones. */
struct pw_tick {
	uint64_t at_ns;
	uint64_t interval_ns;
};

struct collector {
	const char *name;   /* the key in "errors" */
	unsigned sections;  /* enum pw_section bits it fills */
	size_t state_size;  /* zeroed state handed to every call */
	/* Once, before the first collect. A failure makes every snapshot carry the error. */
	int (*init)(void *state, const struct pw_env *env, char *err, size_t errlen);
	/*
	 * Fills its sections of out (a private snapshot of the collector's own, reused from
	 * one call to the next, so arrays stay allocated). Returns 0, or a negative errno
	 * with the reason in err; then its sections become null in the published snapshot.
	 */
	int (*collect)(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen);
	void (*destroy)(void *state); /* accepts a state whose init failed */
	/*
	 * Optional: called on the runner's thread at the start of each collection, before any
	 * collector runs, to ask for what should be ready when its collect runs (the perf
	 * collector asks each CPU for a reading at its next context switch). tick is when
	 * this collection was due and when the next ones will be, or NULL when the caller
	 * keeps no schedule. Never blocks.
	 */
	void (*begin)(void *state, const struct pw_tick *tick);
	/*
	 * Its calls can block for long (statvfs() on a dead network mount): it runs in a
	 * thread of its own, and a late run makes its sections null instead of holding up
	 * the snapshot. Reads of procfs, sysfs, BPF maps and netlink do not block.
	 */
	bool may_block;
	/*
	 * Optional, with may_block: asked on the runner's thread before each collection
	 * (while its own thread is idle). false says nothing this collection will call can
	 * block, and it runs in the runner's thread like the others: waking its thread, and
	 * waiting for it, costs more than the work. Never blocks.
	 */
	bool (*blocks_now)(void *state);
};

/* The collectors of a normal run, in the order their errors are listed. */
extern const struct collector *const pw_collectors[];
extern const size_t pw_n_collectors;

#endif
