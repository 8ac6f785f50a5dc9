/* SPDX-License-Identifier: MIT */
/*
 * Opening the writer: what kind of file is at --db (without writing to it), the schema,
 * WAL, and the in-memory state rebuilt from the files (series, the journal, and the ids
 * of snapshots that waited in memory while the file could not be opened).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "history/store.h"
#include "util/timeutil.h"

#define TEXT_OF(x) #x
#define WAL_BYTES_TEXT TEXT_OF(PWH_WAL_BYTES)

/* What the filesystem under path says, when SQLite's message is vague ("unable to open"). */
static const char *fs_hint(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct statvfs vfs;

	if (slash && (size_t)(slash - path) < sizeof(dir) && slash != path) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else {
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	}
	if (statvfs(dir, &vfs) < 0)
		return "";
	if (vfs.f_flag & ST_RDONLY)
		return " (the filesystem is read-only)";
	if (vfs.f_bavail == 0)
		return " (the filesystem is full)";
	return "";
}

static int query_i64(sqlite3 *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*ret = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static void finalize_statements(struct pw_history *h)
{
	sqlite3_finalize(h->st_sealed);
	sqlite3_finalize(h->st_chunk);
	sqlite3_finalize(h->st_series);
	sqlite3_finalize(h->st_hour_get);
	sqlite3_finalize(h->st_del_pending);
	sqlite3_finalize(h->pruner.st_delete);
	sqlite3_finalize(h->pruner.st_oldest);
	h->st_sealed = h->st_chunk = h->st_series = h->st_hour_get = h->st_del_pending = NULL;
	h->pruner.st_delete = h->pruner.st_oldest = NULL;
}

void pwh_close_db(struct pw_history *h)
{
	finalize_statements(h);
	sqlite3_close_v2(h->db);
	h->db = NULL;
	pwh_journal_close(&h->jr);
}

static const char schema_sql[] =
	"CREATE TABLE series(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL);"
	"CREATE TABLE chunk(id INTEGER PRIMARY KEY, tier INTEGER NOT NULL, series INTEGER NOT NULL,"
	" t0 INTEGER NOT NULL, data BLOB NOT NULL);"
	"CREATE UNIQUE INDEX chunk_key ON chunk(tier, series, t0);"
	"CREATE TABLE pending(seq INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, interval_ms INTEGER NOT NULL,"
	" data BLOB NOT NULL);"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"INSERT INTO meta VALUES('format', 'perfwatch history 1: varint token columns, 12-bit mantissa doubles');"
	"PRAGMA user_version=1;"
	"PRAGMA application_id=1347905585;"; /* 0x50576831 'PWh1' */

/* Says what kind of file this is without writing to it. 1: empty, ready for the schema. */
static int validate(sqlite3 *db, const char *path, bool integrity, char *err, size_t errlen)
{
	int64_t app = 0, ntables = 0, ver = 0;
	int rc;

	rc = query_i64(db, "PRAGMA application_id", &app);
	if (rc == SQLITE_OK)
		rc = query_i64(db, "SELECT count(*) FROM sqlite_master", &ntables);
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
		snprintf(err, errlen, "%s is not an SQLite database (or is damaged beyond reading): %s; "
			 "not touching it — move it away or pass another --db", path, sqlite3_errstr(rc));
		return -EINVAL;
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot read %s: %s%s", path,
			 (rc & 0xff) == SQLITE_BUSY ? "database is locked by another process" : sqlite3_errmsg(db),
			 fs_hint(path));
		return pwh_sqlite_errno(rc);
	}
	if (app == 0 && ntables == 0)
		return 1;
	if (app != PWH_APPLICATION_ID) {
		snprintf(err, errlen, "%s is an SQLite database of another program (application_id 0x%" PRIx64
			 ", %" PRId64 " schema objects), not a PerfWatch history; not touching it — pass another --db",
			 path, (uint64_t)app & 0xffffffffu, ntables);
		return -EINVAL;
	}
	rc = query_i64(db, "PRAGMA user_version", &ver);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot read %s: %s", path, sqlite3_errmsg(db));
		return (rc & 0xff) == SQLITE_CORRUPT ? -EINVAL : pwh_sqlite_errno(rc);
	}
	if (ver != PWH_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s has history format %" PRId64 ", this PerfWatch reads format %d; not touching it",
			 path, ver, PWH_SCHEMA_VERSION);
		return -EINVAL;
	}
	if (integrity) {
		sqlite3_stmt *st;
		const char *res = NULL;

		rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			res = (const char *)sqlite3_column_text(st, 0);
		if (!res || strcmp(res, "ok")) {
			int bad = res || (sqlite3_errcode(db) & 0xff) == SQLITE_CORRUPT;

			snprintf(err, errlen, bad ? "%s is damaged (%s); not touching it — move it away, or try "
						    "'sqlite3 %s .recover'"
						  : "cannot check %s: %s%s",
				 path, res ? res : sqlite3_errmsg(db), bad ? path : "");
			sqlite3_finalize(st);
			return bad ? -EINVAL : pwh_sqlite_errno(sqlite3_errcode(db));
		}
		sqlite3_finalize(st);
	}
	return 0;
}

