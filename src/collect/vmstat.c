/* SPDX-License-Identifier: MIT */
#include "collect/vmstat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/rate.h"
#include "util/scan.h"

#define ERR(...) ((err && errlen) ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

static const struct {
	const char *name;
	unsigned char len;
} fields[PW_VM_NUM] = {
#define F(id, s) [id] = { s, sizeof(s) - 1 }
	F(PW_VM_PGPGIN, "pgpgin"),
	F(PW_VM_PGPGOUT, "pgpgout"),
	F(PW_VM_PSWPIN, "pswpin"),
	F(PW_VM_PSWPOUT, "pswpout"),
	F(PW_VM_PGFAULT, "pgfault"),
	F(PW_VM_PGMAJFAULT, "pgmajfault"),
#undef F
};

static int lookup(const char *name, size_t len)
{
	/* 180-odd lines, six names that all start with 'p' */
	if (*name != 'p')
		return -1;
	for (int i = 0; i < PW_VM_NUM; i++)
		if (fields[i].len == len && !memcmp(fields[i].name, name, len))
			return i;
	return -1;
}

int vmstat_parse(const char *buf, size_t len, struct pw_vmstat *ret, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	struct pw_vmstat vs = { 0 };
	unsigned line = 0;

	if (!len) {
		ERR("empty");
		return -EBADMSG;
	}
	for (; p < end; p = pw_next_line(p, end)) {
		const char *eol = pw_line_end(p, end), *q = p;
		uint64_t v;
		int f, r;

		line++;
		if (p == eol)
			continue;
		while (q < eol && !pw_is_blank(*q))
			q++;
		if (q == p || q == eol) {
			ERR("line %u: not \"name value\"", line);
			return -EBADMSG;
		}
		f = lookup(p, (size_t)(q - p));
		r = pw_scan_u64(&q, eol, &v);
		if (r == 0 && pw_skip_blanks(q, eol) != eol)
			r = -EBADMSG;
		if (r < 0) {
			ERR("line %u: %.*s: %s", line, (int)(q - p > 40 ? 40 : q - p), p,
			    r == -ERANGE ? "a value over 2^64-1" : "not a number");
			return r;
		}
		if (f >= 0) {
			vs.v[f] = v;
			vs.have |= 1u << f;
		}
	}
	*ret = vs;
	return 0;
}

static double rate_of(const struct pw_vmstat *prev, const struct pw_vmstat *cur, int f, double dt_s)
{
	uint32_t bit = 1u << f;

	if (!prev || !(prev->have & bit) || !(cur->have & bit))
		return NAN;
	return pw_rate(prev->v[f], cur->v[f], dt_s);
}

void vmstat_fill_memory(const struct pw_vmstat *prev, const struct pw_vmstat *cur, double dt_s,
			uint64_t page_size, struct pw_memory *m)
{
	m->pgpgin_per_sec = rate_of(prev, cur, PW_VM_PGPGIN, dt_s);
	m->pgpgout_per_sec = rate_of(prev, cur, PW_VM_PGPGOUT, dt_s);
	m->pswpin_per_sec = rate_of(prev, cur, PW_VM_PSWPIN, dt_s);
	m->pswpout_per_sec = rate_of(prev, cur, PW_VM_PSWPOUT, dt_s);
	m->pgfault_per_sec = rate_of(prev, cur, PW_VM_PGFAULT, dt_s);
	m->pgmajfault_per_sec = rate_of(prev, cur, PW_VM_PGMAJFAULT, dt_s);
	/* a NAN operand makes the sum NAN: null whenever either part is */
	m->page_io_bytes_per_sec = (m->pgpgin_per_sec + m->pgpgout_per_sec) * 1024.0;
	m->swap_io_bytes_per_sec = (m->pswpin_per_sec + m->pswpout_per_sec) * (double)page_size;
}
