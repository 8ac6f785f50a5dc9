/* SPDX-License-Identifier: MIT */
/*
 * /proc/stat: the parser against fixture trees (this machine, a 96-CPU machine with CPUs
 * offline, kernels 2.6.32 and 2.6.18, nasty files), the psutil percentages over two
 * samples, hot-plug, counters going backwards, and the cpu collector over fixture roots.
 *
 * Expected percentages come from psutil 5.9 itself (psutil._cpu_times_deltas /
 * _cpu_tot_time / _cpu_busy_time with PROCFS_PATH pointed at the fixture files), before
 * its rounding to one decimal.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "collect/proc_stat.h"
#include "cpumem_fixture.h"

extern const struct collector pw_cpu_collector;

static int parse_fixture(const char *rel, struct pw_proc_stat *st, char *err, size_t errlen)
{
	struct pw_buf b = { 0 };
	int r;

	fixture_read(rel, &b);
	r = proc_stat_parse(b.data, b.len, st, err, errlen);
	pw_buf_free(&b);
	return r;
}

Test(proc_stat, fixture_files)
{
	static const struct {
		const char *file;
		int rc;
		uint32_t n_fields, n_cpus, first_id, last_id;
		uint64_t intr, ctxt, user_total;
	} cases[] = {
		{ "proc/vm2-linux-6.18/stat", 0, 10, 2, 0, 1, 253476, 532041, 8611 },
		{ "proc/xeon96/stat", 0, 10, 88, 0, 95, 123456789, 987654321, 100560000 },
		{ "proc/xeon96/stat.hotplug", 0, 10, 88, 0, 95, 123556789, 987854321, 0 },
		{ "proc/linux-2.6.32/stat", 0, 9, 4, 0, 3, 55555555, 66666666, 4006000 },
		{ "proc/linux-2.6.18/stat", 0, 8, 2, 0, 1, 1234567, 2345678, 2001000 },
		{ "proc/nasty-u64max/stat", 0, 10, 1, 0, 0, UINT64_MAX, UINT64_MAX, UINT64_MAX },
		{ .file = "proc/nasty-empty/stat", .rc = -EBADMSG },
		{ .file = "proc/nasty-truncated/stat", .rc = -EBADMSG },
		{ .file = "proc/nasty-garbage/stat", .rc = -EBADMSG },
		{ .file = "proc/nasty-overflow/stat", .rc = -ERANGE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_proc_stat st = { 0 };
		char err[160] = "";
		int r = parse_fixture(cases[i].file, &st, err, sizeof(err));

		cr_expect_eq(r, cases[i].rc, "%s: %d, expected %d (%s)", cases[i].file, r, cases[i].rc, err);
		if (r == 0) {
			cr_expect_eq(st.n_fields, cases[i].n_fields, "%s", cases[i].file);
			cr_expect_eq(st.n_cpus, cases[i].n_cpus, "%s: %u cpus", cases[i].file, st.n_cpus);
			cr_expect_eq(st.cpus[0].id, cases[i].first_id, "%s", cases[i].file);
			cr_expect_eq(st.cpus[st.n_cpus - 1].id, cases[i].last_id, "%s", cases[i].file);
			cr_expect_eq(st.intr, cases[i].intr, "%s", cases[i].file);
			cr_expect_eq(st.ctxt, cases[i].ctxt, "%s", cases[i].file);
			if (cases[i].user_total)
				cr_expect_eq(st.total.t[PW_CT_USER], cases[i].user_total, "%s", cases[i].file);
		} else {
			cr_expect(err[0], "%s: no reason given", cases[i].file);
		}
		proc_stat_free(&st);
	}
}

Test(proc_stat, offline_cpus_are_missing_lines)
{
	struct pw_proc_stat st = { 0 };
	uint32_t i;

	cr_assert_eq(parse_fixture("proc/xeon96/stat", &st, NULL, 0), 0);
	for (i = 0; i < st.n_cpus; i++) {
		uint32_t id = st.cpus[i].id;

		cr_expect(!(id >= 20 && id <= 23) && !(id >= 68 && id <= 71), "offline cpu%u listed", id);
	}
	cr_expect_eq(st.cpus[20].id, 24);
	proc_stat_free(&st);
}

Test(proc_stat, inline_cases)
{
	static const struct {
		const char *name, *text;
		int rc;
		uint32_t n_fields, n_cpus;
	} cases[] = {
		{ "Linux 2.4: four columns", "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", 0, 4, 1 },
		{ "a future kernel's 12th column", "cpu  1 2 3 4 5 6 7 8 9 10 11 12\ncpu0 1 2 3 4 5 6 7 8 9 10 11 12\nintr 1\nctxt 1\n", 0, 10, 1 },
		{ "no newline at the end", "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6", 0, 4, 1 },
		{ "tabs", "cpu\t1 2 3 4\ncpu7\t1\t2\t3\t4\nintr 5 0 0\nctxt 6\n", 0, 4, 1 },
		{ .name = "three columns", .text = "cpu  1 2 3\ncpu0 1 2 3\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "cpuN shorter than cpu", .text = "cpu  1 2 3 4 5\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "cpuN before cpu", .text = "cpu0 1 2 3 4\ncpu  1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "two cpu lines", .text = "cpu  1 2 3 4\ncpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "ids out of order", .text = "cpu  1 2 3 4\ncpu1 1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "duplicate id", .text = "cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "no cpuN", .text = "cpu  1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "no intr", .text = "cpu  1 2 3 4\ncpu0 1 2 3 4\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "no ctxt", .text = "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 6\n", .rc = -EBADMSG },
		{ .name = "cpufoo", .text = "cpu  1 2 3 4\ncpufoo 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "negative", .text = "cpu  1 2 -3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "letter in a number", .text = "cpu  1 2 3 4x\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "intr without a number", .text = "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr \nctxt 6\n", .rc = -EBADMSG },
		{ .name = "huge cpu id", .text = "cpu  1 2 3 4\ncpu99999999999 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "a NUL inside", .text = "cpu  1 2\0 3 4\ncpu0 1 2 3 4\nintr 5\nctxt 6\n", .rc = -EBADMSG },
		{ .name = "only a newline", .text = "\n", .rc = -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_proc_stat st = { 0 };
		char err[160] = "";
		/* the NUL case: hand the parser the bytes past the NUL too */
		size_t len = strlen(cases[i].text);
		int r;

		if (strstr(cases[i].name, "NUL"))
			len += 1 + strlen(cases[i].text + len + 1);
		r = proc_stat_parse(cases[i].text, len, &st, err, sizeof(err));
		cr_expect_eq(r, cases[i].rc, "%s: %d, expected %d (%s)", cases[i].name, r, cases[i].rc, err);
		if (r == 0) {
			cr_expect_eq(st.n_fields, cases[i].n_fields, "%s", cases[i].name);
			cr_expect_eq(st.n_cpus, cases[i].n_cpus, "%s", cases[i].name);
		} else {
			cr_expect(err[0], "%s: no reason given", cases[i].name);
		}
		proc_stat_free(&st);
	}
}

