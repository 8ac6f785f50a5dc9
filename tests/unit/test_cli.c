/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "options.h"

static int parse(struct pw_options *o, int argc, const char **argv)
{
	return pw_parse_options(argc, (char **)argv, o);
}

Test(cli, defaults)
{
	const char *argv[] = { "perfwatch" };
	struct pw_options o;

	cr_assert_eq(parse(&o, 1, argv), 0);
	cr_expect_not(o.json);
	cr_expect_eq(o.count, 1);
	cr_expect_float_eq(o.interval_s, 5.0, 1e-12);
	cr_expect_str_eq(o.listen, "127.0.0.1:9464");
	cr_expect_eq(o.perf_source, PW_PERF_AUTO);
	cr_expect_str_eq(o.proc_root, "/proc");
}

Test(cli, json_count_interval)
{
	const char *argv[] = { "perfwatch", "--json", "--count", "3", "-i", "0.5", "--perf-source", "perf-stat" };
	struct pw_options o;

	cr_assert_eq(parse(&o, 8, argv), 0);
	cr_expect(o.json);
	cr_expect_eq(o.count, 3);
	cr_expect_float_eq(o.interval_s, 0.5, 1e-12);
	cr_expect_eq(o.perf_source, PW_PERF_OPT_PERF_STAT);
}

Test(cli, bad_input_is_usage_error, .init = cr_redirect_stderr)
{
	static const char *bad[][4] = {
		{ "perfwatch", "--bogus" },
		{ "perfwatch", "--interval", "0" },
		{ "perfwatch", "--interval", "abc" },
		{ "perfwatch", "--interval", "nan" },
		{ "perfwatch", "--interval", "1e9" },
		{ "perfwatch", "--json", "--count", "-1" },
		{ "perfwatch", "--json", "--count", "0" },
		{ "perfwatch", "--json", "--count", "99999999999999999999999" },
		{ "perfwatch", "--perf-source", "gpu" },
		{ "perfwatch", "--log-level", "loud" },
		{ "perfwatch", "--count", "2" },      /* --count without --json */
		{ "perfwatch", "--tls-cert", "c.pem" }, /* cert without key */
		{ "perfwatch", "extra-arg" },
		{ "perfwatch", "--interval" },          /* missing value */
		{ "perfwatch", "--max-clients", "0" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pw_options o;
		int argc = 0;

		while (argc < 4 && bad[i][argc])
			argc++;
		cr_expect_eq(parse(&o, argc, bad[i]), 2, "case %zu (%s)", i, bad[i][1]);
	}
}

Test(cli, help_and_version, .init = cr_redirect_stdout)
{
	const char *h[] = { "perfwatch", "--help" };
	const char *v[] = { "perfwatch", "--version" };
	struct pw_options o;

	cr_expect_eq(parse(&o, 2, h), 1);
	cr_expect_eq(parse(&o, 2, v), 1);
}
