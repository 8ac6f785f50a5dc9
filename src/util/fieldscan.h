/* SPDX-License-Identifier: MIT */
/*
 * Bounded scanning of whitespace-separated procfs text: lines, tokens and unsigned
 * decimal numbers. Nothing here allocates or reads past `end`, and the buffers need no
 * NUL terminator, so a parser built on it can be fed any bytes (fuzzers do).
 */
#ifndef PW_FIELDSCAN_H
#define PW_FIELDSCAN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pw_tok {
	const char *p;
	size_t n;
};

/* The separators of procfs columns (what Python's str.split() splits ASCII text on). */
static inline bool pw_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The line starting at *pos (without its '\n'): fills *line and advances *pos past the
 * newline. False when *pos is at the end.
 */
static inline bool pw_next_line(const char **pos, const char *end, struct pw_tok *line)
{
	const char *p = *pos, *nl;

	if (p >= end)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	line->p = p;
	line->n = (size_t)((nl ? nl : end) - p);
	*pos = nl ? nl + 1 : end;
	return true;
}

/*
 * Like pw_next_line(), but a last line without its '\n' is not returned: the kernel ends
 * every line of these files with one, so a missing one means the text was cut short and
 * its last number may be cut too.
 */
static inline bool pw_next_full_line(const char **pos, const char *end, struct pw_tok *line)
{
	const char *p = *pos, *nl;

	if (p >= end)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl) {
		*pos = end;
		return false;
	}
	line->p = p;
	line->n = (size_t)(nl - p);
	*pos = nl + 1;
	return true;
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

		while (p < end && pw_is_blank(*p))
			p++;
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

/* How many lines [p, end) holds (a last one without '\n' counts): a bound on the entries. */
static inline uint32_t pw_count_lines(const char *p, const char *end)
{
	uint32_t n = 0;

	while (p < end && n < UINT32_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		n++;
		p = nl ? nl + 1 : end;
	}
	return n;
}

/* A token that is an unsigned decimal number fitting u64. 0, -EINVAL or -ERANGE. */
static inline int pw_tok_u64(struct pw_tok t, uint64_t *ret)
{
	uint64_t v = 0;

	if (!t.n)
		return -EINVAL;
	for (size_t i = 0; i < t.n; i++) {
		unsigned d = (unsigned char)t.p[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
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
