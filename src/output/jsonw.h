/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer into a pw_buf. Strings are escaped (control characters,
 * quotes, backslashes) and made valid UTF-8 (invalid bytes become U+FFFD); NaN and
 * infinities are written as null, so no collected value can make invalid JSON.
 */
#ifndef PW_JSONW_H
#define PW_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define JW_MAX_DEPTH 32

struct jw {
	struct pw_buf *b;
	int depth;
	bool after_key;
	bool has_items[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, struct pw_buf *b);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v); /* non-finite -> null */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
void jw_raw(struct jw *w, const char *json, size_t n); /* an already-encoded value */

/* Escapes s (n bytes) as a JSON string body into b, without the quotes. */
void json_escape_append(struct pw_buf *b, const char *s, size_t n);

/* Helpers for the common "key": value pairs. */
static inline void jw_kv_u64(struct jw *w, const char *k, uint64_t v) { jw_key(w, k); jw_u64(w, v); }
static inline void jw_kv_double(struct jw *w, const char *k, double v) { jw_key(w, k); jw_double(w, v); }
static inline void jw_kv_str(struct jw *w, const char *k, const char *v) { jw_key(w, k); jw_str(w, v); }
static inline void jw_kv_bool(struct jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }

/* "key": v, or null when v is empty (an error message that is not there). */
void jw_kv_str_or_null(struct jw *w, const char *k, const char *v);
/* "key": v, or null when the value is not known (have is false). */
void jw_kv_u64_or_null(struct jw *w, const char *k, bool have, uint64_t v);

#endif
