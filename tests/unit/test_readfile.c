/* SPDX-License-Identifier: MIT */
/* pw_file: procfs files kept open and re-read with pread; anything else opened afresh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fieldscan.h"
#include "util/readfile.h"

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	return fd;
}

Test(pw_file, procfs_kept_and_regenerated)
{
	struct pw_file f = { 0 };
	struct pw_buf b = { 0 }, ref = { 0 };
	int proc = open_dir("/proc");
	long n;

	/* the same text as a fresh open, every time, from one fd */
	for (int i = 0; i < 3; i++) {
		n = pw_file_read(&f, proc, "filesystems", &b, 0);
		cr_assert_gt(n, 0, "%s", strerror((int)-n));
		cr_assert_geq(pw_file_fd(&f), 0, "a procfs file is kept open");
		cr_assert_eq(pw_read_file_at(proc, "filesystems", &ref, 0), n);
		cr_expect_eq(memcmp(b.data, ref.data, (size_t)n), 0);
		cr_expect_eq(b.data[n], '\0');
	}
	pw_file_close(&f);

	/* the kernel formats a kept file afresh on every read: /proc/uptime moves on */
	n = pw_file_read(&f, proc, "uptime", &b, 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(pw_buf_reserve(&ref, (size_t)n), 0);
	memcpy(ref.data, b.data, (size_t)n + 1);
	usleep(30 * 1000);
	cr_assert_gt(pw_file_read(&f, proc, "uptime", &b, 0), 0);
	cr_expect_str_neq(b.data, ref.data, "a kept /proc/uptime read twice 30 ms apart");
	pw_file_close(&f);

	/* bigger than max: -E2BIG and an empty buffer, kept or not; a larger max then reads it */
	n = pw_file_read(&f, proc, "self/mountinfo", &b, 16);
	cr_expect_eq(n, -E2BIG);
	cr_expect_eq(b.len, 0);
	n = pw_file_read(&f, proc, "self/mountinfo", &b, 0);
	cr_expect_gt(n, 16);
	cr_expect(strstr(b.data, " - "), "%s", b.data);
	pw_file_close(&f);
	pw_file_close(&f); /* twice: harmless */
	pw_buf_free(&b);
	pw_buf_free(&ref);
	close(proc);
}

/*
 * A kept procfs file stops reading at a short read instead of asking again for the EOF;
 * a file of many pages (seq_file hands one page per read) must still come whole.
 */
Test(pw_file, procfs_of_many_pages_comes_whole)
{
	struct pw_file f = { 0 };
	struct pw_buf b = { 0 }, ref = { 0 };
	int proc = open_dir("/proc");
	long n, m;

	/* no allocation between the two reads: the mappings they list stay the same */
	cr_assert_eq(pw_buf_reserve(&b, 1 << 20), 0);
	cr_assert_eq(pw_buf_reserve(&ref, 1 << 20), 0);
	for (int i = 0; i < 2; i++) {
		n = pw_file_read(&f, proc, "self/maps", &b, 0);
		m = pw_read_file_at(proc, "self/maps", &ref, 0);
		cr_assert_gt(n, 4096, "a /proc/self/maps of %ld bytes is not many pages", n);
		cr_assert_geq(pw_file_fd(&f), 0);
		cr_expect_eq(n, m);
		cr_expect_eq(memcmp(b.data, ref.data, (size_t)(n < m ? n : m)), 0);
	}
	pw_file_close(&f);
	pw_buf_free(&b);
	pw_buf_free(&ref);
	close(proc);
}

/* vmstat read with the bound on its lines the memory collector gives: whole, every time. */
Test(pw_file, short_lines_bound_still_reads_whole_files)
{
	struct pw_file f = { .record_max = 128 };
	struct pw_buf b = { 0 }, ref = { 0 };
	int proc = open_dir("/proc");
	long n, m;

	for (int i = 0; i < 3; i++) {
		n = pw_file_read(&f, proc, "vmstat", &b, 0);
		m = pw_read_file_at(proc, "vmstat", &ref, 0);
		cr_assert_gt(n, 0);
		cr_assert_geq(pw_file_fd(&f), 0);
		/* counters move between the two reads: the same lines, the same names */
		cr_expect_eq(pw_count_lines(b.data, b.data + n), pw_count_lines(ref.data, ref.data + m));
		cr_expect(!strncmp(b.data, "nr_free_pages ", 14), "%.80s", b.data);
		for (const char *p = b.data; p < b.data + n;) {
			const char *nl = memchr(p, '\n', (size_t)(b.data + n - p));

			cr_assert_not_null(nl, "a last line cut short");
			cr_assert_lt(nl - p, 128, "a vmstat line of %td bytes: the bound is wrong", nl - p);
			p = nl + 1;
		}
	}
	pw_file_close(&f);
	pw_buf_free(&b);
	pw_buf_free(&ref);
	close(proc);
}

Test(pw_file, regular_files_are_opened_every_time)
{
	char dir[] = "/tmp/pw-file-XXXXXX", path[256], tmp[256];
	struct pw_file f = { 0 };
	struct pw_buf b = { 0 };
	FILE *fp;
	int fd;

	cr_assert(mkdtemp(dir));
	fd = open_dir(dir);
	/* not there: -ENOENT, and found once it appears */
	cr_expect_eq(pw_file_read(&f, fd, "stat", &b, 0), -ENOENT);
	snprintf(path, sizeof(path), "%s/stat", dir);
	fp = fopen(path, "w");
	fputs("cpu 1 2 3\n", fp);
	fclose(fp);
	cr_expect_eq(pw_file_read(&f, fd, "stat", &b, 0), 10);
	cr_expect_str_eq(b.data, "cpu 1 2 3\n");
	cr_expect_eq(pw_file_fd(&f), -1, "a fixture file is not kept");

	/* replaced by rename, as a test rewriting its fixture does: the new text is read */
	snprintf(tmp, sizeof(tmp), "%s/stat.new", dir);
	fp = fopen(tmp, "w");
	fputs("cpu 4 5 6 7\n", fp);
	fclose(fp);
	cr_assert_eq(rename(tmp, path), 0);
	cr_expect_eq(pw_file_read(&f, fd, "stat", &b, 0), 12);
	cr_expect_str_eq(b.data, "cpu 4 5 6 7\n");
	cr_expect_eq(pw_file_read(&f, fd, "stat", &b, 4), -E2BIG);
	cr_expect_eq(b.len, 0);
	pw_file_close(&f);
	pw_buf_free(&b);
	close(fd);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_expect_eq(system(path), 0);
}
