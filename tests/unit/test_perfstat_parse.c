/* SPDX-License-Identifier: MIT */
/*
 * The perf stat CSV parser and the interval window, on output of several perf versions
 * (tests/fixtures/perf/, see its README) and on hand-made nasty input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf/perfstat_parse.h"
#include "perf/perfstat_window.h"
#include "snapshot.h"
#include "util/buf.h"
#include "util/readfile.h"

#define FIXTURES "tests/fixtures/perf/"
#define MAX_RECS 256

struct recs {
	size_t n;
	struct pw_perfstat_record r[MAX_RECS];
};

static void collect(const struct pw_perfstat_record *rec, void *userdata)
{
	struct recs *rs = userdata;

	cr_assert(rs->n < MAX_RECS);
	rs->r[rs->n++] = *rec;
}

static void load(const char *name, struct pw_buf *b)
{
	char path[256];
	long n;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	n = pw_read_file_at(AT_FDCWD, path, b, 0);
	cr_assert(n > 0, "cannot read %s (run from the repository root): %ld", path, n);
}

/* Parses a whole fixture; returns the parser for its counters. */
static struct pw_perfstat_parser parse_fixture(const char *name, char sep, struct recs *rs)
{
	struct pw_perfstat_parser p;
	struct pw_buf b = { 0 };

	load(name, &b);
	pw_perfstat_parser_init(&p, sep);
	rs->n = 0;
	pw_perfstat_parser_feed(&p, b.data, b.len, collect, rs);
	pw_buf_free(&b);
	return p;
}

/*
 * from_start: the records begin where perf started (its first interval is dropped);
 * n_cpus: the CPUs of the machine the fixture comes from.
 */
static void window_of(const struct recs *rs, bool from_start, unsigned n_cpus, struct pw_perfstat_take *t)
{
	struct pw_perfstat_window w;

	pw_perfstat_window_init(&w, n_cpus);
	w.drop_first = from_start;
	for (size_t i = 0; i < rs->n; i++)
		pw_perfstat_window_add(&w, &rs->r[i]);
	pw_perfstat_window_flush(&w);
	pw_perfstat_window_take(&w, t);
}

static int idx(const char *name)
{
	int i = pw_perf_event_index(name);

	cr_assert(i >= 0, "%s", name);
	return i;
}

/* ---------------------------------------------------------------- single lines */

