/* SPDX-License-Identifier: MIT */
/*
 * Pieces of the Prometheus text format (0.0.4) shared by every part of /metrics: the
 * server's sections (metrics.c) and the sections other areas own (src/bpf/bpf_metrics.c).
 *
 * A family is written lazily: HELP and TYPE go out before its first sample, so a family
 * whose every value is null (NaN) leaves no trace. A caller writes all samples of one
 * family before starting the next (the format wants them together).
 */
#ifndef PW_SERVER_PROMTEXT_H
#define PW_SERVER_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "util/buf.h"

struct pw_prom_label {
	const char *key;
	const char *val; /* NUL-terminated; escaped when written */
};

struct pw_prom_fam {
	struct pw_buf *b;
	const char *name, *type, *help;
	bool started;
};

#define PW_PROM_FAM(buf, n, t, h) { .b = (buf), .name = (n), .type = (t), .help = (h) }

/* A label value as the text format wants it: \\, \" and \n escaped, invalid UTF-8 -> U+FFFD. */
void pw_prom_label_value(struct pw_buf *b, const char *s, size_t n);

/* A sample value: integers exactly, other numbers with the fewest digits that read back. */
void pw_prom_value(struct pw_buf *b, double v);

/* One sample; NaN writes nothing. */
void pw_prom_sample(struct pw_prom_fam *f, const struct pw_prom_label *l, size_t nl, double v);
/* One integer sample, exact beyond 2^53 (Prometheus rounds it itself). */
void pw_prom_sample_u64(struct pw_prom_fam *f, const struct pw_prom_label *l, size_t nl, uint64_t v);

/* A family of one unlabelled sample. */
void pw_prom_gauge(struct pw_buf *b, const char *name, const char *help, double v);
void pw_prom_gauge_u64(struct pw_buf *b, const char *name, const char *help, uint64_t v);
void pw_prom_counter_u64(struct pw_buf *b, const char *name, const char *help, uint64_t v);

/*
 * One series of a histogram family (f->type "histogram"): n_bounds finite upper bounds
 * `le` (ascending, already formatted), counts[n_bounds + 1] per bucket, not cumulative
 * (the last one is above every bound), and the sum of the observations. Writes the
 * cumulative _bucket lines, +Inf, _sum and _count (= +Inf, by construction).
 */
void pw_prom_histogram(struct pw_prom_fam *f, const struct pw_prom_label *l, size_t nl,
		       const char *const *le, const uint64_t *counts, size_t n_bounds, double sum);

/*
 * Which of n items (stride bytes apart; base may be NULL when n is 0) repeat a name (a
 * NUL-terminated char array at offset off) of an item at a lower index: a duplicate
 * series makes Prometheus refuse the whole scrape, so the first one wins. Returns a
 * calloc'd bool[n] (free() it), or NULL when out of memory; then b->oom is set, so the
 * render is dropped rather than sent incomplete. O(n log n).
 */
bool *pw_prom_duplicates(struct pw_buf *b, const void *base, size_t stride, size_t off, uint32_t n);

static inline double pw_prom_pct_ratio(double pct)
{
	return pw_is_null(pct) ? NAN : pct / 100.0;
}

static inline double pw_prom_scaled(double v, double k)
{
	return pw_is_null(v) ? NAN : v * k;
}

#endif
