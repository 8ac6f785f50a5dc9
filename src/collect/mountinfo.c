/* SPDX-License-Identifier: MIT */
#include "collect/mountinfo.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fieldscan.h"
#include "util/readfile.h"
#include "util/strindex.h"

/* 6 fixed fields, optional fields ("shared:1 master:2 ..."), "-", 3 more */
#define MAX_FIELDS 48

/* The escapes the kernel writes (seq_file's mangle of " \t\n\\"), and glibc's "\\". */
static int unescape(const char *p, size_t left, size_t *used)
{
	static const struct {
		const char *esc;
		char c;
	} table[] = { { "\\040", ' ' }, { "\\011", '\t' }, { "\\012", '\n' }, { "\\134", '\\' }, { "\\\\", '\\' } };

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t n = strlen(table[i].esc);

		if (left >= n && !memcmp(p, table[i].esc, n)) {
			*used = n;
			return (unsigned char)table[i].c;
		}
	}
	return -1;
}

bool pw_mount_decode(const char *src, size_t n, char *dst, size_t dstlen)
{
	size_t o = 0, used;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];

		/* exactly what getmntent(3), and so psutil, decodes; any other '\' stays */
		if (c == '\\' && (c = unescape(src + i, n - i, &used)) >= 0)
			i += used - 1;
		else
			c = (unsigned char)src[i];
		if (!c || o + 1 >= dstlen)
			return false;
		dst[o++] = (char)c;
	}
	if (!dstlen)
		return false;
	dst[o] = '\0';
	return true;
}

/* "major:minor" */
static bool parse_devno(struct pw_tok t, uint32_t *major, uint32_t *minor)
{
	const char *colon = memchr(t.p, ':', t.n);
	struct pw_tok a, b;

	if (!colon)
		return false;
	a.p = t.p;
	a.n = (size_t)(colon - t.p);
	b.p = colon + 1;
	b.n = t.n - a.n - 1;
	return pw_tok_u32(a, major) && pw_tok_u32(b, minor);
}

static bool parse_line(struct pw_tok line, struct pw_mount_entry *e)
{
	struct pw_tok t[MAX_FIELDS];
	size_t n = pw_split_blank(line.p, line.p + line.n, t, MAX_FIELDS), sep;

	if (n > MAX_FIELDS)
		n = MAX_FIELDS; /* the separator is still found if it came early enough */
	for (sep = 6; sep < n; sep++)
		if (pw_tok_eq(t[sep], "-"))
			break;
	if (sep + 2 >= n)
		return false;
	if (!parse_devno(t[2], &e->major, &e->minor))
		return false;
	return pw_mount_decode(t[4].p, t[4].n, e->mountpoint, sizeof(e->mountpoint)) &&
	       pw_mount_decode(t[sep + 1].p, t[sep + 1].n, e->fstype, sizeof(e->fstype)) &&
	       pw_mount_decode(t[sep + 2].p, t[sep + 2].n, e->device, sizeof(e->device));
}

int pw_mountinfo_parse(const char *buf, size_t len, pw_mount_cb cb, void *ctx)
{
	struct pw_mount_entry e;

	return pw_parse_entry_lines(buf, len, parse_line, &e, cb, ctx);
}

void pw_filesystems_parse(const char *buf, size_t len, struct pw_fstype_set *ret)
{
	const char *end = buf + len;
	struct pw_tok t[3];
	size_t n;

	ret->n = 0;
	for (const char *p = buf; p < end; p = pw_next_line(p, end)) {
		struct pw_tok name;

		/* "nodev\tsysfs" or "\text4"; a last line without '\n' is whole: a name or not */
		n = pw_split_blank(p, pw_line_end(p, end), t, 3);
		if (n == 1 && !pw_tok_eq(t[0], "nodev"))
			name = t[0];
		else if (n == 2 && pw_tok_eq(t[0], "nodev") && pw_tok_eq(t[1], "zfs"))
			name = t[1]; /* psutil keeps zfs although it says nodev */
		else
			continue;
		if (ret->n == PW_FSTYPES_MAX)
			return;
		if (pw_tok_copy(name, ret->names[ret->n], sizeof(ret->names[0])))
			ret->n++;
	}
}

