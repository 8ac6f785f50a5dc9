/* SPDX-License-Identifier: MIT */
/* UTF-8 validation for the text outputs (JSON strings, Prometheus label values). */
#ifndef PW_UTF8_H
#define PW_UTF8_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes, n >= 1), 0 when invalid:
 * overlong forms, surrogates and values past U+10FFFF are not UTF-8.
 */
size_t pw_utf8_seq_len(const unsigned char *s, size_t n);

#endif
