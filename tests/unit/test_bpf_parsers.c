/* SPDX-License-Identifier: MIT */
/* The eBPF collector's two small parsers: sysfs CPU lists and /proc/<pid>/fdinfo. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "bpf/cpulist.h"
#include "bpf/fdinfo.h"
#include "bpf/verifier_log.h"

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

/* What libbpf 1.1 printed for a program the verifier refused (abridged). */
static const char refused[] =
	"libbpf: prog 'pw_sched_switch': BPF program load failed: Permission denied\n"
	"libbpf: prog 'pw_sched_switch': -- BEGIN PROG LOAD LOG --\n"
	"reg type unsupported for arg#0 function pw_sched_switch#14\n"
	"0: R1=ctx(off=0,imm=0) R10=fp0\n"
	"125: (79) r1 = *(u64 *)(r2 +0)\n"
	"R2 unbounded memory access, make sure to bounds check any such access\n"
	"processed 626 insns (limit 1000000) max_states_per_insn 4 total_states 29 peak_states 21 mark_read 0\n"
	"-- END PROG LOAD LOG --\n"
	"libbpf: prog 'pw_sched_switch': failed to load: -13\n"
	"libbpf: failed to load object 'perfwatch_bpf'\n";

Test(verifier_log, names_the_program_and_the_reason)
{
	char name[32], why[128];

	cr_assert_eq(pw_verifier_verdict(refused, strlen(refused), name, sizeof(name), why, sizeof(why)), 0);
	cr_expect_str_eq(name, "pw_sched_switch");
	cr_expect_str_eq(why, "R2 unbounded memory access, make sure to bounds check any such access");
}

Test(verifier_log, edge_cases)
{
	static const char no_log[] = "libbpf: prog 'pw_x': failed to load: -22\n";
	static const char other[] = "libbpf: map 'blk_stats': failed to create: -1\n";
	static const char quote[] = "prog 'a'b': failed to load: -1\n";
	char name[8], why[16];

	cr_expect_eq(pw_verifier_verdict(no_log, strlen(no_log), name, sizeof(name), why, sizeof(why)), 0);
	cr_expect_str_eq(name, "pw_x");
	cr_expect_str_eq(why, "");
	cr_expect_eq(pw_verifier_verdict(other, strlen(other), name, sizeof(name), why, sizeof(why)), -ENOENT);
	cr_expect_eq(pw_verifier_verdict("", 0, name, sizeof(name), why, sizeof(why)), -ENOENT);
	cr_expect_eq(pw_verifier_verdict(quote, strlen(quote), name, sizeof(name), why, sizeof(why)), -EINVAL);
	/* a name longer than the buffer, a reason cut to fit */
	cr_expect_eq(pw_verifier_verdict(refused, strlen(refused), name, sizeof(name), why, sizeof(why)), -E2BIG);
	{
		char n2[32];

		cr_expect_eq(pw_verifier_verdict(refused, strlen(refused), n2, sizeof(n2), why, sizeof(why)), 0);
		cr_expect_str_eq(why, "R2 unbounded me");
	}
}
