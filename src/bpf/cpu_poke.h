/* SPDX-License-Identifier: MIT */
/*
 * One sleeping thread pinned to each online CPU, so that every CPU switches tasks once
 * per collection. Each switch runs the sched_switch program there, which reads that
 * CPU's perf events when the drain asked for it (bpf/perfwatch.bpf.c). Running the reader
 * program on an idle CPU instead made the caller spin on an IPI until that virtual CPU
 * woke: ~50 µs each on this VM.
 *
 * Two ways to wake them:
 *   - on a schedule (pw_cpu_poke_schedule): each thread sleeps until the next tick
 *     (tick + k * interval) by a timer of its own CPU, stores that tick as the request
 *     (never lowering it) and sleeps again: the switch away from it reads the events.
 *     The collecting thread sends no wake-ups: waking a thread on an idle vCPU is an IPI,
 *     and sending two cost the daemon's thread ~40 µs per cycle here.
 *   - at once (pw_cpu_poke_all): one futex call wakes them all; the caller has stored
 *     the request itself. For callers without a schedule.
 */
#ifndef PW_BPF_CPU_POKE_H
#define PW_BPF_CPU_POKE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

struct pw_cpu_poke;

/*
 * Starts a thread on each CPU c with online[c] (of ncpus); on a schedule, they store
 * ticks in *request. -errno; *ret NULL when none.
 */
int pw_cpu_poke_start(struct pw_cpu_poke **ret, const bool *online, int ncpus, volatile __u64 *request);
/* Wakes them all: returns at once. */
void pw_cpu_poke_all(struct pw_cpu_poke *p);
/*
 * A collection at tick_ns (CLOCK_MONOTONIC), the next ones every interval_ns after it:
 * from the next tick on the threads wake by themselves. A first schedule, or a new
 * interval, wakes them once now to take it up. interval_ns 0: pw_cpu_poke_all().
 */
void pw_cpu_poke_schedule(struct pw_cpu_poke *p, uint64_t tick_ns, uint64_t interval_ns);
/* Raises *request to at least tick (atomically; never lowers it). Returns the new value. */
__u64 pw_cpu_poke_request_at_least(volatile __u64 *request, __u64 tick);
/* How many threads run (0 for NULL). */
int pw_cpu_poke_threads(const struct pw_cpu_poke *p);
/* Stops and joins them. Accepts NULL. */
void pw_cpu_poke_stop(struct pw_cpu_poke *p);

#endif
