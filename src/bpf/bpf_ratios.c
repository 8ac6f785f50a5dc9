/* SPDX-License-Identifier: MIT */
/* Ratios derived from the perf section, the way `perf stat` shows them. */
#include <math.h>

#include "bpf/bpf_section.h"

static double ev(const struct pw_perf *p, const char *name)
{
	int i = pw_perf_event_index(name);

	if (i < 0 || !p->events[i].counted)
		return NAN;
	return p->events[i].value;
}

/* a / b * scale; NAN when either is unknown or b is 0 */
static double ratio(double a, double b, double scale)
{
	if (!isfinite(a) || !isfinite(b) || b <= 0)
		return NAN;
	return a / b * scale;
}

void pw_bpf_ratios_compute(const struct pw_perf *p, struct pw_bpf_ratios *ret)
{
	double instructions = ev(p, "instructions");

	ret->ipc = ratio(instructions, ev(p, "cycles"), 1);
	ret->branch_miss_percent = ratio(ev(p, "branch-misses"), ev(p, "branches"), 100);
	ret->l1d_miss_percent = ratio(ev(p, "L1-dcache-load-misses"), ev(p, "L1-dcache-loads"), 100);
	ret->llc_miss_percent = ratio(ev(p, "LLC-load-misses"), ev(p, "LLC-loads"), 100);
	ret->dtlb_miss_percent = ratio(ev(p, "dTLB-load-misses"), ev(p, "dTLB-loads"), 100);
	ret->itlb_miss_percent = ratio(ev(p, "iTLB-load-misses"), ev(p, "iTLB-loads"), 100);
	ret->l1d_mpki = ratio(ev(p, "L1-dcache-load-misses"), instructions, 1000);
	ret->llc_mpki = ratio(ev(p, "LLC-load-misses"), instructions, 1000);
	ret->branch_mpki = ratio(ev(p, "branch-misses"), instructions, 1000);
}
