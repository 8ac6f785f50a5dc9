/* SPDX-License-Identifier: MIT */
/* Mount lists (mountinfo, filesystems, partitions) and usage, against fixture trees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "collect/mountinfo.h"
#include "netdisk_fixture.h"

#define U64MAX 18446744073709551615ull

Test(mountinfo, decode)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
		size_t dstlen;
	} cases[] = {
		{ "/mnt/backup\\040disk", "/mnt/backup disk", 64 },
		{ "/a\\011b\\012c\\134d", "/a\tb\nc\\d", 64 },
		{ "/two\\\\one", "/two\\one", 64 },          /* glibc decodes a doubled backslash */
		{ "/oct\\101", "/oct\\101", 64 },            /* not an escape the kernel writes: kept */
		{ "/nul\\000", "/nul\\000", 64 },            /* kept, so never a NUL */
		{ "/cut\\04", "/cut\\04", 64 },
		{ "/end\\", "/end\\", 64 },
		{ "\\040\\040", "  ", 64 },
		{ "", "", 1 },
		{ "abc", "abc", 4 },
		{ "abcd", NULL, 4 },                         /* no room for the NUL */
		{ "ab\\040", "ab ", 4 },                     /* decoded fits */
		{ "x", NULL, 0 },
		{ "", NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dst[64];
		bool ok = pw_mount_decode(cases[i].in, strlen(cases[i].in), dst, cases[i].dstlen);

		cr_expect_eq(ok, cases[i].out != NULL, "case %zu (%s)", i, cases[i].in);
		if (ok && cases[i].out)
			cr_expect_str_eq(dst, cases[i].out, "case %zu", i);
	}
	/* a raw NUL byte */
	{
		char dst[8];

		cr_expect(!pw_mount_decode("a\0b", 3, dst, sizeof(dst)));
	}
}

Test(filesystems, physical_types)
{
	struct pw_fstype_set set;
	struct pw_buf b = { 0 };
	long n;

	n = fixture_tree_read("nvme-md-dm-server", "filesystems", &b);
	pw_filesystems_parse(b.data, (size_t)n, &set);
	cr_expect_eq(set.n, 9, "ext3 ext2 ext4 squashfs vfat fuseblk btrfs xfs zfs, got %u", set.n);
	cr_expect(pw_fstype_set_has(&set, "ext4") && pw_fstype_set_has(&set, "xfs") && pw_fstype_set_has(&set, "btrfs"));
	cr_expect(pw_fstype_set_has(&set, "zfs"), "psutil keeps zfs though it says nodev");
	cr_expect(!pw_fstype_set_has(&set, "tmpfs") && !pw_fstype_set_has(&set, "nfs4") && !pw_fstype_set_has(&set, "overlay"));
	cr_expect(!pw_fstype_set_has(&set, "nodev"));

	n = fixture_tree_read("nasty-garbage", "filesystems", &b);
	pw_filesystems_parse(b.data, (size_t)n, &set);
	cr_expect_eq(set.n, 2);
	cr_expect(pw_fstype_set_has(&set, "ext4") && pw_fstype_set_has(&set, "zfs"));

	n = fixture_tree_read("nasty-empty", "filesystems", &b);
	pw_filesystems_parse(b.data, (size_t)n, &set);
	cr_expect_eq(set.n, 0);
	pw_buf_free(&b);
}

Test(filesystems, bounded)
{
	struct pw_buf b = { 0 };
	struct pw_fstype_set set;

	for (int i = 0; i < PW_FSTYPES_MAX + 50; i++)
		pw_buf_printf(&b, "\tfs%d\n", i);
	pw_filesystems_parse(b.data, b.len, &set);
	cr_expect_eq(set.n, PW_FSTYPES_MAX);
	pw_buf_free(&b);
}

static int count_cb(void *ctx, const struct pw_mount_entry *e)
{
	struct pw_mount_entry *last = ctx;

	*last = *e;
	last->major++; /* the number of calls, in a spare field: major of the first is not needed */
	return 0;
}

