/* SPDX-License-Identifier: MIT */
#include "output/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/decimal.h"
#include "util/utf8.h"

void jw_init(struct jw *w, struct pw_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->has_items[w->depth])
		pw_buf_append(w->b, ",", 1);
	w->has_items[w->depth] = true;
}

static void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	pw_buf_append(w->b, &c, 1);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->has_items[w->depth] = false;
}

static void jw_close(struct jw *w, char c)
{
	pw_buf_append(w->b, &c, 1);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_begin(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr_begin(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

void json_escape_append(struct pw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t l;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			run++;
			i++;
			continue;
		}
		if (run)
			pw_buf_append(b, (const char *)p + i - run, run);
		run = 0;
		if (c == '"') {
			pw_buf_append(b, "\\\"", 2);
		} else if (c == '\\') {
			pw_buf_append(b, "\\\\", 2);
		} else if (c == '\n') {
			pw_buf_append(b, "\\n", 2);
		} else if (c == '\t') {
			pw_buf_append(b, "\\t", 2);
		} else if (c == '\r') {
			pw_buf_append(b, "\\r", 2);
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			pw_buf_append(b, e, 6);
		} else {
			l = pw_utf8_seq_len(p + i, n - i);
			if (l == 0) {
				pw_buf_append(b, "\\ufffd", 6);
				i++;
				continue;
			}
			pw_buf_append(b, (const char *)p + i, l);
			i += l;
			continue;
		}
		i++;
	}
	if (run)
		pw_buf_append(b, (const char *)p + n - run, run);
}

void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	pw_buf_append(w->b, "\"", 1);
	json_escape_append(w->b, key, strlen(key));
	pw_buf_append(w->b, "\":", 2);
	w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	pw_buf_append(w->b, "\"", 1);
	json_escape_append(w->b, s, n);
	pw_buf_append(w->b, "\"", 1);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void jw_u64(struct jw *w, uint64_t v)
{
	char tmp[PW_DEC_MAX], *p = pw_dec_u64(tmp, v);

	jw_sep(w);
	pw_buf_append(w->b, p, (size_t)(tmp + PW_DEC_MAX - p));
}

void jw_i64(struct jw *w, int64_t v)
{
	char tmp[PW_DEC_MAX], *p = pw_dec_i64(tmp, v);

	jw_sep(w);
	pw_buf_append(w->b, p, (size_t)(tmp + PW_DEC_MAX - p));
}

void jw_double(struct jw *w, double v)
{
	char tmp[40];
	int n;
	size_t fast;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	if (v == 0)
		v = 0; /* no "-0" */
	if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		jw_i64(w, (int64_t)v);
		return;
	}
	fast = pw_dec_g12(tmp, v);
	n = fast ? (int)fast : snprintf(tmp, sizeof(tmp), "%.12g", v);
	jw_sep(w);
	pw_buf_append(w->b, tmp, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	pw_buf_puts(w->b, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	jw_sep(w);
	pw_buf_append(w->b, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
	jw_sep(w);
	pw_buf_append(w->b, json, n);
}

void jw_kv_str_or_null(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	if (v[0])
		jw_str(w, v);
	else
		jw_null(w);
}

void jw_kv_u64_or_null(struct jw *w, const char *k, bool have, uint64_t v)
{
	jw_key(w, k);
	if (have)
		jw_u64(w, v);
	else
		jw_null(w);
}
