/* SPDX-License-Identifier: MIT */
#include "perf/perf_events.h"

#include <linux/perf_event.h>

#define CACHE(id, op, result) \
	((uint64_t)PERF_COUNT_HW_CACHE_##id | ((uint64_t)PERF_COUNT_HW_CACHE_OP_##op << 8) | \
	 ((uint64_t)PERF_COUNT_HW_CACHE_RESULT_##result << 16))

#define SOFTWARE(n, c, u) \
	{ .name = (n), .type = PERF_TYPE_SOFTWARE, .config = (c), .unit = (u), .hardware = false }
#define HARDWARE(n, t, c, s, sc) \
	{ .name = (n), .type = (t), .config = (c), .unit = NULL, .hardware = true, \
	  .standin = (s), .standin_config = (sc) }

const struct pw_perf_event_def pw_perf_event_defs[PW_PERF_NUM_EVENTS] = {
	SOFTWARE("cpu-clock", PERF_COUNT_SW_CPU_CLOCK, "msec"),
	SOFTWARE("context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES, NULL),
	SOFTWARE("cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS, NULL),
	SOFTWARE("page-faults", PERF_COUNT_SW_PAGE_FAULTS, NULL),
	HARDWARE("cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES,
		 "cpu-clock", PERF_COUNT_SW_CPU_CLOCK),
	HARDWARE("instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS,
		 "task-clock", PERF_COUNT_SW_TASK_CLOCK),
	HARDWARE("branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
		 "context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES),
	HARDWARE("branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES,
		 "cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS),
	HARDWARE("L1-dcache-loads", PERF_TYPE_HW_CACHE, CACHE(L1D, READ, ACCESS),
		 "page-faults", PERF_COUNT_SW_PAGE_FAULTS),
	HARDWARE("L1-dcache-load-misses", PERF_TYPE_HW_CACHE, CACHE(L1D, READ, MISS),
		 "minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN),
	HARDWARE("LLC-loads", PERF_TYPE_HW_CACHE, CACHE(LL, READ, ACCESS),
		 "cpu-clock", PERF_COUNT_SW_CPU_CLOCK),
	HARDWARE("LLC-load-misses", PERF_TYPE_HW_CACHE, CACHE(LL, READ, MISS),
		 "major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ),
	HARDWARE("L1-icache-loads", PERF_TYPE_HW_CACHE, CACHE(L1I, READ, ACCESS),
		 "task-clock", PERF_COUNT_SW_TASK_CLOCK),
	HARDWARE("dTLB-loads", PERF_TYPE_HW_CACHE, CACHE(DTLB, READ, ACCESS),
		 "page-faults", PERF_COUNT_SW_PAGE_FAULTS),
	HARDWARE("dTLB-load-misses", PERF_TYPE_HW_CACHE, CACHE(DTLB, READ, MISS),
		 "minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN),
	HARDWARE("iTLB-loads", PERF_TYPE_HW_CACHE, CACHE(ITLB, READ, ACCESS),
		 "context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES),
	HARDWARE("iTLB-load-misses", PERF_TYPE_HW_CACHE, CACHE(ITLB, READ, MISS),
		 "cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS),
};
