/* SPDX-License-Identifier: MIT */
/* The store on a real SQLite file: writing, restarts, gaps, foreign files, locks. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "test_history_util.h"

TestSuite(history_store, .init = th_setup, .fini = th_teardown);

static char qs[1024];

Test(history_store, snapshots_come_back_raw)
{
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	double t0 = th_now() - 100, t[20], v[20];
	const char *json;

	snapshot_init(&s);
	for (int i = 0; i < 20; i++) {
		/* a value that needs the quantization, nulls, a zero, a huge counter */
		double x = i == 3 ? NAN : i == 4 ? 0.0 : 12.345 * i;

		th_snap(&s, t0 + i * 5, 5, x, i == 7 ? UINT64_MAX : 4096ull * (uint64_t)i);
		pw_history_insert(h, &s);
		cr_assert_null(pw_history_status(h));
	}
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent,memory.used_bytes,cpu.per_core.1,network.connections.tcp_listen",
		 t0 - 1, t0 + 200);
	json = th_query(h, qs, 200);
	cr_assert(strstr(json, "\"tier\":\"raw\",\"bucketed\":false"), "%s", json);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "t", t, 20), 20);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "v", v, 20), 20);
	for (int i = 0; i < 20; i++) {
		double want = i == 3 ? NAN : i == 4 ? 0.0 : 12.345 * i;

		cr_assert_eq(t[i], t0 + i * 5, "t[%d]", i);
		cr_assert(th_close_enough(v[i], want), "v[%d] = %g, want %g", i, v[i], want);
	}
	cr_assert_eq(th_array(json, "memory.used_bytes", "v", v, 20), 20);
	for (int i = 0; i < 20; i++)
		cr_assert(i == 7 ? v[i] > 1.8e19 : v[i] == 4096.0 * i, "used_bytes[%d] = %.17g exact", i, v[i]);
	/* min and max of a raw sample are the sample */
	cr_assert_eq(th_array(json, "cpu.per_core.1", "max", v, 20), 20);
	cr_assert(th_close_enough(v[10], 12.345 * 10 / 2));
	/* a metric never stored: all null, same times */
	cr_assert_eq(th_array(json, "network.connections.tcp_listen", "v", v, 20), 20);
	for (int i = 0; i < 20; i++)
		cr_assert(isnan(v[i]));
	snapshot_free(&s);
	pw_history_close(h);
}

Test(history_store, restart_continues_and_the_gap_stays_a_gap)
{
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	double t0 = th_now() - 400, t[64], v[64];
	const char *json;
	int n;

	snapshot_init(&s);
	for (int i = 0; i < 10; i++) {
		th_snap(&s, t0 + i * 5, 5, 10 + i, 1);
		pw_history_insert(h, &s);
	}
	pw_history_close(h); /* the open chunk stays in the journal */

	h = th_open(NULL);
	for (int i = 0; i < 10; i++) { /* the daemon was down for 150 s */
		th_snap(&s, t0 + 200 + i * 5, 5, 30 + i, 1);
		pw_history_insert(h, &s);
	}
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent", t0 - 1, t0 + 300);
	json = th_query(h, qs, 200);
	n = th_array(json, "cpu.usage_percent", "v", v, 64);
	cr_assert_eq(n, 21, "20 snapshots and one gap marker: %s", json);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "t", t, 64), 21);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(v[i], 10 + i);
	cr_assert(isnan(v[10]), "the gap is null, not interpolated");
	cr_assert(t[10] > t[9] && t[10] < t[11]);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(v[11 + i], 30 + i);

	/* bucketed: the buckets inside the gap are null */
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent&points=10", t0, t0 + 250);
	json = th_query(h, qs, 200);
	cr_assert(strstr(json, "\"bucketed\":true"), "%s", json);
	n = th_array(json, "cpu.usage_percent", "v", v, 64);
	cr_assert_geq(n, 10);
	int nulls = 0, values = 0;
	for (int i = 0; i < n; i++)
		isnan(v[i]) ? nulls++ : values++;
	cr_assert_geq(nulls, 3, "%s", json);
	cr_assert_geq(values, 3, "%s", json);
	snapshot_free(&s);
	pw_history_close(h);
}