/* Two fixture samples through proc_stat_fill_cpu(). */
static void fill_two(const char *a, const char *b, double dt, struct pw_cpu *c)
{
	struct pw_proc_stat s0 = { 0 }, s1 = { 0 };

	cr_assert_eq(parse_fixture(a, &s0, NULL, 0), 0, "%s", a);
	cr_assert_eq(parse_fixture(b, &s1, NULL, 0), 0, "%s", b);
	cr_assert_eq(proc_stat_fill_cpu(&s0, &s1, dt, c), 0);
	proc_stat_free(&s0);
	proc_stat_free(&s1);
}

static void cpu_free(struct pw_cpu *c)
{
	free(c->per_core);
	free(c->frequency_mhz);
	free(c->temperature_celsius);
}

Test(proc_stat, psutil_percentages)
{
	static const struct {
		const char *a, *b;
		double dt;
		double usage, user, system, idle, iowait, irq, softirq;
		double core[4];
		double intr_rate;
	} cases[] = {
		/* this machine, one second apart: psutil gives 0.4975124378 (0.5 rounded) */
		{ "proc/vm2-linux-6.18/stat", "proc/vm2-linux-6.18/stat.later", 1.0,
		  0.4975124378, 0.4975124378, 0, 99.5024875622, 0, 0, 0, { 1.9607843137, 0, NAN, NAN }, 79 },
		/* 88 CPUs online out of 96, 22 of each load pattern */
		{ "proc/xeon96/stat", "proc/xeon96/stat.later", 5.0,
		  48.75, 35, 10, 49.5, 1.75, 0.25, 1, { 75, 20, 0, 100 }, 10000 },
		/* nine columns: guest but no guest_nice */
		{ "proc/linux-2.6.32/stat", "proc/linux-2.6.32/stat.later", 5.0,
		  48.75, 35, 10, 49.5, 1.75, 0.25, 1, { 75, 20, 0, 100 }, 1000 },
		/* eight columns: guest is not split out, so user counts it once, and so does the total */
		{ "proc/linux-2.6.18/stat", "proc/linux-2.6.18/stat.later", 5.0,
		  47.5, 30, 15, 49, 3.5, 0.5, 2, { 75, 20, NAN, NAN }, 200 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_cpu c = { 0 };

		fill_two(cases[i].a, cases[i].b, cases[i].dt, &c);
		cr_expect(near(c.usage_percent, cases[i].usage, 1e-6), "%s: usage %f", cases[i].b, c.usage_percent);
		cr_expect(near(c.user, cases[i].user, 1e-6), "%s: user %f", cases[i].b, c.user);
		cr_expect(near(c.system, cases[i].system, 1e-6), "%s: system %f", cases[i].b, c.system);
		cr_expect(near(c.idle, cases[i].idle, 1e-6), "%s: idle %f", cases[i].b, c.idle);
		cr_expect(near(c.iowait, cases[i].iowait, 1e-6), "%s: iowait %f", cases[i].b, c.iowait);
		cr_expect(near(c.irq, cases[i].irq, 1e-6), "%s: irq %f", cases[i].b, c.irq);
		cr_expect(near(c.softirq, cases[i].softirq, 1e-6), "%s: softirq %f", cases[i].b, c.softirq);
		for (uint32_t k = 0; k < 4 && k < c.n_per_core; k++)
			cr_expect(near(c.per_core[k], cases[i].core[k], 1e-6), "%s: core %u %f", cases[i].b, k,
				  c.per_core[k]);
		cr_expect(near(c.interrupts_per_sec, cases[i].intr_rate, 1e-6), "%s: intr/s %f", cases[i].b,
			  c.interrupts_per_sec);
		cr_expect_eq(c.n_cpus_online, c.n_per_core);
		cpu_free(&c);
	}
}

Test(proc_stat, first_sample_is_null)
{
	struct pw_proc_stat s = { 0 };
	struct pw_cpu c = { 0 };

	cr_assert_eq(parse_fixture("proc/xeon96/stat", &s, NULL, 0), 0);
	cr_assert_eq(proc_stat_fill_cpu(NULL, &s, NAN, &c), 0);
	cr_expect(isnan(c.usage_percent) && isnan(c.user) && isnan(c.idle) && isnan(c.interrupts_per_sec));
	cr_expect_eq(c.n_per_core, 88);
	for (uint32_t i = 0; i < c.n_per_core; i++)
		cr_expect(isnan(c.per_core[i]), "core %u", i);
	cr_expect_eq(c.interrupts, 123456789);
	cr_expect_eq(c.ctx_switches, 987654321);
	cr_expect_eq(c.n_cpus_online, 88);
	proc_stat_free(&s);
	cpu_free(&c);
}

Test(proc_stat, hotplug_between_samples)
{
	struct pw_proc_stat s0 = { 0 }, s1 = { 0 };
	struct pw_cpu c = { 0 };
	uint32_t i;

	/* cpu20 came back online, cpu33 went offline: same count, other CPUs */
	cr_assert_eq(parse_fixture("proc/xeon96/stat.later", &s0, NULL, 0), 0);
	cr_assert_eq(parse_fixture("proc/xeon96/stat.hotplug", &s1, NULL, 0), 0);
	cr_assert_eq(proc_stat_fill_cpu(&s0, &s1, 5.0, &c), 0);
	cr_expect(isnan(c.usage_percent) && isnan(c.user) && isnan(c.system) && isnan(c.idle),
		  "totals across hot-plug must be null, usage %f", c.usage_percent);
	cr_expect_eq(c.n_per_core, 88);
	for (i = 0; i < s1.n_cpus; i++) {
		uint32_t id = s1.cpus[i].id;
		static const double pattern[4] = { 75, 20, 0, 100 };

		if (id == 20)
			cr_expect(isnan(c.per_core[i]), "cpu20 just came online: %f", c.per_core[i]);
		else
			cr_expect(near(c.per_core[i], pattern[id % 4], 1e-9), "cpu%u: %f", id, c.per_core[i]);
		cr_expect_neq(id, 33);
	}
	cr_expect(near(c.interrupts_per_sec, 10000, 1e-9));
	proc_stat_free(&s0);
	proc_stat_free(&s1);
	cpu_free(&c);
}

Test(proc_stat, counters_going_backwards)
{
	struct pw_cpu c = { 0 };

	/* a whole reset: every percentage and the interrupt rate are null, never garbage */
	fill_two("proc/nasty-backwards/stat", "proc/nasty-backwards/stat.later", 5.0, &c);
	cr_expect(isnan(c.usage_percent) && isnan(c.user) && isnan(c.idle) && isnan(c.iowait));
	cr_expect(isnan(c.per_core[0]) && isnan(c.per_core[1]));
	cr_expect(isnan(c.interrupts_per_sec));
	cr_expect_eq(c.interrupts, 10);

	/* iowait dipping by 3 ticks (NO_HZ): it counts as 0, as in psutil and top; cpu0's
	 * other deltas are pattern 0 (500 ticks, 25 of them iowait): 375 busy of 475 */
	fill_two("proc/nasty-backwards/stat", "proc/nasty-backwards/stat.dip", 5.0, &c);
	cr_expect(near(c.per_core[0], 375.0 / 475.0 * 100, 1e-9), "cpu0 %f", c.per_core[0]);
	cr_expect(near(c.per_core[1], 20, 1e-9), "cpu1 %f", c.per_core[1]);
	/* the total line sums both CPUs: iowait -3 + 10, of 472 + 500 ticks (there the
	 * sum moved forward, so it is not clamped) */
	cr_expect(near(c.iowait, 7.0 / 972.0 * 100, 1e-9), "iowait %f", c.iowait);
	cr_expect(near(c.interrupts_per_sec, 100, 1e-9));
	cpu_free(&c);
}

Test(proc_stat, u64_max_and_idle_intervals)
{
	struct pw_cpu c = { 0 };

	/* no tick passed: nothing to divide by, so null rather than 0 or NaN garbage */
	fill_two("proc/nasty-u64max/stat", "proc/nasty-u64max/stat", 5.0, &c);
	cr_expect(isnan(c.usage_percent) && isnan(c.per_core[0]));
	cr_expect(near(c.interrupts_per_sec, 0, 0));
	cr_expect_eq(c.interrupts, UINT64_MAX);
	/* from u64 max to another kernel's small values: nothing comparable, all null */
	fill_two("proc/nasty-u64max/stat", "proc/linux-2.6.18/stat", 5.0, &c);
	cr_expect(isnan(c.usage_percent) && isnan(c.interrupts_per_sec));
	cpu_free(&c);
}

Test(proc_stat, column_count_change_is_null)
{
	struct pw_cpu c = { 0 };

	fill_two("proc/linux-2.6.18/stat", "proc/linux-2.6.32/stat.later", 5.0, &c);
	cr_expect(isnan(c.usage_percent));
	for (uint32_t i = 0; i < c.n_per_core; i++)
		cr_expect(isnan(c.per_core[i]));
	cpu_free(&c);
}

Test(proc_stat, percent_math)
{
	struct pw_cpu_times a = { { 0 } }, b = { { 0 } };
	struct pw_cpu_pct p;

	/* guest is inside user: it does not add to the total */
	b.t[PW_CT_USER] = 60;
	b.t[PW_CT_GUEST] = 60;
	b.t[PW_CT_IDLE] = 40;
	pw_cpu_times_percent(&a, &b, PW_CT_NUM, &p);
	cr_expect(near(p.busy, 60, 1e-12) && near(p.field[PW_CT_USER], 60, 1e-12));
	cr_expect(near(p.field[PW_CT_GUEST], 60, 1e-12));
	/* a four-column kernel: no iowait to subtract, the absent columns are null */
	pw_cpu_times_percent(&a, &b, 4, &p);
	cr_expect(near(p.busy, 60, 1e-12) && isnan(p.field[PW_CT_IOWAIT]) && isnan(p.field[PW_CT_GUEST]));
	/* u64 max deltas: no overflow in the total */
	for (int i = 0; i < PW_CT_NUM; i++)
		b.t[i] = UINT64_MAX;
	pw_cpu_times_percent(&a, &b, PW_CT_NUM, &p);
	cr_expect(near(p.busy, 75, 1e-9), "busy %f", p.busy); /* 6 busy columns of 8 */
	cr_expect(p.field[PW_CT_GUEST] <= 100);
}

/* ---------------------------------------------------------------- the collector */

Test(cpu_collector, two_cycles_over_the_96_cpu_tree)
{
	struct scratch_root root;
	struct collector_run run;
	const struct pw_cpu *c = &run.snap.cpu;

	scratch_make(&root);
	scratch_put(&root, "proc/xeon96/stat", "stat");
	scratch_put(&root, "proc/xeon96/cpuinfo", "cpuinfo");
	run_start(&run, &pw_cpu_collector, root.path, FIXTURES "/sys/xeon96");

	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(c->valid);
	cr_expect(isnan(c->usage_percent), "first sample: null");
	cr_expect_eq(c->n_per_core, 88);

	scratch_put(&root, "proc/xeon96/stat.later", "stat");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(near(c->usage_percent, 48.75, 1e-9), "usage %f", c->usage_percent);
	cr_expect(c->interrupts_per_sec > 0 && isfinite(c->interrupts_per_sec));
	cr_expect_eq(c->interrupts, 123456789 + 50000);
	cr_expect_eq(c->n_cpus_online, 88);
	/* cpufreq wins over cpuinfo (whose "cpu MHz" here is 1000 + cpu): 88 active policies */
	cr_expect_eq(c->n_freq, 88);
	cr_expect(near(c->frequency_mhz[0], 2100, 1e-9), "%f", c->frequency_mhz[0]);
	cr_expect(near(c->frequency_mhz[1], 2100 + (37 % 19) * 100, 1e-9), "%f", c->frequency_mhz[1]);
	/* coretemp: 24 cores on each of two packages, not the package, acpitz or nvme */
	cr_expect_eq(c->n_temp, 48);
	cr_expect(near(c->temperature_celsius[0], 40.0, 1e-9));
	cr_expect(near(c->temperature_celsius[6], 40.8, 1e-9), "core 8: %f", c->temperature_celsius[6]);
	cr_expect(near(c->temperature_celsius[24], 50.0, 1e-9));

	/* hot-plug: totals null, the sensors and policies rediscovered without harm */
	scratch_put(&root, "proc/xeon96/stat.hotplug", "stat");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(isnan(c->usage_percent));
	cr_expect_eq(c->n_freq, 88);
	cr_expect_eq(c->n_temp, 48);

	run_stop(&run);
	scratch_remove(&root);
}

Test(cpu_collector, frequency_from_cpuinfo_without_cpufreq)
{
	struct collector_run run;

	run_start(&run, &pw_cpu_collector, FIXTURES "/proc/vm2-linux-6.18", FIXTURES "/sys/vm2-linux-6.18");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect_eq(run.snap.cpu.n_freq, 2);
	cr_expect(near(run.snap.cpu.frequency_mhz[0], 2299.998, 1e-9));
	cr_expect_eq(run.snap.cpu.n_temp, 0, "a VM has no sensors");
	run_stop(&run);

	run_start(&run, &pw_cpu_collector, FIXTURES "/proc/linux-2.6.32", FIXTURES "/sys/linux-2.6.32");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect_eq(run.snap.cpu.n_freq, 4, "cpuN/cpufreq layout");
	cr_expect(near(run.snap.cpu.frequency_mhz[3], 2000, 1e-9), "cpuinfo_cur_freq fallback");
	cr_expect_eq(run.snap.cpu.n_temp, 4, "coretemp under device/");
	run_stop(&run);
}

Test(cpu_collector, bad_files_give_a_reason)
{
	static const struct {
		const char *proc;
		int rc;
		const char *why;
	} cases[] = {
		{ FIXTURES "/proc/nasty-empty", -EBADMSG, "proc/stat: empty" },
		{ FIXTURES "/proc/nasty-truncated", -EBADMSG, "proc/stat: line 3" },
		{ FIXTURES "/proc/nasty-garbage", -EBADMSG, "proc/stat: line 1" },
		{ FIXTURES "/proc/nasty-overflow", -ERANGE, "2^64-1" },
		{ FIXTURES "/sys/xeon96", -ENOENT, "cannot read proc/stat" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collector_run run;
		int r;

		run_start(&run, &pw_cpu_collector, cases[i].proc, FIXTURES "/sys/vm2-linux-6.18");
		r = run_collect(&run);
		cr_expect_eq(r, cases[i].rc, "%s: %d", cases[i].proc, r);
		cr_expect(strstr(run.err, cases[i].why), "%s: \"%s\"", cases[i].proc, run.err);
		run_stop(&run);
	}
}

/* /proc/cpuinfo of two CPUs at the MHz given */
#define CPUINFO_2(mhz) "processor\t: 0\ncpu MHz\t\t: " mhz "\n\nprocessor\t: 1\ncpu MHz\t\t: " mhz "\n"
static const char cpuinfo_1000[] = CPUINFO_2("1000.5"), cpuinfo_3000[] = CPUINFO_2("3000.5");
static const char cpuinfo_2000_2100[] = "processor\t: 0\ncpu MHz\t\t: 2000.5\n\nprocessor\t: 1\ncpu MHz\t\t: 2100.5\n";

Test(cpu_collector, cpuinfo_mhz_read_again_once_steady_only_each_minute)
{
	struct scratch_root root;
	struct collector_run run;
	const struct pw_cpu *c = &run.snap.cpu;

	scratch_make(&root);
	scratch_put(&root, "proc/vm2-linux-6.18/stat", "stat");
	scratch_write(&root, "cpuinfo", cpuinfo_1000, sizeof(cpuinfo_1000) - 1);
	run_start(&run, &pw_cpu_collector, root.path, FIXTURES "/sys/vm2-linux-6.18");

	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(near(c->frequency_mhz[0], 1000.5, 1e-9));
	/* not steady yet: a change shows at once */
	scratch_write(&root, "cpuinfo", cpuinfo_2000_2100, sizeof(cpuinfo_2000_2100) - 1);
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(near(c->frequency_mhz[0], 2000.5, 1e-9) && near(c->frequency_mhz[1], 2100.5, 1e-9));
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_assert_eq(run_collect(&run), 0, "%s", run.err); /* the same three times: steady */

	/* steady: the last figures stand for a minute, without reading the file */
	unlink(strcat(strcpy((char[128]){ 0 }, root.path), "/cpuinfo"));
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect_eq(c->n_freq, 2);
	cr_expect(near(c->frequency_mhz[1], 2100.5, 1e-9), "%f", c->frequency_mhz[1]);

	/* CPUs came or went: read again at once */
	scratch_write(&root, "cpuinfo", cpuinfo_3000, sizeof(cpuinfo_3000) - 1);
	scratch_put(&root, "proc/xeon96/stat", "stat");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(near(c->frequency_mhz[0], 3000.5, 1e-9), "%f", c->frequency_mhz[0]);

	run_stop(&run);
	scratch_remove(&root);
}
