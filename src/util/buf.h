/* SPDX-License-Identifier: MIT */
/* A growable byte buffer: what readers fill and writers append to. */
#ifndef PW_BUF_H
#define PW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct pw_buf {
	char *data; /* always NUL-terminated when len > 0 or after pw_buf_reserve() */
	size_t len;
	size_t cap;
	int oom; /* sticky: an append failed for lack of memory */
};

int pw_buf_reserve(struct pw_buf *b, size_t extra); /* room for len + extra + NUL */
void pw_buf_append_slow(struct pw_buf *b, const char *s, size_t n); /* grows it first */
/* Inline when it fits: a snapshot's JSON and history row are thousands of short appends. */
static inline void pw_buf_append(struct pw_buf *b, const char *s, size_t n)
{
	if (!b->oom && n < b->cap - b->len) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	pw_buf_append_slow(b, s, n);
}
void pw_buf_puts(struct pw_buf *b, const char *s);
void pw_buf_printf(struct pw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pw_buf_vprintf(struct pw_buf *b, const char *fmt, va_list ap);
static inline void pw_buf_clear(struct pw_buf *b) { b->len = 0; b->oom = 0; if (b->data) b->data[0] = '\0'; }
void pw_buf_free(struct pw_buf *b); /* accepts a zeroed buffer */

#endif