Test(history_store, hours_seal_into_chunks_and_the_file_checks_out)
{
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	double now = th_now(), t0 = floor(now / 3600) * 3600 - 2 * 3600 - 1800;
	struct pw_history_stats st;
	static double v[4000];
	const char *json;
	int n, i;

	snapshot_init(&s);
	for (i = 0; t0 + i * 5 < now; i++) {
		th_snap(&s, t0 + i * 5, 5, (double)(i % 12), 1);
		pw_history_insert(h, &s);
	}
	pw_history_stats(h, &st);
	cr_assert_eq(st.seals, 3, "three clock hours were sealed, %llu", (unsigned long long)st.seals);
	cr_assert_eq(st.inserts, (uint64_t)i);
	cr_assert_eq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=0 AND series=0"), 3);
	cr_assert_gt(th_journal_count(), 0, "the open hour is in the journal file");
	/* hour roll-ups go in one chunk per UTC day: the three sealed hours span two days
	 * when the test runs between 00:00 and 03:00 UTC */
	double first_hour = floor(t0 / 3600) * 3600;
	int days = 1 + (int)(floor((first_hour + 2 * 3600) / 86400) - floor(first_hour / 86400));
	cr_assert_eq(th_sql_count("SELECT count(*) FROM chunk WHERE tier=2"), days * th_sql_count("SELECT count(*) FROM series"),
		     "one hour chunk per series and UTC day (no series is all null here)");

	/* all of it comes back, sealed and pending alike */
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent&points=10000", t0 - 1, now + 1);
	json = th_query(h, qs, 200);
	n = th_array(json, "cpu.usage_percent", "v", v, 4000);
	cr_assert_eq(n, i, "%d of %d", n, i);
	cr_assert_lt(n, 4000);
	for (int k = 0; k < n; k++)
		cr_assert_eq(v[k], (double)(k % 12), "v[%d] = %g", k, v[k]);
	pw_history_close(h);
	cr_assert_eq(th_sql_count("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check='ok'"), 1);
	snapshot_free(&s);
}

/* Bytes of a file, to show it was not written to. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void assert_refused_untouched(const char *why)
{
	static char before[1 << 16], after[1 << 16];
	struct pw_history *h = NULL;
	char err[512] = "";
	size_t n1 = slurp(th_db, before, sizeof(before)), n2;
	char wal[320];

	cr_assert_eq(pw_history_open(&h, th_db, NULL, err, sizeof(err)), -EINVAL, "must refuse");
	cr_assert_null(h);
	cr_assert(strstr(err, why), "error '%s' does not say '%s'", err, why);
	cr_assert(strstr(err, th_db), "error names the file: %s", err);
	n2 = slurp(th_db, after, sizeof(after));
	cr_assert_eq(n1, n2);
	cr_assert_eq(memcmp(before, after, n1), 0, "the file was written to");
	snprintf(wal, sizeof(wal), "%s-wal", th_db);
	cr_assert_neq(access(wal, F_OK), 0, "no WAL made next to it");
}

Test(history_store, a_text_file_is_refused_and_left_alone)
{
	FILE *f = fopen(th_db, "w");

	fputs("my precious notes, not a database\n", f);
	fclose(f);
	assert_refused_untouched("not an SQLite database");
}

Test(history_store, another_programs_database_is_refused_and_left_alone)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open(th_db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE accounts(id, owner); INSERT INTO accounts VALUES(1, 'x');", NULL,
				  NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	assert_refused_untouched("another program");
}

Test(history_store, a_newer_format_is_refused)
{
	struct pw_history *h = th_open(NULL);
	sqlite3 *db;

	pw_history_close(h);
	cr_assert_eq(sqlite3_open(th_db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA user_version=99;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_refused_untouched("format 99");
}

Test(history_store, a_damaged_database_is_refused_and_left_alone)
{
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	sqlite3 *db;
	double t0 = th_now() - 20000;
	char junk[4096];
	int fd;

	snapshot_init(&s);
	for (int i = 0; i < 2000; i++) {
		th_snap(&s, t0 + i * 5, 5, i, (uint64_t)i);
		pw_history_insert(h, &s);
	}
	pw_history_close(h);
	snapshot_free(&s);
	cr_assert_eq(sqlite3_open(th_db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=DELETE;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* garbage over the third page: a b-tree page of the schema's tables */
	memset(junk, 0x5a, sizeof(junk));
	fd = open(th_db, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, junk, sizeof(junk), 2 * 4096), (ssize_t)sizeof(junk));
	close(fd);
	assert_refused_untouched("damaged");
}

