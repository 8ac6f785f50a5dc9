/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "util/rate.h"

Test(rate, table)
{
	static const struct {
		uint64_t prev, cur;
		double dt;
		double want; /* NAN: null */
	} cases[] = {
		{ 0, 100, 1.0, 100.0 },
		{ 100, 100, 5.0, 0.0 },             /* no change is a real 0 */
		{ 100, 50, 1.0, NAN },              /* went backwards: null, not a huge number */
		{ 0, 100, 0.0, NAN },               /* no interval */
		{ 0, 100, -1.0, NAN },
		{ 0, 100, NAN, NAN },               /* first sample */
		{ 0, UINT64_MAX, 1.0, 18446744073709551615.0 },
		{ UINT64_MAX - 10, UINT64_MAX, 2.0, 5.0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got = pw_rate(cases[i].prev, cases[i].cur, cases[i].dt);

		if (isnan(cases[i].want))
			cr_expect(isnan(got), "case %zu: want null, got %f", i, got);
		else
			cr_expect_float_eq(got, cases[i].want, 1e-9, "case %zu", i);
	}
}

Test(rate, dt_from_clock)
{
	cr_expect(isnan(pw_dt_s(0, 5000000000ull)));       /* no previous sample */
	cr_expect(isnan(pw_dt_s(5000000000ull, 5000000000ull)));
	cr_expect(isnan(pw_dt_s(6000000000ull, 5000000000ull)));
	cr_expect_float_eq(pw_dt_s(1000000000ull, 6000000000ull), 5.0, 1e-12);
}
