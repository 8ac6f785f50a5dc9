/* SPDX-License-Identifier: MIT */
/* /proc/vmstat: the parser and the rates of the memory section over two samples. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "collect/vmstat.h"
#include "cpumem_fixture.h"

static int parse_fixture(const char *rel, struct pw_vmstat *vs, char *err, size_t errlen)
{
	struct pw_buf b = { 0 };
	int r;

	fixture_read(rel, &b);
	r = vmstat_parse(b.data, b.len, vs, err, errlen);
	pw_buf_free(&b);
	return r;
}

Test(vmstat, fixture_files)
{
	static const struct {
		const char *file;
		int rc;
		uint64_t v[PW_VM_NUM];
	} cases[] = {
		{ "proc/vm2-linux-6.18/vmstat", 0, { 2247853, 1418508, 0, 0, 5702822, 2119 } },
		{ "proc/xeon96/vmstat", 0, { 912345678, 1823456789, 123456, 234567, 98765432101, 456789 } },
		{ "proc/linux-2.6.32/vmstat", 0, { 1000, 2000, 0, 0, 300000, 40 } },
		{ "proc/nasty-u64max/vmstat", 0, { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } },
		{ "proc/nasty-empty/vmstat", -EBADMSG, { 0 } },
		{ "proc/nasty-truncated/vmstat", -EBADMSG, { 0 } },
		{ "proc/nasty-garbage/vmstat", -EBADMSG, { 0 } },
		{ "proc/nasty-overflow/vmstat", -ERANGE, { 0 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_vmstat vs = { .have = 0xdead };
		char err[160] = "";
		int r = parse_fixture(cases[i].file, &vs, err, sizeof(err));

		cr_expect_eq(r, cases[i].rc, "%s: %d (%s)", cases[i].file, r, err);
		if (r == 0) {
			cr_expect_eq(vs.have, (1u << PW_VM_NUM) - 1, "%s", cases[i].file);
			for (int f = 0; f < PW_VM_NUM; f++)
				cr_expect_eq(vs.v[f], cases[i].v[f], "%s: field %d", cases[i].file, f);
		} else {
			cr_expect(err[0], "%s: no reason", cases[i].file);
			cr_expect_eq(vs.have, 0xdead, "%s: written on failure", cases[i].file);
		}
	}
}

Test(vmstat, inline_cases)
{
	static const struct {
		const char *name, *text;
		int rc;
		uint32_t have;
	} cases[] = {
		/* CONFIG_VM_EVENT_COUNTERS=n: no event lines at all, which is not an error */
		{ "no event counters", "nr_free_pages 5\nnr_dirty 3\n", 0, 0 },
		{ "no newline at the end", "pgpgin 5\npgpgout 6", 0, 3 },
		{ "blank line", "pgpgin 5\n\npgpgout 6\n", 0, 3 },
		{ "a name alone", "pgpgin\n", -EBADMSG, 0 },
		{ "two values", "pgpgin 5 6\n", -EBADMSG, 0 },
		{ "negative", "nr_free_pages -5\n", -EBADMSG, 0 },
		{ "leading blank", " pgpgin 5\n", -EBADMSG, 0 },
		{ "prefix is not the name", "pgpgin_extra 5\npgfault 1\n", 0, 1u << PW_VM_PGFAULT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_vmstat vs = { 0 };
		char err[160] = "";
		int r = vmstat_parse(cases[i].text, strlen(cases[i].text), &vs, err, sizeof(err));

		cr_expect_eq(r, cases[i].rc, "%s: %d (%s)", cases[i].name, r, err);
		if (r == 0)
			cr_expect_eq(vs.have, cases[i].have, "%s: have %#x", cases[i].name, vs.have);
	}
}

static void rates(const char *a, const char *b, double dt, struct pw_memory *m)
{
	struct pw_vmstat v0, v1;

	cr_assert_eq(parse_fixture(a, &v0, NULL, 0), 0, "%s", a);
	cr_assert_eq(parse_fixture(b, &v1, NULL, 0), 0, "%s", b);
	vmstat_fill_memory(&v0, &v1, dt, 4096, m);
}

