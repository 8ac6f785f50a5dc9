/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: /proc/vmstat, one file or two samples separated by a NUL byte; two
 * samples that parse give rates that are non-negative or null, and a sum that is null
 * whenever one of its parts is.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "collect/vmstat.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void check_rate(double v)
{
	CHECK(isnan(v) || (v >= 0 && isfinite(v)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size);
	struct pw_vmstat a, b;
	struct pw_memory m;
	char err[128];

	if (!nul) {
		if (vmstat_parse(buf, size, &a, err, sizeof(err)) < 0)
			CHECK(err[0]);
		return 0;
	}
	if (vmstat_parse(buf, (size_t)(nul - buf), &a, NULL, 0) < 0 ||
	    vmstat_parse(nul + 1, size - (size_t)(nul + 1 - buf), &b, NULL, 0) < 0)
		return 0;
	vmstat_fill_memory(&a, &b, 5.0, 4096, &m);
	check_rate(m.pgpgin_per_sec);
	check_rate(m.pgpgout_per_sec);
	check_rate(m.pswpin_per_sec);
	check_rate(m.pswpout_per_sec);
	check_rate(m.pgfault_per_sec);
	check_rate(m.pgmajfault_per_sec);
	check_rate(m.page_io_bytes_per_sec);
	check_rate(m.swap_io_bytes_per_sec);
	CHECK(isnan(m.page_io_bytes_per_sec) == (isnan(m.pgpgin_per_sec) || isnan(m.pgpgout_per_sec)));
	CHECK(isnan(m.swap_io_bytes_per_sec) == (isnan(m.pswpin_per_sec) || isnan(m.pswpout_per_sec)));
	return 0;
}
