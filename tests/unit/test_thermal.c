/* SPDX-License-Identifier: MIT */
/* Temperatures: value parsing and which sensors count as the CPU's, on fixture trees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>

#include "collect/thermal.h"
#include "cpumem_fixture.h"

Test(thermal, parse_millicelsius)
{
	static const struct {
		const char *text;
		int rc;
		double c;
	} cases[] = {
		{ "45000\n", 0, 45 },
		{ "45123", 0, 45.123 },
		{ "-2500\n", 0, -2.5 },
		{ "0\n", 0, 0 },
		{ "18446744073709551615\n", 0, 18446744073709551.615 },
		{ "-18446744073709551615\n", 0, -18446744073709551.615 },
		{ "18446744073709551616\n", -ERANGE, 0 },
		{ "", -EBADMSG, 0 },
		{ "-", -EBADMSG, 0 },
		{ "- 5", -EBADMSG, 0 },
		{ "--5", -EBADMSG, 0 },
		{ "12a\n", -EBADMSG, 0 },
		{ "1 2\n", -EBADMSG, 0 },
		{ "45000\n\n", -EBADMSG, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double v = -999;
		int r = thermal_parse_millicelsius(cases[i].text, strlen(cases[i].text), &v);

		cr_expect_eq(r, cases[i].rc, "\"%s\": %d", cases[i].text, r);
		if (r == 0)
			cr_expect(near(v, cases[i].c, 1e-6), "\"%s\": %f", cases[i].text, v);
		else
			cr_expect_eq(v, -999, "\"%s\": written on failure", cases[i].text);
	}
}

Test(thermal, sensors_on_fixture_trees)
{
	static const struct {
		const char *sys;
		uint32_t n;
		double values[4]; /* the first ones */
	} cases[] = {
		/* coretemp "Core N" of two packages; acpitz, nvme, the packages and the
		 * thermal zones left out */
		{ "sys/xeon96", 48, { 40.0, 40.1, 40.2, 40.3 } },
		/* CentOS: name and inputs under hwmonN/device/ */
		{ "sys/linux-2.6.32", 4, { 35, 36, 37, 38 } },
		/* AMD: per-CCD Tccd*, not Tctl/Tdie */
		{ "sys/epyc-k10temp", 2, { 52, 53.5 } },
		/* an ARM board's hwmon named cpu_thermal: all of its inputs, once */
		{ "sys/rpi4", 1, { 51.121 } },
		/* no hwmon: thermal zones whose type says cpu, a cold one included */
		{ "sys/arm-thermal-zones", 2, { 48.686, -2.5 } },
		/* this machine (a VM): no sensors at all */
		{ "sys/vm2-linux-6.18", 0, { 0 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_thermal th = { 0 };
		double c[64];
		char path[256];
		uint32_t n;
		int fd;

		snprintf(path, sizeof(path), FIXTURES "/%s", cases[i].sys);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert(fd >= 0, "%s", path);
		cr_expect_eq(thermal_open(&th, fd), 0, "%s", cases[i].sys);
		cr_expect_eq(th.n, cases[i].n, "%s: %u sensors", cases[i].sys, th.n);
		n = thermal_read(&th, c, 64);
		cr_expect_eq(n, cases[i].n, "%s: %u values", cases[i].sys, n);
		for (uint32_t k = 0; k < n && k < 4; k++)
			if (cases[i].values[k] != 0)
				cr_expect(near(c[k], cases[i].values[k], 1e-9), "%s: [%u] %f", cases[i].sys, k, c[k]);
		cr_expect_eq(thermal_read(&th, c, 1), n ? 1 : 0, "cap respected");
		cr_expect_eq(thermal_open(&th, fd), 0, "rediscovery");
		cr_expect_eq(th.n, cases[i].n);
		thermal_close(&th);
		thermal_close(&th);
		close(fd);
	}
}

Test(thermal, xeon96_order_is_package_then_core)
{
	struct pw_thermal th = { 0 };
	double c[64];
	int fd = open(FIXTURES "/sys/xeon96", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cr_assert(fd >= 0);
	cr_assert_eq(thermal_open(&th, fd), 0);
	cr_assert_eq(thermal_read(&th, c, 64), 48);
	/* core ids 0-5, 8-13, 16-21, 24-29 on each package: sorted by tempN, not by name */
	cr_expect(near(c[5], 40.5, 1e-9) && near(c[6], 40.8, 1e-9) && near(c[23], 42.9, 1e-9));
	cr_expect(near(c[24], 50.0, 1e-9) && near(c[47], 52.9, 1e-9));
	thermal_close(&th);
	close(fd);
}
