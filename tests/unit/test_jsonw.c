/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "output/jsonw.h"
#include "output/snapshot_json.h"
#include "snapshot.h"
#include "util/decimal.h"

static char *escaped(const char *s, size_t n)
{
	static struct pw_buf b;

	pw_buf_clear(&b);
	json_escape_append(&b, s, n);
	return b.data ? b.data : "";
}

struct esc_case {
	const char *in;
	size_t len;
	const char *out;
};

Test(jsonw, escapes_table)
{
	static const struct esc_case cases[] = {
		{ "plain", 5, "plain" },
		{ "a\"b", 3, "a\\\"b" },
		{ "back\\slash", 10, "back\\\\slash" },
		{ "line\nfeed\r\t", 11, "line\\nfeed\\r\\t" },
		{ "\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f" },
		{ "nul\0in", 6, "nul\\u0000in" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },                /* valid UTF-8 passes */
		{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },              /* euro sign */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },      /* 4-byte emoji */
		{ "bad\xff", 4, "bad\\ufffd" },                     /* invalid byte */
		{ "\xc0\xaf", 2, "\\ufffd\\ufffd" },                /* overlong '/' */
		{ "\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd" },     /* surrogate */
		{ "\xe2\x82", 2, "\\ufffd\\ufffd" },                /* truncated sequence */
		{ "\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd" }, /* > U+10FFFF */
		{ "", 0, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(escaped(cases[i].in, cases[i].len), cases[i].out, "case %zu", i);
}

Test(jsonw, structure_and_numbers)
{
	struct pw_buf b = { 0 };
	struct jw w;

	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kv_u64(&w, "u", UINT64_MAX);
	jw_kv_double(&w, "nan", NAN);
	jw_kv_double(&w, "inf", INFINITY);
	jw_kv_double(&w, "ninf", -INFINITY);
	jw_kv_double(&w, "negzero", -0.0);
	jw_kv_double(&w, "int", 42.0);
	jw_kv_double(&w, "frac", 0.25);
	jw_key(&w, "arr");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_key(&w, "arr2");
	jw_arr_begin(&w);
	jw_u64(&w, 1);
	jw_null(&w);
	jw_bool(&w, true);
	jw_str(&w, NULL);
	jw_arr_end(&w);
	jw_key(&w, "o");
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	cr_assert_not(b.oom);
	cr_expect_str_eq(b.data,
			 "{\"u\":18446744073709551615,\"nan\":null,\"inf\":null,\"ninf\":null,\"negzero\":0,"
			 "\"int\":42,\"frac\":0.25,\"arr\":[],\"arr2\":[1,null,true,null],\"o\":{}}");
	pw_buf_free(&b);
}

Test(jsonw, keys_are_escaped)
{
	struct pw_buf b = { 0 };
	struct jw w;

	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kv_str(&w, "/mnt/my \"disk\"\n", "x\x01");
	jw_obj_end(&w);
	cr_expect_str_eq(b.data, "{\"/mnt/my \\\"disk\\\"\\n\":\"x\\u0001\"}");
	pw_buf_free(&b);
}

Test(jsonw, large_doubles_keep_precision)
{
	struct pw_buf b = { 0 };
	struct jw w;

	jw_init(&w, &b);
	jw_arr_begin(&w);
	jw_double(&w, 1e300);
	jw_double(&w, 123456789.125);
	jw_double(&w, -5.5);
	jw_arr_end(&w);
	cr_expect_str_eq(b.data, "[1e+300,123456789.125,-5.5]");
	pw_buf_free(&b);
}

Test(jsonw, integers_at_their_limits)
{
	struct pw_buf b = { 0 };
	struct jw w;

	jw_init(&w, &b);
	jw_arr_begin(&w);
	jw_u64(&w, 0);
	jw_u64(&w, UINT64_MAX);
	jw_i64(&w, INT64_MIN);
	jw_i64(&w, INT64_MAX);
	jw_i64(&w, -1);
	jw_double(&w, -5.0);
	jw_double(&w, 999999999999999.0);
	jw_double(&w, 1e15);
	jw_arr_end(&w);
	cr_expect_str_eq(b.data, "[0,18446744073709551615,-9223372036854775808,9223372036854775807,-1,-5,"
				 "999999999999999,1e+15]");
	pw_buf_free(&b);
}

/* pw_dec_g12's text, or printf's where it leaves the number to printf; NUL-terminated. */
static const char *g12(double v, char out[64])
{
	size_t n = pw_dec_g12(out, v);

	if (!n)
		snprintf(out, 64, "%.12g", v);
	else
		out[n] = '\0';
	return out;
}

static void expect_as_printf(double v)
{
	char mine[64], libc[64];

	snprintf(libc, sizeof(libc), "%.12g", v);
	cr_assert_str_eq(g12(v, mine), libc, "%.17g", v);
}

Test(jsonw, doubles_are_printed_as_printf_would)
{
	/* the boundaries, exact ties at the twelfth digit, and nines that round up a power */
	static const double cases[] = {
		1e-4, 0.000099999999999999, 0.0001, 0.00012345678901234, 0.1, 0.5, 1, 9.99999999999949,
		9.9999999999995, 9.99999999999951, 99.99999999999951, 123456789.125, 1234567.8901245,
		0.30000000000000004, 2.675, 1.0000000000005, 1.0000000000015, 1.0000000000025, 47.25,
		99999999999.9, 99999999999.4, 1e11, 12345678901.5, 3.3333333333333335, 6.02214076e10,
	};
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_as_printf(cases[i]);
		expect_as_printf(-cases[i]);
	}
	/* random doubles over the fast range and past both ends */
	for (int i = 0; i < 200000; i++) {
		double v;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v = ldexp((double)(x >> 11) / 9007199254740992.0 + 0.5, (int)(x % 60) - 20);
		expect_as_printf(i & 1 ? -v : v);
		/* twelve digits and a 5 after them: ties in decimal, rarely in binary */
		expect_as_printf((double)(x % 1000000000000ull) / 1e6 + 5e-7);
	}
}

Test(jsonw, doubles_outside_the_fast_range_are_left_to_printf)
{
	char out[PW_G12_MAX];

	cr_expect_eq(pw_dec_g12(out, 1e11 + 1), 0);
	cr_expect_eq(pw_dec_g12(out, 9.9e-5), 0);
	cr_expect_eq(pw_dec_g12(out, NAN), 0);
	cr_expect_eq(pw_dec_g12(out, INFINITY), 0);
	cr_expect_eq(pw_dec_g12(out, 0), 0);
}

Test(jsonw, snapshot_timestamps_have_six_decimals_as_printf_writes_them)
{
	static const double cases[] = { 1796617593.551749, 1700000000.25, 1700000000.9999996, 0.0000004, 1, 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot *s = calloc(1, sizeof(*s));
		struct pw_buf b = { 0 };
		char want[64];

		cr_assert(s);
		s->timestamp = cases[i];
		snapshot_to_json(s, &b);
		snprintf(want, sizeof(want), "\"timestamp\":%.6f,", cases[i]);
		cr_expect(b.data && strstr(b.data, want), "%s not in %.80s", want, b.data ? b.data : "");
		pw_buf_free(&b);
		free(s);
	}
}
