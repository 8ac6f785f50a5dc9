/* SPDX-License-Identifier: MIT */
/* The server's request-data checks, table-driven, failures included. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "server/httputil.h"

#define S(x) x, sizeof(x) - 1

Test(listen, parses)
{
	static const struct {
		const char *in;
		int rc;
		const char *host;
		unsigned port;
		bool loopback, any, ipv6;
	} t[] = {
		{ "127.0.0.1:9464", 0, "127.0.0.1", 9464, true, false, false },
		{ "127.0.0.2:1", 0, "127.0.0.2", 1, true, false, false },
		{ "localhost:80", 0, "127.0.0.1", 80, true, false, false },
		{ "0.0.0.0:9464", 0, "0.0.0.0", 9464, false, true, false },
		{ "*:9464", 0, "0.0.0.0", 9464, false, true, false },
		{ "10.1.2.3:65535", 0, "10.1.2.3", 65535, false, false, false },
		{ "[::1]:9464", 0, "::1", 9464, true, false, true },
		{ "[::]:9464", 0, "::", 9464, false, true, true },
		{ "[0:0::1]:9", 0, "::1", 9, true, false, true },
		{ "127.0.0.1", -EINVAL, NULL, 0, false, false, false },
		{ "127.0.0.1:", -EINVAL, NULL, 0, false, false, false },
		{ "127.0.0.1:0", -EINVAL, NULL, 0, false, false, false },
		{ "127.0.0.1:65536", -EINVAL, NULL, 0, false, false, false },
		{ "127.0.0.1:99999999999", -EINVAL, NULL, 0, false, false, false },
		{ "127.0.0.1:-1", -EINVAL, NULL, 0, false, false, false },
		{ "127.0.0.1:1x", -EINVAL, NULL, 0, false, false, false },
		{ "::1:9464", -EINVAL, NULL, 0, false, false, false },
		{ "[::1]9464", -EINVAL, NULL, 0, false, false, false },
		{ "[::1]", -EINVAL, NULL, 0, false, false, false },
		{ "[zz]:1", -EINVAL, NULL, 0, false, false, false },
		{ "example.com:80", -EINVAL, NULL, 0, false, false, false },
		{ "256.1.1.1:80", -EINVAL, NULL, 0, false, false, false },
		{ ":80", -EINVAL, NULL, 0, false, false, false },
		{ "", -EINVAL, NULL, 0, false, false, false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pw_listen_addr la;
		int rc = pw_listen_parse(t[i].in, strlen(t[i].in), &la);

		cr_assert_eq(rc, t[i].rc, "%s -> %d", t[i].in, rc);
		if (rc)
			continue;
		cr_assert_str_eq(la.host, t[i].host, "%s", t[i].in);
		cr_assert_eq(la.port, t[i].port, "%s", t[i].in);
		cr_assert_eq(la.loopback, t[i].loopback, "%s", t[i].in);
		cr_assert_eq(la.any, t[i].any, "%s", t[i].in);
		cr_assert_eq(la.ipv6, t[i].ipv6, "%s", t[i].in);
	}
}

Test(host, dns_rebinding_defence)
{
	struct pw_listen_addr la;
	static const struct {
		const char *host;
		bool ok;
	} t[] = {
		{ "127.0.0.1:9464", true }, { "127.0.0.1", true },	{ "localhost:9464", true },
		{ "LOCALHOST", true },	    { "localhost:8080", true }, { "[::1]:9464", true },
		{ "127.1.2.3:1", true },    { "", true },
		{ "evil.example:9464", false }, { "localhost.evil.example", false }, { "10.0.0.1:9464", false },
		{ "127.0.0.1.evil.example", false }, { "[::2]:9464", false }, { "[::1", false },
		{ "0.0.0.0:9464", false },
	};

	cr_assert_eq(pw_listen_parse(S("127.0.0.1:9464"), &la), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(pw_host_allowed(t[i].host, strlen(t[i].host), &la), t[i].ok, "%s", t[i].host);
}

Test(origin, same_origin_only)
{
	cr_assert(pw_origin_allowed(S("http://127.0.0.1:9464"), S("127.0.0.1:9464"), false));
	cr_assert(pw_origin_allowed(S("HTTP://LOCALHOST:9464"), S("localhost:9464"), false));
	cr_assert(pw_origin_allowed(S("https://h:1"), S("h:1"), true));
	cr_assert(!pw_origin_allowed(S("http://h:1"), S("h:1"), true));
	cr_assert(!pw_origin_allowed(S("https://h:1"), S("h:1"), false));
	cr_assert(!pw_origin_allowed(S("http://evil.example"), S("127.0.0.1:9464"), false));
	cr_assert(!pw_origin_allowed(S("http://127.0.0.1:9464.evil"), S("127.0.0.1:9464"), false));
	cr_assert(!pw_origin_allowed(S("http://127.0.0.1:946"), S("127.0.0.1:9464"), false));
	cr_assert(!pw_origin_allowed(S("null"), S("127.0.0.1:9464"), false));
	cr_assert(!pw_origin_allowed(S("http://x"), "", 0, false));
}

Test(body, content_length)
{
	cr_assert_eq(pw_content_length_zero(S("0")), 0);
	cr_assert_eq(pw_content_length_zero(S(" 00 ")), 0);
	cr_assert_eq(pw_content_length_zero(S("1")), -EFBIG);
	cr_assert_eq(pw_content_length_zero(S("99999999999999999999999")), -EFBIG);
	cr_assert_eq(pw_content_length_zero(S("-1")), -EINVAL);
	cr_assert_eq(pw_content_length_zero(S("+0")), -EINVAL);
	cr_assert_eq(pw_content_length_zero(S("0x0")), -EINVAL);
	cr_assert_eq(pw_content_length_zero(S("")), -EINVAL);
	cr_assert_eq(pw_content_length_zero(S("0, 0")), -EINVAL);
}

Test(token, compare)
{
	cr_assert(pw_token_equal(S("0123456789abcdef"), S("0123456789abcdef")));
	cr_assert(!pw_token_equal(S("0123456789abcdeF"), S("0123456789abcdef")));
	cr_assert(!pw_token_equal(S("0123456789abcde"), S("0123456789abcdef")));
	cr_assert(!pw_token_equal(S("0123456789abcdef0"), S("0123456789abcdef")));
	cr_assert(!pw_token_equal("", 0, S("0123456789abcdef")));
	/* a given token that repeats the secret's prefix must not pass */
	cr_assert(!pw_token_equal(S("01234567"), S("0123456701234567")));
}

