/* SPDX-License-Identifier: MIT */
/* The name -> position index the network and disk collectors keep between cycles. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "util/strindex.h"

struct item {
	int value;
	char name[24];
};

#define N 10000

static struct pw_strkeys keys(const struct item *arr)
{
	return (struct pw_strkeys){ arr, sizeof(*arr), offsetof(struct item, name) };
}

Test(strindex, add_find_reset)
{
	static struct item items[N];
	struct pw_strindex ix = { 0 };

	cr_expect_eq(pw_strindex_find(&ix, keys(items), "x"), PW_STRINDEX_NONE, "never reset: empty");
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(pw_strindex_reset(&ix, N), 0);
		for (uint32_t i = 0; i < N; i++) {
			snprintf(items[i].name, sizeof(items[i].name), "veth%u-%d", i * 7919u, round);
			cr_assert_eq(pw_strindex_add(&ix, keys(items), items[i].name, i), 0);
		}
		for (uint32_t i = 0; i < N; i++)
			cr_expect_eq(pw_strindex_find(&ix, keys(items), items[i].name), i);
		cr_expect_eq(pw_strindex_find(&ix, keys(items), "veth1-0x"), PW_STRINDEX_NONE);
		cr_expect_eq(pw_strindex_find(&ix, keys(items), ""), PW_STRINDEX_NONE);
		/* past the room asked for at half load: refused, never an endless probe */
		while (pw_strindex_add(&ix, keys(items), "extra", 0) == 0)
			;
		cr_expect_eq(pw_strindex_add(&ix, keys(items), "extra", 0), -ENOSPC);
	}
	cr_expect_eq(pw_strindex_add(&ix, keys(items), "none", PW_STRINDEX_NONE), -ENOSPC);
	pw_strindex_free(&ix);
	pw_strindex_free(&ix);
	pw_strindex_free(NULL);
}

Test(strindex, swap_follows_the_arrays)
{
	struct item a[2] = { { 1, "eth0" }, { 2, "eth1" } }, b[1] = { { 3, "wg0" } };
	struct pw_strindex ia = { 0 }, ib = { 0 };

	cr_assert_eq(pw_strindex_reset(&ia, 2), 0);
	cr_assert_eq(pw_strindex_reset(&ib, 1), 0);
	pw_strindex_add(&ia, keys(a), "eth0", 0);
	pw_strindex_add(&ia, keys(a), "eth1", 1);
	pw_strindex_add(&ib, keys(b), "wg0", 0);
	pw_strindex_swap(&ia, &ib);
	cr_expect_eq(pw_strindex_find(&ia, keys(b), "wg0"), 0);
	cr_expect_eq(pw_strindex_find(&ib, keys(a), "eth1"), 1);
	cr_expect_eq(pw_strindex_find(&ia, keys(b), "eth1"), PW_STRINDEX_NONE);
	pw_strindex_free(&ia);
	pw_strindex_free(&ib);
}
