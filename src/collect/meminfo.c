/* SPDX-License-Identifier: MIT */
#include "collect/meminfo.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/scan.h"

#define ERR(...) ((err && errlen) ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

static const struct {
	const char *name; /* without the colon */
	unsigned char len;
	bool kb;
} fields[PW_MI_NUM] = {
#define F(id, s, kb) [id] = { s, sizeof(s) - 1, kb }
	F(PW_MI_MEM_TOTAL, "MemTotal", true),
	F(PW_MI_MEM_FREE, "MemFree", true),
	F(PW_MI_MEM_AVAILABLE, "MemAvailable", true),
	F(PW_MI_BUFFERS, "Buffers", true),
	F(PW_MI_CACHED, "Cached", true),
	F(PW_MI_SRECLAIMABLE, "SReclaimable", true),
	F(PW_MI_ACTIVE_FILE, "Active(file)", true),
	F(PW_MI_INACTIVE_FILE, "Inactive(file)", true),
	F(PW_MI_SWAP_TOTAL, "SwapTotal", true),
	F(PW_MI_SWAP_FREE, "SwapFree", true),
	F(PW_MI_HUGEPAGES_TOTAL, "HugePages_Total", false),
	F(PW_MI_HUGEPAGES_FREE, "HugePages_Free", false),
	F(PW_MI_HUGEPAGES_RSVD, "HugePages_Rsvd", false),
	F(PW_MI_HUGEPAGESIZE, "Hugepagesize", true),
#undef F
};

static int lookup(const char *name, size_t len)
{
	/* about 55 lines against 14 names: a length check rejects almost all at once */
	for (int i = 0; i < PW_MI_NUM; i++)
		if (fields[i].len == len && !memcmp(fields[i].name, name, len))
			return i;
	return -1;
}

int meminfo_parse(const char *buf, size_t len, struct pw_meminfo *ret, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	struct pw_meminfo mi = { 0 };
	unsigned line = 0;

	if (!len) {
		ERR("empty");
		return -EBADMSG;
	}
	for (; p < end; p = pw_next_line(p, end)) {
		const char *eol = pw_line_end(p, end), *colon, *q;
		uint64_t v;
		int f, r;

		line++;
		if (p == eol)
			continue; /* a blank line */
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p) {
			ERR("line %u: no \"Name:\"", line);
			return -EBADMSG;
		}
		q = colon + 1;
		r = pw_scan_u64(&q, eol, &v);
		if (r < 0) {
			ERR("line %u: %.*s: %s", line, (int)(colon - p > 40 ? 40 : colon - p), p,
			    r == -ERANGE ? "a value over 2^64-1" : "not a number");
			return r;
		}
		q = pw_skip_blanks(q, eol);
		if (pw_starts_with(q, eol, "kB", 2))
			q = pw_skip_blanks(q + 2, eol);
		if (q != eol) {
			ERR("line %u: %.*s: junk after the value", line, (int)(colon - p > 40 ? 40 : colon - p), p);
			return -EBADMSG;
		}
		f = lookup(p, (size_t)(colon - p));
		if (f < 0)
			continue;
		if (fields[f].kb) {
			if (v > UINT64_MAX / 1024) {
				ERR("line %u: %s: %llu kB is over 2^64-1 bytes", line, fields[f].name,
				    (unsigned long long)v);
				return -ERANGE;
			}
			v *= 1024;
		}
		mi.v[f] = v;
		mi.have |= 1u << f;
	}
	if (!(mi.have & (1u << PW_MI_MEM_TOTAL)) || !(mi.have & (1u << PW_MI_MEM_FREE))) {
		ERR("no %s line (truncated?)", mi.have & (1u << PW_MI_MEM_TOTAL) ? "MemFree" : "MemTotal");
		return -EBADMSG;
	}
	if (!mi.v[PW_MI_MEM_TOTAL]) {
		ERR("MemTotal is 0");
		return -EBADMSG;
	}
	*ret = mi;
	return 0;
}

