/* SPDX-License-Identifier: MIT */
/*
 * /proc/meminfo and the memory collector. Expected figures come from psutil 5.9
 * (virtual_memory() and swap_memory() with PROCFS_PATH pointed at each fixture tree).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "collect/meminfo.h"
#include "cpumem_fixture.h"

extern const struct collector pw_memory_collector;

static int parse_fixture(const char *rel, struct pw_meminfo *mi, char *err, size_t errlen)
{
	struct pw_buf b = { 0 };
	int r;

	fixture_read(rel, &b);
	r = meminfo_parse(b.data, b.len, mi, err, errlen);
	pw_buf_free(&b);
	return r;
}

static void fill_fixture(const char *machine, struct pw_memory *m)
{
	struct pw_meminfo mi;
	struct pw_buf b = { 0 };
	uint64_t pages, bytes;
	const uint64_t *wmark = NULL;
	char rel[128];

	snprintf(rel, sizeof(rel), "proc/%s/meminfo", machine);
	cr_assert_eq(parse_fixture(rel, &mi, NULL, 0), 0, "%s", rel);
	if (!(mi.have & (1u << PW_MI_MEM_AVAILABLE))) {
		snprintf(rel, sizeof(rel), "proc/%s/zoneinfo", machine);
		fixture_read(rel, &b);
		cr_assert_eq(zoneinfo_parse_low(b.data, b.len, &pages), 0);
		bytes = pages * 4096;
		wmark = &bytes;
		pw_buf_free(&b);
	}
	memset(m, 0, sizeof(*m));
	meminfo_fill_memory(&mi, wmark, m);
}

Test(meminfo, psutil_figures)
{
	static const struct {
		const char *machine;
		uint64_t total, available, used, free, buffers, cached;
		double percent;
		uint64_t swap_total, swap_used, swap_free;
		uint64_t hp_total, hp_free, hp_rsvd, hp_size;
	} cases[] = {
		{ "vm2-linux-6.18", 25276510208, 24860086272, 154062848, 24492683264, 4784128, 624979968, 1.6,
		  0, 0, 0, 0, 0, 0, 2097152 },
		{ "xeon96", 540833067008, 481406418944, 63598510080, 308464189440, 2401974272, 166368393216, 11.0,
		  8589930496, 268435456, 8321495040, 1024, 1000, 10, 2097152 },
		/* no MemAvailable: psutil's estimate from the zoneinfo low watermarks */
		{ "linux-2.6.32", 16725827584, 12811838464, 4096496640, 1264196608, 353974272, 11011160064, 23.4,
		  4294959104, 102400000, 4192559104, 0, 0, 0, 2097152 },
		/* no SReclaimable and no Active(file): available = free + cached */
		{ "linux-2.6.18", 4142727168, 2528393216, 1374137344, 126418944, 240196608, 2401974272, 39.0,
		  2146787328, 0, 2146787328, 0, 0, 0, 2097152 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_memory m;

		fill_fixture(cases[i].machine, &m);
		cr_expect_eq(m.total_bytes, cases[i].total, "%s", cases[i].machine);
		/* psutil truncates its float estimate to int: within a byte */
		cr_expect(m.available_bytes + 1 >= cases[i].available && m.available_bytes <= cases[i].available + 1,
			  "%s: available %llu", cases[i].machine, (unsigned long long)m.available_bytes);
		cr_expect_eq(m.used_bytes, cases[i].used, "%s: used %llu", cases[i].machine,
			     (unsigned long long)m.used_bytes);
		cr_expect_eq(m.free_bytes, cases[i].free, "%s", cases[i].machine);
		cr_expect_eq(m.buffers_bytes, cases[i].buffers, "%s", cases[i].machine);
		cr_expect_eq(m.cached_bytes, cases[i].cached, "%s", cases[i].machine);
		cr_expect(near(m.usage_percent, cases[i].percent, 0.05), "%s: %f", cases[i].machine, m.usage_percent);
		cr_expect_eq(m.swap_total_bytes, cases[i].swap_total, "%s", cases[i].machine);
		cr_expect_eq(m.swap_used_bytes, cases[i].swap_used, "%s", cases[i].machine);
		cr_expect_eq(m.swap_free_bytes, cases[i].swap_free, "%s", cases[i].machine);
		cr_expect_eq(m.hugepages_total, cases[i].hp_total, "%s", cases[i].machine);
		cr_expect_eq(m.hugepages_free, cases[i].hp_free, "%s", cases[i].machine);
		cr_expect_eq(m.hugepages_reserved, cases[i].hp_rsvd, "%s", cases[i].machine);
		cr_expect_eq(m.hugepage_size_bytes, cases[i].hp_size, "%s", cases[i].machine);
	}
}