Test(perfstat_parse, lines)
{
	static const struct {
		const char *line;
		char sep;
		int rc;
		enum pw_perfstat_status status;
		double ts, value, pct; /* NAN: not printed */
		const char *unit, *event, *agg;
	} cases[] = {
		{ "     0.500649385@1003.22@msec@cpu-clock@1003222858@100.00@2.006@CPUs utilized", '@', 0,
		  PW_PERFSTAT_COUNTED, 0.500649385, 1003.22, 100.0, "msec", "cpu-clock", "" },
		{ "     1.000812344,3104229876,,cycles,1001234567,49.96,1.549,GHz", ',', 0, PW_PERFSTAT_COUNTED,
		  1.000812344, 3104229876.0, 49.96, "", "cycles", "" },
		{ "     1.000812344,<not counted>,,LLC-loads,0,0.00,,", ',', 0, PW_PERFSTAT_NOT_COUNTED, 1.000812344,
		  NAN, 0.0, "", "LLC-loads", "" },
		{ "     1.191281375,<not supported>,,iTLB-loads,0,100.00,,", ',', 0, PW_PERFSTAT_NOT_SUPPORTED,
		  1.191281375, NAN, 100.0, "", "iTLB-loads", "" },
		/* late 2024: a threshold column after the metric unit */
		{ "     0.500345112@2015000000@@instructions@500551671@100.00@1.30@insn per cycle@good", '@', 0,
		  PW_PERFSTAT_COUNTED, 0.500345112, 2015000000.0, 100.0, "", "instructions", "" },
		/* the separator inside an event name: put back together */
		{ "     1.000512345,123456789,,cpu/event=0x3c,umask=0x00/,1000512345,100.00,,", ',', 0,
		  PW_PERFSTAT_COUNTED, 1.000512345, 123456789.0, 100.0, "", "cpu/event=0x3c,umask=0x00/", "" },
		{ "     1.000512345,<not counted>,,cpu/event=0xc0,umask=0x00,inv=0,cmask=0/u,0,0.00,,", ',', 0,
		  PW_PERFSTAT_NOT_COUNTED, 1.000512345, NAN, 0.0, "", "cpu/event=0xc0,umask=0x00,inv=0,cmask=0/u", "" },
		/* aggregation ids: per CPU; per socket/core/node with a CPU count */
		{ "     1.001234567,CPU1,1001.20,msec,cpu-clock,1001201234,100.00,1.001,CPUs utilized", ',', 0,
		  PW_PERFSTAT_COUNTED, 1.001234567, 1001.20, 100.0, "msec", "cpu-clock", "CPU1" },
		{ "     1.001234567,S0-D0-C1,2,500,,page-faults,2002436801,100.00,249.700,/sec", ',', 0,
		  PW_PERFSTAT_COUNTED, 1.001234567, 500.0, 100.0, "", "page-faults", "S0-D0-C1" },
		/* no run time and percentage (very old perf): value still read */
		{ "1.5,8,,branch-misses", ',', 0, PW_PERFSTAT_COUNTED, 1.5, 8.0, NAN, "", "branch-misses", "" },
		{ "2.0,8,,branch-misses,,", ',', 0, PW_PERFSTAT_COUNTED, 2.0, 8.0, NAN, "", "branch-misses", "" },
		/* CR line ends, u64 maximum */
		{ "1.0,18446744073709551615,,branches,1,100.00\r", ',', 0, PW_PERFSTAT_COUNTED, 1.0,
		  18446744073709551615.0, 100.0, "", "branches", "" },
		/* nothing to report */
		{ .line = "# started on Thu Nov 26 10:48:00 2026", .sep = ',', .rc = -ENODATA },
		{ .line = "", .sep = ',', .rc = -ENODATA },
		{ .line = "   \t ", .sep = ',', .rc = -ENODATA },
		/* malformed */
		{ .line = "1.0", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,12", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,12,,", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,-5,,cycles,100,100.00", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,1e10,,cycles,100,100.00", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,0x10,,cycles,100,100.00", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,.,,cycles,100,100.00", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,12,,cycles,100,250.00", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,12,,cycles,abc,100.00", .sep = ',', .rc = -EINVAL },
		{ .line = "nan,12,,cycles,100,100.00", .sep = ',', .rc = -EINVAL },
		{ .line = "inf,12,,cycles,100,100.00", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,<not counted,,cycles,0,0.00", .sep = ',', .rc = -EINVAL },
		{ .line = "1.0,1001,38,msec,cpu-clock,100,100.00", .sep = ',', .rc = -EINVAL }, /* a locale's decimal comma */
		{ .line = "1.0,12,,cycles,100,100.00", .sep = '.', .rc = -EINVAL },             /* a separator numbers contain */
		{ .line = "1.0,12,,cycles,100,100.00", .sep = '\0', .rc = -EINVAL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_perfstat_record r;
		int rc = pw_perfstat_parse_line(cases[i].line, strlen(cases[i].line), cases[i].sep, &r);

		cr_expect_eq(rc, cases[i].rc, "case %zu (%s): rc %d, want %d", i, cases[i].line, rc, cases[i].rc);
		if (rc || cases[i].rc)
			continue;
		cr_expect_eq(r.status, cases[i].status, "case %zu", i);
		cr_expect_float_eq(r.timestamp, cases[i].ts, 1e-12, "case %zu", i);
		if (isnan(cases[i].value))
			cr_expect(isnan(r.value), "case %zu", i);
		else
			cr_expect_float_eq(r.value, cases[i].value, 1e-9 * cases[i].value + 1e-12, "case %zu", i);
		if (isnan(cases[i].pct))
			cr_expect(isnan(r.running_pct), "case %zu", i);
		else
			cr_expect_float_eq(r.running_pct, cases[i].pct, 1e-9, "case %zu", i);
		cr_expect_str_eq(r.unit, cases[i].unit, "case %zu", i);
		cr_expect_str_eq(r.event, cases[i].event, "case %zu", i);
		cr_expect_str_eq(r.agg_id, cases[i].agg, "case %zu", i);
	}
}

Test(perfstat_parse, event_names)
{
	static const struct {
		const char *printed;
		const char *want; /* NULL: not one of ours */
	} cases[] = {
		{ "cycles", "cycles" },
		{ "cycles:u", "cycles" },
		{ "cpu_core/cycles/", "cycles" },
		{ "cpu_atom/L1-dcache-load-misses/", "L1-dcache-load-misses" },
		{ "cpu_core/cycles/u", "cycles" },
		{ "cpu-clock", "cpu-clock" },
		{ "task-clock", NULL },
		{ "cpu/event=0x3c,umask=0x00/", NULL },
		{ "cpu/cycles", NULL },
		{ "msr/tsc/", NULL },
		{ "", NULL },
		{ "/", NULL },
		{ "//", NULL },
		{ ":", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = pw_perfstat_event_index(cases[i].printed);

		if (cases[i].want)
			cr_expect_eq(got, pw_perf_event_index(cases[i].want), "%s", cases[i].printed);
		else
			cr_expect_eq(got, -1, "%s", cases[i].printed);
	}
	cr_expect_eq(pw_perfstat_event_index(NULL), -1);
}

/* ---------------------------------------------------------------- fixtures */

/* This machine's perf (6.1, Debian 12) on a VM with no hardware PMU, both separators. */
static void check_nopmu(const char *name, char sep, double ts0, double cpu_clock0)
{
	static struct recs rs;
	struct pw_perfstat_parser p = parse_fixture(name, sep, &rs);
	struct pw_perfstat_take t;
	struct pw_perf out;
	unsigned unsupported = 0;

	cr_assert_eq(rs.n, 3 * PW_PERF_NUM_EVENTS, "%s: %zu records", name, rs.n);
	cr_expect_eq(p.n_malformed, 0);
	cr_expect_eq(p.n_overlong, 0);
	cr_expect_float_eq(rs.r[0].timestamp, ts0, 1e-12);
	cr_expect_float_eq(rs.r[0].value, cpu_clock0, 1e-9);
	cr_expect_str_eq(rs.r[0].unit, "msec");
	cr_expect_str_eq(rs.r[0].event, "cpu-clock");
	for (size_t i = 0; i < rs.n; i++)
		unsupported += rs.r[i].status == PW_PERFSTAT_NOT_SUPPORTED;
	cr_expect_eq(unsupported, 3 * 13);

	window_of(&rs, true, 2, &t);
	/* the first interval holds perf's start-up too: dropped */
	cr_expect_eq(t.n_intervals, 2);
	/* the kernel's enabled times and perf's timestamps tell the same length here */
	cr_expect_float_eq(t.covered_s, rs.r[rs.n - 1].timestamp - ts0, 0.01 * (rs.r[rs.n - 1].timestamp - ts0));
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, t.covered_s, false, &out);
	cr_expect(!out.available);
	cr_expect_str_eq(out.error, "not supported by this machine (no hardware PMU): cycles, instructions, "
				    "branches, branch-misses, L1-dcache-loads, L1-dcache-load-misses, LLC-loads, "
				    "LLC-load-misses, L1-icache-loads, dTLB-loads, dTLB-load-misses, iTLB-loads, "
				    "iTLB-load-misses");
	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++)
		cr_expect_eq(out.events[e].counted, e < 4, "%s", pw_perf_event_names[e]);
	cr_expect_str_eq(out.events[idx("cpu-clock")].unit, "msec");
	cr_expect_null(out.events[idx("page-faults")].unit);
	/* -a counts every CPU: cpu-clock is about 2 CPUs x the time covered, in msec */
	cr_expect_float_eq(out.events[idx("cpu-clock")].value, 2 * 1000.0 * t.covered_s, 0.02 * 2000.0 * t.covered_s);
	cr_expect_float_eq(out.events[idx("cpu-clock")].running_ratio, 1.0, 1e-9);
}

Test(perfstat_parse, perf_6_1_nopmu_at) { check_nopmu("perf-6.1-nopmu-at.csv", '@', 0.500649385, 1003.22); }
Test(perfstat_parse, perf_6_1_nopmu_comma) { check_nopmu("perf-6.1-nopmu-comma.csv", ',', 0.500654387, 1001.76); }

Test(perfstat_parse, perf_5_10_multiplexed)
{
	static struct recs rs;
	struct pw_perfstat_parser p = parse_fixture("perf-5.10-multiplexed-comma.csv", ',', &rs);
	const double d1 = 1.000812344, d2 = 2.001945678 - 1.000812344, rel = 0.005;
	struct pw_perfstat_take t;
	struct pw_perf out;
	int llc = idx("LLC-loads"), cyc = idx("cycles");
	double cs;

	cr_assert_eq(rs.n, 2 * PW_PERF_NUM_EVENTS);
	cr_expect_eq(p.n_malformed, 0);
	window_of(&rs, false, 2, &t);
	cr_expect_eq(t.n_intervals, 2);
	cr_expect_float_eq(t.covered_s, d1 + d2, rel * (d1 + d2));

	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, d1 + d2, true, &out);
	cr_expect(!out.available);
	cr_expect_str_eq(out.error, "not supported by this machine: L1-icache-loads");
	/* perf scaled multiplexed counts already: summed as printed */
	cr_expect_float_eq(out.events[cyc].value, 3104229876.0 + 3098765432.0, rel * 6.2e9);
	/* the share of its enabled time it ran: run / (run / run%) summed */
	cr_expect_float_eq(out.events[cyc].running_ratio,
			   (1001234567.0 + 667123456.0) / (1001234567.0 / 0.4996 + 667123456.0 / 0.3332), 1e-9);
	/* not counted in the first interval: the second one's rate over the whole time */
	cr_expect(out.events[llc].counted);
	cr_expect_float_eq(out.events[llc].value, 2345678.0 * (d1 + d2) / d2, rel * 4.7e6);
	cr_expect_float_eq(out.events[llc].running_ratio, 667456789.0 / (667456789.0 / 0.3333 + 2e9 * d1), 0.002);
	cr_expect_float_eq(out.events[idx("cpu-clock")].value, 2003.91 + 2002.27, rel * 4006);
	cs = out.events[idx("context-switches")].value;
	cr_expect_float_eq(cs, 1532 + 1498, rel * 3030);

	/* scaled to a snapshot interval 10 % longer */
	pw_perfstat_fill(&t, 1.1 * (d1 + d2), true, &out);
	cr_expect_float_eq(out.events[idx("context-switches")].value, 1.1 * cs, 1e-9);
}

