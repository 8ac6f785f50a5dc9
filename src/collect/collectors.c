/* SPDX-License-Identifier: MIT */
#include "collect/collector.h"

extern const struct collector pw_cpu_collector;
extern const struct collector pw_memory_collector;
extern const struct collector pw_network_collector;
extern const struct collector pw_disk_collector;
extern const struct collector pw_perf_collector;

const struct collector *const pw_collectors[] = {
	&pw_cpu_collector,
	&pw_memory_collector,
	&pw_network_collector,
	&pw_disk_collector,
	&pw_perf_collector,
};
const size_t pw_n_collectors = sizeof(pw_collectors) / sizeof(pw_collectors[0]);