Test(meminfo, failures)
{
	static const struct {
		const char *name, *text; /* text NULL: the fixture file of that name */
		int rc;
	} cases[] = {
		{ "proc/nasty-empty/meminfo", NULL, -EBADMSG },
		{ "proc/nasty-truncated/meminfo", NULL, -EBADMSG },
		{ "proc/nasty-garbage/meminfo", NULL, -EBADMSG },
		{ "proc/nasty-overflow/meminfo", NULL, -ERANGE },
		{ "MemTotal 0", "MemTotal: 0 kB\nMemFree: 0 kB\n", -EBADMSG },
		{ "no colon", "MemTotal 100 kB\nMemFree: 0 kB\n", -EBADMSG },
		{ "no name", ": 100 kB\n", -EBADMSG },
		{ "junk after kB", "MemTotal: 100 kB x\nMemFree: 0 kB\n", -EBADMSG },
		{ "MB", "MemTotal: 100 MB\nMemFree: 0 kB\n", -EBADMSG },
		{ "negative", "MemTotal: 100 kB\nMemFree: -1 kB\n", -EBADMSG },
		{ "no MemFree", "MemTotal: 100 kB\nBuffers: 0 kB\n", -EBADMSG },
		{ "a value over 2^64-1", "MemTotal: 100 kB\nMemFree: 18446744073709551616 kB\n", -ERANGE },
		{ "only a newline", "\n", -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_meminfo mi = { .have = 0xdead };
		char err[160] = "";
		int r;

		if (cases[i].text)
			r = meminfo_parse(cases[i].text, strlen(cases[i].text), &mi, err, sizeof(err));
		else
			r = parse_fixture(cases[i].name, &mi, err, sizeof(err));
		cr_expect_eq(r, cases[i].rc, "%s: %d (%s)", cases[i].name, r, err);
		cr_expect(err[0], "%s: no reason given", cases[i].name);
		cr_expect_eq(mi.have, 0xdead, "%s: written on failure", cases[i].name);
	}
}

Test(meminfo, odd_but_valid)
{
	struct pw_meminfo mi;
	struct pw_memory m = { 0 };
	/* an LXC container: free + cached + buffers over total, available over total */
	static const char lxc[] = "MemTotal: 1000 kB\nMemFree: 600 kB\nMemAvailable: 5000 kB\n"
				  "Buffers: 300 kB\nCached: 300 kB\n\nSReclaimable: 0 kB\n";

	cr_assert_eq(meminfo_parse(lxc, sizeof(lxc) - 1, &mi, NULL, 0), 0);
	meminfo_fill_memory(&mi, NULL, &m);
	cr_expect_eq(m.used_bytes, 400 * 1024, "psutil: total - free when negative");
	cr_expect_eq(m.available_bytes, 600 * 1024, "psutil: free when available > total");
	cr_expect(near(m.usage_percent, 40, 1e-9));

	/* kB values right at the edge, sums that would overflow: no wrap-around */
	cr_assert_eq(parse_fixture("proc/nasty-u64max/meminfo", &mi, NULL, 0), 0);
	meminfo_fill_memory(&mi, NULL, &m);
	cr_expect_eq(m.total_bytes, UINT64_MAX / 1024 * 1024);
	cr_expect_eq(m.cached_bytes, UINT64_MAX, "Cached + SReclaimable saturates");
	cr_expect_eq(m.used_bytes, 0);
	cr_expect(near(m.usage_percent, 0, 0));
	cr_expect_eq(m.swap_used_bytes, 0);
	cr_expect_eq(m.hugepages_total, UINT64_MAX);

	/* no zoneinfo on a kernel without MemAvailable: free + Cached, as psutil */
	cr_assert_eq(parse_fixture("proc/linux-2.6.32/meminfo", &mi, NULL, 0), 0);
	meminfo_fill_memory(&mi, NULL, &m);
	cr_expect_eq(m.available_bytes, (1234567ull + 9876543) * 1024);
}

Test(meminfo, zoneinfo)
{
	struct pw_buf b = { 0 };
	uint64_t pages = 0;

	fixture_read("proc/linux-2.6.32/zoneinfo", &b);
	cr_expect_eq(zoneinfo_parse_low(b.data, b.len, &pages), 0);
	cr_expect_eq(pages, 10 + 2020 + 8837);
	pw_buf_free(&b);
	cr_expect_eq(zoneinfo_parse_low("        low      abc\n", 21, &pages), -EBADMSG);
	cr_expect_eq(zoneinfo_parse_low("  lowmem_reserve[]: 0 0\n", 24, &pages), 0);
	cr_expect_eq(pages, 0);
}

Test(memory_collector, fixture_roots)
{
	struct collector_run run;
	const struct pw_memory *m = &run.snap.memory;

	run_start(&run, &pw_memory_collector, FIXTURES "/proc/xeon96", FIXTURES "/sys/xeon96");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(m->valid);
	cr_expect_eq(m->total_bytes, 540833067008);
	cr_expect(isnan(m->pgfault_per_sec) && isnan(m->page_io_bytes_per_sec), "first sample: null rates");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	cr_expect(near(m->pgfault_per_sec, 0, 0), "same file twice: 0/s, not null");
	run_stop(&run);

	/* the old kernel: MemAvailable estimated from the real zoneinfo reader */
	run_start(&run, &pw_memory_collector, FIXTURES "/proc/linux-2.6.32", FIXTURES "/sys/linux-2.6.32");
	cr_assert_eq(run_collect(&run), 0, "%s", run.err);
	if (sysconf(_SC_PAGESIZE) == 4096)
		cr_expect(m->available_bytes + 1 >= 12811838464 && m->available_bytes <= 12811838464 + 1);
	run_stop(&run);
}

Test(memory_collector, bad_files_give_a_reason)
{
	static const struct {
		const char *proc;
		int rc;
		const char *why;
	} cases[] = {
		{ FIXTURES "/proc/nasty-empty", -EBADMSG, "proc/meminfo: empty" },
		{ FIXTURES "/proc/nasty-truncated", -EBADMSG, "proc/meminfo: no MemFree" },
		{ FIXTURES "/proc/nasty-garbage", -EBADMSG, "proc/meminfo: line 1" },
		{ FIXTURES "/proc/nasty-overflow", -ERANGE, "proc/meminfo: line 1: MemTotal" },
		{ FIXTURES "/sys/xeon96", -ENOENT, "cannot read proc/meminfo" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collector_run run;
		int r;

		run_start(&run, &pw_memory_collector, cases[i].proc, FIXTURES "/sys/vm2-linux-6.18");
		r = run_collect(&run);
		cr_expect_eq(r, cases[i].rc, "%s: %d", cases[i].proc, r);
		cr_expect(strstr(run.err, cases[i].why), "%s: \"%s\"", cases[i].proc, run.err);
		run_stop(&run);
	}
}

Test(memory_collector, bad_vmstat_fails_the_section)
{
	struct scratch_root root;
	struct collector_run run;

	scratch_make(&root);
	scratch_put(&root, "proc/xeon96/meminfo", "meminfo");
	scratch_put(&root, "proc/nasty-truncated/vmstat", "vmstat");
	run_start(&run, &pw_memory_collector, root.path, FIXTURES "/sys/xeon96");
	cr_expect_eq(run_collect(&run), -EBADMSG);
	cr_expect(strstr(run.err, "proc/vmstat: line"), "\"%s\"", run.err);
	run_stop(&run);
	scratch_remove(&root);
}
