/* SPDX-License-Identifier: MIT */
/*
 * The journal file of the open hour: its parser on whole, torn and damaged images, and the
 * store across the crashes it must survive (between a seal's commit and the emptying, a
 * torn last record, a journal that belongs to another database, pending rows of a version
 * before the journal file).
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "history/store.h"
#include "test_history_util.h"

TestSuite(history_journal, .init = th_setup, .fini = th_teardown);

static char qs[1024];

struct rows_seen {
	int n;
	int64_t t[16];
	uint32_t iv[16];
	size_t len[16];
	uint8_t first[16];
};

static int see(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	struct rows_seen *r = ctx;

	if (r->n < 16) {
		r->t[r->n] = t_ms;
		r->iv[r->n] = interval_ms;
		r->len[r->n] = len;
		r->first[r->n] = len ? row[0] : 0;
	}
	r->n++;
	return 0;
}

static void slurp(const char *path, struct pw_buf *out)
{
	char chunk[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	pw_buf_clear(out);
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		pw_buf_append(out, chunk, n);
	fclose(f);
}

static void spill(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A journal with three records of generation 5, written by the writer's own calls. */
static void three_records(struct pw_buf *img)
{
	struct pwh_journal j;
	struct pwh_journal_image old = { 0 };
	int keep;

	cr_assert_eq(pwh_journal_init(&j, th_db), 0);
	cr_assert_eq(pwh_journal_open(&j, 77, 4, &old, &keep), 0);
	cr_assert_eq(keep, 0, "a new file has nothing to keep");
	cr_assert_eq(j.gen, 5);
	cr_assert_eq(pwh_journal_append(&j, 1000, 5000, "\x01\x02\x03", 3), 0);
	cr_assert_eq(pwh_journal_append(&j, 6000, 5000, "", 0), 0);
	cr_assert_eq(pwh_journal_append(&j, -7000, 250, "\x09zzzzzzzzz", 10), 0);
	pwh_journal_fini(&j); /* closed: cut to its records */
	slurp(th_db_journal(), img);
	pwh_journal_image_free(&old);
}

/*
 * Records go into a mapped window over blocks allocated ahead: while open the file ends
 * in zeros, which readers stop at (and a reader's copy leaves out); a close cuts them.
 */
Test(history_journal, the_open_file_ends_in_allocated_zeros_cut_at_close)
{
	struct pwh_journal_image old = { 0 }, copy = { 0 };
	struct pw_buf img = { 0 };
	struct rows_seen r = { 0 };
	const uint64_t want = PWH_JOURNAL_HEADER + 200 * (PWH_JOURNAL_RECORD + 1000);
	struct pwh_journal j;
	static char row[1000];
	uint64_t id, gen;
	struct stat sb;
	int keep;

	memset(row, 'x', sizeof(row));
	cr_assert_eq(pwh_journal_init(&j, th_db), 0);
	cr_assert_eq(pwh_journal_open(&j, 77, 4, &old, &keep), 0);
	for (int i = 0; i < 200; i++) /* 200 KB: the window moves on a dozen times */
		cr_assert_eq(pwh_journal_append(&j, i * 1000, 5000, row, sizeof(row)), 0);
	cr_assert_eq(j.len, want);
	cr_assert_not_null(j.win, "written through the mapping here (tmpfs and ext4 have fallocate)");
	cr_assert_eq(stat(th_db_journal(), &sb), 0);
	cr_assert_gt((uint64_t)sb.st_size, want, "blocks allocated ahead");
	slurp(th_db_journal(), &img);
	cr_assert_eq(pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, see, &r), (long)want,
		     "a reader stops at the zeros");
	cr_assert_eq(r.n, 200);
	cr_assert_eq(r.t[15], 15000);
	cr_assert_eq(pwh_journal_read(&j, &copy), 0);
	cr_assert_eq(copy.len, want, "a reader's copy holds the records only");
	pwh_journal_close(&j);
	cr_assert_eq(stat(th_db_journal(), &sb), 0);
	cr_assert_eq((uint64_t)sb.st_size, want, "cut to its records at close");
	pwh_journal_fini(&j);
	pwh_journal_image_free(&old);
	pwh_journal_image_free(&copy);
	pw_buf_free(&img);
}