Test(perfstat_parse, perf_6_13_threshold_column)
{
	static struct recs rs;
	struct pw_perfstat_parser p = parse_fixture("perf-6.13-threshold-at.csv", '@', &rs);
	struct pw_perfstat_take t;
	struct pw_perf out;

	cr_assert_eq(rs.n, PW_PERF_NUM_EVENTS);
	cr_expect_eq(p.n_malformed, 0);
	cr_expect_float_eq(rs.r[5].value, 2015000000.0, 1e-3);
	cr_expect_float_eq(rs.r[8].running_pct, 50.0, 1e-9);
	/* every event had its line: the interval is complete without waiting for the next one */
	struct pw_perfstat_window w;

	pw_perfstat_window_init(&w, 2);
	w.drop_first = false; /* one interval from the middle of a stream */
	for (size_t i = 0; i < rs.n; i++)
		pw_perfstat_window_add(&w, &rs.r[i]);
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 1);
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, t.covered_s, true, &out);
	cr_expect_str_eq(out.error, "not supported by this machine: L1-icache-loads, iTLB-loads");
	cr_expect_float_eq(out.events[idx("iTLB-load-misses")].value, 60000.0, 1e-6);
	cr_expect_float_eq(out.events[idx("iTLB-load-misses")].running_ratio, 0.5, 1e-9);
}

