/* SPDX-License-Identifier: MIT */
#include "perf/perfstat_parse.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "snapshot.h"

#define MAX_FIELDS 64
#define MAX_NUMBER_LEN 64 /* longer than any u64 or "%.2f" of one: not a number perf printed */

struct span {
	const char *p;
	size_t n;
};

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static struct span trim(struct span s)
{
	while (s.n && is_space(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && !memcmp(s.p, lit, n);
}

/*
 * A non-negative decimal "123", "123.45", ".5" or "7.": what perf prints under LC_ALL=C.
 * No sign, exponent, grouping or locale decimal comma. The integer part is exact up to
 * UINT64_MAX; the fraction keeps 18 digits.
 */
static bool parse_decimal(struct span s, double *ret)
{
	uint64_t ip = 0, fp = 0;
	double v, fscale = 1.0;
	bool big = false, digits = false;
	double bigv = 0.0;
	size_t i = 0, fdigits = 0;

	if (s.n == 0 || s.n > MAX_NUMBER_LEN)
		return false;
	for (; i < s.n && is_digit(s.p[i]); i++) {
		unsigned d = (unsigned)(s.p[i] - '0');

		digits = true;
		if (!big && ip > (UINT64_MAX - d) / 10) {
			big = true;
			bigv = (double)ip;
		}
		if (big)
			bigv = bigv * 10.0 + d;
		else
			ip = ip * 10 + d;
	}
	if (i < s.n && s.p[i] == '.') {
		for (i++; i < s.n && is_digit(s.p[i]); i++) {
			digits = true;
			if (fdigits < 18) {
				fp = fp * 10 + (uint64_t)(s.p[i] - '0');
				fscale *= 10.0;
				fdigits++;
			}
		}
	}
	if (i != s.n || !digits)
		return false;
	v = (big ? bigv : (double)ip) + (double)fp / fscale;
	if (!isfinite(v))
		return false;
	*ret = v;
	return true;
}

/* Copies a field into a C string; false when it does not fit or holds control bytes. */
static bool copy_text(struct span s, char *dst, size_t dstlen)
{
	if (s.n >= dstlen)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
			return false;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return true;
}

static size_t count_char(struct span s, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < s.n; i++)
		k += s.p[i] == c;
	return k;
}

/* "S0", "S0-D0", "S0-D0-C1", "S0-D0-L3-ID0", "N0": ids that perf follows with a CPU count */
static bool agg_id_has_count(struct span s)
{
	return s.n >= 2 && (s.p[0] == 'S' || s.p[0] == 'N') && is_digit(s.p[1]);
}

static bool all_digits(struct span s)
{
	if (!s.n)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_digit(s.p[i]))
			return false;
	return true;
}

