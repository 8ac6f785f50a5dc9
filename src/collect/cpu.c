/* SPDX-License-Identifier: MIT */
/*
 * The cpu collector: /proc/stat (percentages over the interval, interrupts, context
 * switches), frequencies (cpufreq.h) and temperatures (thermal.h). It keeps the previous
 * /proc/stat sample; everything it allocates is reused, so a cycle allocates nothing
 * once the arrays have grown to the machine's size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collector.h"
#include "collect/cpufreq.h"
#include "collect/proc_stat.h"
#include "collect/thermal.h"
#include "util/rate.h"
#include "util/readfile.h"
#include "util/timeutil.h"

struct cpu_state {
	struct pw_proc_stat samples[2];
	unsigned cur;    /* samples[cur] is parsed next; samples[cur ^ 1] is the previous one */
	bool have_prev;
	uint64_t prev_ns;
	struct pw_buf text; /* file contents, reused */
	struct pw_file stat, cpuinfo; /* kept open (util/readfile.h) */
	struct pw_cpufreq freq;
	struct pw_thermal thermal;
	/*
	 * /proc/cpuinfo's "cpu MHz" (no cpufreq): the kernel formats every CPU's flags to
	 * make that file, half of this collector's time on a VM, where the figure never
	 * moves. Once it read the same three times in a row, it is read again once a minute
	 * (and when CPUs come or go); any change and it is read every time again.
	 */
	double *mhz;
	uint32_t n_mhz, cap_mhz;
	uint32_t mhz_same;
	uint64_t mhz_read_ns;
};

#define MHZ_STABLE_READS 3
#define MHZ_STABLE_REREAD_NS (60ull * 1000000000ull)

static int cpu_init(void *state, const struct pw_env *env, char *err, size_t errlen)
{
	struct cpu_state *st = state;

	(void)err;
	(void)errlen;
	/* neither is fatal: a machine without them reports empty lists */
	cpufreq_open(&st->freq, env->sys_fd);
	thermal_open(&st->thermal, env->sys_fd);
	return 0;
}

static void cpu_destroy(void *state)
{
	struct cpu_state *st = state;

	if (!st)
		return;
	proc_stat_free(&st->samples[0]);
	proc_stat_free(&st->samples[1]);
	pw_buf_free(&st->text);
	pw_file_close(&st->stat);
	pw_file_close(&st->cpuinfo);
	free(st->mhz);
	cpufreq_close(&st->freq);
	thermal_close(&st->thermal);
}

static bool same_cpus(const struct pw_proc_stat *a, const struct pw_proc_stat *b)
{
	if (a->n_cpus != b->n_cpus)
		return false;
	for (uint32_t i = 0; i < a->n_cpus; i++)
		if (a->cpus[i].id != b->cpus[i].id)
			return false;
	return true;
}

/* Remembers what cpuinfo said, and whether it said the same as the last time. */
static void keep_mhz(struct cpu_state *st, const double *mhz, uint32_t n, uint64_t now)
{
	bool same = n == st->n_mhz && !memcmp(mhz, st->mhz, n * sizeof(double));

	st->mhz_read_ns = now;
	st->mhz_same = same ? st->mhz_same + 1 : 0;
	if (!same && pw_array_reserve(&st->mhz, &st->cap_mhz, n, sizeof(double)) == 0) {
		memcpy(st->mhz, mhz, n * sizeof(double));
		st->n_mhz = n;
	} else if (!same) {
		st->n_mhz = 0;
	}
}

/* cpuinfo's MHz as read last time, when they have been steady and are not due again. */
static bool reuse_mhz(struct cpu_state *st, struct pw_cpu *c, uint64_t now)
{
	if (st->mhz_same < MHZ_STABLE_READS - 1 || !st->n_mhz || now - st->mhz_read_ns >= MHZ_STABLE_REREAD_NS ||
	    pw_array_reserve(&c->frequency_mhz, &c->cap_freq, st->n_mhz, sizeof(double)) < 0)
		return false;
	memcpy(c->frequency_mhz, st->mhz, st->n_mhz * sizeof(double));
	c->n_freq = st->n_mhz;
	return true;
}

/* Frequencies from cpufreq, else from /proc/cpuinfo; an empty list when neither works. */
static void fill_frequency(struct cpu_state *st, const struct pw_env *env, struct pw_cpu *c, uint64_t now)
{
	int n;

	c->n_freq = 0;
	if (st->freq.n) {
		if (pw_array_reserve(&c->frequency_mhz, &c->cap_freq, st->freq.n, sizeof(double)) < 0)
			return;
		c->n_freq = cpufreq_read(&st->freq, c->frequency_mhz, st->freq.n);
		if (c->n_freq)
			return;
	}
	if (reuse_mhz(st, c, now))
		return;
	if (pw_file_read(&st->cpuinfo, env->proc_fd, "cpuinfo", &st->text, 0) < 0)
		return;
	n = cpuinfo_parse_mhz(st->text.data, st->text.len, c->frequency_mhz, c->cap_freq);
	if (n > 0 && (uint32_t)n > c->cap_freq) {
		if (pw_array_reserve(&c->frequency_mhz, &c->cap_freq, (uint32_t)n, sizeof(double)) < 0)
			return;
		n = cpuinfo_parse_mhz(st->text.data, st->text.len, c->frequency_mhz, c->cap_freq);
	}
	if (n > 0) {
		c->n_freq = (uint32_t)n;
		keep_mhz(st, c->frequency_mhz, c->n_freq, now);
	}
}

static void fill_temperature(struct cpu_state *st, struct pw_cpu *c)
{
	c->n_temp = 0;
	if (!st->thermal.n ||
	    pw_array_reserve(&c->temperature_celsius, &c->cap_temp, st->thermal.n, sizeof(double)) < 0)
		return;
	c->n_temp = thermal_read(&st->thermal, c->temperature_celsius, st->thermal.n);
}

static int cpu_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct cpu_state *st = state;
	struct pw_proc_stat *cur = &st->samples[st->cur];
	const struct pw_proc_stat *prev = st->have_prev ? &st->samples[st->cur ^ 1] : NULL;
	char why[160];
	uint64_t now;
	long n;
	int r;

	n = pw_file_read(&st->stat, env->proc_fd, "stat", &st->text, 0);
	now = pw_mono_ns();
	if (n < 0) {
		snprintf(err, errlen, "cannot read proc/stat: %s", strerror((int)-n));
		return (int)n;
	}
	why[0] = '\0';
	r = proc_stat_parse(st->text.data, st->text.len, cur, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "proc/stat: %s", why);
		return r;
	}
	r = proc_stat_fill_cpu(prev, cur, prev ? pw_dt_s(st->prev_ns, now) : NAN, &out->cpu);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	/* CPUs came or went: cpuN/cpufreq directories and coretemp packages come and go
	 * with them */
	if (prev && !same_cpus(prev, cur)) {
		cpufreq_open(&st->freq, env->sys_fd);
		thermal_open(&st->thermal, env->sys_fd);
		st->mhz_same = 0;
	}
	fill_frequency(st, env, &out->cpu, now);
	fill_temperature(st, &out->cpu);
	out->cpu.valid = true;

	st->prev_ns = now;
	st->have_prev = true;
	st->cur ^= 1;
	return 0;
}

const struct collector pw_cpu_collector = {
	.name = "cpu",
	.sections = PW_SEC_CPU,
	.state_size = sizeof(struct cpu_state),
	.init = cpu_init,
	.collect = cpu_collect,
	.destroy = cpu_destroy,
};