Test(perfstat_parse, perf_6_1_hybrid_pmus_summed)
{
	static struct recs rs;
	struct pw_perfstat_parser p = parse_fixture("perf-6.1-hybrid-at.csv", '@', &rs);
	struct pw_perfstat_take t;
	struct pw_perf out;

	cr_assert_eq(rs.n, 30);
	cr_expect_eq(p.n_malformed, 0);
	window_of(&rs, false, 4, &t);
	cr_expect_eq(t.n_intervals, 1);
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, t.covered_s, true, &out);
	/* one PMU could count it, the other not: counted, from the PMU that could */
	cr_expect(out.available, "%s", out.error);
	cr_expect_float_eq(out.events[idx("cycles")].value, 2500000000.0, 1e-3);
	cr_expect_float_eq(out.events[idx("L1-dcache-load-misses")].value, 30000000.0, 1e-3);
	cr_expect_float_eq(out.events[idx("L1-icache-loads")].value, 150000000.0, 1e-3);
	/* the atom line of the last event came after the core line completed the interval */
	cr_expect_float_eq(out.events[idx("iTLB-load-misses")].value, 37000.0, 1e-6);
}

Test(perfstat_parse, raw_event_names_with_the_separator)
{
	static struct recs rs;
	struct pw_perfstat_parser p = parse_fixture("perf-6.1-raw-event-comma.csv", ',', &rs);

	cr_assert_eq(rs.n, 5);
	cr_expect_eq(p.n_malformed, 0);
	cr_expect_str_eq(rs.r[1].event, "cpu/event=0x3c,umask=0x00/");
	cr_expect_float_eq(rs.r[1].running_pct, 100.0, 1e-9);
	cr_expect_str_eq(rs.r[2].event, "cpu/event=0xc0,umask=0x00,inv=0,cmask=0/u");
	cr_expect_eq(rs.r[2].status, PW_PERFSTAT_NOT_COUNTED);
	cr_expect_str_eq(rs.r[3].event, "cycles:u");
	cr_expect_float_eq(rs.r[3].running_pct, 75.25, 1e-9);
	cr_expect_eq(pw_perfstat_event_index(rs.r[3].event), idx("cycles"));
	cr_expect_eq(pw_perfstat_event_index(rs.r[1].event), -1);
}

