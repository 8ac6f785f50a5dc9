/* SPDX-License-Identifier: MIT */
/* Frequencies: cpufreq value files, /proc/cpuinfo "cpu MHz", policy discovery on fixture trees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>

#include "collect/cpufreq.h"
#include "cpumem_fixture.h"

Test(cpufreq, parse_khz)
{
	static const struct {
		const char *text;
		int rc;
		double mhz;
	} cases[] = {
		{ "2400000\n", 0, 2400 },
		{ "2400000", 0, 2400 },
		{ "800123\n", 0, 800.123 },
		{ "0\n", 0, 0 },
		{ "18446744073709551615\n", 0, 18446744073709551.615 },
		{ "18446744073709551616\n", -ERANGE, 0 },
		{ "", -EBADMSG, 0 },
		{ "\n", -EBADMSG, 0 },
		{ "<unknown>\n", -EBADMSG, 0 },
		{ "-5\n", -EBADMSG, 0 },
		{ "123 456\n", -EBADMSG, 0 },
		{ "123\n456\n", -EBADMSG, 0 },
		{ "1.5\n", -EBADMSG, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = -1;
		int r = cpufreq_parse_khz(cases[i].text, strlen(cases[i].text), &v);

		cr_expect_eq(r, cases[i].rc, "\"%s\": %d", cases[i].text, r);
		if (r == 0)
			cr_expect(near(v, cases[i].mhz, 1e-6), "\"%s\": %f", cases[i].text, v);
		else
			cr_expect_eq(v, -1, "\"%s\": written on failure", cases[i].text);
	}
}

Test(cpufreq, cpuinfo_fixtures)
{
	static const struct {
		const char *file;
		int n;
		double first, last;
	} cases[] = {
		{ "proc/vm2-linux-6.18/cpuinfo", 2, 2299.998, 2299.998 },
		{ "proc/xeon96/cpuinfo", 88, 1000, 1095 },
		{ "proc/linux-2.6.18/cpuinfo", 2, 2999.0, 2999.001 },
		{ "proc/nasty-empty/cpuinfo", 0, 0, 0 },
		{ "proc/nasty-truncated/cpuinfo", -EBADMSG, 0, 0 },
		{ "proc/nasty-garbage/cpuinfo", -EBADMSG, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_buf b = { 0 };
		double mhz[128];
		int n;

		fixture_read(cases[i].file, &b);
		n = cpuinfo_parse_mhz(b.data, b.len, mhz, 128);
		cr_expect_eq(n, cases[i].n, "%s: %d", cases[i].file, n);
		if (n > 0) {
			cr_expect(near(mhz[0], cases[i].first, 1e-9), "%s: %f", cases[i].file, mhz[0]);
			cr_expect(near(mhz[n - 1], cases[i].last, 1e-9), "%s: %f", cases[i].file, mhz[n - 1]);
		}
		/* with less room: the count still comes back, and nothing is written past cap */
		if (n > 1) {
			mhz[1] = -1;
			cr_expect_eq(cpuinfo_parse_mhz(b.data, b.len, mhz, 1), n);
			cr_expect_eq(mhz[1], -1);
		}
		pw_buf_free(&b);
	}
}

Test(cpufreq, cpuinfo_inline)
{
	static const struct {
		const char *text;
		int n;
		double first;
	} cases[] = {
		{ "cpu MHz\t\t: 3400.000\n", 1, 3400 },
		{ "CPU MHz : 1.5\n", 1, 1.5 },                  /* psutil matches any case */
		{ "cpu MHz\t\t: 0.0000000000000000000000001\n", 1, 0 }, /* long fractions do not overflow */
		{ "cpu MHz dynamic : 1200\ncpu MHz static : 1200\n", 0, 0 }, /* s390 */
		{ "cpu MHz\t\t: \n", -EBADMSG, 0 },
		{ "cpu MHz\t\t: 12abc\n", -EBADMSG, 0 },
		{ "cpu MHz", 0, 0 },
		{ "cpu MHz\t\t: 123456789012345678901234\n", -EBADMSG, 0 }, /* 24 integer digits */
		{ "processor : 0\nBogoMIPS : 108.00\n", 0, 0 }, /* arm64: no MHz lines */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double mhz[4] = { -1 };
		int n = cpuinfo_parse_mhz(cases[i].text, strlen(cases[i].text), mhz, 4);

		cr_expect_eq(n, cases[i].n, "\"%s\": %d", cases[i].text, n);
		if (n > 0)
			cr_expect(near(mhz[0], cases[i].first, 1e-12), "\"%s\": %f", cases[i].text, mhz[0]);
	}
}

Test(cpufreq, policies_on_fixture_trees)
{
	static const struct {
		const char *sys;
		uint32_t n;
		double first, last;
	} cases[] = {
		/* 96 policies, 8 of them inactive (CPUs offline) */
		{ "sys/xeon96", 88, 2100, 2100 + (95 * 37 % 19) * 100 },
		/* cpuN/cpufreq of old kernels; cpu3 has cpuinfo_cur_freq only */
		{ "sys/linux-2.6.32", 4, 1200, 2000 },
		/* a VM: devices/system/cpu/cpufreq exists and is empty */
		{ "sys/vm2-linux-6.18", 0, 0, 0 },
		{ "sys/linux-2.6.18", 0, 0, 0 },
		{ "sys/no-such-tree", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_cpufreq cf = { 0 };
		char path[256];
		double mhz[128];
		uint32_t n;
		int fd;

		snprintf(path, sizeof(path), FIXTURES "/%s", cases[i].sys);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fd = open(FIXTURES "/proc/nasty-empty", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert(fd >= 0);
		cr_expect_eq(cpufreq_open(&cf, fd), 0, "%s", cases[i].sys);
		cr_expect_eq(cf.n, cases[i].n, "%s: %u policies", cases[i].sys, cf.n);
		n = cpufreq_read(&cf, mhz, 128);
		cr_expect_eq(n, cases[i].n, "%s: %u values", cases[i].sys, n);
		if (n) {
			cr_expect(near(mhz[0], cases[i].first, 1e-9), "%s: %f", cases[i].sys, mhz[0]);
			cr_expect(near(mhz[n - 1], cases[i].last, 1e-9), "%s: %f", cases[i].sys, mhz[n - 1]);
		}
		/* reading into less room stops there */
		if (n > 2)
			cr_expect_eq(cpufreq_read(&cf, mhz, 2), 2);
		/* again (as after hot-plug): no leak, same answer */
		cr_expect_eq(cpufreq_open(&cf, fd), 0);
		cr_expect_eq(cf.n, cases[i].n);
		cpufreq_close(&cf);
		cpufreq_close(&cf);
		close(fd);
	}
}
