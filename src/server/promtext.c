/* SPDX-License-Identifier: MIT */
#include "server/promtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/decimal.h"
#include "util/utf8.h"

void pw_prom_label_value(struct pw_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t run = i, l;

		/* copy plain runs in one append */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '\\' && p[run] != '"')
			run++;
		if (run > i) {
			pw_buf_append(b, s + i, run - i);
			i = run;
			continue;
		}
		if (p[i] == '\\') {
			pw_buf_append(b, "\\\\", 2);
			i++;
		} else if (p[i] == '"') {
			pw_buf_append(b, "\\\"", 2);
			i++;
		} else if (p[i] == '\n') {
			pw_buf_append(b, "\\n", 2);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			/* other control characters are legal but unreadable: show them as \xHH text */
			pw_buf_printf(b, "\\\\x%02x", p[i]);
			i++;
		} else if ((l = pw_utf8_seq_len(p + i, n - i)) > 0) {
			pw_buf_append(b, s + i, l);
			i += l;
		} else {
			pw_buf_append(b, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
		}
	}
}

static void put_u64(struct pw_buf *b, uint64_t v)
{
	char tmp[PW_DEC_MAX], *p = pw_dec_u64(tmp, v);

	pw_buf_append(b, p, (size_t)(tmp + PW_DEC_MAX - p));
}

void pw_prom_value(struct pw_buf *b, double v)
{
	char tmp[40];

	if (isinf(v)) {
		pw_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		if (v >= 0)
			put_u64(b, (uint64_t)v);
		else
			pw_buf_printf(b, "%.0f", v);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	pw_buf_puts(b, tmp);
}

static void fam_header(struct pw_prom_fam *f)
{
	if (f->started)
		return;
	f->started = true;
	pw_buf_printf(f->b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
}

/* `{k="v",...` with every value escaped; no closing brace. Nothing when nl is 0. */
static void labels_open(struct pw_buf *b, const struct pw_prom_label *l, size_t nl)
{
	for (size_t i = 0; i < nl; i++) {
		pw_buf_append(b, i ? "," : "{", 1);
		pw_buf_puts(b, l[i].key);
		pw_buf_append(b, "=\"", 2);
		pw_prom_label_value(b, l[i].val, strlen(l[i].val));
		pw_buf_append(b, "\"", 1);
	}
}

/* `name[suffix]{labels} ` */
static void series(struct pw_prom_fam *f, const char *suffix, const struct pw_prom_label *l, size_t nl)
{
	fam_header(f);
	pw_buf_puts(f->b, f->name);
	if (suffix)
		pw_buf_puts(f->b, suffix);
	labels_open(f->b, l, nl);
	pw_buf_append(f->b, nl ? "} " : " ", nl ? 2 : 1);
}

void pw_prom_sample(struct pw_prom_fam *f, const struct pw_prom_label *l, size_t nl, double v)
{
	if (isnan(v))
		return;
	series(f, NULL, l, nl);
	pw_prom_value(f->b, v);
	pw_buf_append(f->b, "\n", 1);
}

void pw_prom_sample_u64(struct pw_prom_fam *f, const struct pw_prom_label *l, size_t nl, uint64_t v)
{
	series(f, NULL, l, nl);
	put_u64(f->b, v);
	pw_buf_append(f->b, "\n", 1);
}

void pw_prom_gauge(struct pw_buf *b, const char *name, const char *help, double v)
{
	struct pw_prom_fam f = PW_PROM_FAM(b, name, "gauge", help);

	pw_prom_sample(&f, NULL, 0, v);
}

void pw_prom_gauge_u64(struct pw_buf *b, const char *name, const char *help, uint64_t v)
{
	struct pw_prom_fam f = PW_PROM_FAM(b, name, "gauge", help);

	pw_prom_sample_u64(&f, NULL, 0, v);
}

void pw_prom_counter_u64(struct pw_buf *b, const char *name, const char *help, uint64_t v)
{
	struct pw_prom_fam f = PW_PROM_FAM(b, name, "counter", help);

	pw_prom_sample_u64(&f, NULL, 0, v);
}

/* Appends n bytes that are already in b at off (offsets, not pointers: b may move). */
static void append_own(struct pw_buf *b, size_t off, size_t n)
{
	if (pw_buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, b->data + off, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void pw_prom_histogram(struct pw_prom_fam *f, const struct pw_prom_label *l, size_t nl,
		       const char *const *le, const uint64_t *counts, size_t n_bounds, double sum)
{
	struct pw_buf *b = f->b;
	uint64_t cum = 0;
	size_t head, head_len;

	fam_header(f);
	/* the labels are escaped once: every bucket line starts with the same bytes */
	head = b->len;
	pw_buf_puts(b, f->name);
	pw_buf_puts(b, "_bucket");
	labels_open(b, l, nl);
	pw_buf_append(b, nl ? ",le=\"" : "{le=\"", 5);
	head_len = b->len - head;
	for (size_t i = 0; i <= n_bounds; i++) {
		cum += counts[i];
		if (i)
			append_own(b, head, head_len);
		pw_buf_puts(b, i < n_bounds ? le[i] : "+Inf");
		pw_buf_append(b, "\"} ", 3);
		put_u64(b, cum);
		pw_buf_append(b, "\n", 1);
	}
	series(f, "_sum", l, nl);
	pw_prom_value(b, sum);
	pw_buf_append(b, "\n", 1);
	series(f, "_count", l, nl);
	put_u64(b, cum);
	pw_buf_append(b, "\n", 1);
}

struct dup_ctx {
	const char *base;
	size_t stride, off;
};

static int cmp_name(const void *a, const void *b, void *vctx)
{
	const struct dup_ctx *c = vctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = strcmp(c->base + (size_t)x * c->stride + c->off, c->base + (size_t)y * c->stride + c->off);

	if (r)
		return r;
	return x < y ? -1 : x > y; /* equal names: the lower index first, and it is kept */
}

bool *pw_prom_duplicates(struct pw_buf *b, const void *base, size_t stride, size_t off, uint32_t n)
{
	struct dup_ctx c = { base, stride, off };
	uint32_t *idx = NULL;
	bool *dup;

	dup = calloc((size_t)n + 1, sizeof(*dup));
	if (n)
		idx = malloc((size_t)n * sizeof(*idx));
	if (!dup || (n && !idx)) {
		free(dup);
		free(idx);
		b->oom = 1;
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	if (n)
		qsort_r(idx, n, sizeof(*idx), cmp_name, &c);
	for (uint32_t i = 1; i < n; i++)
		dup[idx[i]] = !strcmp(c.base + (size_t)idx[i] * stride + off, c.base + (size_t)idx[i - 1] * stride + off);
	free(idx);
	return dup;
}
