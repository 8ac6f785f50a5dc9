/* SPDX-License-Identifier: MIT */
/*
 * The writer. Each snapshot becomes one pending row (the journal) and is appended to the
 * in-memory open chunk; when the clock hour (or the interval) changes, the open chunk is
 * sealed in one transaction: its packed columns, its minute roll-ups, its hour roll-ups
 * merged into the day's hour chunk, and the pending rows deleted.
 *
 * When a write fails (disk full, read-only, locked, I/O error), snapshots are kept in a
 * bounded ring in memory and the store retries with a growing delay. A retry reopens the
 * database from scratch (the in-memory state is rebuilt from the pending rows), then
 * writes the ring through the normal path, so there is one way data gets in.
 */
#include "history/store.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/metrics.h"
#include "util/timeutil.h"

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t window_of(int64_t t_ms)
{
	return floor_div(t_ms, 3600000) * 3600;
}

int pwh_sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	default:
		return -EIO;
	}
}

/* ------------------------------------------------------------ the open chunk */
static void oc_reset(struct pwh_open_chunk *oc)
{
	for (uint32_t i = 0; i < oc->n_used; i++) {
		struct pwh_ocol *c = oc->cols[oc->used[i]];

		c->used = false;
		pw_buf_clear(&c->bytes);
		pwh_rollup_reset(&c->minutes);
	}
	oc->n_used = 0;
	oc->n = 0;
	oc->t0_ms = 0;
	oc->last_seq = 0;
	pw_buf_clear(&oc->tbytes);
}

static void oc_free(struct pwh_open_chunk *oc)
{
	for (uint32_t i = 0; i < oc->cap_cols; i++) {
		struct pwh_ocol *c = oc->cols[i];

		if (!c)
			continue;
		pw_buf_free(&c->bytes);
		pwh_rollup_free(&c->minutes);
		free(c);
	}
	free(oc->cols);
	free(oc->used);
	pw_buf_free(&oc->tbytes);
	memset(oc, 0, sizeof(*oc));
}

static struct pwh_ocol *oc_col(struct pwh_open_chunk *oc, uint32_t id, uint8_t kind)
{
	struct pwh_ocol *c;

	if (id >= oc->cap_cols) {
		uint32_t n = oc->cap_cols ? oc->cap_cols : 256;
		struct pwh_ocol **p;

		while (n <= id)
			n *= 2;
		p = realloc(oc->cols, (size_t)n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + oc->cap_cols, 0, (size_t)(n - oc->cap_cols) * sizeof(*p));
		oc->cols = p;
		oc->cap_cols = n;
	}
	c = oc->cols[id];
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		oc->cols[id] = c;
	}
	if (!c->used) {
		if (pw_array_reserve(&oc->used, &oc->cap_used, oc->n_used + 1, sizeof(*oc->used)) < 0)
			return NULL;
		oc->used[oc->n_used++] = id;
		c->used = true;
		c->id = id;
		c->kind = kind;
		c->first_idx = c->next_idx = oc->n;
		pwh_col_init(&c->st, (enum pwh_kind)kind);
		pw_buf_clear(&c->bytes);
		pwh_rollup_reset(&c->minutes);
	}
	return c;
}

