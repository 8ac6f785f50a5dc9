/* SPDX-License-Identifier: MIT */
/*
 * printf("%.12g") without printf for the doubles a snapshot holds (rates, ratios,
 * percentages between 1e-4 and 1e11): glibc formats a double through multi-precision
 * arithmetic, a tenth of the JSON writer's time for a few dozen numbers. The digits are
 * the same: the twelve are the exactly rounded ones (ties to even, as printf), found with
 * one exact product. Anything else is left to printf.
 */
#include "util/decimal.h"

#include <math.h>
#include <string.h>

#define G12_DIGITS 12
static const double pow10_exact[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
static const int64_t lo12 = 100000000000LL, hi12 = 1000000000000LL; /* 10^11, 10^12 */

/*
 * a * 10^k rounded to an integer exactly as the real product would be (ties to even);
 * 0 <= k <= 15, so 10^k is exact, and fma() gives the product's rounding error exactly.
 */
static int64_t scaled_round(double a, int k)
{
	double p = a * pow10_exact[k], err = fma(a, pow10_exact[k], -p), r = nearbyint(p), d = p - r;
	int64_t m = (int64_t)r;

	/* |p - r| < 1/2 leaves the real product on r's side; at exactly 1/2 the error decides */
	if (d == 0.5 && (err > 0 || (err == 0 && (m & 1))))
		m++;
	else if (d == -0.5 && (err < 0 || (err == 0 && (m & 1))))
		m--;
	return m;
}

size_t pw_dec_g12(char out[PW_G12_MAX], double v)
{
	double a = fabs(v);
	int64_t m = 0;
	int e, tries;
	char digits[G12_DIGITS];
	size_t n = 0, nd;

	if (!(a >= 1e-4 && a < 1e11))
		return 0;
	/* e: the decimal exponent, 10^e <= a < 10^(e+1) (a guess off by one is corrected below) */
	for (e = 10; e > -4 && (e >= 0 ? a < pow10_exact[e] : a * pow10_exact[-e] < 1); e--)
		;
	/* m: the twelve digits */
	for (tries = 0; tries < 3; tries++) {
		m = scaled_round(a, G12_DIGITS - 1 - e);
		if (m < lo12 && e > -4)
			e--;
		else if (m > hi12 && e < 10)
			e++;
		else
			break;
	}
	if (m == hi12) { /* rounded up to the next power of ten */
		m = lo12;
		e++;
	}
	if (m < lo12 || m >= hi12 || e < -4 || e >= G12_DIGITS - 1)
		return 0;
	for (int i = G12_DIGITS - 1; i >= 0; i--, m /= 10)
		digits[i] = (char)('0' + m % 10);
	for (nd = G12_DIGITS; nd > 1 && digits[nd - 1] == '0' && (int)nd > e + 1; nd--)
		; /* %g drops trailing zeros after the point */
	if (v < 0)
		out[n++] = '-';
	if (e >= 0) {
		memcpy(out + n, digits, (size_t)e + 1);
		n += (size_t)e + 1;
		if (nd > (size_t)e + 1) {
			out[n++] = '.';
			memcpy(out + n, digits + e + 1, nd - (size_t)e - 1);
			n += nd - (size_t)e - 1;
		}
	} else {
		out[n++] = '0';
		out[n++] = '.';
		for (int i = -1; i > e; i--)
			out[n++] = '0';
		memcpy(out + n, digits, nd);
		n += nd;
	}
	return n;
}
