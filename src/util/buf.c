/* SPDX-License-Identifier: MIT */
#include "util/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pw_buf_reserve(struct pw_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (b->oom)
		return -ENOMEM;
	if (extra > SIZE_MAX / 2 - b->len)
		goto oom;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	p = realloc(b->data, ncap);
	if (!p)
		goto oom;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = ncap;
	return 0;
oom:
	b->oom = 1;
	return -ENOMEM;
}

void pw_buf_append_slow(struct pw_buf *b, const char *s, size_t n)
{
	if (pw_buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void pw_buf_puts(struct pw_buf *b, const char *s)
{
	pw_buf_append(b, s, strlen(s));
}

void pw_buf_vprintf(struct pw_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (pw_buf_reserve(b, 64) < 0)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		if (pw_buf_reserve(b, (size_t)n) < 0)
			return;
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void pw_buf_printf(struct pw_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pw_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void pw_buf_free(struct pw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}