Test(history_journal, whole_records_parse_back)
{
	struct pw_buf img = { 0 };
	struct rows_seen r = { 0 };
	uint64_t id, gen;
	long n;

	three_records(&img);
	n = pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, see, &r);
	cr_assert_eq(n, (long)img.len);
	cr_assert_eq(id, 77);
	cr_assert_eq(gen, 5);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.t[0], 1000);
	cr_assert_eq(r.iv[0], 5000);
	cr_assert_eq(r.len[0], 3);
	cr_assert_eq(r.first[0], 1);
	cr_assert_eq(r.len[1], 0);
	cr_assert_eq(r.t[2], -7000, "a time before 1970 is the caller's to refuse, not the parser's");
	cr_assert_eq(r.iv[2], 250);
	cr_assert_eq(r.first[2], 9);
	pw_buf_free(&img);
}

Test(history_journal, a_torn_or_damaged_record_ends_the_file)
{
	struct pw_buf img = { 0 };
	size_t whole;
	uint64_t id, gen;

	three_records(&img);
	whole = img.len;
	/* every cut inside the last record: two records, and the valid length before it */
	for (size_t cut = 1; cut < PWH_JOURNAL_RECORD + 10; cut++) {
		struct rows_seen r = { 0 };
		long n = pwh_journal_parse((const uint8_t *)img.data, whole - cut, &id, &gen, see, &r);

		cr_assert_eq(r.n, 2, "cut %zu: %d records", cut, r.n);
		cr_assert_eq(n, (long)(whole - PWH_JOURNAL_RECORD - 10), "cut %zu", cut);
	}
	/* one flipped bit in the second record's row area, or in its time: the end is there */
	for (size_t at = PWH_JOURNAL_HEADER + PWH_JOURNAL_RECORD + 3 + 4;
	     at < PWH_JOURNAL_HEADER + 2 * PWH_JOURNAL_RECORD + 3; at++) {
		struct rows_seen r = { 0 };

		img.data[at] ^= 0x10;
		pwh_journal_parse((const uint8_t *)img.data, whole, &id, &gen, see, &r);
		cr_assert_eq(r.n, 1, "byte %zu damaged: %d records", at, r.n);
		img.data[at] ^= 0x10;
	}
	/* a length that points past the end, or absurdly far */
	{
		struct rows_seen r = { 0 };
		uint8_t *len = (uint8_t *)img.data + PWH_JOURNAL_HEADER;

		len[3] = 0xff;
		cr_assert_eq(pwh_journal_parse((const uint8_t *)img.data, whole, &id, &gen, see, &r),
			     (long)PWH_JOURNAL_HEADER);
		cr_assert_eq(r.n, 0);
	}
	pw_buf_free(&img);
}

Test(history_journal, a_bad_header_means_nothing_to_keep)
{
	struct pw_buf img = { 0 };
	uint64_t id, gen;

	three_records(&img);
	cr_assert_eq(pwh_journal_parse((const uint8_t *)img.data, 0, &id, &gen, NULL, NULL), -EINVAL);
	cr_assert_eq(pwh_journal_parse((const uint8_t *)img.data, PWH_JOURNAL_HEADER - 1, &id, &gen, NULL, NULL),
		     -EINVAL);
	img.data[17] ^= 1; /* the generation, under the header's crc */
	cr_assert_eq(pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, NULL, NULL), -EINVAL);
	img.data[17] ^= 1;
	img.data[0] = 'X';
	cr_assert_eq(pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, NULL, NULL), -EINVAL);
	pw_buf_free(&img);
}

Test(history_journal, a_record_of_another_generation_is_not_read)
{
	struct pwh_journal j;
	struct pw_buf img = { 0 };
	struct pwh_journal_image old = { 0 };
	struct rows_seen r = { 0 };
	uint64_t id, gen;
	int keep;

	cr_assert_eq(pwh_journal_init(&j, th_db), 0);
	cr_assert_eq(pwh_journal_open(&j, 1, 0, &old, &keep), 0);
	cr_assert_eq(pwh_journal_append(&j, 1, 1, "a", 1), 0);
	j.gen = 2; /* as if the header still said 1 while records of 2 were written */
	cr_assert_eq(pwh_journal_append(&j, 2, 1, "b", 1), 0);
	slurp(j.path, &img);
	pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, see, &r);
	cr_assert_eq(gen, 1);
	cr_assert_eq(r.n, 1);
	pwh_journal_fini(&j);
	pw_buf_free(&img);
	pwh_journal_image_free(&old);
}