Test(vmstat, rates)
{
	struct pw_memory m;

	/* 5 s apart: +500000 KiB in, +250000 out, +500/+1000 pages swapped, +5e6 faults, +50 major */
	rates("proc/xeon96/vmstat", "proc/xeon96/vmstat.later", 5.0, &m);
	cr_expect(near(m.pgpgin_per_sec, 100000, 1e-9));
	cr_expect(near(m.pgpgout_per_sec, 50000, 1e-9));
	cr_expect(near(m.pswpin_per_sec, 100, 1e-9));
	cr_expect(near(m.pswpout_per_sec, 200, 1e-9));
	cr_expect(near(m.page_io_bytes_per_sec, 150000.0 * 1024, 1e-6));
	cr_expect(near(m.swap_io_bytes_per_sec, 300.0 * 4096, 1e-6));
	cr_expect(near(m.pgfault_per_sec, 1e6, 1e-6));
	cr_expect(near(m.pgmajfault_per_sec, 10, 1e-9));

	/* this machine, one second apart */
	rates("proc/vm2-linux-6.18/vmstat", "proc/vm2-linux-6.18/vmstat.later", 1.0, &m);
	cr_expect(near(m.pgpgin_per_sec, 16, 1e-9) && near(m.pgfault_per_sec, 819, 1e-9));
	cr_expect(near(m.page_io_bytes_per_sec, 16 * 1024, 1e-9));

	/* u64 max twice: 0/s, no overflow */
	rates("proc/nasty-u64max/vmstat", "proc/nasty-u64max/vmstat", 5.0, &m);
	cr_expect(near(m.pgfault_per_sec, 0, 0) && near(m.page_io_bytes_per_sec, 0, 0));
}

Test(vmstat, null_rates)
{
	struct pw_vmstat v0, v1;
	struct pw_memory m;

	/* pgfault went backwards: null; the others still count */
	rates("proc/nasty-backwards/vmstat", "proc/nasty-backwards/vmstat.later", 5.0, &m);
	cr_expect(isnan(m.pgfault_per_sec));
	cr_expect(near(m.pgpgin_per_sec, 100000, 1e-9) && near(m.pgpgout_per_sec, 0, 0));
	cr_expect(near(m.page_io_bytes_per_sec, 100000.0 * 1024, 1e-6));

	/* from u64 max to ordinary counters: a wrap, every rate null */
	rates("proc/nasty-u64max/vmstat", "proc/xeon96/vmstat", 5.0, &m);
	cr_expect(isnan(m.pgpgin_per_sec) && isnan(m.page_io_bytes_per_sec) && isnan(m.swap_io_bytes_per_sec));

	/* the first sample, and a zero or unknown interval */
	cr_assert_eq(parse_fixture("proc/xeon96/vmstat", &v0, NULL, 0), 0);
	vmstat_fill_memory(NULL, &v0, 5.0, 4096, &m);
	cr_expect(isnan(m.pgpgin_per_sec) && isnan(m.pgmajfault_per_sec) && isnan(m.page_io_bytes_per_sec));
	vmstat_fill_memory(&v0, &v0, 0, 4096, &m);
	cr_expect(isnan(m.pgfault_per_sec));
	vmstat_fill_memory(&v0, &v0, NAN, 4096, &m);
	cr_expect(isnan(m.pgfault_per_sec));

	/* a counter the kernel does not print: null, and so is the sum it is part of */
	v1 = v0;
	v1.have &= ~(1u << PW_VM_PSWPOUT);
	vmstat_fill_memory(&v0, &v1, 5.0, 4096, &m);
	cr_expect(isnan(m.pswpout_per_sec) && isnan(m.swap_io_bytes_per_sec));
	cr_expect(near(m.pswpin_per_sec, 0, 0) && near(m.page_io_bytes_per_sec, 0, 0));
}
