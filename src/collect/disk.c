/* SPDX-License-Identifier: MIT */
/*
 * The disk section: per-device I/O from /proc/diskstats (loop devices left out) with
 * rates and mean latencies over the interval, and the usage of mounted physical
 * filesystems (psutil.disk_partitions(all=False) + disk_usage()). statvfs is called only
 * for filesystems that are reported; one stuck in the kernel (a dead NFS server) holds
 * only this collector, and the runner's deadline turns that into "disk": null.
 */
#include <errno.h>
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
#include "util/timeutil.h"

struct disk_state {
	struct pw_buf file; /* each procfs file in turn, reused */
	struct pw_fstype_set fstypes;
	/* the previous diskstats sample, for rates */
	struct pw_blockdev *prev;
	uint32_t n_prev, cap_prev;
	uint64_t prev_ns;
	/* mount point -> index into partitions, so that a mount on top of another replaces it */
	uint32_t *slots; /* index + 1; 0 is empty */
	uint32_t cap_slots;
	/* filled while parsing */
	const struct pw_env *env;
	struct pw_disk *out;
	struct pw_buf aux; /* /proc/partitions or a uevent, read only for a "/dev/root" */
};

static void disk_destroy(void *state)
{
	struct disk_state *st = state;

	pw_buf_free(&st->file);
	pw_buf_free(&st->aux);
	free(st->prev);
	free(st->slots);
}

/* ---------------------------------------------------------------- devices */

static const struct pw_blockdev *find_prev(const struct disk_state *st, uint32_t hint, const char *name)
{
	if (hint < st->n_prev && !strcmp(st->prev[hint].name, name))
		return &st->prev[hint];
	for (uint32_t i = 0; i < st->n_prev; i++)
		if (!strcmp(st->prev[i].name, name))
			return &st->prev[i];
	return NULL;
}

static int add_device(void *ctx, const struct pw_diskstats_entry *e)
{
	struct disk_state *st = ctx;
	struct pw_disk *d = st->out;
	struct pw_blockdev *b;

	if (!strncmp(e->name, "loop", 4))
		return 0;
	if (pw_array_reserve(&d->devices, &d->cap_devices, d->n_devices + 1, sizeof(*b)) < 0)
		return -ENOMEM;
	b = &d->devices[d->n_devices++];
	memcpy(b->name, e->name, sizeof(b->name));
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
		const struct pw_blockdev *p = find_prev(st, i, b->name);

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

	n = pw_read_file_at(st->env->proc_fd, "diskstats", &st->file, 0);
	if (n < 0) {
		snprintf(err, errlen, "cannot read diskstats: %s", strerror((int)-n));
		return (int)n;
	}
	now = pw_mono_ns();
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
	return 0;
}