Test(history_store, an_empty_file_becomes_a_database)
{
	int fd = open(th_db, O_CREAT | O_WRONLY, 0600);
	struct pw_history *h;

	close(fd);
	h = th_open(NULL);
	pw_history_close(h);
	cr_assert_eq(th_sql_count("PRAGMA application_id"), 0x50576831);
}

Test(history_store, a_missing_folder_is_an_error_not_a_retry)
{
	struct pw_history *h = NULL;
	char err[512] = "";

	snprintf(th_db, sizeof(th_db), "%s/no/such/folder/history.db", th_dir);
	cr_assert_lt(pw_history_open(&h, th_db, NULL, err, sizeof(err)), 0);
	cr_assert_null(h);
	cr_assert(strstr(err, "no/such/folder"), "%s", err);
}

/* Snapshots go to the journal file; the database is written when the hour is sealed. */
Test(history_store, a_lock_held_elsewhere_is_reported_at_the_seal_then_writing_resumes)
{
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	sqlite3 *other;
	double t0 = floor(th_now() / 3600) * 3600 - 3600 - 15, v[64]; /* rows 3.. are a new hour */
	struct pw_history_stats st;
	const char *why, *json;
	int i = 0;

	snapshot_init(&s);
	for (; i < 3; i++) {
		th_snap(&s, t0 + i * 5, 5, i, 1);
		pw_history_insert(h, &s);
	}
	cr_assert_eq(sqlite3_open(th_db, &other), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	for (; i < 8; i++) {
		th_snap(&s, t0 + i * 5, 5, i, 1);
		pw_history_insert(h, &s);
		why = pw_history_status(h);
		cr_assert_not_null(why, "a locked database is reported");
		cr_assert(strstr(why, "locked"), "%s", why);
		cr_assert(strstr(why, "held in memory"), "%s", why);
	}
	pw_history_stats(h, &st);
	cr_assert_eq(st.held, 5);
	cr_assert_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	usleep(1100 * 1000); /* the first retry comes after a second */
	for (; i < 10; i++) {
		th_snap(&s, t0 + i * 5, 5, i, 1);
		pw_history_insert(h, &s);
	}
	cr_assert_null(pw_history_status(h), "writing resumed by itself: %s", pw_history_status(h));
	pw_history_stats(h, &st);
	cr_assert_eq(st.held, 0);
	cr_assert_eq(st.dropped, 0);
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent", t0 - 1, t0 + 100);
	json = th_query(h, qs, 200);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "v", v, 64), 10, "%s", json);
	for (int k = 0; k < 10; k++)
		cr_assert_eq(v[k], k, "nothing lost while locked");
	snapshot_free(&s);
	pw_history_close(h);
}