/* ------------------------------------------------------------ the store across crashes */
static char jpath[400];

static void insert_range(struct pw_history *h, double t0, int from, int to)
{
	struct snapshot s;

	snapshot_init(&s);
	for (int i = from; i < to; i++) {
		th_snap(&s, t0 + i * 5, 5, i, 1);
		pw_history_insert(h, &s);
		cr_assert_null(pw_history_status(h), "%s", pw_history_status(h));
	}
	snapshot_free(&s);
}

/* Every value of cpu.usage_percent from t0 on: k at k. */
static void expect_values(struct pw_history *h, double t0, int n)
{
	static double v[4096];
	const char *json;

	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent&points=10000", t0 - 1, t0 + 5.0 * n + 1);
	json = th_query(h, qs, 200);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "v", v, 4096), n, "%.300s", json);
	for (int k = 0; k < n; k++)
		cr_assert_eq(v[k], (double)k, "v[%d] = %g: a snapshot lost or stored twice", k, v[k]);
}

Test(history_journal, a_crash_between_the_seal_and_the_emptying_stores_nothing_twice)
{
	double t0 = floor(th_now() / 3600) * 3600 - 3600 - 60; /* rows 12.. are the next hour */
	struct pw_history *h = th_open(NULL);
	struct pw_buf before = { 0 };

	snprintf(jpath, sizeof(jpath), "%s" PWH_JOURNAL_SUFFIX, th_db);
	insert_range(h, t0, 0, 12);
	slurp(jpath, &before);
	insert_range(h, t0, 12, 13); /* seals the hour, empties the journal, journals row 12 */
	cr_assert_eq(h->seals, 1);
	pw_history_close(h);
	/* the crash: the seal committed, the journal never emptied (row 12 never written) */
	spill(jpath, before.data, before.len);
	pw_buf_free(&before);

	h = th_open(NULL);
	cr_assert_eq(h->oc.n, 0, "the journal's generation is sealed: its %u rows are not the open chunk", h->oc.n);
	expect_values(h, t0, 12);
	insert_range(h, t0, 12, 20);
	expect_values(h, t0, 20);
	pw_history_close(h);
	cr_assert_eq(th_journal_count(), 8);
}

Test(history_journal, a_torn_last_record_is_cut_and_writing_goes_on)
{
	double t0 = th_now() - 400;
	struct pw_history *h = th_open(NULL);
	struct pw_buf img = { 0 };
	uint64_t id, gen;

	snprintf(jpath, sizeof(jpath), "%s" PWH_JOURNAL_SUFFIX, th_db);
	insert_range(h, t0, 0, 10);
	pw_history_close(h);
	slurp(jpath, &img);
	spill(jpath, img.data, img.len - 5); /* kill -9 in the middle of row 9's write */

	h = th_open(NULL);
	expect_values(h, t0, 9);
	insert_range(h, t0, 9, 15);
	expect_values(h, t0, 15);
	pw_history_close(h);
	slurp(jpath, &img);
	cr_assert_eq(pwh_journal_parse((const uint8_t *)img.data, img.len, &id, &gen, NULL, NULL), (long)img.len,
		     "no torn bytes left in the middle");
	pw_buf_free(&img);
}

Test(history_journal, a_journal_of_another_database_is_not_applied)
{
	double t0 = th_now() - 400;
	struct pw_history *h = th_open(NULL);
	struct pw_buf img = { 0 };

	snprintf(jpath, sizeof(jpath), "%s" PWH_JOURNAL_SUFFIX, th_db);
	insert_range(h, t0, 0, 10);
	pw_history_close(h);
	slurp(jpath, &img);
	/* a fresh database at the same path, with the old file's journal left beside it */
	unlink(th_db);
	spill(jpath, img.data, img.len);
	pw_buf_free(&img);
	h = th_open(NULL);
	cr_assert_eq(h->oc.n, 0, "rows naming another database's series ids were applied");
	insert_range(h, t0, 0, 3);
	expect_values(h, t0, 3);
	pw_history_close(h);
}

