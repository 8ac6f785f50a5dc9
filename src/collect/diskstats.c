/* SPDX-License-Identifier: MIT */
#include "collect/diskstats.h"

#include "util/fieldscan.h"

#define MAX_FIELDS 24 /* more than any kernel prints; a longer line is read like an 18+ one */

uint64_t pw_sectors_to_bytes(uint64_t sectors)
{
	if (sectors > UINT64_MAX / PW_DISK_SECTOR_SIZE)
		return UINT64_MAX;
	return sectors * PW_DISK_SECTOR_SIZE;
}

static bool tok_u32(struct pw_tok t, uint32_t *ret)
{
	uint64_t v;

	if (pw_tok_u64(t, &v) < 0 || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Reads n consecutive number tokens into v; false when one is not a number. */
static bool toks_u64(const struct pw_tok *t, size_t n, uint64_t *v)
{
	for (size_t i = 0; i < n; i++)
		if (pw_tok_u64(t[i], &v[i]) < 0)
			return false;
	return true;
}

static bool parse_line(struct pw_tok line, struct pw_diskstats_entry *e)
{
	struct pw_tok t[MAX_FIELDS];
	size_t n = pw_split_blank(line.p, line.p + line.n, t, MAX_FIELDS);
	uint64_t v[11];

	if (n == 14 || n >= 18) {
		/* reads merged sectors ms writes merged sectors ms in_flight io_ms weighted_ms */
		if (!toks_u64(&t[3], 11, v))
			return false;
	} else if (n == 7) {
		/* an old partition line: reads sectors writes sectors; no times */
		uint64_t p[4];

		if (!toks_u64(&t[3], 4, p))
			return false;
		memset(v, 0, sizeof(v));
		v[0] = p[0];
		v[2] = p[1];
		v[4] = p[2];
		v[6] = p[3];
	} else {
		return false;
	}
	if (!tok_u32(t[0], &e->major) || !tok_u32(t[1], &e->minor))
		return false;
	if (!pw_tok_copy(t[2], e->name, sizeof(e->name)))
		return false;
	e->read_count = v[0];
	e->read_sectors = v[2];
	e->read_time_ms = v[3];
	e->write_count = v[4];
	e->write_sectors = v[6];
	e->write_time_ms = v[7];
	return true;
}

int pw_diskstats_parse(const char *buf, size_t len, pw_diskstats_cb cb, void *ctx)
{
	const char *pos = buf, *end = buf + len;
	struct pw_diskstats_entry e;
	struct pw_tok line;
	int n = 0, r;

	while (pw_next_full_line(&pos, end, &line)) {
		if (!parse_line(line, &e))
			continue;
		r = cb(ctx, &e);
		if (r < 0)
			return r;
		if (n < INT32_MAX)
			n++;
	}
	return n;
}