static int oc_append(struct pw_history *h, int64_t t_ms, uint32_t interval_ms, int64_t seq,
		     const struct pwh_item *items, uint32_t n)
{
	struct pwh_open_chunk *oc = &h->oc;
	int64_t minute = floor_div(t_ms, 60000) * 60;

	if (oc->n == 0) {
		oc->window_s = window_of(t_ms);
		oc->t0_ms = t_ms;
		oc->interval_ms = interval_ms;
		pwh_col_init(&oc->tst, PWH_KIND_TIME);
		pw_buf_clear(&oc->tbytes);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct pwh_item *it = &items[i];
		struct pwh_series *s = pwh_registry_get(&h->reg, it->id);
		struct pwh_ocol *c;

		if (!s)
			continue; /* cannot happen: ids come from the registry */
		c = oc_col(oc, it->id, s->kind);
		if (!c)
			return -ENOMEM;
		if (c->next_idx > oc->n)
			continue; /* the same id twice in one row */
		while (c->next_idx < oc->n) {
			pwh_col_put(&c->st, &c->bytes, true, 0);
			c->next_idx++;
		}
		pwh_col_put(&c->st, &c->bytes, it->null, it->q);
		c->next_idx++;
		if (!it->null) {
			double v = pwh_q_value((enum pwh_kind)s->kind, it->q);

			if (isfinite(v) && pwh_rollup_add(&c->minutes, minute, v) < 0)
				return -ENOMEM;
		}
		if (c->bytes.oom)
			return -ENOMEM;
	}
	pwh_col_put(&oc->tst, &oc->tbytes, false, (uint64_t)t_ms);
	if (oc->tbytes.oom)
		return -ENOMEM;
	oc->n++;
	oc->last_seq = seq;
	return 0;
}

/* ------------------------------------------------------------ SQL helpers */
static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
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

static int put_chunk(struct pw_history *h, int tier, uint32_t id, int64_t t0_ms, const struct pw_buf *blob)
{
	sqlite3_stmt *st = h->st_chunk;
	int rc;

	sqlite3_bind_int(st, 1, tier);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, t0_ms);
	sqlite3_bind_blob(st, 4, blob->data, (int)blob->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int pack(struct pw_history *h, struct pwh_packer *pk)
{
	if (h->payload.oom)
		return SQLITE_NOMEM;
	return pwh_blob_pack(pk, (const uint8_t *)h->payload.data, h->payload.len, &h->blob) < 0 ? SQLITE_NOMEM
												 : SQLITE_OK;
}

/* Merges hour entries (sorted, one series) into the hour tier's day chunks. */
static int merge_hours(struct pw_history *h, struct pwh_packer *pk, uint32_t id, const struct pwh_agg *e, uint32_t n)
{
	uint32_t i = 0;
	int rc = SQLITE_OK;

	while (i < n && rc == SQLITE_OK) {
		int64_t day = floor_div(e[i].t_s, 86400) * 86400;
		struct pwh_agg *have = NULL;
		uint32_t nhave = 0, res, j = i;
		sqlite3_stmt *st = h->st_hour_get;

		while (j < n && floor_div(e[j].t_s, 86400) * 86400 == day)
			j++;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, day * 1000);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const uint8_t *b = sqlite3_column_blob(st, 0);
			size_t len = (size_t)sqlite3_column_bytes(st, 0);

			/* an unreadable day chunk is replaced rather than blocking every seal */
			if (b && pwh_blob_unpack(b, len, &h->payload) == 0)
				pwh_aggs_decode((const uint8_t *)h->payload.data, h->payload.len, &res, &have, &nhave);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
		sqlite3_reset(st);
		if (rc == SQLITE_OK && pwh_aggs_merge_into(&have, &nhave, e + i, j - i) < 0)
			rc = SQLITE_NOMEM;
		if (rc == SQLITE_OK) {
			pw_buf_clear(&h->payload);
			pwh_aggs_encode(&h->payload, 3600, have, nhave);
			rc = pack(h, pk);
		}
		if (rc == SQLITE_OK)
			rc = put_chunk(h, PWH_TIER_HOUR, id, day * 1000, &h->blob);
		free(have);
		i = j;
	}
	return rc;
}