Test(history_store, memory_while_broken_is_bounded_and_drops_are_counted)
{
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	sqlite3 *other;
	struct pw_history_stats st;
	double t0 = th_now() - 30000;
	const char *why;

	snapshot_init(&s);
	th_snap(&s, t0, 1, 1, 1);
	pw_array_reserve(&s.cpu.per_core, &s.cpu.cap_per_core, 256, sizeof(double));
	cr_assert_eq(sqlite3_open(th_db, &other), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 30000; i++) {
		th_snap(&s, t0 + i, 1, i % 100, 1);
		s.cpu.n_per_core = 256;
		for (int k = 0; k < 256; k++)
			s.cpu.per_core[k] = (double)((i * 7 + k * 13) % 10000) / 7.0;
		pw_history_insert(h, &s);
	}
	pw_history_stats(h, &st);
	cr_assert_gt(st.dropped, 0);
	cr_assert_lt(st.held, 30000);
	why = pw_history_status(h);
	cr_assert(why && strstr(why, "dropped"), "%s", why ? why : "(null)");
	sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(other);
	snapshot_free(&s);
	pw_history_close(h);
}

Test(history_store, off_means_503)
{
	struct pw_buf out = { 0 };

	cr_assert_eq(pw_history_query(NULL, "metrics=cpu.user", &out), 503);
	cr_assert(strstr(out.data, "\"error\""));
	pw_buf_free(&out);
}

Test(history_store, bad_queries_are_400_with_a_reason)
{
	struct pw_history *h = th_open(NULL);
	const char *json = th_query(h, "metrics=cpu.bogus", 400);

	cr_assert(strstr(json, "{\"error\":\"") == json, "%s", json);
	cr_assert(strstr(json, "cpu.bogus"), "%s", json);
	json = th_query(h, "metrics=cpu.user&from=-1h&to=-2h", 400);
	cr_assert(strstr(json, "from must be before to"), "%s", json);
	json = th_query(h, NULL, 400);
	pw_history_close(h);
}

