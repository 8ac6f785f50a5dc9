/* SPDX-License-Identifier: MIT */
/*
 * One sleeping thread pinned to each online CPU, all woken by one futex call, so that
 * every CPU switches tasks once without the caller waiting for any of them. Each switch
 * runs the sched_switch program there, which reads that CPU's perf events when the drain
 * asked for it (bpf/perfwatch.bpf.c). Running the reader program on an idle CPU instead
 * made the caller spin on an IPI until that virtual CPU woke: ~50 µs each on this VM.
 */
#ifndef PW_BPF_CPU_POKE_H
#define PW_BPF_CPU_POKE_H

#include <stdbool.h>

struct pw_cpu_poke;

/* Starts a thread on each CPU c with online[c] (of ncpus). -errno; *ret NULL when none. */
int pw_cpu_poke_start(struct pw_cpu_poke **ret, const bool *online, int ncpus);
/* Wakes them all: returns at once. */
void pw_cpu_poke_all(struct pw_cpu_poke *p);
/* Stops and joins them. Accepts NULL. */
void pw_cpu_poke_stop(struct pw_cpu_poke *p);

#endif