static int seal(struct pw_history *h)
{
	struct pwh_open_chunk *oc = &h->oc;
	struct pwh_packer *pk = NULL;
	int rc;

	if (oc->n == 0)
		return SQLITE_OK;
	if (pwh_packer_new(&pk) < 0)
		return SQLITE_NOMEM;
	rc = exec(h->db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		goto out_free_packer;

	pw_buf_clear(&h->payload);
	pwh_put_varint(&h->payload, oc->interval_ms);
	pwh_col_header(&h->payload, PWH_KIND_TIME, 0, oc->n);
	pw_buf_append(&h->payload, oc->tbytes.data, oc->tbytes.len);
	rc = pack(h, pk);
	if (rc == SQLITE_OK)
		rc = put_chunk(h, PWH_TIER_RAW, 0, oc->t0_ms, &h->blob);

	for (uint32_t i = 0; i < oc->n_used && rc == SQLITE_OK; i++) {
		struct pwh_ocol *c = oc->cols[oc->used[i]];
		struct pwh_agg *hours = NULL;
		uint32_t nhours = 0;

		pw_buf_clear(&h->payload);
		pwh_col_header(&h->payload, (enum pwh_kind)c->kind, c->first_idx, c->next_idx - c->first_idx);
		pw_buf_append(&h->payload, c->bytes.data, c->bytes.len);
		rc = pack(h, pk);
		if (rc == SQLITE_OK)
			rc = put_chunk(h, PWH_TIER_RAW, c->id, oc->t0_ms, &h->blob);
		if (rc != SQLITE_OK)
			break;
		if (pwh_rollup_flush(&c->minutes) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (c->minutes.n == 0)
			continue; /* only nulls: nothing to roll up */
		pw_buf_clear(&h->payload);
		pwh_aggs_encode(&h->payload, 60, c->minutes.v, c->minutes.n);
		rc = pack(h, pk);
		if (rc == SQLITE_OK)
			rc = put_chunk(h, PWH_TIER_MINUTE, c->id, oc->t0_ms, &h->blob);
		if (rc == SQLITE_OK && pwh_aggs_regroup(c->minutes.v, c->minutes.n, 3600, &hours, &nhours) < 0)
			rc = SQLITE_NOMEM;
		if (rc == SQLITE_OK)
			rc = merge_hours(h, pk, c->id, hours, nhours);
		free(hours);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(h->st_del_pending, 1, oc->last_seq);
		rc = sqlite3_step(h->st_del_pending);
		sqlite3_reset(h->st_del_pending);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK)
		rc = exec(h->db, "COMMIT");
	if (rc != SQLITE_OK) {
		exec(h->db, "ROLLBACK");
		goto out_free_packer;
	}
	oc_reset(oc);
	h->seals++;
	h->pruner.active = true; /* time moved on by a chunk: look for expired ones */
out_free_packer:
	pwh_packer_free(pk);
	return rc;
}

/* Writes the series that have ids in memory only, inside the caller's transaction. */
static int persist_series(struct pw_history *h)
{
	for (uint32_t id = 1; id < h->reg.next_id; id++) {
		struct pwh_series *s = pwh_registry_get(&h->reg, id);
		int rc;

		if (!s || s->persisted)
			continue;
		sqlite3_bind_int64(h->st_series, 1, id);
		sqlite3_bind_text(h->st_series, 2, s->path, -1, SQLITE_STATIC);
		sqlite3_bind_int(h->st_series, 3, s->kind);
		rc = sqlite3_step(h->st_series);
		sqlite3_reset(h->st_series);
		if (rc != SQLITE_DONE)
			return rc;
	}
	return SQLITE_OK;
}

static void mark_persisted(struct pw_history *h)
{
	for (uint32_t id = 1; id < h->reg.next_id && h->reg.n_unpersisted; id++) {
		struct pwh_series *s = pwh_registry_get(&h->reg, id);

		if (s && !s->persisted) {
			s->persisted = true;
			h->reg.n_unpersisted--;
		}
	}
}

/* Journals one snapshot, then adds it to the open chunk (sealing the old one first). */
static int apply(struct pw_history *h, int64_t t_ms, uint32_t interval_ms, const uint8_t *row, size_t len,
		 const struct pwh_item *items, uint32_t n)
{
	struct pwh_open_chunk *oc = &h->oc;
	bool tx = h->reg.n_unpersisted > 0;
	int rc;

	if (oc->n > 0 && (window_of(t_ms) != oc->window_s || interval_ms != oc->interval_ms || oc->n >= PWH_CHUNK_MAX)) {
		rc = seal(h);
		if (rc != SQLITE_OK)
			return rc;
	}
	if (tx) {
		rc = exec(h->db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = persist_series(h);
		if (rc != SQLITE_OK) {
			exec(h->db, "ROLLBACK");
			return rc;
		}
	}
	sqlite3_bind_int64(h->st_pending, 1, t_ms);
	sqlite3_bind_int64(h->st_pending, 2, interval_ms);
	sqlite3_bind_blob(h->st_pending, 3, row, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(h->st_pending);
	sqlite3_reset(h->st_pending);
	sqlite3_clear_bindings(h->st_pending);
	rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	if (tx) {
		if (rc == SQLITE_OK)
			rc = exec(h->db, "COMMIT");
		if (rc != SQLITE_OK) {
			exec(h->db, "ROLLBACK");
			return rc;
		}
		mark_persisted(h);
	}
	if (rc != SQLITE_OK)
		return rc;
	if (oc_append(h, t_ms, interval_ms, sqlite3_last_insert_rowid(h->db), items, n) < 0)
		return SQLITE_NOMEM;
	h->inserts++;
	return SQLITE_OK;
}

/* ------------------------------------------------------------ rows <-> items */
struct collect_items {
	struct pw_history *h;
	int err;
};

static int push_item(struct pw_history *h, uint32_t id, bool null, uint64_t q)
{
	if (pw_array_reserve(&h->items, &h->cap_items, h->n_items + 1, sizeof(*h->items)) < 0)
		return -ENOMEM;
	h->items[h->n_items++] = (struct pwh_item){ .id = id, .null = null, .q = q };
	return 0;
}

static void visit_value(void *ctx, const char *path, size_t len, enum pwh_kind kind, bool null, uint64_t q)
{
	struct collect_items *ci = ctx;
	struct pw_history *h = ci->h;
	struct pwh_series *s = pwh_registry_find(&h->reg, path, len);

	if (!s)
		s = pwh_registry_add(&h->reg, path, len, 0, kind, false);
	if (!s) {
		ci->err = -ENOMEM;
		return;
	}
	if (s->kind != kind)
		return; /* stored by a PerfWatch that kept this field differently: left out */
	if (push_item(h, s->id, null, q) < 0)
		ci->err = -ENOMEM;
}

static void sort_items(struct pwh_item *v, uint32_t n)
{
	/* insertion sort: the walk hands ids out in order, so this is nearly always sorted */
	for (uint32_t i = 1; i < n; i++) {
		struct pwh_item x = v[i];
		uint32_t j = i;

		while (j > 0 && v[j - 1].id > x.id) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static int collect_item(void *ctx, const struct pwh_item *it)
{
	return push_item(ctx, it->id, it->null, it->q);
}

/* Decodes a row into h->items. */
static int row_items(struct pw_history *h, const uint8_t *p, size_t len)
{
	h->n_items = 0;
	return pwh_row_decode(p, len, collect_item, h);
}

/* ------------------------------------------------------------ the ring */
static void ring_drop_oldest(struct pw_history *h)
{
	struct pwh_ring_row *r = h->ring[h->ring_head];

	h->ring_bytes -= sizeof(*r) + r->len;
	free(r);
	h->ring[h->ring_head] = NULL;
	h->ring_head = (h->ring_head + 1) % h->ring_cap;
	h->ring_n--;
}

static void ring_push(struct pw_history *h, int64_t t_ms, uint32_t interval_ms, const struct pw_buf *row)
{
	struct pwh_ring_row *r;

	while (h->ring_n > 0 && h->ring_bytes + sizeof(*r) + row->len > PWH_RING_MAX_BYTES) {
		ring_drop_oldest(h);
		h->dropped++;
		h->total_dropped++;
	}
	if (h->ring_n == h->ring_cap) {
		uint32_t cap = h->ring_cap ? h->ring_cap * 2 : 64;
		struct pwh_ring_row **v = calloc(cap, sizeof(*v));

		if (!v)
			goto drop;
		for (uint32_t i = 0; i < h->ring_n; i++)
			v[i] = h->ring[(h->ring_head + i) % h->ring_cap];
		free(h->ring);
		h->ring = v;
		h->ring_cap = cap;
		h->ring_head = 0;
	}
	r = malloc(sizeof(*r) + row->len);
	if (!r)
		goto drop;
	r->t_ms = t_ms;
	r->interval_ms = interval_ms;
	r->len = (uint32_t)row->len;
	memcpy(r->data, row->data, row->len);
	h->ring[(h->ring_head + h->ring_n) % h->ring_cap] = r;
	h->ring_n++;
	h->ring_bytes += sizeof(*r) + r->len;
	return;
drop:
	h->dropped++;
	h->total_dropped++;
}

static void ring_clear(struct pw_history *h)
{
	while (h->ring_n)
		ring_drop_oldest(h);
	free(h->ring);
	h->ring = NULL;
	h->ring_cap = h->ring_head = 0;
}

/* ------------------------------------------------------------ opening */
static void finalize_statements(struct pw_history *h)
{
	sqlite3_finalize(h->st_pending);
	sqlite3_finalize(h->st_chunk);
	sqlite3_finalize(h->st_series);
	sqlite3_finalize(h->st_hour_get);
	sqlite3_finalize(h->st_del_pending);
	h->st_pending = h->st_chunk = h->st_series = h->st_hour_get = h->st_del_pending = NULL;
}

static void close_db(struct pw_history *h)
{
	finalize_statements(h);
	sqlite3_close_v2(h->db);
	h->db = NULL;
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
		snprintf(err, errlen, "cannot read %s: %s", path, sqlite3_errmsg(db));
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
		{ offsetof(struct pw_history, st_pending), "INSERT INTO pending(t_ms, interval_ms, data) VALUES(?,?,?)" },
		{ offsetof(struct pw_history, st_chunk),
		  "INSERT INTO chunk(tier, series, t0, data) VALUES(?,?,?,?) "
		  "ON CONFLICT(tier, series, t0) DO UPDATE SET data=excluded.data" },
		{ offsetof(struct pw_history, st_series), "INSERT OR REPLACE INTO series(id, path, kind) VALUES(?,?,?)" },
		{ offsetof(struct pw_history, st_hour_get), "SELECT data FROM chunk WHERE tier=2 AND series=? AND t0=?" },
		{ offsetof(struct pw_history, st_del_pending), "DELETE FROM pending WHERE seq<=?" },
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

		if (row_items(h, r->data, r->len) < 0)
			h->n_items = 0; /* cannot happen: we wrote it */
		for (uint32_t i = 0; i < h->n_items; i++) {
			uint32_t id = h->items[i].id;

			if (id < nmap && map[id]) {
				h->items[i].id = map[id];
				h->items[w++] = h->items[i];
			}
		}
		sort_items(h->items, w);
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

/* Rebuilds the open chunk from the pending rows. */
static int load_pending(struct pw_history *h)
{
	sqlite3_stmt *st;
	int rc;

	oc_reset(&h->oc);
	rc = sqlite3_prepare_v2(h->db, "SELECT seq, t_ms, interval_ms, data FROM pending ORDER BY seq", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), t_ms = sqlite3_column_int64(st, 1);
		int64_t interval = sqlite3_column_int64(st, 2);
		const uint8_t *data = sqlite3_column_blob(st, 3);
		int len = sqlite3_column_bytes(st, 3);

		if (!data || t_ms < 0 || interval < 0 || interval > UINT32_MAX || row_items(h, data, (size_t)len) < 0)
			continue; /* a damaged journal row is skipped, the rest still counts */
		if (h->oc.n > 0 && (window_of(t_ms) != h->oc.window_s || (uint32_t)interval != h->oc.interval_ms ||
				    h->oc.n >= PWH_CHUNK_MAX)) {
			rc = seal(h);
			if (rc != SQLITE_OK)
				break;
		}
		if (oc_append(h, t_ms, (uint32_t)interval, seq, h->items, h->n_items) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void set_status(struct pw_history *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(struct pw_history *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->status, sizeof(h->status), fmt, ap);
	va_end(ap);
}

/* Puts why rc happened into h->reason. */
static void describe_failure(struct pw_history *h, const char *what, int rc)
{
	const char *msg = h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc);
	int sys = h->db ? sqlite3_system_errno(h->db) : 0;

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		msg = "database is locked by another process";
	if (sys && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_FULL))
		snprintf(h->reason, sizeof(h->reason), "%s %s: %s (%s)", what, h->path, msg, strerror(sys));
	else
		snprintf(h->reason, sizeof(h->reason), "%s %s: %s", what, h->path, msg);
}

/*
 * Opens (or reopens) the writer connection and rebuilds the in-memory state from the
 * file. -EINVAL: a file we must not touch (err says why). Other negative: try later.
 */
static int open_writer(struct pw_history *h, bool integrity, char *err, size_t errlen)
{
	uint32_t *map = NULL, nmap = 0;
	char mode[16] = "";
	sqlite3_stmt *st;
	int rc, v;

	close_db(h);
	rc = sqlite3_open_v2(h->path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		describe_failure(h, "cannot open", rc);
		snprintf(err, errlen, "%s", h->reason);
		close_db(h);
		return pwh_sqlite_errno(rc);
	}
	sqlite3_extended_result_codes(h->db, 1);
	/* a short wait rides over our own reader's brief locks, never stalls a snapshot */
	sqlite3_busy_timeout(h->db, 20);
	v = validate(h->db, h->path, integrity, err, errlen);
	if (v < 0) {
		close_db(h);
		return v;
	}
	if (sqlite3_db_readonly(h->db, "main") == 1) {
		snprintf(err, errlen, "cannot write %s: the file or its filesystem is read-only", h->path);
		close_db(h);
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
		describe_failure(h, "cannot switch to WAL mode:", rc ? rc : SQLITE_ERROR);
		snprintf(err, errlen, "%s", h->reason);
		close_db(h);
		return pwh_sqlite_errno(rc ? rc : SQLITE_IOERR);
	}
	rc = exec(h->db, "PRAGMA synchronous=NORMAL; PRAGMA secure_delete=OFF; PRAGMA cache_size=-1024;"
			 "PRAGMA journal_size_limit=4194304; PRAGMA foreign_keys=OFF;");
	if (rc == SQLITE_OK && v == 1) {
		rc = exec(h->db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = exec(h->db, schema_sql);
		rc = rc == SQLITE_OK ? exec(h->db, "COMMIT") : rc;
		if (rc != SQLITE_OK)
			exec(h->db, "ROLLBACK");
	}
	if (rc == SQLITE_OK)
		rc = prepare(h);
	if (rc == SQLITE_OK)
		rc = load_registry(h, &map, &nmap);
	if (rc == SQLITE_OK && remap_ring(h, map, nmap) < 0)
		rc = SQLITE_NOMEM;
	free(map);
	if (rc == SQLITE_OK)
		rc = load_pending(h);
	if (rc != SQLITE_OK) {
		describe_failure(h, "cannot prepare", rc);
		snprintf(err, errlen, "%s", h->reason);
		close_db(h);
		return pwh_sqlite_errno(rc);
	}
	h->pruner.active = true;
	return 0;
}

/* ------------------------------------------------------------ failure and recovery */
static void update_broken_status(struct pw_history *h)
{
	if (h->dropped)
		set_status(h, "%.180s; retrying, %u snapshots held in memory, %" PRIu64 " dropped", h->reason,
			   h->ring_n, h->dropped);
	else
		set_status(h, "%.200s; retrying, %u snapshots held in memory", h->reason, h->ring_n);
}

static void schedule_retry(struct pw_history *h)
{
	uint64_t now = pw_mono_ns();

	h->retry_delay_ns = h->retry_delay_ns ? h->retry_delay_ns * 2 : PWH_RETRY_MIN_NS;
	if (h->retry_delay_ns > PWH_RETRY_MAX_NS)
		h->retry_delay_ns = PWH_RETRY_MAX_NS;
	h->retry_at_ns = now + h->retry_delay_ns;
}

static void go_broken(struct pw_history *h, int rc)
{
	describe_failure(h, "cannot write", rc);
	h->broken = true;
	h->last_rc = rc;
	schedule_retry(h);
	update_broken_status(h);
}

static void try_recover(struct pw_history *h)
{
	char err[PW_ERROR_MAX] = "";
	int rc;

	if (pw_mono_ns() < h->retry_at_ns)
		return;
	if (open_writer(h, false, err, sizeof(err)) < 0) {
		snprintf(h->reason, sizeof(h->reason), "%s", err);
		schedule_retry(h);
		update_broken_status(h);
		return;
	}
	while (h->ring_n > 0) {
		struct pwh_ring_row *r = h->ring[h->ring_head];

		if (row_items(h, r->data, r->len) < 0) {
			ring_drop_oldest(h);
			continue;
		}
		rc = apply(h, r->t_ms, r->interval_ms, r->data, r->len, h->items, h->n_items);
		if (rc != SQLITE_OK) {
			go_broken(h, rc);
			return;
		}
		ring_drop_oldest(h);
	}
	h->broken = false;
	h->retry_delay_ns = 0;
	h->dropped = 0;
	h->reason[0] = h->status[0] = '\0';
}

/* ------------------------------------------------------------ API */
int pwh_store_open(struct pw_history *h, char *err, size_t errlen)
{
	int rc;

	pwh_registry_init(&h->reg);
	rc = open_writer(h, true, err, errlen);
	if (rc == -EINVAL)
		return rc;
	if (rc < 0) {
		snprintf(h->reason, sizeof(h->reason), "%s", err);
		h->broken = true;
		schedule_retry(h);
		update_broken_status(h);
	}
	return 0;
}

void pwh_store_close(struct pw_history *h)
{
	close_db(h);
	oc_free(&h->oc);
	pwh_registry_free(&h->reg);
	ring_clear(h);
	free(h->items);
	h->items = NULL;
	h->n_items = h->cap_items = 0;
	pw_buf_free(&h->row);
	pw_buf_free(&h->payload);
	pw_buf_free(&h->blob);
}

void pwh_store_insert(struct pw_history *h, const struct snapshot *s)
{
	struct collect_items ci = { .h = h };
	int64_t t_ms;
	uint32_t interval_ms;
	int rc;

	if (!(s->timestamp > 0 && s->timestamp < 1e11) || !(s->interval_s > 0 && s->interval_s < 1e6))
		return; /* a clock this far off cannot be placed in time */
	t_ms = (int64_t)llround(s->timestamp * 1000.0);
	interval_ms = (uint32_t)llround(s->interval_s * 1000.0);
	h->n_items = 0;
	pwh_snapshot_visit(s, visit_value, &ci);
	if (ci.err) {
		h->dropped++;
		h->total_dropped++;
		return;
	}
	sort_items(h->items, h->n_items);
	pw_buf_clear(&h->row);
	pwh_row_encode(&h->row, h->items, h->n_items);
	if (h->row.oom) {
		h->dropped++;
		h->total_dropped++;
		return;
	}
	if (h->broken) {
		ring_push(h, t_ms, interval_ms, &h->row);
		try_recover(h);
		if (h->broken)
			update_broken_status(h);
		return;
	}
	rc = apply(h, t_ms, interval_ms, (const uint8_t *)h->row.data, h->row.len, h->items, h->n_items);
	if (rc != SQLITE_OK) {
		ring_push(h, t_ms, interval_ms, &h->row);
		go_broken(h, rc);
		return;
	}
	if (h->pruner.active)
		pwh_prune_step(h->db, &h->pruner, &h->retention, t_ms / 1000, h->reg.next_id - 1, 16, 32);
}

int pwh_store_seal(struct pw_history *h)
{
	int rc;

	if (h->broken || !h->db)
		return -EIO;
	rc = seal(h);
	if (rc != SQLITE_OK) {
		go_broken(h, rc);
		return pwh_sqlite_errno(rc);
	}
	return 0;
}