static int prepare(struct pw_history *h)
{
	static const struct {
		size_t off;
		const char *sql;
	} stmts[] = {
		{ offsetof(struct pw_history, st_sealed), "INSERT OR REPLACE INTO meta(key, value) VALUES('journal_sealed', ?)" },
		{ offsetof(struct pw_history, st_chunk),
		  "INSERT INTO chunk(tier, series, t0, data) VALUES(?,?,?,?) "
		  "ON CONFLICT(tier, series, t0) DO UPDATE SET data=excluded.data" },
		{ offsetof(struct pw_history, st_series), "INSERT OR REPLACE INTO series(id, path, kind) VALUES(?,?,?)" },
		{ offsetof(struct pw_history, st_hour_get), "SELECT data FROM chunk WHERE tier=2 AND series=? AND t0=?" },
		{ offsetof(struct pw_history, st_del_pending), "DELETE FROM pending WHERE seq<=?" },
		{ offsetof(struct pw_history, pruner.st_delete), PWH_PRUNE_DELETE_SQL },
		{ offsetof(struct pw_history, pruner.st_oldest), PWH_PRUNE_OLDEST_SQL },
	};

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		sqlite3_stmt **st = (sqlite3_stmt **)(void *)((char *)h + stmts[i].off);
		int rc = sqlite3_prepare_v3(h->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/*
 * Loads the series table into a fresh registry. Series known in memory only (ids handed
 * out while the database could not be written) get ids in the new one; map[old] = new.
 */
static int load_registry(struct pw_history *h, uint32_t **ret_map, uint32_t *ret_nmap)
{
	struct pwh_registry reg;
	sqlite3_stmt *st;
	uint32_t *map = NULL, nmap = h->reg.next_id;
	int rc;

	pwh_registry_init(&reg);
	rc = sqlite3_prepare_v2(h->db, "SELECT id, path, kind FROM series", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out_free_reg;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), kind = sqlite3_column_int64(st, 2);
		const char *path = (const char *)sqlite3_column_text(st, 1);

		if (id <= 0 || id >= UINT32_MAX / 4 || kind < 0 || kind > PWH_KIND_DOUBLE || !path)
			continue; /* not ours to understand: left alone, never reused */
		if (!pwh_registry_add(&reg, path, strlen(path), (uint32_t)id, (enum pwh_kind)kind, true) &&
		    (uint32_t)id >= reg.next_id)
			reg.next_id = (uint32_t)id + 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto out_free_reg;
	map = calloc(nmap ? nmap : 1, sizeof(*map));
	if (!map) {
		rc = SQLITE_NOMEM;
		goto out_free_reg;
	}
	for (uint32_t id = 1; id < nmap; id++) {
		struct pwh_series *old = pwh_registry_get(&h->reg, id), *s;

		if (!old)
			continue;
		s = pwh_registry_find(&reg, old->path, strlen(old->path));
		if (!s)
			s = pwh_registry_add(&reg, old->path, strlen(old->path), 0, (enum pwh_kind)old->kind, false);
		if (!s) {
			rc = SQLITE_NOMEM;
			goto out_free_map;
		}
		map[id] = s->id;
	}
	pwh_registry_free(&h->reg);
	h->reg = reg;
	h->n_order = 0; /* it pointed into the old registry */
	*ret_map = map;
	*ret_nmap = nmap;
	return SQLITE_OK;
out_free_map:
	free(map);
out_free_reg:
	pwh_registry_free(&reg);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Rewrites the rings' rows with new ids. */
static int remap_ring(struct pw_history *h, const uint32_t *map, uint32_t nmap)
{
	bool identity = true;

	for (uint32_t i = 1; i < nmap && identity; i++)
		identity = map[i] == 0 || map[i] == i;
	if (identity)
		return 0;
	for (uint32_t k = 0; k < h->ring_n; k++) {
		uint32_t slot = (h->ring_head + k) % h->ring_cap;
		struct pwh_ring_row *r = h->ring[slot], *nr;
		uint32_t w = 0;

		if (pwh_row_items(h, r->data, r->len) < 0)
			h->n_items = 0; /* cannot happen: we wrote it */
		for (uint32_t i = 0; i < h->n_items; i++) {
			uint32_t id = h->items[i].id;

			if (id < nmap && map[id]) {
				h->items[i].id = map[id];
				h->items[w++] = h->items[i];
			}
		}
		pwh_sort_items(h->items, w);
		pw_buf_clear(&h->row);
		pwh_row_encode(&h->row, h->items, w);
		if (h->row.oom)
			return -ENOMEM;
		nr = malloc(sizeof(*nr) + h->row.len);
		if (!nr)
			return -ENOMEM;
		*nr = *r;
		nr->len = (uint32_t)h->row.len;
		memcpy(nr->data, h->row.data, h->row.len);
		h->ring_bytes += nr->len;
		h->ring_bytes -= r->len;
		free(r);
		h->ring[slot] = nr;
	}
	return 0;
}

/* Rebuilds the open chunk from the pending rows (of a version before the journal file). */
static int load_pending(struct pw_history *h)
{
	sqlite3_stmt *st;
	int rc;

	pwh_oc_reset(&h->oc);
	rc = sqlite3_prepare_v2(h->db, "SELECT seq, t_ms, interval_ms, data FROM pending ORDER BY seq", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), t_ms = sqlite3_column_int64(st, 1);
		int64_t interval = sqlite3_column_int64(st, 2);
		const uint8_t *data = sqlite3_column_blob(st, 3);
		int len = sqlite3_column_bytes(st, 3);

		if (!data || t_ms < 0 || interval < 0 || interval > UINT32_MAX || pwh_row_items(h, data, (size_t)len) < 0)
			continue; /* a damaged journal row is skipped, the rest still counts */
		if (h->oc.n > 0 && (pwh_window_of(t_ms) != h->oc.window_s || (uint32_t)interval != h->oc.interval_ms ||
				    h->oc.n >= PWH_CHUNK_MAX)) {
			rc = pwh_seal(h);
			if (rc != SQLITE_OK)
				break;
		}
		if (pwh_oc_append(h, t_ms, (uint32_t)interval, seq, h->items, h->n_items) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The journal's id (made on first use) and the newest generation sealed, from meta. */
static int journal_meta(struct pw_history *h, uint64_t *id, uint64_t *sealed)
{
	int64_t v = 0;
	char sql[128];
	int rc;

	rc = query_i64(h->db, "SELECT value FROM meta WHERE key='journal_sealed'", &v);
	if (rc != SQLITE_OK)
		return rc;
	*sealed = v > 0 ? (uint64_t)v : 0;
	rc = query_i64(h->db, "SELECT value FROM meta WHERE key='journal_id'", &v);
	if (rc != SQLITE_OK || v != 0) {
		*id = (uint64_t)v;
		return rc;
	}
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (int64_t)(pw_clock_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32));
	v &= INT64_MAX; /* SQLite integers are signed */
	v = v ? v : 1;
	snprintf(sql, sizeof(sql), "INSERT INTO meta VALUES('journal_id', %" PRId64 ")", v);
	rc = pwh_exec(h->db, sql);
	*id = (uint64_t)v;
	return rc;
}

struct replay {
	struct pw_history *h;
	uint64_t gen; /* the generation of the records being replayed */
	int rc;
};

/* One journal record into the open chunk; journaled again when a seal emptied the file. */
static int replay_row(void *ctx, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len)
{
	struct replay *r = ctx;
	struct pw_history *h = r->h;
	int err;

	if (t_ms < 0 || pwh_row_items(h, row, len) < 0)
		return 0; /* not ours to understand: the rest still counts */
	if (h->oc.n > 0 && (pwh_window_of(t_ms) != h->oc.window_s || interval_ms != h->oc.interval_ms ||
			    h->oc.n >= PWH_CHUNK_MAX)) {
		r->rc = pwh_seal(h);
		if (r->rc != SQLITE_OK)
			return 1;
	}
	if (h->jr.gen != r->gen) {
		err = pwh_journal_append(&h->jr, t_ms, interval_ms, row, len);
		if (err < 0) {
			h->jr_err = err;
			r->rc = SQLITE_IOERR;
			return 1;
		}
	}
	if (pwh_oc_append(h, t_ms, interval_ms, 0, h->items, h->n_items) < 0) {
		r->rc = SQLITE_NOMEM;
		return 1;
	}
	return 0;
}

/*
 * Opens the journal (before the pending rows are loaded: a seal among those empties it)
 * and leaves in image the records to replay, none when it had nothing to keep.
 */
static int open_journal(struct pw_history *h, struct pwh_journal_image *image)
{
	uint64_t id = 0, sealed = 0;
	int keep, err, rc;

	rc = journal_meta(h, &id, &sealed);
	if (rc != SQLITE_OK)
		return rc;
	err = pwh_journal_open(&h->jr, id, sealed, image, &keep);
	if (err < 0) {
		h->jr_err = err;
		return pwh_journal_failure(h, "cannot open", err);
	}
	if (!keep)
		pwh_journal_image_free(image);
	return SQLITE_OK;
}

/*
 * Adds the journal's records to the open chunk rebuilt from any pending rows, which are
 * older than every record (the versions that wrote them had no journal file).
 */
static int replay_journal(struct pw_history *h, const struct pwh_journal_image *image)
{
	struct replay r = { .h = h, .rc = SQLITE_OK };
	uint64_t id;

	if (image->len)
		pwh_journal_parse(image->data, image->len, &id, &r.gen, replay_row, &r);
	return r.rc;
}


/*
 * Gives the WAL its working size up front (the size journal_size_limit keeps it at once
 * checkpoints wrap it): until then every commit's page went to a new end of the file,
 * and the filesystem allocated blocks for it on the collector's time. Best effort, and
 * only with room to spare: on a nearly full disk the space is for the snapshots.
 */
static void preallocate_wal(struct pw_history *h)
{
	char dir[4096];
	const char *slash = strrchr(h->path, '/');
	sqlite3_file *wal = NULL;
	sqlite3_int64 size = PWH_WAL_BYTES;
	int chunk = 1 << 20;
	struct statvfs vfs;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - h->path) : 1, slash ? h->path : ".");
	if (statvfs(dir[0] ? dir : "/", &vfs) < 0 || (uint64_t)vfs.f_bavail * vfs.f_frsize < 64ull * PWH_WAL_BYTES)
		return;
	if (sqlite3_file_control(h->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || !wal ||
	    !wal->pMethods || !wal->pMethods->xFileControl)
		return;
	/* the unix VFS grows a file on a size hint only for a file with a chunk size */
	if (wal->pMethods->xFileControl(wal, SQLITE_FCNTL_CHUNK_SIZE, &chunk) == SQLITE_OK)
		wal->pMethods->xFileControl(wal, SQLITE_FCNTL_SIZE_HINT, &size);
}

/* Puts why rc happened into h->reason. */
void pwh_describe_failure(struct pw_history *h, const char *what, int rc)
{
	const char *msg = h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc);
	int sys = h->db ? sqlite3_system_errno(h->db) : 0;

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		msg = "database is locked by another process";
	if (sys && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_FULL))
		snprintf(h->reason, sizeof(h->reason), "%s %s: %s (%s)%s", what, h->path, msg, strerror(sys),
			 fs_hint(h->path));
	else
		snprintf(h->reason, sizeof(h->reason), "%s %s: %s%s", what, h->path, msg, fs_hint(h->path));
}

int pwh_journal_failure(struct pw_history *h, const char *what, int err)
{
	int rc = err == -ENOSPC || err == -EDQUOT ? SQLITE_FULL
		 : err == -ENOMEM		   ? SQLITE_NOMEM
		 : err == -EBUSY		   ? SQLITE_BUSY
		 : err == -EROFS || err == -EACCES || err == -EPERM ? SQLITE_READONLY
								     : SQLITE_IOERR;

	if (err == -EBUSY)
		snprintf(h->reason, sizeof(h->reason),
			 "%s %s: database is locked by another process (another perfwatch writes it: it holds %s)",
			 what, h->path, h->jr.path);
	else
		snprintf(h->reason, sizeof(h->reason), "%s %s: %s (%s)%s", what, h->jr.path, sqlite3_errstr(rc),
			 strerror(-err), fs_hint(h->path));
	return rc;
}

/*
 * Opens (or reopens) the writer connection and rebuilds the in-memory state from the
 * file. -EINVAL: a file we must not touch (err says why). Other negative: try later.
 */
int pwh_open_writer(struct pw_history *h, bool integrity, char *err, size_t errlen)
{
	struct pwh_journal_image image = { 0 }; /* the journal's records to replay */
	uint32_t *map = NULL, nmap = 0;
	char mode[16] = "";
	sqlite3_stmt *st;
	int rc, v;

	pwh_close_db(h);
	rc = sqlite3_open_v2(h->path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		pwh_describe_failure(h, "cannot open", rc);
		snprintf(err, errlen, "%s", h->reason);
		pwh_close_db(h);
		return pwh_sqlite_errno(rc);
	}
	sqlite3_extended_result_codes(h->db, 1);
	/* a short wait rides over our own reader's brief locks, never stalls a snapshot */
	sqlite3_busy_timeout(h->db, 20);
	v = validate(h->db, h->path, integrity, err, errlen);
	if (v < 0) {
		pwh_close_db(h);
		return v;
	}
	if (sqlite3_db_readonly(h->db, "main") == 1) {
		snprintf(err, errlen, "cannot write %s: the file or its filesystem is read-only", h->path);
		pwh_close_db(h);
		return -EROFS;
	}
	rc = sqlite3_prepare_v2(h->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
		rc = sqlite3_errcode(h->db);
		sqlite3_finalize(st);
	}
	if (strcmp(mode, "wal")) {
		pwh_describe_failure(h, "cannot switch to WAL mode:", rc ? rc : SQLITE_ERROR);
		snprintf(err, errlen, "%s", h->reason);
		pwh_close_db(h);
		return pwh_sqlite_errno(rc ? rc : SQLITE_IOERR);
	}
	rc = pwh_exec(h->db, "PRAGMA synchronous=NORMAL; PRAGMA secure_delete=OFF; PRAGMA cache_size=-1024;"
			 "PRAGMA journal_size_limit=" WAL_BYTES_TEXT "; PRAGMA foreign_keys=OFF;");
	if (rc == SQLITE_OK && v == 1) {
		rc = pwh_exec(h->db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = pwh_exec(h->db, schema_sql);
		rc = rc == SQLITE_OK ? pwh_exec(h->db, "COMMIT") : rc;
		if (rc != SQLITE_OK)
			pwh_exec(h->db, "ROLLBACK");
	}
	if (rc == SQLITE_OK)
		rc = prepare(h);
	if (rc == SQLITE_OK)
		rc = load_registry(h, &map, &nmap);
	if (rc == SQLITE_OK && remap_ring(h, map, nmap) < 0)
		rc = SQLITE_NOMEM;
	free(map);
	if (rc == SQLITE_OK)
		rc = open_journal(h, &image);
	if (rc == SQLITE_OK)
		rc = load_pending(h);
	if (rc == SQLITE_OK)
		rc = replay_journal(h, &image);
	pwh_journal_image_free(&image);
	if (rc != SQLITE_OK) {
		if (h->jr_err)
			pwh_journal_failure(h, "cannot open", h->jr_err);
		else
			pwh_describe_failure(h, "cannot prepare", rc);
		h->jr_err = 0;
		snprintf(err, errlen, "%s", h->reason);
		pwh_close_db(h);
		return pwh_sqlite_errno(rc);
	}
	pwh_pruner_load(&h->pruner, h->reg.next_id - 1); /* on failure every tier gets a sweep */
	preallocate_wal(h);
	return 0;
}
