/* SPDX-License-Identifier: MIT */
#include "bpf/perf_scale.h"

#include <math.h>

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void pw_scaled_sum_add(struct pw_scaled_sum *s, const struct pw_pmu_reading *prev,
		       const struct pw_pmu_reading *cur)
{
	uint64_t dc, de, dr;

	s->cpus++;
	if (cur->counter < prev->counter || cur->enabled < prev->enabled || cur->running < prev->running) {
		s->backwards = true;
		return;
	}
	dc = cur->counter - prev->counter;
	de = cur->enabled - prev->enabled;
	dr = cur->running - prev->running;
	/*
	 * Running can never exceed enabled; if a kernel says so, trust the counter as is.
	 * Never on the PMU on this CPU: it adds no count, and the ratio shows it.
	 */
	if (dr >= de)
		s->value += (double)dc;
	else if (dr > 0)
		s->value += (double)dc * ((double)de / (double)dr);
	s->enabled = sat_add(s->enabled, de);
	s->running = sat_add(s->running, dr < de ? dr : de);
}

double pw_scaled_sum_value(const struct pw_scaled_sum *s)
{
	if (s->backwards || !s->cpus)
		return NAN;
	if (s->enabled > 0 && s->running == 0)
		return NAN;
	return s->value;
}

double pw_scaled_sum_ratio(const struct pw_scaled_sum *s)
{
	if (s->backwards || !s->enabled)
		return NAN;
	return (double)s->running / (double)s->enabled;
}