Test(token, parse_file)
{
	char tok[PW_TOKEN_MAX + 1];

	cr_assert_eq(pw_token_parse(S("0123456789abcdef\n"), tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, "0123456789abcdef");
	cr_assert_eq(pw_token_parse(S("0123456789abcdef \r\n\n"), tok, sizeof(tok)), 0);
	cr_assert_eq(pw_token_parse(S("short\n"), tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(pw_token_parse(S("0123456789 abcdef"), tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(pw_token_parse(S("0123456789;abcdef"), tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(pw_token_parse(S("0123456789\x01" "abcdef"), tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(pw_token_parse(S("\n\n"), tok, sizeof(tok)), -EINVAL);
}

Test(token, bearer_and_cookie)
{
	const char *v;
	size_t l;

	cr_assert_eq(pw_bearer_token(S("Bearer abc"), &v, &l), 0);
	cr_assert_eq(l, 3);
	cr_assert(!memcmp(v, "abc", 3));
	cr_assert_eq(pw_bearer_token(S("  bearer   abc  "), &v, &l), 0);
	cr_assert_eq(l, 3);
	cr_assert_eq(pw_bearer_token(S("Basic abc"), &v, &l), -ENOENT);
	cr_assert_eq(pw_bearer_token(S("Bearer"), &v, &l), -ENOENT);
	cr_assert_eq(pw_bearer_token(S("Bearer   "), &v, &l), -ENOENT);
	cr_assert_eq(pw_bearer_token(S("Bearerabc"), &v, &l), -ENOENT);

	cr_assert_eq(pw_cookie_value(S("a=1; pw_token=xyz; b=2"), "pw_token", &v, &l), 0);
	cr_assert_eq(l, 3);
	cr_assert(!memcmp(v, "xyz", 3));
	cr_assert_eq(pw_cookie_value(S("pw_token=\"q\""), "pw_token", &v, &l), 0);
	cr_assert_eq(l, 1);
	cr_assert_eq(pw_cookie_value(S("xpw_token=1; pw_tokenx=2"), "pw_token", &v, &l), -ENOENT);
	cr_assert_eq(pw_cookie_value(S(";;;"), "pw_token", &v, &l), -ENOENT);
	cr_assert_eq(pw_cookie_value(S("pw_token"), "pw_token", &v, &l), -ENOENT);
}

Test(query, reencoded_without_token)
{
	struct pw_buf b = { 0 };

	pw_query_append(&b, S("metric=cpu.usage_percent"));
	pw_query_append(&b, S("token=secret"));
	pw_query_append(&b, S("from=-1h"));
	pw_query_append(&b, S("q=a&b c=d%"));
	pw_query_append(&b, S("flag"));
	pw_query_append(&b, "", 0);
	cr_assert_str_eq(b.data, "metric=cpu.usage_percent&from=-1h&q=a%26b%20c%3Dd%25&flag");
	pw_buf_free(&b);
}

Test(path, static_files)
{
	cr_assert(pw_file_path_ok(S("/")));
	cr_assert(pw_file_path_ok(S("/index.html")));
	cr_assert(pw_file_path_ok(S("/js/app.v2.js")));
	cr_assert(!pw_file_path_ok(S("/.git/config")));
	cr_assert(!pw_file_path_ok(S("/a/../b")));
	cr_assert(!pw_file_path_ok(S("/..")));
	cr_assert(!pw_file_path_ok(S("/a\\b")));
	cr_assert(!pw_file_path_ok(S("/a\r\nb")));
	cr_assert(!pw_file_path_ok(S("relative")));
	cr_assert(!pw_file_path_ok("", 0));
}
