/* SPDX-License-Identifier: MIT */
#include "history/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char magic[8] = { 'P', 'W', 'j', 'r', 'n', 'l', '1', '\n' };

/* The mapped window's size: bounds what the journal adds to the RSS (file pages mapped). */
#define WINDOW (16u << 10)

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t crc(const uint8_t *p, size_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);

	while (n > 0) { /* zlib takes a uInt length */
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;

		c = crc32(c, p, k);
		p += k;
		n -= k;
	}
	return (uint32_t)c;
}

static void header(uint8_t h[PWH_JOURNAL_HEADER], uint64_t id, uint64_t gen)
{
	memcpy(h, magic, sizeof(magic));
	put64(h + 8, id);
	put64(h + 16, gen);
	put32(h + 24, crc(h, 24));
	put32(h + 28, 0);
}

long pwh_journal_parse(const uint8_t *p, size_t n, uint64_t *id, uint64_t *gen, pwh_journal_row_fn fn, void *ctx)
{
	size_t off = PWH_JOURNAL_HEADER;

	if (n < PWH_JOURNAL_HEADER || memcmp(p, magic, sizeof(magic)) || get32(p + 24) != crc(p, 24))
		return -EINVAL;
	*id = get64(p + 8);
	*gen = get64(p + 16);
	while (n - off >= PWH_JOURNAL_RECORD) {
		const uint8_t *r = p + off;
		uint32_t len = get32(r);

		if (len > PWH_JOURNAL_ROW_MAX || len > n - off - PWH_JOURNAL_RECORD ||
		    get32(r + 4) != crc(r + 8, PWH_JOURNAL_RECORD - 8 + (size_t)len) || get64(r + 8) != *gen)
			break; /* torn, damaged, or left from a sealed generation: the end */
		off += PWH_JOURNAL_RECORD + len;
		if (fn && fn(ctx, (int64_t)get64(r + 16), get32(r + 24), r + PWH_JOURNAL_RECORD, len))
			break;
	}
	return (long)off;
}

int pwh_journal_init(struct pwh_journal *j, const char *db_path)
{
	size_t n = strlen(db_path);

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->path = malloc(n + sizeof(PWH_JOURNAL_SUFFIX));
	if (!j->path)
		return -ENOMEM;
	memcpy(j->path, db_path, n);
	memcpy(j->path + n, PWH_JOURNAL_SUFFIX, sizeof(PWH_JOURNAL_SUFFIX));
	pthread_mutex_init(&j->lock, NULL);
	return 0;
}

void pwh_journal_fini(struct pwh_journal *j)
{
	pwh_journal_close(j);
	pw_buf_free(&j->rec);
	if (j->path)
		pthread_mutex_destroy(&j->lock);
	free(j->path);
	j->path = NULL;
}

void pwh_journal_image_free(struct pwh_journal_image *img)
{
	if (img->data)
		munmap(img->data, img->size);
	memset(img, 0, sizeof(*img));
}

/*
 * The file from fd into out, at most limit bytes (the records, not the zeros allocated
 * after them); its size cannot change: the caller holds the lock.
 */
static int image_read(int fd, struct pwh_journal_image *out, uint64_t limit)
{
	struct stat sb;
	size_t size;
	void *p;

	pwh_journal_image_free(out);
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (sb.st_size <= 0)
		return 0;
	size = (uint64_t)sb.st_size < limit ? (size_t)sb.st_size : (size_t)limit;
	if (!size)
		return 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	out->data = p;
	out->size = size;
	while (out->len < out->size) {
		ssize_t r = pread(fd, out->data + out->len, out->size - out->len, (off_t)out->len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			pwh_journal_image_free(out);
			return e;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
	}
	return 0;
}

/* Mode of the database file, so the journal is no more readable than the data it holds. */
static mode_t db_mode(const char *jpath)
{
	size_t n = strlen(jpath) - strlen(PWH_JOURNAL_SUFFIX);
	char *db = strndup(jpath, n);
	struct stat sb;
	mode_t m = 0644;

	if (db && stat(db, &sb) == 0)
		m = sb.st_mode & 0666;
	free(db);
	return m;
}

int pwh_journal_open(struct pwh_journal *j, uint64_t id, uint64_t sealed, struct pwh_journal_image *image,
		     int *keep)
{
	uint64_t fid = 0, fgen = 0;
	long valid;
	int err;

	*keep = 0;
	pwh_journal_close(j);
	j->no_window = false;
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, db_mode(j->path));
	if (j->fd < 0)
		return -errno;
	if (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	err = image_read(j->fd, image, UINT64_MAX);
	if (err < 0)
		goto fail;
	valid = pwh_journal_parse(image->data, image->len, &fid, &fgen, NULL, NULL);
	j->id = id;
	if (valid >= 0 && fid == id && fgen > sealed) {
		*keep = 1;
		j->gen = fgen;
		j->len = j->alloc = (uint64_t)valid;
		if ((size_t)valid < image->len && ftruncate(j->fd, (off_t)valid) < 0) {
			err = -errno;
			goto fail;
		}
		return 0;
	}
	err = pwh_journal_reset(j, sealed + 1);
	if (err < 0)
		goto fail;
	return 0;
fail:
	pwh_journal_close(j);
	return err;
}

static void unmap_window(struct pwh_journal *j)
{
	if (j->win)
		munmap(j->win, j->win_len);
	j->win = NULL;
	j->win_off = j->win_len = 0;
}

void pwh_journal_close(struct pwh_journal *j)
{
	unmap_window(j);
	if (j->fd >= 0) {
		/* the zeros allocated ahead go: the file ends with its last record */
		if (j->alloc > j->len && ftruncate(j->fd, (off_t)j->len) < 0) {
			/* left as it is: a reader stops at the zeros all the same */
		}
		close(j->fd); /* and the flock with it */
	}
	j->fd = -1;
	j->alloc = 0;
}

/*
 * Makes [j->len, j->len + need) writable in the mapped window: moves the window on, and
 * allocates the file's blocks ahead first. -errno when it cannot (no fallocate() on this
 * filesystem, disk full, no mapping): the caller writes with pwrite() instead. Lock held.
 */
static int window_for(struct pwh_journal *j, size_t need)
{
	uint64_t end = j->len + need, off = j->len & ~(uint64_t)(WINDOW - 1), len;
	void *p;

	if (j->win && j->len >= j->win_off && end <= j->win_off + j->win_len)
		return 0;
	unmap_window(j);
	if (j->no_window)
		return -EOPNOTSUPP;
	len = (end - off + WINDOW - 1) / WINDOW * WINDOW;
	if (off + len > j->alloc) {
		if (fallocate(j->fd, 0, (off_t)j->alloc, (off_t)(off + len - j->alloc)) < 0) {
			/* a filesystem without it is asked no more; a full disk is, at each record */
			j->no_window = errno == EOPNOTSUPP;
			return -errno;
		}
		j->alloc = off + len;
	}
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, (off_t)off);
	if (p == MAP_FAILED) {
		j->no_window = errno == ENODEV; /* a file that cannot be mapped */
		return -errno;
	}
	j->win = p;
	j->win_off = off;
	j->win_len = (size_t)len;
	return 0;
}

