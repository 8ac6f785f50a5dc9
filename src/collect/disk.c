/* SPDX-License-Identifier: MIT */
/*
 * The disk section: per-device I/O from /proc/diskstats (loop devices left out) with
 * rates and mean latencies over the interval, and the usage of mounted physical
 * filesystems (psutil.disk_partitions(all=False) + disk_usage()). statvfs is called only
 * for filesystems that are reported; one stuck in the kernel (a dead NFS server) holds
 * only this collector, and the runner's deadline turns that into "disk": null. That
 * takes a thread of its own, used only while a listed filesystem is one served from
 * outside this kernel or is reached through one (pw_mounts_may_block).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "collect/collector.h"
#include "collect/diskstats.h"
#include "collect/mountinfo.h"
#include "util/fieldscan.h"
#include "util/rate.h"
#include "util/readfile.h"
#include "util/strindex.h"
#include "util/timeutil.h"

struct disk_state {
	struct pw_buf file; /* diskstats, reused */
	struct pw_file diskstats; /* kept open (util/readfile.h) */
	struct pw_mounts mounts;
	/* the previous diskstats sample, for rates */
	struct pw_blockdev *prev;
	uint32_t n_prev, cap_prev;
	uint64_t prev_ns;
	struct pw_strindex prev_ix, cur_ix; /* name -> position in prev / in the sample being read */
	bool inline_run; /* this collection runs in the runner's thread (disk_blocks_now) */
	/* filled while parsing */
	const struct pw_env *env;
	struct pw_disk *out;
};

static void disk_destroy(void *state)
{
	struct disk_state *st = state;

	pw_buf_free(&st->file);
	pw_file_close(&st->diskstats);
	pw_mounts_free(&st->mounts);
	free(st->prev);
	pw_strindex_free(&st->prev_ix);
	pw_strindex_free(&st->cur_ix);
}

static struct pw_strkeys blockdev_keys(const struct pw_blockdev *arr)
{
	return (struct pw_strkeys){ arr, sizeof(*arr), offsetof(struct pw_blockdev, name) };
}

/* ---------------------------------------------------------------- devices */

static int add_device(void *ctx, const struct pw_diskstats_entry *e)
{
	struct disk_state *st = ctx;
	struct pw_disk *d = st->out;
	struct pw_blockdev *b;
	uint32_t i;
	int r;

	if (!strncmp(e->name, "loop", 4))
		return 0;
	i = pw_strindex_find(&st->cur_ix, blockdev_keys(d->devices), e->name);
	if (i != PW_STRINDEX_NONE) {
		/* a name twice (only a broken file does that): the last wins, as in psutil's dict */
		b = &d->devices[i];
	} else {
		if (pw_array_reserve(&d->devices, &d->cap_devices, d->n_devices + 1, sizeof(*b)) < 0)
			return -ENOMEM;
		i = d->n_devices++;
		b = &d->devices[i];
		memcpy(b->name, e->name, sizeof(b->name));
		r = pw_strindex_add(&st->cur_ix, blockdev_keys(d->devices), b->name, i);
		if (r < 0)
			return r;
	}
	b->read_count = e->read_count;
	b->write_count = e->write_count;
	b->read_bytes = pw_sectors_to_bytes(e->read_sectors);
	b->write_bytes = pw_sectors_to_bytes(e->write_sectors);
	b->read_time_ms = e->read_time_ms;
	b->write_time_ms = e->write_time_ms;
	return 0;
}

/*
 * Mean ms per completed I/O over the interval; null when none completed or a counter
 * went backwards. The kernel prints the time columns as 32-bit numbers (%u in
 * diskstats_show), so on a busy disk they wrap every few days of summed I/O time: a
 * time that went backwards while both values fit 32 bits and the count went forwards
 * is that wrap, not a reset (a reset restarts the count too).
 */
static double latency_ms(uint64_t prev_ms, uint64_t cur_ms, uint64_t prev_count, uint64_t cur_count)
{
	uint64_t dcount, dms;

	if (!pw_delta(prev_count, cur_count, &dcount) || !dcount)
		return PW_NULL;
	if (!pw_delta(prev_ms, cur_ms, &dms)) {
		if (prev_ms > UINT32_MAX || cur_ms > UINT32_MAX)
			return PW_NULL;
		dms = cur_ms + (1ull << 32) - prev_ms;
	}
	return (double)dms / (double)dcount;
}

