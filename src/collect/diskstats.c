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

static bool parse_line(struct pw_tok line, struct pw_diskstats_entry *e)
{
	struct pw_tok t[MAX_FIELDS];
	size_t n = pw_split_blank(line.p, line.p + line.n, t, MAX_FIELDS);
	uint64_t v[11];

	if (n == 14 || n >= 18) {
		/* reads merged sectors ms writes merged sectors ms in_flight io_ms weighted_ms */
		if (!pw_toks_u64(&t[3], 11, v))
			return false;
	} else if (n == 7) {
		/* an old partition line: reads sectors writes sectors; no times */
		uint64_t p[4];

		if (!pw_toks_u64(&t[3], 4, p))
			return false;
		memset(v, 0, sizeof(v));
		v[0] = p[0];
		v[2] = p[1];
		v[4] = p[2];
		v[6] = p[3];
	} else {
		return false;
	}
	if (!pw_tok_u32(t[0], &e->major) || !pw_tok_u32(t[1], &e->minor))
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
	struct pw_diskstats_entry e;

	return pw_parse_entry_lines(buf, len, parse_line, &e, cb, ctx);
}