int pw_perfstat_parse_line(const char *line, size_t len, char sep, struct pw_perfstat_record *ret)
{
	struct span f[MAX_FIELDS], t, ev;
	struct pw_perfstat_record r;
	size_t nf = 0, i, start = 0, end;

	if (!line)
		return -EINVAL;
	t = trim((struct span){ line, len });
	if (t.n == 0 || t.p[0] == '#')
		return -ENODATA;
	if (sep == '\0' || sep == '\n' || is_space(sep) || is_digit(sep) || sep == '.')
		return -EINVAL; /* a separator that numbers or padding could contain */

	for (i = 0; i <= len && nf < MAX_FIELDS; i++) {
		if (i == len || line[i] == sep) {
			f[nf++] = (struct span){ line + start, i - start };
			start = i + 1;
		}
	}

	memset(&r, 0, sizeof(r));
	r.running_pct = NAN;
	r.run_ns = NAN;
	r.value = NAN;
	i = 0;
	if (!parse_decimal(trim(f[i++]), &r.timestamp))
		return -EINVAL;

	/* an aggregation id (per-CPU, per-socket/die/core/cache/node, per-thread) */
	if (i < nf) {
		t = trim(f[i]);
		if (t.n && is_alpha(t.p[0])) {
			if (!copy_text(t, r.agg_id, sizeof(r.agg_id)))
				return -EINVAL;
			i++;
			if (agg_id_has_count(t) && i < nf && all_digits(trim(f[i])))
				i++;
		}
	}

	if (i >= nf)
		return -EINVAL;
	t = trim(f[i++]);
	if (span_eq(t, "<not counted>"))
		r.status = PW_PERFSTAT_NOT_COUNTED;
	else if (span_eq(t, "<not supported>"))
		r.status = PW_PERFSTAT_NOT_SUPPORTED;
	else if (parse_decimal(t, &r.value))
		r.status = PW_PERFSTAT_COUNTED;
	else
		return -EINVAL;

	if (i >= nf || !copy_text(trim(f[i++]), r.unit, sizeof(r.unit)))
		return -EINVAL;

	if (i >= nf)
		return -EINVAL;
	/* the event: rejoin a name that the separator split ("cpu/event=0x3c,umask=0/") */
	ev = f[i++];
	end = i;
	if (count_char(ev, '/') % 2) {
		size_t slashes = count_char(ev, '/');

		while (end < nf && slashes % 2) {
			slashes += count_char(f[end], '/');
			end++;
		}
		if (slashes % 2 == 0) {
			ev.n = (size_t)(f[end - 1].p + f[end - 1].n - ev.p);
			i = end;
		}
		/* never closed: not a split name after all, keep the one field */
	}
	ev = trim(ev);
	if (!ev.n || !copy_text(ev, r.event, sizeof(r.event)))
		return -EINVAL;

	/* counter run time (ns) and the percentage of time it ran: optional, numeric */
	if (i < nf) {
		t = trim(f[i++]);
		if (t.n && !parse_decimal(t, &r.run_ns))
			return -EINVAL;
	}
	if (i < nf) {
		t = trim(f[i++]);
		if (t.n) {
			if (!parse_decimal(t, &r.running_pct) || r.running_pct > 100.0 + 1e-9)
				return -EINVAL;
		}
	}
	/* metric value, metric unit, threshold, and whatever later perfs add: not ours */

	*ret = r;
	return 0;
}

int pw_perfstat_event_index(const char *printed)
{
	char name[PW_PERFSTAT_EVENT_MAX];
	const char *first, *last, *p;
	size_t n;
	char *colon;

	if (!printed)
		return -1;
	p = printed;
	n = strlen(printed);
	first = strchr(printed, '/');
	if (first) {
		/* "pmu/event/" or "pmu/event/mods": the event between the first and last '/' */
		last = strrchr(printed, '/');
		if (last == first)
			return -1;
		p = first + 1;
		n = (size_t)(last - p);
		if (memchr(p, '=', n) || memchr(p, ',', n))
			return -1; /* raw terms: not one of our symbolic names */
	}
	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	colon = strchr(name, ':'); /* modifiers: "cycles:u" */
	if (colon)
		*colon = '\0';
	return pw_perf_event_index(name);
}

void pw_perfstat_parser_init(struct pw_perfstat_parser *p, char sep)
{
	memset(p, 0, sizeof(*p));
	p->sep = sep;
}

void pw_perfstat_parser_reset(struct pw_perfstat_parser *p)
{
	p->len = 0;
	p->skipping = false;
}

static void emit(struct pw_perfstat_parser *p, const char *line, size_t len, pw_perfstat_record_fn fn,
		 void *userdata)
{
	struct pw_perfstat_record r;
	int rc = pw_perfstat_parse_line(line, len, p->sep, &r);

	if (rc == 0) {
		p->n_records++;
		if (fn)
			fn(&r, userdata);
	} else if (rc == -EINVAL) {
		p->n_malformed++;
	}
}

void pw_perfstat_parser_feed(struct pw_perfstat_parser *p, const char *buf, size_t len,
			     pw_perfstat_record_fn fn, void *userdata)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t seg = nl ? (size_t)(nl - buf) : len;

		if (p->skipping) {
			/* the rest of an over-long line */
		} else if (p->len + seg >= sizeof(p->line)) {
			p->n_overlong++;
			p->len = 0;
			p->skipping = true;
		} else if (nl && p->len == 0) {
			emit(p, buf, seg, fn, userdata); /* a whole line in this chunk: no copy */
		} else {
			memcpy(p->line + p->len, buf, seg);
			p->len += seg;
			if (nl) {
				emit(p, p->line, p->len, fn, userdata);
				p->len = 0;
			}
		}
		if (!nl)
			return;
		p->skipping = false;
		buf += seg + 1;
		len -= seg + 1;
	}
}
