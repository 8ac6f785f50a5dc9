/* SPDX-License-Identifier: MIT */
/*
 * Decimal digits of an integer without printf: the JSON writer and /metrics write
 * hundreds of integers per snapshot, and printf's format parsing costs more than the
 * digits themselves. And of the doubles JSON carries (decimal.c).
 */
#ifndef PW_DECIMAL_H
#define PW_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define PW_DEC_MAX 21 /* "-9223372036854775808" and room to spare */

/* Writes v's digits ending at out + PW_DEC_MAX; returns where they start. */
static inline char *pw_dec_u64(char out[PW_DEC_MAX], uint64_t v)
{
	char *p = out + PW_DEC_MAX;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static inline char *pw_dec_i64(char out[PW_DEC_MAX], int64_t v)
{
	char *p = pw_dec_u64(out, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);

	if (v < 0)
		*--p = '-';
	return p;
}

/* The longest text pw_dec_g12 writes: "-0.000123456789012". */
#define PW_G12_MAX 24

/*
 * printf("%.12g", v)'s text for 1e-4 <= |v| < 1e11, in out, not terminated; its length, or
 * 0 for any other v (printf's to write).
 */
size_t pw_dec_g12(char out[PW_G12_MAX], double v);

#endif
