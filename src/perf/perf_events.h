/* SPDX-License-Identifier: MIT */
/*
 * The 17 events of the perf section as data: what perf_event_open() needs for each
 * (type, config), the unit `perf stat` prints, and the software event that stands in for
 * a hardware one in tests (PW_TEST_SOFTWARE_EVENTS=1), so machines without a PMU run the
 * same read path end to end. Indexed like pw_perf_event_names (src/snapshot.h); the
 * names are the ones `perf stat -e` takes.
 */
#ifndef PW_PERF_EVENTS_H
#define PW_PERF_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"

/*
 * Set to 1 in the environment: every hardware event is replaced by its software
 * stand-in. For tests only; the snapshot says so (bpf.test_software_events).
 */
#define PW_TEST_SOFTWARE_EVENTS_ENV "PW_TEST_SOFTWARE_EVENTS"

struct pw_perf_event_def {
	const char *name;     /* as in the schema and `perf stat -e` */
	uint32_t type;        /* PERF_TYPE_SOFTWARE, PERF_TYPE_HARDWARE, PERF_TYPE_HW_CACHE */
	uint64_t config;      /* perf_event_attr.config */
	const char *unit;     /* "msec" for cpu-clock (its count is ns), NULL otherwise */
	bool hardware;        /* needs a PMU */
	const char *standin;  /* hardware only: the software event that replaces it in tests */
	uint64_t standin_config; /* its PERF_TYPE_SOFTWARE config */
};

extern const struct pw_perf_event_def pw_perf_event_defs[PW_PERF_NUM_EVENTS];

#endif
