/* SPDX-License-Identifier: MIT */
/*
 * Bounded scanning of procfs/sysfs text. Every helper works on [*pp, end), never reads
 * at or past end and never needs a NUL terminator, so parsers can take (buf, len) from a
 * fuzzer as well as from pw_read_file_at(). Numbers are parsed by hand: sscanf/strtoull
 * per field would cost more than the rest of a collector, and they read past a
 * non-terminated buffer.
 */
#ifndef PW_SCAN_H
#define PW_SCAN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline bool pw_is_blank(char c) { return c == ' ' || c == '\t'; }
static inline bool pw_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Skips spaces and tabs (not newlines). */
static inline const char *pw_skip_blanks(const char *p, const char *end)
{
	while (p < end && pw_is_blank(*p))
		p++;
	return p;
}

/* The start of the next line: just past the next '\n', or end. */
static inline const char *pw_next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* The end of the current line: the '\n' itself, or end. */
static inline const char *pw_line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

/*
 * Skips blanks, then parses one unsigned decimal number that must end at a blank, a
 * newline or end. On success *pp points just past the digits and *ret holds the value.
 * -EBADMSG: no digits, or something other than a separator right after them.
 * -ERANGE: more than UINT64_MAX.
 */
static inline int pw_scan_u64(const char **pp, const char *end, uint64_t *ret)
{
	const char *p = pw_skip_blanks(*pp, end);
	const char *start = p;
	uint64_t v = 0;

	while (p < end && pw_is_digit(*p)) {
		unsigned d = (unsigned)(*p - '0');

		/* constants only: no division per digit */
		if (v >= UINT64_MAX / 10 && (v > UINT64_MAX / 10 || d > UINT64_MAX % 10))
			return -ERANGE;
		v = v * 10 + d;
		p++;
	}
	if (p == start)
		return -EBADMSG;
	if (p < end && !pw_is_blank(*p) && *p != '\n')
		return -EBADMSG;
	*pp = p;
	*ret = v;
	return 0;
}

/*
 * Skips blanks, then parses a non-negative decimal such as "2299.998" (no sign, no
 * exponent: what /proc/cpuinfo prints), ending like pw_scan_u64's numbers. The digits
 * are gathered as an integer and divided once, so "2299.998" is the double nearest to
 * it; fraction digits past the 19th (significant or not) are dropped.
 */
static inline int pw_scan_udecimal(const char **pp, const char *end, double *ret)
{
	static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
					1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19 };
	const char *p = pw_skip_blanks(*pp, end);
	uint64_t mant = 0;
	unsigned sig = 0, frac = 0;
	bool any = false;

	for (; p < end && pw_is_digit(*p); p++) {
		any = true;
		if (sig == 19)
			return -ERANGE; /* no frequency has 20 integer digits */
		mant = mant * 10 + (uint64_t)(*p - '0');
		if (mant)
			sig++;
	}
	if (p < end && *p == '.') {
		for (p++; p < end && pw_is_digit(*p); p++) {
			any = true;
			if (sig == 19 || frac == 19)
				continue;
			mant = mant * 10 + (uint64_t)(*p - '0');
			if (mant)
				sig++;
			frac++;
		}
	}
	if (!any)
		return -EBADMSG;
	if (p < end && !pw_is_blank(*p) && *p != '\n')
		return -EBADMSG;
	*pp = p;
	*ret = (double)mant / pow10[frac];
	return 0;
}

/* True when [p, end) holds only blanks and then at most a '\n': the tail of a sysfs value. */
static inline bool pw_at_value_end(const char *p, const char *end)
{
	p = pw_skip_blanks(p, end);
	if (p < end && *p == '\n')
		p++;
	return p == end;
}

/* True when [p, end) starts with the literal s (of length n). */
static inline bool pw_starts_with(const char *p, const char *end, const char *s, size_t n)
{
	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

#endif
