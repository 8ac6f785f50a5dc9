/* SPDX-License-Identifier: MIT */
/*
 * A string copied into a fixed array, cut to fit and always terminated: what
 * snprintf(dst, cap, "%s", s) does, without the format parsing, for copies made at every
 * snapshot.
 */
#ifndef PW_STRCOPY_H
#define PW_STRCOPY_H

#include <stddef.h>
#include <string.h>

static inline void pw_str_copy(char *dst, size_t cap, const char *s)
{
	size_t n;

	if (!cap)
		return;
	n = strnlen(s, cap - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
}

#endif