Test(mountinfo, parse_counts)
{
	static const struct {
		const char *machine;
		int count;
	} cases[] = {
		{ "debian12-vm", 20 },
		{ "nvme-md-dm-server", 29 },
		{ "kernel-3.10-14-fields", 6 },
		{ "nasty-empty", 0 },
		{ "nasty-garbage", 4 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_buf b = { 0 };
		long n = fixture_tree_read(cases[i].machine, "self/mountinfo", &b);
		struct pw_mount_entry last = { 0 };

		cr_expect_eq(pw_mountinfo_parse(b.data, (size_t)n, count_cb, &last), cases[i].count, "%s", cases[i].machine);
		pw_buf_free(&b);
	}
}

Test(mountinfo, fields)
{
	static const char line[] = "128 106 9:3 /sub /srv/my\\040data rw,noatime shared:59 master:3 - xfs /dev/md0 rw\n";
	struct pw_mount_entry e = { 0 };

	cr_assert_eq(pw_mountinfo_parse(line, sizeof(line) - 1, count_cb, &e), 1);
	cr_expect_eq(e.major, 9 + 1);
	cr_expect_eq(e.minor, 3);
	cr_expect_str_eq(e.mountpoint, "/srv/my data");
	cr_expect_str_eq(e.fstype, "xfs");
	cr_expect_str_eq(e.device, "/dev/md0");
}

/* ---------------------------------------------------------------- the list psutil gives */

struct expect_part {
	const char *device, *mountpoint, *fstype;
};

static void check_list(const char *machine, const struct expect_part *want, uint32_t n)
{
	struct pw_mounts m = { 0 };
	struct pw_disk d = { 0 };
	char err[256] = "", sys[256];
	int fd = fixture_tree_fd(machine), sys_fd;

	snprintf(sys, sizeof(sys), "tests/fixtures/sys/%s", machine);
	sys_fd = open(sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* may be missing: -1 reads as no file */
	cr_assert_eq(pw_mounts_read(&m, fd, sys_fd, &d, err, sizeof(err)), 0, "%s: %s", machine, err);
	cr_expect_eq(d.n_partitions, n, "%s: %u partitions, want %u", machine, d.n_partitions, n);
	for (uint32_t i = 0; i < n && i < d.n_partitions; i++) {
		cr_expect_str_eq(d.partitions[i].device, want[i].device, "%s #%u", machine, i);
		cr_expect_str_eq(d.partitions[i].mountpoint, want[i].mountpoint, "%s #%u", machine, i);
		cr_expect_str_eq(d.partitions[i].fstype, want[i].fstype, "%s #%u", machine, i);
	}
	pw_mounts_free(&m);
	free(d.partitions);
	close(fd);
	if (sys_fd >= 0)
		close(sys_fd);
}

Test(mounts, server_like_psutil)
{
	/* psutil.disk_partitions(all=False) with PROCFS_PATH on the fixture, minus the
	 * reference collector's 'loop' in device, keyed by mount point (the last mount wins) */
	static const struct expect_part want[] = {
		{ "/dev/mapper/vg0-root", "/", "ext4" },
		{ "/dev/nvme0n1p1", "/boot", "ext4" },
		{ "/dev/nvme0n1p2", "/boot/efi", "vfat" },
		{ "/dev/mapper/vg0-over", "/srv/data", "ext4" }, /* mounted over md0 later */
		{ "/dev/mapper/vg0-pg", "/var/lib/postgresql", "xfs" },
		{ "/dev/nvme1n1p1", "/mnt/backup disk", "ext4" },
		{ "/dev/sda1", "/mnt/tab\tand\nnewline", "btrfs" },
		{ "/dev/sda1", "/home", "btrfs" },
		{ "/dev/sdb1", "/media/usb\\stick \xc3\xa9t\xc3\xa9", "fuseblk" },
		{ "tank/data", "/tank/data", "zfs" },
		{ "/dev/md0", "/srv/data/sub", "xfs" },
		{ "/dev/dm-2", "/dev/root-ish", "ext4" },
		{ "/dev/nvme0n1p3", "/mnt/root", "ext4" }, /* "/dev/root", found in /proc/partitions */
		{ "/dev/sdc1", "/mnt/root2", "ext4" },     /* "/dev/root", found in /sys/dev/block */
	};
	check_list("nvme-md-dm-server", want, sizeof(want) / sizeof(want[0]));
}

Test(mounts, other_trees)
{
	static const struct expect_part vm[] = { { "/dev/vda", "/", "ext4" } };
	static const struct expect_part old[] = {
		{ "/dev/mapper/centos-root", "/", "xfs" },
		{ "/dev/sda1", "/boot", "xfs" },
		{ "/dev/sr0", "/media/CentOS 7 x86_64", "iso9660" },
	};
	static const struct expect_part nasty[] = {
		{ "/dev/sda1", "/nul\\000byte", "ext4" },
		{ "/dev/sda2", "/back\\slash", "ext4" },
		{ "/dev/sda3", "/oct\\101", "ext4" },
		{ "/dev/sda4", "/trail\\04", "ext4" },
	};
	check_list("debian12-vm", vm, 1);
	check_list("kernel-3.10-14-fields", old, 3);
	check_list("nasty-garbage", nasty, 4);
	check_list("nasty-empty", NULL, 0);
}

Test(mounts, missing_files)
{
	struct pw_mounts m = { 0 };
	struct pw_disk d = { 0 };
	char err[256] = "";
	int fd = fixture_tree_fd("odd-ifnames");

	cr_expect_eq(pw_mounts_read(&m, fd, fd, &d, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "filesystems"), "%s", err);
	pw_mounts_free(&m);
	pw_mounts_free(NULL);
	close(fd);
}

/*
 * A proc root of our own under dir (a mkdtemp template): dir/filesystems holding
 * `filesystems`, and dir/self/mountinfo opened for the caller to write.
 */
static FILE *make_proc_tree(char *dir, const char *filesystems)
{
	char path[256];
	FILE *f;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/self", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/filesystems", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs(filesystems, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/self/mountinfo", dir);
	f = fopen(path, "w");
	cr_assert(f);
	return f;
}

/* Frees what a test over a make_proc_tree() tree holds, and removes the tree. */
static void drop_tree(struct pw_mounts *m, struct pw_disk *d, int fd, const char *dir)
{
	char cmd[256];

	pw_mounts_free(m);
	free(d->partitions);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

/* Thousands of mounts, a third of them on a mount point seen before. */
Test(mounts, many_and_stacked)
{
	char dir[] = "/tmp/pw-mounts-XXXXXX";
	struct pw_mounts m = { 0 };
	struct pw_disk d = { 0 };
	char err[256] = "";
	FILE *f;
	int fd;

	f = make_proc_tree(dir, "nodev\ttmpfs\n\text4\n");
	for (int i = 0; i < 6000; i++)
		fprintf(f, "%d 1 8:%d / /m/%d rw - %s /dev/sd%d rw\n", i + 10, i, i % 4000, i % 7 ? "ext4" : "tmpfs", i);
	fclose(f);

	fd = open(dir, O_RDONLY | O_DIRECTORY);
	for (int round = 0; round < 2; round++) { /* the second one reuses the index */
		cr_assert_eq(pw_mounts_read(&m, fd, fd, &d, err, sizeof(err)), 0, "%s", err);
		/* mount points /m/0../m/3999 with at least one ext4 mount (i % 7 != 0) */
		uint32_t want = 0;

		for (int k = 0; k < 4000; k++)
			want += k % 7 || (k < 2000 && (k + 4000) % 7);
		cr_expect_eq(d.n_partitions, want, "got %u, want %u", d.n_partitions, want);
	}
	/* /m/0: tmpfs (i=0) left out, then ext4 at i=4000 was not (4000 % 7 = 3): the later one */
	for (uint32_t i = 0; i < d.n_partitions; i++) {
		if (!strcmp(d.partitions[i].mountpoint, "/m/0"))
			cr_expect_str_eq(d.partitions[i].device, "/dev/sd4000");
		if (!strcmp(d.partitions[i].mountpoint, "/m/1"))
			cr_expect_str_eq(d.partitions[i].device, "/dev/sd4001");
		if (!strcmp(d.partitions[i].mountpoint, "/m/3999"))
			cr_expect_str_eq(d.partitions[i].device, "/dev/sd3999");
	}
	drop_tree(&m, &d, fd, dir);
}

Test(mounts, blocking_types)
{
	static const char *const blocking[] = { "nfs", "nfs4", "cifs", "smb3", "ceph", "9p", "fuse", "fuseblk",
						"fuse.sshfs", "fuse.rclone", "virtiofs", "autofs", "gfs2", "ocfs2",
						"glusterfs", "lustre" };
	static const char *const local[] = { "ext4", "xfs", "btrfs", "vfat", "tmpfs", "proc", "sysfs", "overlay",
					     "zfs", "cgroup2", "fusectl", "nfsd", "rpc_pipefs", "", "fuse_" };

	for (size_t i = 0; i < sizeof(blocking) / sizeof(blocking[0]); i++)
		cr_expect(pw_fstype_may_block(blocking[i]), "%s", blocking[i]);
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		cr_expect_not(pw_fstype_may_block(local[i]), "%s", local[i]);
}

/*
 * Which tables make a statvfs() of the listed mounts able to wait on something outside
 * the kernel: a listed fuseblk, or a listed mount point on or below a network, FUSE or
 * autofs mount; not such a mount elsewhere (systemd's binfmt_misc automount, an NFS
 * share next to the disks).
 */
Test(mounts, may_block_only_where_a_listed_mount_is_reached_through_one)
{
	static const struct {
		const char *table;
		bool may_block;
	} cases[] = {
		{ "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n", false },
		{ "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		  "30 20 0:40 / /proc/sys/fs/binfmt_misc rw - autofs systemd-1 rw,fd=31\n"
		  "31 20 0:41 / /mnt/share rw - nfs4 srv:/export rw\n"
		  "32 20 0:42 / /home/u/remote rw - fuse.sshfs u@h: rw\n", false },
		{ "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		  "31 20 0:41 / /mnt/share rw - nfs4 srv:/export rw\n"
		  "33 31 8:17 / /mnt/share/disk rw - ext4 /dev/sdb1 rw\n", true },
		{ "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		  "31 20 0:41 / /mnt/sharex rw - nfs4 srv:/export rw\n"
		  "33 20 8:17 / /mnt/share rw - ext4 /dev/sdb1 rw\n", false },
		{ "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		  "34 20 8:33 / /media/usb rw - fuseblk /dev/sdc1 rw\n", true },
		{ "20 1 0:41 / / rw - nfs4 srv:/root rw\n"
		  "33 20 8:17 / /data rw - ext4 /dev/sdb1 rw\n", true },
		{ "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		  "33 20 8:17 / /data rw - ext4 /dev/sdb1 rw\n"
		  "35 33 0:43 / /data rw - autofs systemd-1 rw\n", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dir[] = "/tmp/pw-mounts-XXXXXX";
		struct pw_mounts m = { 0 };
		struct pw_disk d = { 0 };
		char err[256] = "";
		FILE *f;
		int fd;

		f = make_proc_tree(dir, "\text4\n\tfuseblk\nnodev\tnfs4\nnodev\tautofs\nnodev\tfuse\n");
		fputs(cases[i].table, f);
		fclose(f);
		fd = open(dir, O_RDONLY | O_DIRECTORY);
		cr_assert_eq(pw_mounts_read(&m, fd, fd, &d, err, sizeof(err)), 0, "%s", err);
		cr_expect_eq(m.may_block, cases[i].may_block, "case %zu", i);
		/* a fixture cannot say it did not change: the question reads it again, same answer */
		cr_expect_eq(pw_mounts_may_block(&m, fd, fd), cases[i].may_block, "case %zu", i);
		cr_expect_eq(m.n_reads, 2, "case %zu", i);
		drop_tree(&m, &d, fd, dir);
	}
}

Test(partitions, find)
{
	struct pw_buf b = { 0 };
	long n = fixture_tree_read("nvme-md-dm-server", "partitions", &b);
	char name[16];

	cr_expect_eq(pw_partitions_find(b.data, (size_t)n, 259, 3, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "nvme0n1p3");
	cr_expect_eq(pw_partitions_find(b.data, (size_t)n, 9, 127, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "md127");
	cr_expect_eq(pw_partitions_find(b.data, (size_t)n, 259, 99, name, sizeof(name)), -ENOENT);
	cr_expect_eq(pw_partitions_find(b.data, (size_t)n, 259, 3, name, 4), -ENAMETOOLONG);
	cr_expect_eq(pw_partitions_find("", 0, 1, 1, name, sizeof(name)), -ENOENT);
	pw_buf_free(&b);
}

/* ---------------------------------------------------------------- usage */

Test(usage, psutil_formula)
{
	static const struct {
		unsigned long frsize;
		unsigned long long blocks, bfree, bavail;
		uint64_t total, used, free;
		double percent;
	} cases[] = {
		/* 4 KiB blocks, 5% reserved: used / (used + free-for-users) */
		{ 4096, 1000, 300, 250, 4096000, 2867200, 1024000, 2867200.0 / (2867200 + 1024000) * 100 },
		{ 4096, 0, 0, 0, 0, 0, 0, 0.0 },                                 /* psutil: 0 on zero division */
		{ 4096, 100, 100, 100, 409600, 0, 409600, 0.0 },
		{ 1024, 100, 0, 0, 102400, 102400, 0, 100.0 },
		{ 4096, 10, 20, 20, 40960, 0, 81920, 0.0 },                      /* bfree > blocks: garbage, no wrap */
		{ 65536, U64MAX / 2, 0, 0, U64MAX, U64MAX, 0, 100.0 },           /* products saturate */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct statvfs st = { 0 };
		struct pw_partition p = { 0 };

		st.f_frsize = cases[i].frsize;
		st.f_blocks = (fsblkcnt_t)cases[i].blocks;
		st.f_bfree = (fsblkcnt_t)cases[i].bfree;
		st.f_bavail = (fsblkcnt_t)cases[i].bavail;
		pw_usage_from_statvfs(&st, &p);
		cr_expect_eq(p.total_bytes, cases[i].total, "case %zu total", i);
		cr_expect_eq(p.used_bytes, cases[i].used, "case %zu used", i);
		cr_expect_eq(p.free_bytes, cases[i].free, "case %zu free", i);
		cr_expect_float_eq(p.usage_percent, cases[i].percent, 1e-9, "case %zu percent %f", i, p.usage_percent);
	}
}

Test(usage, real_root)
{
	struct statvfs st;
	struct pw_partition p = { 0 };

	cr_assert_eq(statvfs("/", &st), 0);
	pw_usage_from_statvfs(&st, &p);
	cr_expect_eq(p.total_bytes, (uint64_t)st.f_blocks * st.f_frsize);
	cr_expect_leq(p.used_bytes + p.free_bytes, p.total_bytes);
	cr_expect(p.usage_percent >= 0 && p.usage_percent <= 100);
}

/* ---------------------------------------------------------------- mount-table changes */

static bool has_mountpoint(const struct pw_disk *d, const char *path)
{
	for (uint32_t i = 0; i < d->n_partitions; i++)
		if (!strcmp(d->partitions[i].mountpoint, path))
			return true;
	return false;
}

/*
 * The real /proc in a mount namespace of the test's own: the list is read once, not again
 * while nothing changes, and a bind mount of a physical filesystem (one mount of the same
 * device and type, so it counts as a partition) shows up in the next read and is gone
 * after the unmount.
 */
Test(mounts, follows_mount_table_changes)
{
	char dir[] = "/tmp/pw-mnt-XXXXXX", err[256] = "", src[PW_PATH_MAX];
	struct pw_mounts m = { 0 };
	struct pw_disk d = { 0 };
	uint64_t reads;
	bool blocked;
	int proc;

	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "skipped: no mount namespace of our own (%s)\n", strerror(errno));
		cr_skip_test("unshare(CLONE_NEWNS): %s", strerror(errno));
	}
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	cr_assert(mkdtemp(dir));
	proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(proc, 0);

	cr_assert_eq(pw_mounts_read(&m, proc, proc, &d, err, sizeof(err)), 0, "%s", err);
	if (!d.n_partitions) {
		fprintf(stderr, "skipped: no physical filesystem mounted here to bind\n");
		cr_skip_test("no physical filesystem");
	}
	snprintf(src, sizeof(src), "%s", d.partitions[0].mountpoint);
	cr_expect(!has_mountpoint(&d, dir));
	reads = m.n_reads;
	cr_expect_eq(reads, 1);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(pw_mounts_read(&m, proc, proc, &d, err, sizeof(err)), 0, "%s", err);
		cr_expect_eq(m.n_reads, reads, "read again although no mount changed");
		cr_expect(d.n_partitions && !strcmp(d.partitions[0].mountpoint, src), "the kept list is handed out");
	}

	blocked = m.may_block;
	cr_expect_eq(pw_mounts_may_block(&m, proc, proc), blocked, "no change: the answer of the last read");
	cr_expect_eq(m.n_reads, reads);
	cr_assert_eq(mount(src, dir, NULL, MS_BIND, NULL), 0, "bind %s: %s", src, strerror(errno));
	/* the question reads the changed table (procfs alone); the read that follows hands it out */
	cr_expect_eq(pw_mounts_may_block(&m, proc, proc), blocked, "a bind of a local disk, answered from the new table");
	cr_expect_eq(m.n_reads, reads + 1, "read by the question");
	cr_assert_eq(pw_mounts_read(&m, proc, proc, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(m.n_reads, reads + 1, "not read again by the collection");
	cr_expect(has_mountpoint(&d, dir), "%s, bound on %s, not in the next read", src, dir);
	cr_assert_eq(pw_mounts_read(&m, proc, proc, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(m.n_reads, reads + 1, "one change, one read");
	cr_expect(has_mountpoint(&d, dir));

	cr_assert_eq(umount(dir), 0, "%s", strerror(errno));
	cr_assert_eq(pw_mounts_read(&m, proc, proc, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(m.n_reads, reads + 2);
	cr_expect(!has_mountpoint(&d, dir), "%s still listed after its unmount", dir);

	pw_mounts_free(&m);
	free(d.partitions);
	close(proc);
	rmdir(dir);
}

/* A fixture tree cannot signal changes: its mountinfo is read, and followed, every time. */
Test(mounts, fixture_read_every_time)
{
	char dir[] = "/tmp/pw-mounts-XXXXXX", path[256];
	struct pw_mounts m = { 0 };
	struct pw_disk d = { 0 };
	char err[256] = "";
	FILE *f;
	int fd;

	f = make_proc_tree(dir, "\text4\n");
	fputs("20 1 8:1 / / rw - ext4 /dev/sda1 rw\n", f);
	fclose(f);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(pw_mounts_read(&m, fd, fd, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(d.n_partitions, 1);
	snprintf(path, sizeof(path), "%s/self/mountinfo", dir);
	f = fopen(path, "a");
	fputs("21 20 8:2 / /data rw - ext4 /dev/sda2 rw\n", f);
	fclose(f);
	cr_assert_eq(pw_mounts_read(&m, fd, fd, &d, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(d.n_partitions, 2);
	cr_expect_eq(m.n_reads, 2);
	cr_expect(has_mountpoint(&d, "/data"));
	drop_tree(&m, &d, fd, dir);
}
