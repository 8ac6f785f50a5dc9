/* SPDX-License-Identifier: MIT */
/* /proc/net/sockstat{,6}: the UDP and timewait totals, from real and nasty text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "collect/sockstat.h"
#include "netdisk_fixture.h"

Test(sockstat, parse)
{
	static const struct {
		const char *text, *proto, *field;
		int ret;
		uint64_t want;
	} cases[] = {
		{ "sockets: used 16\nTCP: inuse 3 orphan 0 tw 326 alloc 3 mem 291\nUDP: inuse 0 mem 0\n", "TCP:", "tw", 0, 326 },
		{ "sockets: used 16\nTCP: inuse 3 orphan 0 tw 326 alloc 3 mem 291\nUDP: inuse 9 mem 0\n", "UDP:", "inuse", 0, 9 },
		{ "TCP: inuse 3 orphan 0 tw 326 alloc 3 mem 291", "TCP:", "mem", 0, 291 }, /* no final newline */
		{ "UDPLITE: inuse 5\nUDP: inuse 2 mem 1\n", "UDP:", "inuse", 0, 2 },     /* UDPLITE is not UDP */
		{ "UDP6: inuse 4\n", "UDP:", "inuse", -ENOENT, 0 },
		{ "  UDP:\tinuse\t7 mem 1\n", "UDP:", "inuse", 0, 7 },                   /* blanks of any kind */
		{ "UDP: mem 1\n", "UDP:", "inuse", -ENOENT, 0 },
		{ "UDP: inuse\n", "UDP:", "inuse", -EBADMSG, 0 },
		{ "UDP: inuse x mem 1\n", "UDP:", "inuse", -EBADMSG, 0 },
		{ "UDP: inuse 18446744073709551616\n", "UDP:", "inuse", -ERANGE, 0 },
		{ "UDP: inuse 18446744073709551615\n", "UDP:", "inuse", 0, UINT64_MAX },
		{ "UDP: memory 3 inuse 2\n", "UDP:", "inuse", 0, 2 }, /* a name is a whole token */
		{ "UDP: inusex 3 inuse 2\n", "UDP:", "inuse", 0, 2 },
		{ "", "UDP:", "inuse", -ENOENT, 0 },
		{ "\n\n\n", "UDP:", "inuse", -ENOENT, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int r = pw_sockstat_parse(cases[i].text, strlen(cases[i].text), cases[i].proto, cases[i].field, &v);

		cr_expect_eq(r, cases[i].ret, "case %zu: %d", i, r);
		if (!r)
			cr_expect_eq(v, cases[i].want, "case %zu: %lu", i, (unsigned long)v);
		else
			cr_expect_eq(v, 12345, "case %zu: untouched on failure", i);
	}
}

Test(sockstat, read_fixture_trees)
{
	struct pw_buf b = { 0 };
	struct pw_sockstat ss;
	int fd;

	fd = fixture_tree_fd("sockstat-6.18");
	cr_assert_eq(pw_sockstat_read(fd, &b, &ss), 0);
	cr_expect_eq(ss.udp, 3 + 2, "UDP + UDP6, not UDPLITE6");
	cr_expect_eq(ss.tcp_tw, 186);
	close(fd);

	fd = fixture_tree_fd("sockstat-no-ipv6");
	cr_assert_eq(pw_sockstat_read(fd, &b, &ss), 0, "no sockstat6: a kernel without IPv6");
	cr_expect_eq(ss.udp, 4);
	cr_expect_eq(ss.tcp_tw, 7);
	close(fd);

	fd = fixture_tree_fd("nasty-empty");
	cr_expect_eq(pw_sockstat_read(fd, &b, &ss), -ENOENT, "no sockstat at all");
	close(fd);
	pw_buf_free(&b);
}
