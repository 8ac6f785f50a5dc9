/* SPDX-License-Identifier: MIT */
/*
 * Multiplexed perf event arithmetic with made-up enabled/running values (this machine
 * has no PMU, so no real multiplexing ever happens here), and the derived ratios.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "bpf/bpf_section.h"
#include "bpf/perf_scale.h"

#define R(c, e, r) { (c), (e), (r) }

struct cpu_case {
	struct pw_pmu_reading prev, cur;
};

struct scale_case {
	const char *what;
	int n;
	struct cpu_case cpus[3];
	double want_value; /* NAN: null */
	double want_ratio; /* NAN: null */
};

static const struct scale_case cases[] = {
	{ "not multiplexed: the plain delta", 1,
	  { { R(100, 1000, 1000), R(600, 2000, 2000) } }, 500, 1.0 },
	{ "on the PMU half the time: doubled", 1,
	  { { R(0, 0, 0), R(1000, 4000, 2000) } }, 2000, 0.5 },
	{ "deltas are scaled, not totals", 1,
	  /* totals would give 1100 * 5000/3000; the interval ran 1/4 of its time */
	  { { R(1000, 1000, 1000), R(1100, 5000, 2000) } }, 400, 0.25 },
	{ "per-CPU scaling, then the sum; ratio of the sums", 2,
	  { { R(0, 0, 0), R(100, 1000, 1000) }, { R(0, 0, 0), R(100, 1000, 250) } },
	  100 + 400, 1250.0 / 2000.0 },
	{ "never on the PMU in the interval: not counted", 1,
	  { { R(50, 1000, 500), R(50, 2000, 500) } }, NAN, 0.0 },
	{ "one CPU never scheduled adds nothing, the others count", 2,
	  { { R(0, 0, 0), R(300, 1000, 1000) }, { R(0, 0, 0), R(0, 1000, 0) } }, 300, 0.5 },
	{ "not enabled at all in the interval: a real 0", 1,
	  { { R(7, 10, 10), R(7, 10, 10) } }, 0, NAN },
	{ "counter went backwards: unknown", 1,
	  { { R(500, 100, 100), R(400, 200, 200) } }, NAN, NAN },
	{ "time went backwards: unknown", 2,
	  { { R(0, 0, 0), R(10, 10, 10) }, { R(0, 100, 100), R(10, 50, 50) } }, NAN, NAN },
	{ "running > enabled (a confused kernel): taken as is", 1,
	  { { R(0, 0, 0), R(80, 100, 120) } }, 80, 1.0 },
	{ "huge counts do not overflow", 1,
	  { { R(0, 0, 0), R(UINT64_MAX, UINT64_MAX, UINT64_MAX / 2) } },
	  (double)UINT64_MAX * 2.0, 0.5 },
};

Test(perf_scale, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scale_case *c = &cases[i];
		struct pw_scaled_sum s = { 0 };
		double v, r;

		for (int k = 0; k < c->n; k++)
			pw_scaled_sum_add(&s, &c->cpus[k].prev, &c->cpus[k].cur);
		v = pw_scaled_sum_value(&s);
		r = pw_scaled_sum_ratio(&s);
		if (isnan(c->want_value))
			cr_expect(isnan(v), "%s: want null, got %f", c->what, v);
		else
			cr_expect(fabs(v - c->want_value) <= 1e-9 * fmax(1, fabs(c->want_value)),
				  "%s: want %f, got %f", c->what, c->want_value, v);
		if (isnan(c->want_ratio))
			cr_expect(isnan(r), "%s: want ratio null, got %f", c->what, r);
		else
			cr_expect_float_eq(r, c->want_ratio, 1e-6, "%s: ratio %f", c->what, r);
	}
}

Test(perf_scale, nothing_added_is_unknown)
{
	struct pw_scaled_sum s = { 0 };

	cr_expect(isnan(pw_scaled_sum_value(&s)));
	cr_expect(isnan(pw_scaled_sum_ratio(&s)));
}

static void set(struct pw_perf *p, const char *name, double v)
{
	int i = pw_perf_event_index(name);

	cr_assert(i >= 0, "%s", name);
	p->events[i].counted = true;
	p->events[i].value = v;
}

Test(perf_ratios, derived_where_counted)
{
	struct pw_perf p = { 0 };
	struct pw_bpf_ratios r;

	set(&p, "cycles", 2e9);
	set(&p, "instructions", 3e9);
	set(&p, "branches", 5e8);
	set(&p, "branch-misses", 5e6);
	set(&p, "LLC-loads", 1e6);
	set(&p, "LLC-load-misses", 2.5e5);
	set(&p, "L1-dcache-loads", 1e9);
	set(&p, "L1-dcache-load-misses", 3e7);
	pw_bpf_ratios_compute(&p, &r);
	cr_expect_float_eq(r.ipc, 1.5, 1e-12);
	cr_expect_float_eq(r.branch_miss_percent, 1.0, 1e-12);
	cr_expect_float_eq(r.llc_miss_percent, 25.0, 1e-12);
	cr_expect_float_eq(r.l1d_miss_percent, 3.0, 1e-12);
	cr_expect_float_eq(r.llc_mpki, 2.5e5 / 3e6, 1e-12);
	cr_expect_float_eq(r.l1d_mpki, 10.0, 1e-12);
	cr_expect_float_eq(r.branch_mpki, 5e6 / 3e6, 1e-12);
	/* not counted (no PMU): null, never 0 */
	cr_expect(isnan(r.dtlb_miss_percent));
	cr_expect(isnan(r.itlb_miss_percent));
}

Test(perf_ratios, null_on_missing_zero_or_unknown)
{
	struct pw_perf p = { 0 };
	struct pw_bpf_ratios r;

	pw_bpf_ratios_compute(&p, &r); /* nothing counted: the machine without a PMU */
	cr_expect(isnan(r.ipc) && isnan(r.branch_miss_percent) && isnan(r.llc_mpki));
	set(&p, "cycles", 0);
	set(&p, "instructions", 100);
	set(&p, "branches", 10);
	set(&p, "branch-misses", NAN); /* counted, but "<not counted>" this interval */
	pw_bpf_ratios_compute(&p, &r);
	cr_expect(isnan(r.ipc), "0 cycles: no IPC");
	cr_expect(isnan(r.branch_miss_percent));
	cr_expect(isnan(r.branch_mpki));
}