Test(perfstat_parse, aggregation_ids)
{
	static struct recs rs;
	struct pw_perfstat_parser p = parse_fixture("perf-6.1-per-cpu-comma.csv", ',', &rs);
	struct pw_perfstat_window w;
	struct pw_perfstat_take t;

	cr_assert_eq(rs.n, 7);
	cr_expect_eq(p.n_malformed, 0);
	cr_expect_str_eq(rs.r[0].agg_id, "CPU0");
	cr_expect_str_eq(rs.r[4].agg_id, "S0");
	cr_expect_float_eq(rs.r[4].value, 2002.43, 1e-9);
	cr_expect_str_eq(rs.r[6].agg_id, "N0");
	cr_expect_float_eq(rs.r[6].value, 7.0, 1e-9);
	/* per-CPU lines of one interval add up */
	pw_perfstat_window_init(&w, 2);
	w.drop_first = false;
	for (size_t i = 0; i < 4; i++)
		pw_perfstat_window_add(&w, &rs.r[i]);
	pw_perfstat_window_flush(&w);
	pw_perfstat_window_take(&w, &t);
	cr_expect_float_eq(t.acc[idx("cpu-clock")].sum, 2002.43, 1e-9);
	cr_expect_float_eq(t.acc[idx("context-switches")].sum, 500.0, 1e-9);
}