Test(history_store, default_path_for_a_user)
{
	char path[512], want[512], err[256];
	struct stat sb;

	/* root's default is /var/lib/perfwatch: a test does not make that; a user's is tested */
	if (geteuid() == 0) {
		cr_assert_eq(chmod(th_dir, 0777), 0);
		cr_assert_eq(seteuid(65534), 0);
	}
	setenv("XDG_STATE_HOME", th_dir, 1);
	cr_assert_eq(pw_history_default_path(path, sizeof(path), err, sizeof(err)), 0, "%s", err);
	snprintf(want, sizeof(want), "%s/perfwatch/history.db", th_dir);
	cr_assert_str_eq(path, want);
	snprintf(want, sizeof(want), "%s/perfwatch", th_dir);
	cr_assert_eq(stat(want, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700, "a user's history folder is private");

	unsetenv("XDG_STATE_HOME");
	setenv("HOME", th_dir, 1);
	cr_assert_eq(pw_history_default_path(path, sizeof(path), err, sizeof(err)), 0, "%s", err);
	snprintf(want, sizeof(want), "%s/.local/state/perfwatch/history.db", th_dir);
	cr_assert_str_eq(path, want);

	setenv("HOME", "relative/home", 1);
	cr_assert_lt(pw_history_default_path(path, sizeof(path), err, sizeof(err)), 0);
	cr_assert(strstr(err, "--db"), "%s", err);
	if (getuid() == 0)
		cr_assert_eq(seteuid(0), 0);
}

/* Snapshots taken before the file could ever be opened get ids in memory; when it opens,
 * those ids are matched to the file's own by name, so every value lands in its series. */
Test(history_store, ids_given_while_unopenable_are_matched_to_the_files)
{
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	sqlite3 *other;
	double t0 = th_now() - 200, v[64];
	const char *json;
	char err[256];

	/* the file knows memory.* first (cpu invalid): their ids differ from a fresh start */
	snapshot_init(&s);
	th_snap(&s, t0, 5, 1, 111);
	s.cpu.valid = false;
	pw_history_insert(h, &s);
	pw_history_close(h);

	/* an exclusive lock (no WAL sharing) even keeps readers out: the open cannot finish */
	cr_assert_eq(sqlite3_open(th_db, &other), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;", NULL, NULL, NULL),
		     SQLITE_OK);
	cr_assert_eq(pw_history_open(&h, th_db, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(pw_history_status(h), "cannot be opened yet");
	for (int i = 1; i < 6; i++) {
		th_snap(&s, t0 + i * 5, 5, 10 * i, 1000 + (uint64_t)i);
		pw_history_insert(h, &s);
	}
	cr_assert_not_null(pw_history_status(h));
	sqlite3_close(other);
	usleep(1100 * 1000);
	th_snap(&s, t0 + 30, 5, 60, 1006);
	pw_history_insert(h, &s);
	cr_assert_null(pw_history_status(h), "%s", pw_history_status(h));

	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.usage_percent,memory.used_bytes", t0 - 1, t0 + 100);
	json = th_query(h, qs, 200);
	cr_assert_eq(th_array(json, "memory.used_bytes", "v", v, 64), 7, "%s", json);
	cr_assert_eq(v[0], 111);
	for (int i = 1; i < 7; i++)
		cr_assert_eq(v[i], 1000 + i, "%s", json);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "v", v, 64), 7);
	cr_assert(isnan(v[0]));
	for (int i = 1; i < 7; i++)
		cr_assert_eq(v[i], 10 * i, "%s", json);
	snapshot_free(&s);
	pw_history_close(h);
}

/* The writer remembers the last snapshot's series in visit order: when the set changes
 * (a core comes and goes, memory goes missing) every value must still land in its own
 * series. */
Test(history_store, series_that_come_and_go_keep_their_values)
{
	static const uint32_t cores[] = { 2, 3, 1, 3, 2, 4, 2, 2 };
	const uint32_t n = sizeof(cores) / sizeof(cores[0]);
	struct pw_history *h = th_open(NULL);
	struct snapshot s;
	double t0 = th_now() - 100, v[16];
	const char *json;

	snapshot_init(&s);
	for (uint32_t i = 0; i < n; i++) {
		th_snap(&s, t0 + i * 5, 5, 10.0 * i, 1000 + i);
		pw_array_reserve(&s.cpu.per_core, &s.cpu.cap_per_core, cores[i], sizeof(double));
		s.cpu.n_per_core = cores[i];
		for (uint32_t c = 0; c < cores[i]; c++)
			s.cpu.per_core[c] = 100.0 * (c + 1) + i;
		s.memory.valid = i != 4;
		pw_history_insert(h, &s);
		cr_assert_null(pw_history_status(h));
	}
	snprintf(qs, sizeof(qs), "from=%.0f&to=%.0f&metrics=cpu.per_core.0,cpu.per_core.2,cpu.per_core.3,"
		 "memory.used_bytes,cpu.usage_percent", t0 - 1, t0 + 100);
	json = th_query(h, qs, 200);
	for (int c = 0; c < 4; c++) {
		char name[32];

		snprintf(name, sizeof(name), "cpu.per_core.%d", c);
		if (c == 1)
			continue;
		cr_assert_eq(th_array(json, name, "v", v, 16), (int)n, "%s", json);
		for (uint32_t i = 0; i < n; i++) {
			double want = (uint32_t)c < cores[i] ? 100.0 * (c + 1) + i : NAN;

			cr_assert(th_close_enough(v[i], want), "%s[%u] = %g, want %g", name, i, v[i], want);
		}
	}
	cr_assert_eq(th_array(json, "memory.used_bytes", "v", v, 16), (int)n);
	for (uint32_t i = 0; i < n; i++)
		cr_assert(i == 4 ? isnan(v[i]) : v[i] == 1000 + i, "used_bytes[%u] = %g", i, v[i]);
	cr_assert_eq(th_array(json, "cpu.usage_percent", "v", v, 16), (int)n);
	for (uint32_t i = 0; i < n; i++)
		cr_assert(th_close_enough(v[i], 10.0 * i), "usage[%u] = %g", i, v[i]);
	snapshot_free(&s);
	pw_history_close(h);
}
