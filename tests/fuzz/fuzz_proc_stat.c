/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: /proc/stat. The input is one file, or two samples separated by a NUL
 * byte; two samples that both parse go through proc_stat_fill_cpu(), whose results must
 * stay in range: percentages in [0, 100] or null, one per_core value per online CPU,
 * rates non-negative or null.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/proc_stat.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void check_pct(double v)
{
	CHECK(isnan(v) || (v >= 0 && v <= 100));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size);
	struct pw_proc_stat a = { 0 }, b = { 0 };
	struct pw_cpu c = { 0 };
	char err[128];
	int ra, rb;

	if (!nul) {
		ra = proc_stat_parse(buf, size, &a, err, sizeof(err));
		CHECK(ra == 0 || err[0]);
		if (ra == 0) {
			CHECK(a.n_cpus >= 1 && a.n_fields >= PW_CT_MIN && a.n_fields <= PW_CT_NUM);
			CHECK(proc_stat_fill_cpu(NULL, &a, NAN, &c) == 0);
			CHECK(c.n_per_core == a.n_cpus && isnan(c.usage_percent));
		}
		goto out;
	}
	ra = proc_stat_parse(buf, (size_t)(nul - buf), &a, NULL, 0);
	rb = proc_stat_parse(nul + 1, size - (size_t)(nul + 1 - buf), &b, NULL, 0);
	if (ra || rb)
		goto out;
	CHECK(proc_stat_fill_cpu(&a, &b, 5.0, &c) == 0);
	CHECK(c.n_per_core == b.n_cpus && c.n_cpus_online == b.n_cpus);
	for (uint32_t i = 0; i < c.n_per_core; i++)
		check_pct(c.per_core[i]);
	check_pct(c.usage_percent);
	check_pct(c.user);
	check_pct(c.system);
	check_pct(c.idle);
	check_pct(c.iowait);
	check_pct(c.irq);
	check_pct(c.softirq);
	CHECK(isnan(c.interrupts_per_sec) || c.interrupts_per_sec >= 0);
	/* and the other way round: b before a */
	CHECK(proc_stat_fill_cpu(&b, &a, 5.0, &c) == 0);
	CHECK(c.n_per_core == a.n_cpus);
	check_pct(c.usage_percent);
out:
	free(c.per_core);
	proc_stat_free(&a);
	proc_stat_free(&b);
	return 0;
}