Test(perfstat_parse, nasty_input)
{
	static struct recs rs;
	struct pw_perfstat_parser p = parse_fixture("nasty-comma.csv", ',', &rs);

	cr_expect_eq(rs.n, 5, "%zu records", rs.n);
	cr_expect_eq(p.n_malformed, 18);
	cr_expect_eq(p.n_overlong, 1);
	cr_expect_float_eq(rs.r[0].value, 1e29, 1e15);
	cr_expect_str_eq(rs.r[2].event, "cpu/event=0x3c"); /* never closed: one field, run time intact */
	cr_expect_float_eq(rs.r[2].running_pct, 100.0, 1e-9);
	cr_expect(isnan(rs.r[3].running_pct));
	/* the line after the over-long one is read, the last waits for its newline */
	cr_expect_str_eq(rs.r[4].event, "dTLB-loads");
	pw_perfstat_parser_feed(&p, "\n", 1, collect, &rs);
	cr_expect_eq(rs.n, 6);
	cr_expect_str_eq(rs.r[5].event, "dTLB-load-misses");
}

/* ---------------------------------------------------------------- streaming */

static void feed_in_chunks(const char *name, char sep, size_t (*chunk)(size_t i))
{
	static struct recs whole, parts;
	struct pw_perfstat_parser p;
	struct pw_buf b = { 0 };
	size_t off = 0;

	parse_fixture(name, sep, &whole);
	load(name, &b);
	pw_perfstat_parser_init(&p, sep);
	parts.n = 0;
	for (size_t i = 0; off < b.len; i++) {
		size_t n = chunk(i);

		if (n > b.len - off)
			n = b.len - off;
		pw_perfstat_parser_feed(&p, b.data + off, n, collect, &parts);
		off += n;
	}
	pw_buf_free(&b);
	cr_assert_eq(parts.n, whole.n, "%s: %zu records in chunks, %zu whole", name, parts.n, whole.n);
	for (size_t i = 0; i < whole.n; i++)
		cr_expect(!memcmp(&parts.r[i], &whole.r[i], sizeof(whole.r[i])), "%s: record %zu differs", name, i);
}

static size_t one_byte(size_t i) { (void)i; return 1; }
static size_t odd_sizes(size_t i) { return (i * 7919u) % 97u + 1; }

Test(perfstat_parse, lines_split_across_reads)
{
	feed_in_chunks("perf-6.1-nopmu-at.csv", '@', one_byte);
	feed_in_chunks("perf-6.1-nopmu-comma.csv", ',', odd_sizes);
	feed_in_chunks("perf-5.10-multiplexed-comma.csv", ',', odd_sizes);
	feed_in_chunks("nasty-comma.csv", ',', one_byte);
	feed_in_chunks("nasty-comma.csv", ',', odd_sizes);
}

/* ---------------------------------------------------------------- the window */

static struct pw_perfstat_record rec(double ts, const char *event, double value)
{
	struct pw_perfstat_record r;

	memset(&r, 0, sizeof(r));
	r.timestamp = ts;
	r.status = PW_PERFSTAT_COUNTED;
	r.value = value;
	r.running_pct = 100.0;
	snprintf(r.event, sizeof(r.event), "%s", event);
	return r;
}

static void add_interval(struct pw_perfstat_window *w, double ts, double value, int n_events)
{
	for (int e = 0; e < n_events; e++) {
		struct pw_perfstat_record r = rec(ts, pw_perf_event_names[e], value);

		pw_perfstat_window_add(w, &r);
	}
}

