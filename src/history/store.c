/* SPDX-License-Identifier: MIT */
/*
 * The writer. Each snapshot becomes one record of the journal file (journal.h) and is
 * appended to the in-memory open chunk; when the clock hour (or the interval) changes, the
 * open chunk is sealed in one transaction: its packed columns, its minute roll-ups, its
 * hour roll-ups merged into the day's hour chunk, and the journal generation it holds.
 * The journal is then emptied under the next generation.
 *
 * When a write fails (disk full, read-only, locked, I/O error), snapshots are kept in a
 * bounded ring in memory and the store retries with a growing delay. A retry reopens the
 * database from scratch (the in-memory state is rebuilt from the journal), then writes
 * the ring through the normal path, so there is one way data gets in.
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

int64_t pwh_window_of(int64_t t_ms)
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
void pwh_oc_reset(struct pwh_open_chunk *oc)
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

int pwh_oc_append(struct pw_history *h, int64_t t_ms, uint32_t interval_ms, int64_t seq,
		     const struct pwh_item *items, uint32_t n)
{
	struct pwh_open_chunk *oc = &h->oc;
	int64_t minute = floor_div(t_ms, 60000) * 60;

	if (oc->n == 0) {
		oc->window_s = pwh_window_of(t_ms);
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
	if (seq > 0)
		oc->last_seq = seq;
	return 0;
}

/* ------------------------------------------------------------ SQL helpers */
int pwh_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int put_chunk(struct pw_history *h, int tier, uint32_t id, int64_t t0_ms, const struct pw_buf *blob)
{
	sqlite3_stmt *st = h->st_chunk;
	int rc;

	sqlite3_bind_int(st, 1, tier);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, t0_ms);
	sqlite3_bind_blob(st, 4, blob->data, (int)blob->len, SQLITE_STATIC);
	rc = sqlite3_step(st); /* every parameter is bound each time: no clear_bindings */
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return rc;
	pwh_pruner_saw(&h->pruner, (uint32_t)tier, t0_ms);
	return SQLITE_OK;
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