bool pw_fstype_set_has(const struct pw_fstype_set *set, const char *fstype)
{
	for (uint32_t i = 0; i < set->n; i++)
		if (!strcmp(set->names[i], fstype))
			return true;
	return false;
}

bool pw_mount_is_physical(const struct pw_mount_entry *e, const struct pw_fstype_set *set)
{
	if (!e->device[0] || !strcmp(e->device, "none"))
		return false;
	/* the reference collector: `if 'loop' in part.device: continue` */
	if (strstr(e->device, "loop"))
		return false;
	return pw_fstype_set_has(set, e->fstype);
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

void pw_usage_from_statvfs(const struct statvfs *st, struct pw_partition *p)
{
	uint64_t frsize = st->f_frsize;
	uint64_t used_blocks = st->f_blocks >= st->f_bfree ? st->f_blocks - st->f_bfree : 0;
	double denom;

	p->total_bytes = mul_sat(st->f_blocks, frsize);
	p->free_bytes = mul_sat(st->f_bavail, frsize);
	p->used_bytes = mul_sat(used_blocks, frsize);
	denom = (double)p->used_bytes + (double)p->free_bytes;
	/* psutil.disk_usage: 0.0 on a zero division (an empty pseudo filesystem) */
	p->usage_percent = denom > 0 ? (double)p->used_bytes / denom * 100.0 : 0.0;
}

int pw_partitions_find(const char *buf, size_t len, uint32_t major, uint32_t minor, char *dst, size_t dstlen)
{
	const char *pos = buf, *end = buf + len;
	struct pw_tok line, t[4];
	uint32_t ma, mi;

	/* "major minor  #blocks  name" */
	while (pw_next_full_line(&pos, end, &line)) {
		if (pw_split_blank(line.p, line.p + line.n, t, 4) != 4)
			continue;
		if (!pw_tok_u32(t[0], &ma) || !pw_tok_u32(t[1], &mi) || ma != major || mi != minor)
			continue;
		return pw_tok_copy(t[3], dst, dstlen) ? 0 : -ENAMETOOLONG;
	}
	return -ENOENT;
}

/* ---------------------------------------------------------------- the list of physical mounts */

void pw_mounts_free(struct pw_mounts *m)
{
	if (!m)
		return;
	pw_buf_free(&m->file);
	pw_buf_free(&m->aux);
	pw_strindex_free(&m->index);
	pw_file_close(&m->mountinfo);
	free(m->parts);
	m->parts = NULL;
	m->n_parts = m->cap_parts = 0;
	m->have = false;
}

static struct pw_strkeys partition_keys(const struct pw_partition *arr)
{
	return (struct pw_strkeys){ arr, sizeof(*arr), offsetof(struct pw_partition, mountpoint) };
}

/* DEVNAME= of a uevent file: the name of a block device. 0, or a negative errno. */
static int uevent_devname(const char *buf, size_t len, char *dst, size_t dstlen)
{
	const char *end = buf + len;
	struct pw_tok v;

	for (const char *p = buf; p < end; p = pw_next_line(p, end)) {
		if (!pw_starts_with(p, end, "DEVNAME=", 8))
			continue;
		v.p = p + 8;
		v.n = (size_t)(pw_line_end(p, end) - v.p);
		return v.n && pw_tok_copy(v, dst, dstlen) ? 0 : -ENAMETOOLONG;
	}
	return -ENOENT;
}

/*
 * "/dev/root" or "rootfs": the device psutil's RootFsDeviceFinder names instead, from
 * /proc/partitions, else /sys/dev/block/M:m/uevent. Left as it is when neither knows.
 */
static void resolve_root_device(struct pw_mounts *m, struct pw_mount_entry *e)
{
	char name[PW_DEVNAME_MAX], path[64];
	long n;
	int r = -ENOENT;

	n = pw_read_file_at(m->proc_fd, "partitions", &m->aux, 1 << 20);
	if (n >= 0)
		r = pw_partitions_find(m->aux.data, (size_t)n, e->major, e->minor, name, sizeof(name));
	if (r < 0) {
		snprintf(path, sizeof(path), "dev/block/%u:%u/uevent", e->major, e->minor);
		n = pw_read_file_at(m->sys_fd, path, &m->aux, 1 << 16);
		if (n >= 0)
			r = uevent_devname(m->aux.data, (size_t)n, name, sizeof(name));
	}
	if (r == 0)
		snprintf(e->device, sizeof(e->device), "/dev/%s", name);
}

/*
 * Filesystems whose statvfs(), or a path walk through them, waits on something outside
 * this kernel (a server, a FUSE daemon, a cluster lock, an automount): while a listed
 * mount is one or is reached through one, the disk collector keeps to its own thread.
 */
bool pw_fstype_may_block(const char *fstype)
{
	static const char *const remote[] = {
		"nfs",	     "nfs4",	 "cifs",  "smb3",   "smbfs",   "ncpfs",	 "ceph", "9p",	   "afs",
		"glusterfs", "lustre",	 "gfs2",  "ocfs2",  "fuse",    "fuseblk", "virtiofs", "davfs", "coda",
		"orangefs",  "pvfs2",	 "gpfs",  "beegfs", "autofs",  "cvmfs",	 "moosefs", "vboxsf", "vmhgfs",
	};

	if (!strncmp(fstype, "fuse.", 5) || !strncmp(fstype, "fuseblk.", 8))
		return true;
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if (!strcmp(fstype, remote[i]))
			return true;
	return false;
}

static int add_mount(void *ctx, const struct pw_mount_entry *mnt)
{
	struct pw_mounts *m = ctx;
	struct pw_mount_entry e = *mnt;
	struct pw_partition *p;
	bool added = false;
	uint32_t i;

	if (!m->remote_seen && pw_fstype_may_block(e.fstype))
		m->remote_seen = true;
	if (!strcmp(e.device, "/dev/root") || !strcmp(e.device, "rootfs"))
		resolve_root_device(m, &e);
	if (!pw_mount_is_physical(&e, &m->fstypes))
		return 0;
	/* mounted over an earlier one: like the reference collector's dict, the last wins */
	i = pw_strindex_find(&m->index, partition_keys(m->parts), e.mountpoint);
	if (i == PW_STRINDEX_NONE) {
		if (pw_array_reserve(&m->parts, &m->cap_parts, m->n_parts + 1, sizeof(*p)) < 0)
			return -ENOMEM;
		i = m->n_parts++;
		added = true;
	}
	p = &m->parts[i];
	memset(p, 0, sizeof(*p));
	memcpy(p->device, e.device, sizeof(p->device));
	memcpy(p->fstype, e.fstype, sizeof(p->fstype));
	memcpy(p->mountpoint, e.mountpoint, sizeof(p->mountpoint));
	return added ? pw_strindex_add(&m->index, partition_keys(m->parts), p->mountpoint, i) : 0;
}

/*
 * Whether the mount table may have changed since the last poll. Only a kept procfs
 * mountinfo can say "no"; anything else, or a failing poll, says "yes".
 */
static bool table_changed(struct pw_mounts *m)
{
	struct pollfd pfd = { .fd = pw_file_fd(&m->mountinfo), .events = POLLPRI };

	if (pfd.fd < 0)
		return true;
	if (poll(&pfd, 1, 0) < 0)
		return true;
	return pfd.revents & (POLLPRI | POLLERR | POLLNVAL);
}

/* Whether path is dir or below it ("/a/b" is below "/a" and "/", not below "/a/c" or "/ab"). */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* A mount of a blocking type on or above a listed mount point: its statvfs walks through it. */
static int mark_blocking(void *ctx, const struct pw_mount_entry *e)
{
	struct pw_mounts *m = ctx;

	if (m->may_block || !pw_fstype_may_block(e->fstype))
		return 0;
	for (uint32_t i = 0; i < m->n_parts; i++)
		if (path_within(m->parts[i].mountpoint, e->mountpoint))
			m->may_block = true;
	return 0;
}

/* Reads filesystems and mountinfo afresh into m->parts. */
static int read_table(struct pw_mounts *m, int proc_fd, char *err, size_t errlen)
{
	long n;
	int r;

	m->n_parts = 0;
	m->may_block = true; /* until a whole table says otherwise */
	n = pw_read_file_at(proc_fd, "filesystems", &m->file, 1 << 20);
	if (n < 0) {
		snprintf(err, errlen, "cannot read filesystems: %s", strerror((int)-n));
		return (int)n;
	}
	pw_filesystems_parse(m->file.data, (size_t)n, &m->fstypes);

	n = pw_file_read(&m->mountinfo, proc_fd, "self/mountinfo", &m->file, 0);
	if (n < 0) {
		snprintf(err, errlen, "cannot read self/mountinfo: %s", strerror((int)-n));
		return (int)n;
	}
	m->n_reads++;
	m->remote_seen = false;
	r = pw_strindex_reset(&m->index, pw_count_lines(m->file.data, m->file.data + n));
	if (r == 0)
		r = pw_mountinfo_parse(m->file.data, (size_t)n, add_mount, m);
	if (r >= 0) {
		m->may_block = false;
		for (uint32_t i = 0; i < m->n_parts; i++)
			if (pw_fstype_may_block(m->parts[i].fstype))
				m->may_block = true; /* fuseblk is backed by a device, and listed */
		if (m->remote_seen) /* a second pass, only where such a filesystem is mounted */
			r = pw_mountinfo_parse(m->file.data, (size_t)n, mark_blocking, m);
	}
	if (r < 0) {
		m->n_parts = 0;
		m->may_block = true;
		snprintf(err, errlen, "self/mountinfo: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* The table read again where it changed since the last read (or is not known). */
static int refresh_table(struct pw_mounts *m, int proc_fd, int sys_fd, char *err, size_t errlen)
{
	int r;

	if (m->proc_fd != proc_fd || m->sys_fd != sys_fd)
		m->have = false;
	m->proc_fd = proc_fd;
	m->sys_fd = sys_fd;
	/* polled before the read: a change while reading is reported by the next poll */
	if (table_changed(m) || !m->have) {
		m->have = false;
		r = read_table(m, proc_fd, err, errlen);
		if (r < 0)
			return r;
		m->have = true;
	}
	return 0;
}

bool pw_mounts_may_block(struct pw_mounts *m, int proc_fd, int sys_fd)
{
	char err[PW_ERROR_MAX];

	/* a table that cannot be read: the collection reads it again, and says why */
	return refresh_table(m, proc_fd, sys_fd, err, sizeof(err)) < 0 || m->may_block;
}

int pw_mounts_read(struct pw_mounts *m, int proc_fd, int sys_fd, struct pw_disk *d, char *err, size_t errlen)
{
	int r;

	d->n_partitions = 0;
	r = refresh_table(m, proc_fd, sys_fd, err, errlen);
	if (r < 0)
		return r;
	if (pw_array_reserve(&d->partitions, &d->cap_partitions, m->n_parts, sizeof(*d->partitions)) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (m->n_parts)
		memcpy(d->partitions, m->parts, m->n_parts * sizeof(*d->partitions));
	d->n_partitions = m->n_parts;
	return 0;
}