Test(perfstat_window, scaled_to_the_snapshot_interval)
{
	struct pw_perfstat_window w;
	struct pw_perfstat_take t;
	struct pw_perf out;

	pw_perfstat_window_init(&w, 0);
	w.drop_first = false;
	for (int i = 1; i <= 10; i++)
		add_interval(&w, 0.5 * i, 100.0, PW_PERF_NUM_EVENTS);
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 10);
	cr_expect_float_eq(t.covered_s, 5.0, 1e-12);
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, 5.2, true, &out);
	cr_expect(out.available);
	cr_expect_eq(out.error[0], '\0');
	cr_expect_float_eq(out.events[0].value, 1000.0 * 5.2 / 5.0, 1e-9);

	/* the next take starts where the last one ended */
	add_interval(&w, 5.5, 7.0, PW_PERF_NUM_EVENTS);
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 1);
	cr_expect_float_eq(t.covered_s, 0.5, 1e-12);
	pw_perfstat_fill(&t, NAN, true, &out); /* no elapsed time known: unscaled */
	cr_expect_float_eq(out.events[3].value, 7.0, 1e-12);
}

Test(perfstat_window, incomplete_interval_waits)
{
	struct pw_perfstat_window w;
	struct pw_perfstat_take t;
	struct pw_perf out;

	pw_perfstat_window_init(&w, 0);
	w.drop_first = false;
	add_interval(&w, 0.5, 1.0, 5); /* 5 of 17 lines arrived so far */
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 0);
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, 1.0, true, &out);
	cr_expect(!out.available);
	cr_expect_str_eq(out.error, "no complete perf stat interval since the previous snapshot");
	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++)
		cr_expect(!out.events[e].counted);

	/* the rest of it arrives: complete, nothing lost */
	for (int e = 5; e < PW_PERF_NUM_EVENTS; e++) {
		struct pw_perfstat_record r = rec(0.5, pw_perf_event_names[e], 1.0);

		pw_perfstat_window_add(&w, &r);
	}
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 1);
	cr_expect_float_eq(t.acc[0].sum, 1.0, 1e-12);

	/* a group that lacks events closes when the next interval begins */
	add_interval(&w, 1.0, 2.0, 3);
	add_interval(&w, 1.5, 3.0, 1);
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 1);
	pw_perfstat_fill(&t, 0.5, true, &out);
	cr_expect_str_eq(out.error, "not reported by perf stat: page-faults, cycles, instructions, branches, "
				    "branch-misses, L1-dcache-loads, L1-dcache-load-misses, LLC-loads, LLC-load-misses, "
				    "L1-icache-loads, dTLB-loads, dTLB-load-misses, iTLB-loads, iTLB-load-misses");
}

Test(perfstat_window, late_out_of_order_and_foreign_lines)
{
	struct pw_perfstat_window w;
	struct pw_perfstat_take t;
	struct pw_perfstat_record r;

	pw_perfstat_window_init(&w, 0);
	w.drop_first = false;
	add_interval(&w, 1.0, 1.0, PW_PERF_NUM_EVENTS);
	pw_perfstat_window_take(&w, &t);
	r = rec(1.0, "cycles", 5.0); /* for an interval already taken */
	pw_perfstat_window_add(&w, &r);
	r = rec(0.5, "cycles", 5.0); /* from the past */
	pw_perfstat_window_add(&w, &r);
	cr_expect_eq(w.n_late, 2);
	r = rec(1.5, "task-clock", 5.0);
	pw_perfstat_window_add(&w, &r);
	cr_expect_eq(w.n_foreign, 1);
	r = rec(NAN, "cycles", 5.0);
	pw_perfstat_window_add(&w, &r);
	pw_perfstat_window_flush(&w);
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 1);
	cr_expect_float_eq(t.covered_s, 0.5, 1e-12);
	cr_expect_float_eq(t.acc[idx("cycles")].counted_s, 0.0, 1e-12);
}