int pwh_seal(struct pw_history *h)
{
	struct pwh_open_chunk *oc = &h->oc;
	struct pwh_packer *pk = NULL;
	int rc, jerr;

	if (oc->n == 0)
		return SQLITE_OK;
	if (pwh_packer_new(&pk) < 0)
		return SQLITE_NOMEM;
	/* on disk before the journal is emptied, or a power cut could lose the hour */
	rc = pwh_exec(h->db, "PRAGMA synchronous=FULL");
	if (rc == SQLITE_OK)
		rc = pwh_exec(h->db, "BEGIN IMMEDIATE");
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
	if (rc == SQLITE_OK && oc->last_seq > 0) {
		sqlite3_bind_int64(h->st_del_pending, 1, oc->last_seq);
		rc = sqlite3_step(h->st_del_pending);
		sqlite3_reset(h->st_del_pending);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(h->st_sealed, 1, (int64_t)h->jr.gen);
		rc = sqlite3_step(h->st_sealed);
		sqlite3_reset(h->st_sealed);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK)
		rc = pwh_exec(h->db, "COMMIT");
	if (rc != SQLITE_OK) {
		pwh_exec(h->db, "ROLLBACK");
		goto out_free_packer;
	}
	pwh_oc_reset(oc);
	h->seals++;
	jerr = pwh_journal_reset(&h->jr, h->jr.gen + 1);
	if (jerr < 0) {
		/* sealed all the same: the next open finds the generation sealed and drops it */
		h->jr_err = jerr;
		rc = SQLITE_IOERR;
	}
out_free_packer:
	pwh_exec(h->db, "PRAGMA synchronous=NORMAL");
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
	int rc, err;

	if (oc->n > 0 && (pwh_window_of(t_ms) != oc->window_s || interval_ms != oc->interval_ms || oc->n >= PWH_CHUNK_MAX)) {
		rc = pwh_seal(h);
		if (rc != SQLITE_OK)
			return rc;
	}
	if (h->reg.n_unpersisted > 0) {
		/* the journal's rows name series by id: the ids are in the file first */
		rc = pwh_exec(h->db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = persist_series(h);
		if (rc == SQLITE_OK)
			rc = pwh_exec(h->db, "COMMIT");
		if (rc != SQLITE_OK) {
			pwh_exec(h->db, "ROLLBACK");
			return rc;
		}
		mark_persisted(h);
	}
	err = pwh_journal_append(&h->jr, t_ms, interval_ms, row, len);
	if (err < 0) {
		h->jr_err = err;
		return SQLITE_IOERR;
	}
	if (pwh_oc_append(h, t_ms, interval_ms, 0, items, n) < 0)
		return SQLITE_NOMEM;
	h->inserts++;
	return SQLITE_OK;
}

/* ------------------------------------------------------------ rows <-> items */
struct collect_items {
	struct pw_history *h;
	uint32_t k; /* values visited so far */
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
	uint32_t k = ci->k++;
	struct pwh_series *s = k < h->n_order ? h->order[k] : NULL;

	/* the walk emits the same paths in the same order every snapshot: one compare with
	 * the series at this place last time is enough, the hash only when the set changed */
	if (!s || s->len != len || memcmp(s->path, path, len)) {
		s = pwh_registry_find(&h->reg, path, len);
		if (!s)
			s = pwh_registry_add(&h->reg, path, len, 0, kind, false);
		if (!s || pw_array_reserve(&h->order, &h->cap_order, k + 1, sizeof(*h->order)) < 0) {
			ci->err = -ENOMEM;
			return;
		}
		h->order[k] = s;
		if (k >= h->n_order)
			h->n_order = k + 1;
	}
	if (s->kind != kind)
		return; /* stored by a PerfWatch that kept this field differently: left out */
	if (push_item(h, s->id, null, q) < 0)
		ci->err = -ENOMEM;
}

void pwh_sort_items(struct pwh_item *v, uint32_t n)
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
int pwh_row_items(struct pw_history *h, const uint8_t *p, size_t len)
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

static void set_status(struct pw_history *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(struct pw_history *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->status, sizeof(h->status), fmt, ap);
	va_end(ap);
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
	if (h->jr_err)
		pwh_journal_failure(h, "cannot write", h->jr_err);
	else
		pwh_describe_failure(h, "cannot write", rc);
	h->jr_err = 0;
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
	if (pwh_open_writer(h, false, err, sizeof(err)) < 0) {
		snprintf(h->reason, sizeof(h->reason), "%s", err);
		schedule_retry(h);
		update_broken_status(h);
		return;
	}
	while (h->ring_n > 0) {
		struct pwh_ring_row *r = h->ring[h->ring_head];

		if (pwh_row_items(h, r->data, r->len) < 0) {
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
	rc = pwh_open_writer(h, true, err, errlen);
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
	pwh_close_db(h);
	oc_free(&h->oc);
	pwh_registry_free(&h->reg);
	free(h->order);
	h->order = NULL;
	h->n_order = h->cap_order = 0;
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
	h->n_order = ci.k < h->n_order ? ci.k : h->n_order;
	if (ci.err) {
		h->dropped++;
		h->total_dropped++;
		return;
	}
	pwh_sort_items(h->items, h->n_items);
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
	/* nothing (no SQL) unless a tier's oldest chunk has expired */
	pwh_prune_step(h->db, &h->pruner, &h->retention, t_ms / 1000, h->reg.next_id - 1, 16, 32);
}

int pwh_store_seal(struct pw_history *h)
{
	int rc;

	if (h->broken || !h->db)
		return -EIO;
	rc = pwh_seal(h);
	if (rc != SQLITE_OK) {
		go_broken(h, rc);
		return pwh_sqlite_errno(rc);
	}
	return 0;
}
