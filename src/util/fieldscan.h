/* SPDX-License-Identifier: MIT */
/*
 * Whitespace-separated fields of procfs lines as tokens, on top of util/scan.h: for the
 * files whose shape is told by how many fields a line has (diskstats) or by a separator
 * field (mountinfo's "-"). Nothing here allocates or reads past `end`, and no NUL
 * terminator is needed, so the parsers built on it can be fed any bytes.
 */
#ifndef PW_FIELDSCAN_H
#define PW_FIELDSCAN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/scan.h"

struct pw_tok {
	const char *p;
	size_t n;
};

/*
 * The complete line at *pos (without its '\n') into *line, *pos moved past it. False at
 * the end, and for a last line without its '\n': the kernel ends every line of these
 * files with one, so a missing one means the text was cut short, maybe mid-number.
 */
static inline bool pw_next_full_line(const char **pos, const char *end, struct pw_tok *line)
{
	const char *p = *pos, *nl;

	if (p >= end)
		return false;
	nl = pw_line_end(p, end);
	if (nl == end) {
		*pos = end;
		return false;
	}
	line->p = p;
	line->n = (size_t)(nl - p);
	*pos = nl + 1;
	return true;
}

/*
 * The loop of the parsers that make one entry of each complete line and hand it to a
 * callback: parse_line(line, entry) on every line (false: not an entry, skipped), then
 * cb(ctx, entry). A negative return from cb stops the loop and is the result; otherwise
 * the result is how many entries cb took (at most INT32_MAX). A macro so that entry and
 * cb keep their own types.
 */
#define pw_parse_entry_lines(buf, len, parse_line, entry, cb, ctx)                                 \
	({                                                                                         \
		const char *pw_pos_ = (buf), *pw_end_ = pw_pos_ + (len);                           \
		struct pw_tok pw_line_;                                                            \
		int pw_n_ = 0, pw_r_ = 0;                                                          \
                                                                                                   \
		while (pw_next_full_line(&pw_pos_, pw_end_, &pw_line_)) {                          \
			if (!parse_line(pw_line_, (entry)))                                        \
				continue;                                                          \
			pw_r_ = (cb)((ctx), (entry));                                              \
			if (pw_r_ < 0)                                                             \
				break;                                                             \
			if (pw_n_ < INT32_MAX)                                                     \
				pw_n_++;                                                           \
		}                                                                                  \
		pw_r_ < 0 ? pw_r_ : pw_n_;                                                         \
	})

/* How many lines [p, end) holds (a last one without '\n' counts): a bound on the entries. */
static inline uint32_t pw_count_lines(const char *p, const char *end)
{
	uint32_t n = 0;

	for (; p < end && n < UINT32_MAX; p = pw_next_line(p, end))
		n++;
	return n;
}

/*
 * Splits [p, end) at blanks. Stores the first `max` tokens and returns how many there
 * are in all (which may be more than max).
 */
static inline size_t pw_split_blank(const char *p, const char *end, struct pw_tok *toks, size_t max)
{
	size_t n = 0;

	for (;;) {
		const char *start;

		p = pw_skip_blanks(p, end);
		if (p >= end)
			return n;
		start = p;
		while (p < end && !pw_is_blank(*p))
			p++;
		if (n < max) {
			toks[n].p = start;
			toks[n].n = (size_t)(p - start);
		}
		n++;
	}
}

/* A token that is an unsigned decimal number fitting u64. 0, -EBADMSG or -ERANGE. */
static inline int pw_tok_u64(struct pw_tok t, uint64_t *ret)
{
	const char *p = t.p, *end = t.p + t.n;
	uint64_t v;
	int r;

	if (!t.n)
		return -EBADMSG;
	r = pw_scan_u64(&p, end, &v);
	if (r < 0)
		return r;
	if (p != end)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* A token that is an unsigned decimal number fitting u32 (a device major or minor). */
static inline bool pw_tok_u32(struct pw_tok t, uint32_t *ret)
{
	uint64_t v;

	if (pw_tok_u64(t, &v) < 0 || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Reads n consecutive number tokens into v; false when one is not a number. */
static inline bool pw_toks_u64(const struct pw_tok *t, size_t n, uint64_t *v)
{
	for (size_t i = 0; i < n; i++)
		if (pw_tok_u64(t[i], &v[i]) < 0)
			return false;
	return true;
}

static inline bool pw_tok_eq(struct pw_tok t, const char *s)
{
	size_t n = strlen(s);

	return t.n == n && !memcmp(t.p, s, n);
}

/* Copies a token into a NUL-terminated buffer; false when it does not fit or holds a NUL. */
static inline bool pw_tok_copy(struct pw_tok t, char *dst, size_t dstlen)
{
	if (t.n >= dstlen || memchr(t.p, '\0', t.n))
		return false;
	memcpy(dst, t.p, t.n);
	dst[t.n] = '\0';
	return true;
}

#endif