/* ---------------------------------------------------------------- partitions */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Empties the index and makes room for at least `n` mount points at half load. */
static int index_reset(struct disk_state *st, uint32_t n)
{
	uint32_t cap = st->cap_slots ? st->cap_slots : 64;
	uint32_t *slots;

	while (cap / 2 < n) {
		if (cap > UINT32_MAX / 4)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap != st->cap_slots) {
		slots = realloc(st->slots, (size_t)cap * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		st->slots = slots;
		st->cap_slots = cap;
	}
	memset(st->slots, 0, (size_t)st->cap_slots * sizeof(*st->slots));
	return 0;
}

/* The slot of `mountpoint`: the one that holds it, or the empty one where it goes. */
static uint32_t *index_slot(const struct disk_state *st, const struct pw_disk *d, const char *mountpoint)
{
	uint32_t mask = st->cap_slots - 1, i = hash_str(mountpoint) & mask;

	while (st->slots[i] && strcmp(d->partitions[st->slots[i] - 1].mountpoint, mountpoint))
		i = (i + 1) & mask;
	return &st->slots[i];
}

static int index_grow(struct disk_state *st, const struct pw_disk *d)
{
	int r = index_reset(st, d->n_partitions + 1);

	if (r < 0)
		return r;
	for (uint32_t i = 0; i < d->n_partitions; i++)
		*index_slot(st, d, d->partitions[i].mountpoint) = i + 1;
	return 0;
}

/* "/dev/root" or "rootfs": the name of the device psutil would find instead. */
static void resolve_root_device(struct disk_state *st, struct pw_mount_entry *e)
{
	char name[PW_DEVNAME_MAX], path[64];
	const char *pos, *end;
	struct pw_tok line;
	long n;

	n = pw_read_file_at(st->env->proc_fd, "partitions", &st->aux, 1 << 20);
	if (n >= 0 && pw_partitions_find(st->aux.data, (size_t)n, e->major, e->minor, name, sizeof(name)) == 0)
		goto out_found;
	snprintf(path, sizeof(path), "dev/block/%u:%u/uevent", e->major, e->minor);
	n = pw_read_file_at(st->env->sys_fd, path, &st->aux, 1 << 16);
	if (n < 0)
		return;
	pos = st->aux.data;
	end = pos + n;
	while (pw_next_line(&pos, end, &line)) {
		if (line.n > 8 && !memcmp(line.p, "DEVNAME=", 8)) {
			struct pw_tok v = { line.p + 8, line.n - 8 };

			if (pw_tok_copy(v, name, sizeof(name)))
				goto out_found;
			return;
		}
	}
	return;
out_found:
	snprintf(e->device, sizeof(e->device), "/dev/%s", name);
}

static int add_mount(void *ctx, const struct pw_mount_entry *mnt)
{
	struct disk_state *st = ctx;
	struct pw_disk *d = st->out;
	struct pw_mount_entry e = *mnt;
	struct pw_partition *p;
	uint32_t *slot;

	if (!strcmp(e.device, "/dev/root") || !strcmp(e.device, "rootfs"))
		resolve_root_device(st, &e);
	if (!pw_mount_is_physical(&e, &st->fstypes))
		return 0;
	if (d->n_partitions + 1 > st->cap_slots / 2 && index_grow(st, d) < 0)
		return -ENOMEM;
	slot = index_slot(st, d, e.mountpoint);
	if (*slot) {
		/* mounted over an earlier one: like the reference collector's dict, the last wins */
		p = &d->partitions[*slot - 1];
	} else {
		if (pw_array_reserve(&d->partitions, &d->cap_partitions, d->n_partitions + 1, sizeof(*p)) < 0)
			return -ENOMEM;
		p = &d->partitions[d->n_partitions++];
		*slot = d->n_partitions;
	}
	memcpy(p->device, e.device, sizeof(p->device));
	memcpy(p->fstype, e.fstype, sizeof(p->fstype));
	memcpy(p->mountpoint, e.mountpoint, sizeof(p->mountpoint));
	return 0;
}

static int collect_partitions(struct disk_state *st, struct pw_disk *d, char *err, size_t errlen)
{
	struct statvfs sv;
	uint32_t kept = 0;
	long n;
	int r;

	n = pw_read_file_at(st->env->proc_fd, "filesystems", &st->file, 1 << 20);
	if (n < 0) {
		snprintf(err, errlen, "cannot read filesystems: %s", strerror((int)-n));
		return (int)n;
	}
	pw_filesystems_parse(st->file.data, (size_t)n, &st->fstypes);

	n = pw_read_file_at(st->env->proc_fd, "self/mountinfo", &st->file, 0);
	if (n < 0) {
		snprintf(err, errlen, "cannot read self/mountinfo: %s", strerror((int)-n));
		return (int)n;
	}
	r = index_reset(st, 0);
	if (r == 0)
		r = pw_mountinfo_parse(st->file.data, (size_t)n, add_mount, st);
	if (r < 0) {
		snprintf(err, errlen, "self/mountinfo: %s", strerror(-r));
		return r;
	}

	/* usage; a mount point that cannot be looked at (gone, no access, a fixture's) is left out */
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

const struct collector pw_disk_collector = {
	.name = "disk",
	.sections = PW_SEC_DISK,
	.state_size = sizeof(struct disk_state),
	.collect = disk_collect,
	.destroy = disk_destroy,
};