/*
 * Copies the journal's records into the pending table, as a version before the journal
 * file kept them, each shifted by shift_ms; remove: the journal file goes. Returns how many.
 */
static int journal_to_pending(int64_t shift_ms, bool remove)
{
	struct pw_buf img = { 0 };
	size_t off = PWH_JOURNAL_HEADER;
	sqlite3_stmt *st;
	sqlite3 *db;
	int n = 0;

	slurp(jpath, &img);
	cr_assert_eq(sqlite3_open(th_db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO pending(t_ms, interval_ms, data) VALUES(?,?,?)", -1, &st, NULL),
		     SQLITE_OK);
	while (off + PWH_JOURNAL_RECORD <= img.len) {
		const uint8_t *r = (const uint8_t *)img.data + off;
		uint32_t len = (uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24;
		int64_t t = 0;

		for (int b = 7; b >= 0; b--)
			t = (t << 8) | r[16 + b];
		sqlite3_bind_int64(st, 1, t + shift_ms);
		sqlite3_bind_int64(st, 2, 5000);
		sqlite3_bind_blob(st, 3, r + PWH_JOURNAL_RECORD, (int)len, SQLITE_STATIC);
		cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
		off += PWH_JOURNAL_RECORD + len;
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (remove)
		unlink(jpath);
	pw_buf_free(&img);
	return n;
}

Test(history_journal, pending_rows_of_an_older_version_are_read_then_sealed)
{
	double t0 = floor(th_now() / 3600) * 3600 - 3600 - 60;
	struct pw_history *h = th_open(NULL);

	snprintf(jpath, sizeof(jpath), "%s" PWH_JOURNAL_SUFFIX, th_db);
	insert_range(h, t0, 0, 10);
	pw_history_close(h);
	/* what the version before the journal file left: the same rows in the pending table */
	cr_assert_eq(journal_to_pending(0, true), 10);
	cr_assert_eq(th_sql_count("SELECT count(*) FROM pending"), 10);

	h = th_open(NULL);
	cr_assert_eq(h->oc.n, 10);
	expect_values(h, t0, 10);
	insert_range(h, t0, 10, 14); /* rows 12.. are the next hour: a seal */
	expect_values(h, t0, 14);
	cr_assert_eq(h->seals, 1);
	pw_history_close(h);
	cr_assert_eq(th_sql_count("SELECT count(*) FROM pending"), 0, "the seal took the pending rows");
	cr_assert_eq(th_journal_count(), 2);
	h = th_open(NULL);
	expect_values(h, t0, 14);
	pw_history_close(h);
}

Test(history_journal, pending_rows_across_an_hour_are_sealed_at_open)
{
	double t0 = floor(th_now() / 3600) * 3600 - 3600 - 60; /* rows 0..11: the hour's last minute */
	struct pw_history *h = th_open(NULL);
	static double v[64];
	const char *json;

	snprintf(jpath, sizeof(jpath), "%s" PWH_JOURNAL_SUFFIX, th_db);
	insert_range(h, t0, 0, 12);
	pw_history_close(h);
	/* pending rows of that minute, then the same values in the next hour's first minute */
	cr_assert_eq(journal_to_pending(0, false), 12);
	cr_assert_eq(journal_to_pending(60000, true), 12);

	/* the load seals the first hour, so the journal file is already open by then */
	h = th_open(NULL);
	cr_assert_eq(h->seals, 1);
	cr_assert_eq(h->oc.n, 12);
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent&points=1000", t0 - 1, t0 + 200);
	json = th_query(h, qs, 200);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "v", v, 64), 24, "%.300s", json);
	for (int k = 0; k < 24; k++)
		cr_assert_eq(v[k], (double)(k % 12), "v[%d] = %g", k, v[k]);
	pw_history_close(h);
	cr_assert_eq(th_sql_count("SELECT count(*) FROM pending"), 12, "the open hour's rows stay pending");
}
