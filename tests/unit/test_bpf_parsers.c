/* SPDX-License-Identifier: MIT */
/* The eBPF collector's two small parsers: sysfs CPU lists and /proc/<pid>/fdinfo. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bpf/cpulist.h"
#include "bpf/fdinfo.h"

struct cpulist_case {
	const char *in;
	int want;          /* 0 or the negative errno */
	const char *mask;  /* '1' per CPU in the list, of 8 */
};

Test(cpulist, table)
{
	static const struct cpulist_case cases[] = {
		{ "0-1\n", 0, "11000000" },
		{ "0\n", 0, "10000000" },
		{ "0,2-3,7", 0, "10110001" },
		{ "1-1", 0, "01000000" },
		{ "", 0, "00000000" },              /* no CPU online (a fixture) */
		{ "\n", 0, "00000000" },
		{ "0-8", -E2BIG, NULL },            /* more CPUs than the mask holds */
		{ "9", -E2BIG, NULL },
		{ "99999999999999999999", -E2BIG, NULL },
		{ "3-1", -EINVAL, NULL },
		{ "0,", -EINVAL, NULL },
		{ ",0", -EINVAL, NULL },
		{ "0-", -EINVAL, NULL },
		{ "-1", -EINVAL, NULL },
		{ "a", -EINVAL, NULL },
		{ "0 1", -EINVAL, NULL },
		{ "0\n\n", -EINVAL, NULL },
		{ "0,,1", -EINVAL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool mask[8];
		int got = pw_cpulist_parse(cases[i].in, strlen(cases[i].in), mask, 8);

		cr_expect_eq(got, cases[i].want, "'%s': want %d, got %d", cases[i].in, cases[i].want, got);
		if (got || !cases[i].mask)
			continue;
		for (int c = 0; c < 8; c++)
			cr_expect_eq(mask[c], cases[i].mask[c] == '1', "'%s': CPU %d", cases[i].in, c);
	}
}

Test(cpulist, not_nul_terminated)
{
	bool mask[4];
	const char buf[3] = { '0', '-', '3' }; /* "0-3" with no NUL after it */

	cr_expect_eq(pw_cpulist_parse(buf, 3, mask, 4), 0);
	cr_expect(mask[0] && mask[1] && mask[2] && mask[3]);
	cr_expect_eq(pw_cpulist_parse(buf, 2, mask, 4), -EINVAL); /* "0-" */
}

static const char fdinfo_map[] =
	"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nmap_type:\t6\nkey_size:\t4\n"
	"value_size:\t32\nmax_entries:\t1\nmap_flags:\t0x0\nmap_extra:\t0x0\n"
	"memlock:\t576\nmap_id:\t52\nfrozen:\t0\n";

Test(fdinfo, table)
{
	static const struct {
		const char *buf, *key;
		int want;
		uint64_t value;
	} cases[] = {
		{ fdinfo_map, "memlock", 0, 576 },
		{ fdinfo_map, "map_id", 0, 52 },
		{ fdinfo_map, "map", -ENOENT, 0 },        /* a prefix of a key is not the key */
		{ fdinfo_map, "map_flags", -EINVAL, 0 },  /* hex: not a decimal */
		{ fdinfo_map, "nothere", -ENOENT, 0 },
		{ "memlock:\t18446744073709551615\n", "memlock", 0, UINT64_MAX },
		{ "memlock:\t18446744073709551616\n", "memlock", -ERANGE, 0 },
		{ "memlock:\n", "memlock", -EINVAL, 0 },
		{ "memlock: 12 kB\n", "memlock", -EINVAL, 0 },
		{ "memlock:42", "memlock", 0, 42 },        /* no trailing newline */
		{ "", "memlock", -ENOENT, 0 },
		{ "\n\n\nmemlock:  7\n", "memlock", 0, 7 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int got = pw_fdinfo_u64(cases[i].buf, strlen(cases[i].buf), cases[i].key, &v);

		cr_expect_eq(got, cases[i].want, "case %zu: want %d, got %d", i, cases[i].want, got);
		if (!got)
			cr_expect_eq(v, cases[i].value, "case %zu", i);
		else
			cr_expect_eq(v, 12345, "case %zu: out-param written on failure", i);
	}
}
