/* SPDX-License-Identifier: MIT */
/*
 * Mounted filesystems: /proc/self/mountinfo, /proc/filesystems, and the statvfs numbers
 * of one mount, with the meaning psutil 5.9 gives them (disk_partitions(all=False),
 * disk_usage()).
 */
#ifndef PW_MOUNTINFO_H
#define PW_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>

#include "snapshot.h"
#include "util/buf.h"
#include "util/readfile.h"
#include "util/strindex.h"

struct pw_mount_entry {
	uint32_t major, minor;             /* st_dev of the mounted filesystem */
	char device[PW_PATH_MAX];          /* mount source, decoded ("none" when there is none) */
	char mountpoint[PW_PATH_MAX];      /* decoded: "\040" is a space */
	char fstype[PW_FSTYPE_MAX];        /* "ext4", "fuse.sshfs" */
};

typedef int (*pw_mount_cb)(void *ctx, const struct pw_mount_entry *e);

/*
 * Parses /proc/<pid>/mountinfo text (proc(5)): "id parent major:minor root mountpoint
 * options [optional fields...] - fstype source superoptions". Malformed lines, fields
 * longer than the entry holds, and a last line cut short are skipped. Returns the number
 * of mounts passed to cb, or cb's negative return.
 */
int pw_mountinfo_parse(const char *buf, size_t len, pw_mount_cb cb, void *ctx);

/*
 * Decodes the escapes the kernel writes in mount fields ("\040" space, "\011" tab,
 * "\012" newline, "\134" backslash) and a doubled backslash, into dst: what getmntent(3),
 * so psutil, shows. Any other backslash is kept. False when the result does not fit
 * (with its NUL) or would hold a NUL byte.
 */
bool pw_mount_decode(const char *src, size_t n, char *dst, size_t dstlen);

/* Filesystem types backed by a device: /proc/filesystems lines without "nodev" (+ zfs). */
#define PW_FSTYPES_MAX 128
struct pw_fstype_set {
	uint32_t n;
	char names[PW_FSTYPES_MAX][PW_FSTYPE_MAX];
};

/* Fills *ret from /proc/filesystems text; entries past PW_FSTYPES_MAX are dropped. */
void pw_filesystems_parse(const char *buf, size_t len, struct pw_fstype_set *ret);
bool pw_fstype_set_has(const struct pw_fstype_set *set, const char *fstype);

/*
 * The psutil.disk_partitions(all=False) filter plus the metrics specification's loop
 * rule: a device (not "none" or empty), a type in *set, no "loop" in the device.
 */
bool pw_mount_is_physical(const struct pw_mount_entry *e, const struct pw_fstype_set *set);

/*
 * psutil.disk_usage() from a statvfs result: total = f_blocks * f_frsize, free =
 * f_bavail * f_frsize (what a user may still write), used = (f_blocks - f_bfree) *
 * f_frsize, percent = used / (used + free) * 100 (0 when both are 0). Products
 * saturate instead of wrapping.
 */
void pw_usage_from_statvfs(const struct statvfs *st, struct pw_partition *p);

/*
 * The name of block device major:minor in /proc/partitions text ("vda1"), into dst:
 * what psutil puts in place of the "/dev/root" a kernel-mounted root shows. 0, -ENOENT,
 * or -ENAMETOOLONG.
 */
int pw_partitions_find(const char *buf, size_t len, uint32_t major, uint32_t minor, char *dst,
		       size_t dstlen);

/*
 * The list psutil.disk_partitions(all=False) gives, as the reference collector keys it:
 * physical mounts (pw_mount_is_physical) in mountinfo order, "/dev/root" resolved, and a
 * mount point mounted over replaced by the later mount (keeping the earlier's place).
 * State kept between calls, so nothing is allocated once warm.
 *
 * The kernel formats the whole mount table for every read of mountinfo, so the list is
 * kept and mountinfo is read again only when the table changed: on procfs the file stays
 * open and poll() on it reports POLLPRI|POLLERR once after each change of the mount
 * namespace (mount, unmount, remount, propagation; proc(5)). A file that cannot signal
 * that (a fixture tree, not procfs) is read again every time.
 */
struct pw_mounts {
	struct pw_buf file, aux;
	struct pw_fstype_set fstypes;
	struct pw_strindex index;  /* mount point -> position in parts */
	struct pw_file mountinfo;  /* kept open on procfs, polled for changes */
	struct pw_partition *parts; /* the list as last read; usage numbers 0 */
	uint32_t n_parts, cap_parts;
	bool have;                  /* parts holds the table as of the last poll */
	bool may_block;             /* a listed mount point is on or below a blocking type */
	bool remote_seen;           /* the table holds a pw_fstype_may_block() type */
	uint64_t n_reads;           /* times the table was read and parsed (tests) */
	int proc_fd, sys_fd;
};

/*
 * Fills d->partitions with device, fstype and mount point from <proc>/self/mountinfo,
 * filtered by <proc>/filesystems (and, for a "/dev/root", <proc>/partitions or
 * <sys>/dev/block/M:m/uevent), read again only when the mount table changed (above);
 * the usage numbers are left 0 for the caller's statvfs.
 * 0, or a negative errno with the reason in err.
 */
int pw_mounts_read(struct pw_mounts *m, int proc_fd, int sys_fd, struct pw_disk *d, char *err, size_t errlen);
void pw_mounts_free(struct pw_mounts *m); /* accepts a zeroed or freed one */

/* Network, cluster, FUSE and automount types ("nfs4", "fuse.sshfs", "autofs"). */
bool pw_fstype_may_block(const char *fstype);

/*
 * Whether a statvfs() of the listed mounts could wait on something outside this kernel:
 * true when one of them is of a pw_fstype_may_block() type (fuseblk) or lies on or below
 * a mount of such a type (its path walk goes through the NFS or autofs mount; a mount
 * over it may be one too), or when the table cannot be read. A table that changed since
 * it was read is read again here (procfs alone, which never waits on a filesystem), and
 * the pw_mounts_read() that follows hands out that list.
 */
bool pw_mounts_may_block(struct pw_mounts *m, int proc_fd, int sys_fd);

#endif
