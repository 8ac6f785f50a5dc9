/* SPDX-License-Identifier: MIT */
/* /proc/diskstats parsing, and the disk collector's devices over fixture trees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "collect/collector.h"
#include "collect/diskstats.h"
#include "netdisk_fixture.h"

extern const struct collector pw_disk_collector;

#define MAX_SEEN 32
#define U64MAX 18446744073709551615ull

struct seen {
	int n;
	struct pw_diskstats_entry e[MAX_SEEN];
};

static int remember(void *ctx, const struct pw_diskstats_entry *e)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN)
		s->e[s->n] = *e;
	s->n++;
	return 0;
}

static const struct pw_diskstats_entry *find(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n && i < MAX_SEEN; i++)
		if (!strcmp(s->e[i].name, name))
			return &s->e[i];
	return NULL;
}

/* What psutil.disk_io_counters(perdisk=True) says for one device (bytes = sectors * 512). */
struct expect_dev {
	const char *name;
	uint32_t major, minor;
	uint64_t read_count, write_count, read_bytes, write_bytes, read_time, write_time;
};

static const struct {
	const char *machine;
	int count; /* devices in the file, loop included (the parser keeps them) */
	struct expect_dev want[4];
} cases[] = {
	{ "debian12-vm", 10, {
		{ "vda", 254, 0, 70492, 18213, 4524434ull * 512, 2921464ull * 512, 45954, 9902 },
		{ "loop7", 7, 7, 0, 0, 0, 0, 0, 0 },
		{ "zram0", 253, 0, 0, 0, 0, 0, 0, 0 } } },
	{ "nvme-md-dm-server", 18, { /* 20 fields */
		{ "nvme0n1p2", 259, 2, 63569421, 887925707, 572124789ull * 512, 9767182777ull * 512, 2428705135u, 531825347 },
		{ "md127", 9, 127, 0, 0, 0, 0, 0, 0 },
		{ "dm-2", 253, 2, 733168297, 949494817, 3378439512576ull, 5347554809344ull, 1634082921, 991170207 },
		{ "sr0", 11, 0, 520824767, 892479915, 2399960526336ull, 5026446881280ull, 2530366207u, 783256687 } } },
	{ "kernel-3.10-14-fields", 8, {
		{ "sda2", 8, 2, 1821180, 7264284, 95637144ull * 512, 310268500ull * 512, 3407091, 98235019 },
		{ "dm-1", 253, 1, 33301, 60012, 1597048ull * 512, 480096ull * 512, 42319, 2312341 },
		{ "fd0", 2, 0, 0, 0, 0, 0, 0, 0 } } },
	{ "kernel-4.19-18-fields", 8, {
		{ "sda2", 8, 2, 1821180, 7264284, 95637144ull * 512, 310268500ull * 512, 3407091, 98235019 },
		{ "dm-0", 253, 0, 1790312, 11726493, 93921546ull * 512, 305938124ull * 512, 3471204, 268923411 } } },
	{ "nasty-empty", 0, { { 0 } } },
	{ "nasty-garbage", 4, { /* old1 twice: the first is found here, the collector keeps the last */
		{ "maxed", 8, 48, U64MAX, U64MAX, U64MAX, U64MAX, U64MAX, U64MAX }, /* bytes saturate */
		{ "nvme9n1", 259, 0, 1, 5, 3 * 512, 7 * 512, 4, 8 },                   /* 28 fields: read as 18+ */
		{ "old1", 8, 64, 100, 300, 200 * 512, 400 * 512, 0, 0 } } },           /* 7 fields: no times */
};

Test(diskstats, fixtures_match_psutil)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_buf b = { 0 };
		long n = fixture_tree_read(cases[i].machine, "diskstats", &b);
		struct seen s = { 0 };
		int r = pw_diskstats_parse(b.data, (size_t)n, remember, &s);

		pw_buf_free(&b);
		cr_expect_eq(r, cases[i].count, "%s: %d devices, want %d", cases[i].machine, r, cases[i].count);
		for (int k = 0; k < 4 && cases[i].want[k].name; k++) {
			const struct expect_dev *w = &cases[i].want[k];
			const struct pw_diskstats_entry *e = find(&s, w->name);
			const char *m = cases[i].machine;

			cr_expect(e, "%s: device %s missing", m, w->name);
			if (!e)
				continue;
			cr_expect(e->major == w->major && e->minor == w->minor, "%s %s devno", m, w->name);
			cr_expect_eq(e->read_count, w->read_count, "%s %s read_count", m, w->name);
			cr_expect_eq(e->write_count, w->write_count, "%s %s write_count", m, w->name);
			cr_expect_eq(pw_sectors_to_bytes(e->read_sectors), w->read_bytes, "%s %s read_bytes", m, w->name);
			cr_expect_eq(pw_sectors_to_bytes(e->write_sectors), w->write_bytes, "%s %s write_bytes", m, w->name);
			cr_expect_eq(e->read_time_ms, w->read_time, "%s %s read_time", m, w->name);
			cr_expect_eq(e->write_time_ms, w->write_time, "%s %s write_time", m, w->name);
		}
	}
}