/* A record at r: the header's fields and the row, then the CRC over them. */
static void record(uint8_t *r, uint64_t gen, int64_t t_ms, uint32_t interval_ms, const void *row, size_t len)
{
	put32(r, (uint32_t)len);
	put64(r + 8, gen);
	put64(r + 16, (uint64_t)t_ms);
	put32(r + 24, interval_ms);
	memcpy(r + PWH_JOURNAL_RECORD, row, len);
	put32(r + 4, crc(r + 8, PWH_JOURNAL_RECORD - 8 + len));
}

static int write_all(int fd, const void *p, size_t n, uint64_t off)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int pwh_journal_append(struct pwh_journal *j, int64_t t_ms, uint32_t interval_ms, const void *row, size_t len)
{
	uint8_t *r;
	int err;

	if (j->fd < 0)
		return -EBADF;
	if (len > PWH_JOURNAL_ROW_MAX)
		return -EFBIG;
	pthread_mutex_lock(&j->lock);
	if (window_for(j, PWH_JOURNAL_RECORD + len) == 0) {
		/* straight into the page cache; a process killed halfway leaves a torn record */
		record(j->win + (j->len - j->win_off), j->gen, t_ms, interval_ms, row, len);
		j->len += PWH_JOURNAL_RECORD + len;
		pthread_mutex_unlock(&j->lock);
		return 0;
	}
	pw_buf_clear(&j->rec);
	if (pw_buf_reserve(&j->rec, PWH_JOURNAL_RECORD + len) < 0) {
		pthread_mutex_unlock(&j->lock);
		return -ENOMEM;
	}
	r = (uint8_t *)j->rec.data;
	record(r, j->gen, t_ms, interval_ms, row, len);
	err = write_all(j->fd, r, PWH_JOURNAL_RECORD + len, j->len);
	if (err == 0)
		j->len += PWH_JOURNAL_RECORD + len;
	else if (ftruncate(j->fd, (off_t)j->len) < 0) {
		/* left as it is: the next record is written over it, and a reader stops there */
	}
	if (j->alloc < j->len || err)
		j->alloc = j->len; /* past what was allocated, or cut back to the records */
	pthread_mutex_unlock(&j->lock);
	return err;
}

int pwh_journal_reset(struct pwh_journal *j, uint64_t gen)
{
	uint8_t h[PWH_JOURNAL_HEADER];
	int err = 0;

	if (j->fd < 0)
		return -EBADF;
	header(h, j->id, gen);
	pthread_mutex_lock(&j->lock);
	unmap_window(j); /* a mapping past the end of the file would fault */
	/* emptied first: a crash before the header is written leaves nothing to keep */
	if (ftruncate(j->fd, 0) < 0)
		err = -errno;
	j->alloc = 0;
	if (!err)
		err = write_all(j->fd, h, sizeof(h), 0);
	if (!err) {
		j->gen = gen;
		j->len = j->alloc = sizeof(h);
	}
	pthread_mutex_unlock(&j->lock);
	return err;
}

int pwh_journal_read(struct pwh_journal *j, struct pwh_journal_image *out)
{
	int fd, err;

	pwh_journal_image_free(out);
	pthread_mutex_lock(&j->lock);
	fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = errno == ENOENT ? 0 : -errno;
	} else {
		/* while the writer holds it open, only its records: not the zeros after them */
		err = image_read(fd, out, j->fd >= 0 ? j->len : UINT64_MAX);
		close(fd);
	}
	pthread_mutex_unlock(&j->lock);
	return err;
}