int zoneinfo_parse_low(const char *buf, size_t len, uint64_t *ret_pages)
{
	const char *p = buf, *end = buf + len;
	uint64_t sum = 0, v;

	for (; p < end; p = pw_next_line(p, end)) {
		const char *q = pw_skip_blanks(p, end);

		/* "        low      12345": the token "low" exactly */
		if (!pw_starts_with(q, end, "low", 3) || q + 3 >= end || !pw_is_blank(q[3]))
			continue;
		q += 3;
		if (pw_scan_u64(&q, end, &v) < 0 || v > UINT64_MAX - sum)
			return -EBADMSG;
		sum += v;
	}
	*ret_pages = sum;
	return 0;
}

static uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* psutil calculate_avail_vmem(): the kernel's MemAvailable formula before it had one */
static uint64_t estimate_available(const struct pw_meminfo *mi, const uint64_t *watermark_low)
{
	const uint32_t need = 1u << PW_MI_ACTIVE_FILE | 1u << PW_MI_INACTIVE_FILE | 1u << PW_MI_SRECLAIMABLE;
	double avail, pagecache, slab, wmark_low;

	if ((mi->have & need) != need || !watermark_low)
		return sat_add(mi->v[PW_MI_MEM_FREE], mi->v[PW_MI_CACHED]);
	wmark_low = (double)*watermark_low;
	avail = (double)mi->v[PW_MI_MEM_FREE] - wmark_low;
	pagecache = (double)mi->v[PW_MI_ACTIVE_FILE] + (double)mi->v[PW_MI_INACTIVE_FILE];
	pagecache -= fmin(pagecache / 2, wmark_low);
	slab = (double)mi->v[PW_MI_SRECLAIMABLE];
	avail += pagecache + slab - fmin(slab / 2, wmark_low);
	if (!(avail > 0))
		return 0;
	return avail >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)avail;
}

void meminfo_fill_memory(const struct pw_meminfo *mi, const uint64_t *watermark_low_bytes,
			 struct pw_memory *m)
{
	uint64_t total = mi->v[PW_MI_MEM_TOTAL], free = mi->v[PW_MI_MEM_FREE];
	uint64_t buffers = mi->v[PW_MI_BUFFERS], cached = 0, avail, taken;

	/* "free" adds reclaimable slab to the page cache (procps commit 05d751c4) */
	if (mi->have & (1u << PW_MI_CACHED))
		cached = sat_add(mi->v[PW_MI_CACHED], mi->v[PW_MI_SRECLAIMABLE]);
	taken = sat_add(sat_add(free, cached), buffers);
	/* psutil: a negative "used" happens in LXC containers; it falls back to total - free */
	m->used_bytes = taken <= total ? total - taken : sat_sub(total, free);
	if (mi->have & (1u << PW_MI_MEM_AVAILABLE))
		avail = mi->v[PW_MI_MEM_AVAILABLE];
	else
		avail = estimate_available(mi, watermark_low_bytes);
	if (avail > total) /* containers again (procps sysinfo.c) */
		avail = free;
	m->total_bytes = total;
	m->free_bytes = free;
	m->buffers_bytes = buffers;
	m->cached_bytes = cached;
	m->available_bytes = avail;
	m->usage_percent = total ? (double)(total - (avail > total ? total : avail)) / (double)total * 100.0 : NAN;
	m->swap_total_bytes = mi->v[PW_MI_SWAP_TOTAL];
	m->swap_free_bytes = mi->v[PW_MI_SWAP_FREE];
	m->swap_used_bytes = sat_sub(mi->v[PW_MI_SWAP_TOTAL], mi->v[PW_MI_SWAP_FREE]);
	m->hugepages_total = mi->v[PW_MI_HUGEPAGES_TOTAL];
	m->hugepages_free = mi->v[PW_MI_HUGEPAGES_FREE];
	m->hugepages_reserved = mi->v[PW_MI_HUGEPAGES_RSVD];
	m->hugepage_size_bytes = mi->v[PW_MI_HUGEPAGESIZE];
}