Test(diskstats, rejected_lines)
{
	static const char *const bad[] = {
		"",
		"   8       0 sda 1 2 3 4 5 6 7 8 9 10\n",                       /* 13 fields */
		"   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12\n",                 /* 15: Linux 2.4's shape */
		"   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13\n",              /* 16 */
		"   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14\n",           /* 17 */
		"   8       0 sda 1 2 3 4 5 6 7 8 9 10 11",                      /* no newline: cut */
		"   8       0 sda 1 2 3 4 5 6 7 8 9 10 -11\n",
		"   8       0 sda 1 2 3 4 5 6 7 8 9 10 18446744073709551616\n",  /* u64 + 1 */
		"   8      -1 sda 1 2 3 4 5 6 7 8 9 10 11\n",
		"4294967296 0 sda 1 2 3 4 5 6 7 8 9 10 11\n",                    /* major over 32 bits */
		"   8       0 sda 1 2 3\n",                                      /* 6 fields */
		"   8       0 sda 1 2 3 x\n",                                    /* 7, not numbers */
		"\x00\x01\x02\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = { 0 };
		size_t len = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 4 : strlen(bad[i]);

		cr_expect_eq(pw_diskstats_parse(bad[i], len, remember, &s), 0, "case %zu parsed: %s", i, bad[i]);
	}
}

Test(diskstats, sector_bytes_saturate)
{
	cr_expect_eq(pw_sectors_to_bytes(0), 0);
	cr_expect_eq(pw_sectors_to_bytes(1), 512);
	cr_expect_eq(pw_sectors_to_bytes(U64MAX / 512), (U64MAX / 512) * 512);
	cr_expect_eq(pw_sectors_to_bytes(U64MAX / 512 + 1), U64MAX);
	cr_expect_eq(pw_sectors_to_bytes(U64MAX), U64MAX);
}

/* ---------------------------------------------------------------- the collector */

struct run {
	void *state;
	struct pw_env env;
	struct snapshot snap;
	char err[PW_ERROR_MAX];
};

static void run_on(struct run *r, const char *machine)
{
	if (r->state) {
		close(r->env.proc_fd);
		close(r->env.sys_fd);
	} else {
		memset(r, 0, sizeof(*r));
		r->state = calloc(1, pw_disk_collector.state_size);
		snapshot_init(&r->snap);
	}
	r->env.proc_fd = fixture_tree_fd(machine);
	r->env.sys_fd = fixture_tree_fd(machine);
}

static int run_collect(struct run *r)
{
	return pw_disk_collector.collect(r->state, &r->env, &r->snap, r->err, sizeof(r->err));
}

static void run_free(struct run *r)
{
	pw_disk_collector.destroy(r->state);
	free(r->state);
	snapshot_free(&r->snap);
	close(r->env.proc_fd);
	close(r->env.sys_fd);
}

static const struct pw_blockdev *dev(const struct pw_disk *d, const char *name)
{
	for (uint32_t i = 0; i < d->n_devices; i++)
		if (!strcmp(d->devices[i].name, name))
			return &d->devices[i];
	return NULL;
}

static bool all_null(const struct pw_blockdev *b)
{
	return isnan(b->read_bytes_per_sec) && isnan(b->write_bytes_per_sec) && isnan(b->read_iops) &&
	       isnan(b->write_iops) && isnan(b->read_latency_ms) && isnan(b->write_latency_ms);
}

