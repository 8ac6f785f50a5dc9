/* SPDX-License-Identifier: MIT */
#include "snapshot.h"

#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/bpf_section.h"

const char *const pw_perf_event_names[PW_PERF_NUM_EVENTS] = {
	"cpu-clock", "context-switches", "cpu-migrations", "page-faults",
	"cycles", "instructions", "branches", "branch-misses",
	"L1-dcache-loads", "L1-dcache-load-misses", "LLC-loads", "LLC-load-misses",
	"L1-icache-loads", "dTLB-loads", "dTLB-load-misses", "iTLB-loads", "iTLB-load-misses",
};

const char *pw_perf_source_name(enum pw_perf_source s)
{
	switch (s) {
	case PW_PERF_SOURCE_BPF:
		return "bpf";
	case PW_PERF_SOURCE_PERF_STAT:
		return "perf-stat";
	default:
		return "none";
	}
}

int pw_perf_event_index(const char *name)
{
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++)
		if (!strcmp(pw_perf_event_names[i], name))
			return i;
	return -1;
}

void snapshot_init(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	snapshot_reset(s);
}

void snapshot_reset(struct snapshot *s)
{
	s->cpu.valid = s->memory.valid = s->network.valid = s->disk.valid = false;
	s->cpu.n_per_core = s->cpu.n_freq = s->cpu.n_temp = 0;
	s->network.n_interfaces = 0;
	s->network.connections.valid = false;
	s->disk.n_devices = s->disk.n_partitions = 0;
	memset(&s->perf, 0, sizeof(s->perf));
	s->bpf_valid = false;
	s->n_errors = 0;
}

void snapshot_free(struct snapshot *s)
{
	free(s->cpu.per_core);
	free(s->cpu.frequency_mhz);
	free(s->cpu.temperature_celsius);
	free(s->network.interfaces);
	free(s->disk.devices);
	free(s->disk.partitions);
	pw_bpf_section_free(s->bpf);
	memset(s, 0, sizeof(*s));
}

void snapshot_add_error(struct snapshot *s, const char *collector, const char *fmt, ...)
{
	struct pw_error *e;
	va_list ap;
	uint32_t i;

	/* one entry per collector: a second message for the same one is appended */
	for (i = 0; i < s->n_errors; i++)
		if (!strcmp(s->errors[i].collector, collector))
			break;
	if (i == s->n_errors) {
		if (s->n_errors == PW_MAX_ERRORS)
			return;
		e = &s->errors[s->n_errors++];
		snprintf(e->collector, sizeof(e->collector), "%s", collector);
		e->message[0] = '\0';
	} else {
		e = &s->errors[i];
	}
	size_t used = strlen(e->message);
	if (used && used + 2 < sizeof(e->message)) {
		memcpy(e->message + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(e->message + used, sizeof(e->message) - used, fmt, ap);
	va_end(ap);
}

int pw_array_reserve(void *arr_ptr, uint32_t *cap, uint32_t n, size_t elem_size)
{
	void **arr = arr_ptr;
	uint32_t ncap;
	void *p;

	if (n <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < n) {
		if (ncap > UINT32_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if ((size_t)ncap > SIZE_MAX / elem_size)
		return -ENOMEM;
	p = realloc(*arr, (size_t)ncap * elem_size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}