Test(perfstat_window, restarted_perf_starts_at_zero)
{
	struct pw_perfstat_window w;
	struct pw_perfstat_take t;

	pw_perfstat_window_init(&w, 0);
	add_interval(&w, 0.25, 9.0, PW_PERF_NUM_EVENTS); /* perf's first: start-up included */
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 0);
	cr_expect_eq(w.n_dropped, 1);
	add_interval(&w, 100.0, 1.0, PW_PERF_NUM_EVENTS);
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 1);
	cr_expect_float_eq(t.covered_s, 99.75, 1e-12);

	pw_perfstat_window_init(&w, 0); /* a new child: timestamps from 0 again, first dropped */
	add_interval(&w, 0.25, 9.0, PW_PERF_NUM_EVENTS);
	add_interval(&w, 0.5, 1.0, PW_PERF_NUM_EVENTS);
	pw_perfstat_window_take(&w, &t);
	cr_expect_eq(t.n_intervals, 1);
	cr_expect_float_eq(t.covered_s, 0.25, 1e-12);
	cr_expect_float_eq(t.acc[0].sum, 1.0, 1e-12);
}

Test(perfstat_window, not_counted_anywhere)
{
	struct pw_perfstat_window w;
	struct pw_perfstat_take t;
	struct pw_perf out;

	pw_perfstat_window_init(&w, 0);
	w.drop_first = false;
	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++) {
		struct pw_perfstat_record r = rec(1.0, pw_perf_event_names[e], 3.0);

		if (e == idx("LLC-loads"))
			r.status = PW_PERFSTAT_NOT_COUNTED;
		pw_perfstat_window_add(&w, &r);
	}
	pw_perfstat_window_take(&w, &t);
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, 1.0, true, &out);
	cr_expect(!out.available);
	cr_expect_str_eq(out.error, "not counted (the counter never got to run): LLC-loads");
	cr_expect(!out.events[idx("LLC-loads")].counted);
	cr_expect(out.events[idx("LLC-load-misses")].counted);
}

Test(perfstat_window, lengths_from_the_kernel_not_from_a_late_perf)
{
	struct pw_perfstat_window w;
	struct pw_perfstat_take t;
	struct pw_perf out;

	/*
	 * 2 CPUs. perf was kept off the CPU between its timestamps and its reads: its intervals
	 * say 0.1 s, the counters' enabled times (run / run%) say 0.5 s each.
	 */
	pw_perfstat_window_init(&w, 2);
	w.drop_first = false;
	for (int i = 1; i <= 2; i++) {
		for (int e = 0; e < PW_PERF_NUM_EVENTS; e++) {
			struct pw_perfstat_record r = rec(0.1 * i, pw_perf_event_names[e], 1000.0);

			r.run_ns = e == idx("cycles") ? 0.25e9 : 1e9; /* cycles multiplexed: ran half */
			r.running_pct = e == idx("cycles") ? 25.0 : 100.0;
			pw_perfstat_window_add(&w, &r);
		}
	}
	pw_perfstat_window_take(&w, &t);
	cr_expect_float_eq(t.covered_s, 1.0, 1e-12);
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, 1.0, true, &out);
	cr_expect_float_eq(out.events[0].value, 2000.0, 1e-9); /* not 10000 from the timestamps */
	cr_expect_float_eq(out.events[idx("cycles")].running_ratio, 0.25, 1e-12);

	/* the same lines without run times: the timestamps are all there is */
	pw_perfstat_window_init(&w, 2);
	w.drop_first = false;
	add_interval(&w, 0.1, 1000.0, PW_PERF_NUM_EVENTS);
	add_interval(&w, 0.2, 1000.0, PW_PERF_NUM_EVENTS);
	pw_perfstat_window_take(&w, &t);
	cr_expect_float_eq(t.covered_s, 0.2, 1e-12);
	pw_perfstat_fill(&t, 1.0, true, &out);
	cr_expect_float_eq(out.events[0].value, 10000.0, 1e-9);
	cr_expect(isnan(out.events[0].running_ratio));
}