Test(disk_collector, devices_loop_left_out)
{
	static const struct {
		const char *machine;
		uint32_t n;
		const char *names;
	} want[] = {
		{ "debian12-vm", 2, "vda zram0" },
		{ "nvme-md-dm-server", 16, "nvme0n1 nvme0n1p1 nvme0n1p2 nvme0n1p3 nvme1n1 nvme1n1p1 sda sda1 sdb sdb1 md0 md127 dm-0 dm-1 dm-2 sr0" },
		{ "kernel-3.10-14-fields", 7, "fd0 sda sda1 sda2 sr0 dm-0 dm-1" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct run r = { 0 };
		char names[512] = "";

		run_on(&r, want[i].machine);
		cr_assert_eq(run_collect(&r), 0, "%s: %s", want[i].machine, r.err);
		cr_expect(r.snap.disk.valid);
		for (uint32_t k = 0; k < r.snap.disk.n_devices; k++) {
			const struct pw_blockdev *b = &r.snap.disk.devices[k];

			if (k)
				strcat(names, " ");
			strcat(names, b->name);
			cr_expect(all_null(b), "%s %s: a first sample has no rate", want[i].machine, b->name);
		}
		cr_expect_eq(r.snap.disk.n_devices, want[i].n, "%s", want[i].machine);
		cr_expect_str_eq(names, want[i].names, "%s", want[i].machine);
		run_free(&r);
	}
}

Test(disk_collector, rates_latency_backwards_appearing)
{
	const struct pw_blockdev *b;
	struct run r = { 0 };

	run_on(&r, "counters-backwards-t0");
	cr_assert_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect_eq(r.snap.disk.n_devices, 6);
	run_on(&r, "counters-backwards-t1");
	cr_assert_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect_eq(r.snap.disk.n_devices, 6);
	cr_expect_null(dev(&r.snap.disk, "gone"));
	cr_expect_null(dev(&r.snap.disk, "loop0"));

	b = dev(&r.snap.disk, "sda"); /* every counter reset */
	cr_assert(b);
	cr_expect(all_null(b), "counters went backwards: null, never a made-up number");
	cr_expect_eq(b->read_bytes, 800 * 512);

	b = dev(&r.snap.disk, "sdb"); /* 10 reads in 30 ms, 40 writes in 200 ms */
	cr_assert(b);
	cr_expect(b->read_bytes_per_sec > 0 && b->write_bytes_per_sec > 0 && b->read_iops > 0 && b->write_iops > 0);
	cr_expect_float_eq(b->read_latency_ms, 3.0, 1e-9);
	cr_expect_float_eq(b->write_latency_ms, 5.0, 1e-9);
	cr_expect_float_eq(b->read_bytes_per_sec / b->read_iops, 800 * 512 / 10.0, 1e-6, "bytes per read");

	b = dev(&r.snap.disk, "sdc");
	cr_assert(b);
	cr_expect(all_null(b), "a device that just appeared has no rate");

	/* the 32-bit time columns wrapped: 4 reads in 496 ms, 1 write in 100 ms */
	b = dev(&r.snap.disk, "nvme0n1");
	cr_assert(b);
	cr_expect_float_eq(b->read_latency_ms, 124.0, 1e-9);
	cr_expect_float_eq(b->write_latency_ms, 100.0, 1e-9);

	b = dev(&r.snap.disk, "nvme0n1p1"); /* a read time past 32 bits went down: not a wrap */
	cr_assert(b);
	cr_expect(isnan(b->read_latency_ms));
	cr_expect(b->read_iops > 0);
	cr_expect(isnan(b->write_latency_ms), "no write completed: null");
	cr_expect(b->write_iops == 0);

	b = dev(&r.snap.disk, "idle");
	cr_assert(b);
	cr_expect(b->read_iops == 0 && b->write_iops == 0 && b->read_bytes_per_sec == 0);
	cr_expect(isnan(b->read_latency_ms) && isnan(b->write_latency_ms), "no I/O: latency null");
	run_free(&r);
}

Test(disk_collector, garbage_and_missing_files)
{
	struct run r = { 0 };

	run_on(&r, "nasty-garbage");
	cr_expect_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect_eq(r.snap.disk.n_devices, 3, "maxed nvme9n1 old1 (twice: the last wins)");
	cr_expect(dev(&r.snap.disk, "old1") && dev(&r.snap.disk, "old1")->read_count == 111);
	run_on(&r, "nasty-empty");
	cr_expect_eq(run_collect(&r), 0, "%s", r.err);
	cr_expect(r.snap.disk.valid);
	cr_expect_eq(r.snap.disk.n_devices, 0);
	cr_expect_eq(r.snap.disk.n_partitions, 0);
	run_on(&r, "odd-ifnames"); /* no diskstats */
	cr_expect_eq(run_collect(&r), -ENOENT);
	cr_expect(strstr(r.err, "diskstats"), "reason: %s", r.err);
	cr_expect(!r.snap.disk.valid);
	run_on(&r, "kernel-4.19-18-fields"); /* diskstats, but no mountinfo */
	cr_expect_eq(run_collect(&r), -ENOENT);
	cr_expect(strstr(r.err, "filesystems") || strstr(r.err, "mountinfo"), "reason: %s", r.err);
	run_free(&r);
}