static void device_rates(const struct disk_state *st, struct pw_disk *d, double dt)
{
	for (uint32_t i = 0; i < d->n_devices; i++) {
		struct pw_blockdev *b = &d->devices[i];
		uint32_t k = pw_strindex_find(&st->prev_ix, blockdev_keys(st->prev), b->name);
		const struct pw_blockdev *p = k != PW_STRINDEX_NONE ? &st->prev[k] : NULL;

		if (!p || !(dt > 0)) {
			/* a device that just appeared has no rate yet */
			b->read_bytes_per_sec = b->write_bytes_per_sec = PW_NULL;
			b->read_iops = b->write_iops = PW_NULL;
			b->read_latency_ms = b->write_latency_ms = PW_NULL;
			continue;
		}
		b->read_bytes_per_sec = pw_rate(p->read_bytes, b->read_bytes, dt);
		b->write_bytes_per_sec = pw_rate(p->write_bytes, b->write_bytes, dt);
		b->read_iops = pw_rate(p->read_count, b->read_count, dt);
		b->write_iops = pw_rate(p->write_count, b->write_count, dt);
		b->read_latency_ms = latency_ms(p->read_time_ms, b->read_time_ms, p->read_count, b->read_count);
		b->write_latency_ms = latency_ms(p->write_time_ms, b->write_time_ms, p->write_count, b->write_count);
	}
}

static int collect_devices(struct disk_state *st, struct pw_disk *d, char *err, size_t errlen)
{
	uint64_t now;
	long n;
	int r;

	n = pw_file_read(&st->diskstats, st->env->proc_fd, "diskstats", &st->file, 0);
	if (n < 0) {
		snprintf(err, errlen, "cannot read diskstats: %s", strerror((int)-n));
		return (int)n;
	}
	now = pw_mono_ns();
	r = pw_strindex_reset(&st->cur_ix, pw_count_lines(st->file.data, st->file.data + n));
	if (r == 0)
		r = pw_diskstats_parse(st->file.data, (size_t)n, add_device, st);
	if (r < 0) {
		snprintf(err, errlen, "diskstats: %s", strerror(-r));
		return r;
	}
	device_rates(st, d, pw_dt_s(st->prev_ns, now));

	if (pw_array_reserve(&st->prev, &st->cap_prev, d->n_devices, sizeof(*st->prev)) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (d->n_devices)
		memcpy(st->prev, d->devices, d->n_devices * sizeof(*st->prev));
	st->n_prev = d->n_devices;
	st->prev_ns = now;
	pw_strindex_swap(&st->prev_ix, &st->cur_ix); /* this sample's positions are prev's now */
	return 0;
}

/* ---------------------------------------------------------------- partitions */

static int collect_partitions(struct disk_state *st, struct pw_disk *d, char *err, size_t errlen)
{
	struct statvfs sv;
	uint32_t kept = 0;
	int r;

	r = pw_mounts_read(&st->mounts, st->env->proc_fd, st->env->sys_fd, d, err, errlen);
	if (r < 0)
		return r;
	if (st->inline_run && st->mounts.may_block) {
		/* mounted between the runner's question and now: not statted outside our thread */
		snprintf(err, errlen, "a network or FUSE filesystem was mounted during this collection: "
				      "its usage is read from the next snapshot on");
		return -EAGAIN;
	}
	/*
	 * Usage, only of the mounts reported. One that cannot be looked at (unmounted since,
	 * no access, a fixture's) is left out: its numbers cannot be null.
	 */
	for (uint32_t i = 0; i < d->n_partitions; i++) {
		struct pw_partition *p = &d->partitions[i];

		if (statvfs(p->mountpoint, &sv) < 0)
			continue;
		pw_usage_from_statvfs(&sv, p);
		if (kept != i)
			d->partitions[kept] = *p;
		kept++;
	}
	d->n_partitions = kept;
	return 0;
}

static int disk_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct disk_state *st = state;
	struct pw_disk *d = &out->disk;
	int r;

	d->valid = false;
	d->n_devices = d->n_partitions = 0;
	st->env = env;
	st->out = d;
	r = collect_devices(st, d, err, errlen);
	if (r < 0)
		return r;
	r = collect_partitions(st, d, err, errlen);
	if (r < 0)
		return r;
	d->valid = true;
	return 0;
}

/*
 * statvfs() waits only on filesystems served from outside this kernel: when no listed
 * mount is one or lies below one, the collection runs in the runner's thread. A changed
 * table is read here, so a mount of a local disk keeps it there.
 */
static bool disk_blocks_now(void *state)
{
	struct disk_state *st = state;

	st->inline_run = !pw_mounts_may_block(&st->mounts, st->env->proc_fd, st->env->sys_fd);
	return !st->inline_run;
}

/* The mount table read once before the first collection: blocks_now can answer it too. */
static int disk_init(void *state, const struct pw_env *env, char *err, size_t errlen)
{
	struct disk_state *st = state;
	struct pw_disk d = { 0 };

	st->env = env;
	if (pw_mounts_read(&st->mounts, env->proc_fd, env->sys_fd, &d, err, errlen) < 0)
		err[0] = '\0'; /* the collection says it, with the reason of the moment */
	free(d.partitions);
	return 0;
}

const struct collector pw_disk_collector = {
	.name = "disk",
	.sections = PW_SEC_DISK,
	.state_size = sizeof(struct disk_state),
	.init = disk_init,
	.collect = disk_collect,
	.destroy = disk_destroy,
	.may_block = true, /* statvfs() of every mounted filesystem */
	.blocks_now = disk_blocks_now,
};
