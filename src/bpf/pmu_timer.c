/* SPDX-License-Identifier: MIT */
/*
 * Arming the per-CPU perf timers (bpf/perfwatch.bpf.c, pw_arm_pmu_timer): the program
 * arms the timer of the CPU it runs on, when this thread renames itself (to its own
 * name), so this thread does that once pinned to each online CPU. Once armed, each timer
 * reads its CPU's perf events at every tick and arms the next: no thread of ours wakes
 * for it and the drain sends no IPI. Kernels before 6.7 have no pinned absolute BPF
 * timers; there the wake-up threads and the reader do the reading.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/bpf_internal.h"

/* Runs the arming program on CPU c from this thread, pinned there. 0 or -errno with why. */
static int arm_on(struct pw_bpf_ctx *ctx, int c, uint64_t first_tick, uint64_t interval_ns, char *why, size_t whylen)
{
	volatile struct pw_pmu_arm_args *a = ctx->pmu_arm;
	char name[16] = "";
	cpu_set_t one;
	int e;

	CPU_ZERO(&one);
	CPU_SET(c, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0) { /* 0: this thread */
		e = -errno;
		snprintf(why, whylen, "moving to CPU %d to arm its timer: %s", c, strerror(-e));
		return e;
	}
	a->tick = first_tick;
	a->interval = interval_ns;
	a->result = -EINPROGRESS;
	a->tid = (__u32)gettid();
	a->cpu = c;
	/* the same name again: only the task_rename tracepoint notices */
	if (prctl(PR_GET_NAME, name) || prctl(PR_SET_NAME, name)) {
		e = -errno;
		a->cpu = -1;
		snprintf(why, whylen, "renaming this thread on CPU %d: %s", c, strerror(-e));
		return e;
	}
	e = a->result;
	a->cpu = -1;
	if (e == -EINPROGRESS)
		snprintf(why, whylen, "pw_arm_pmu_timer did not run on CPU %d", c);
	else if (e < 0)
		snprintf(why, whylen, "arming the timer of CPU %d: %s%s", c, strerror(-e),
			 e == -EINVAL ? " (pinned absolute BPF timers need kernel 6.7)" : "");
	return e;
}

void pw_bpf_arm_pmu_timers(struct pw_bpf_ctx *ctx, uint64_t first_tick, uint64_t interval_ns)
{
	cpu_set_t was;
	int link, online = 0;

	ctx->timer_interval = interval_ns; /* tried once per schedule, whatever comes of it */
	ctx->timer_cpus = 0;
	if (!ctx->timer_arm || !ctx->pmu_arm)
		return;
	if (sched_getaffinity(0, sizeof(was), &was) < 0) {
		pw_bpf_why(ctx->timer_why, "reading this thread's CPU affinity: %s", strerror(errno));
		goto fallback;
	}
	ctx->timer_arm_ran = true;
	link = bpf_raw_tracepoint_open(NULL, ctx->timer_arm->fd);
	if (link < 0) {
		pw_bpf_why(ctx->timer_why, "attaching pw_arm_pmu_timer to task_rename: %s", strerror(errno));
		goto fallback;
	}
	for (int c = 0; c < ctx->ncpus; c++) {
		if (!ctx->online[c])
			continue;
		online++;
		if (arm_on(ctx, c, first_tick, interval_ns, ctx->timer_why, sizeof(ctx->timer_why)) < 0)
			break;
		ctx->timer_cpus++;
	}
	close(link);
	sched_setaffinity(0, sizeof(was), &was);
	if (ctx->timer_cpus == (uint32_t)online && online > 0) {
		ctx->timer_why[0] = '\0';
		return;
	}
fallback:
	pw_bpf_start_pokers(ctx); /* every CPU not read by its timer switches at the tick instead */
}
