/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "output/jsonw.h"

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
