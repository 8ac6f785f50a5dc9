/* SPDX-License-Identifier: MIT */
#include "collect/proc_stat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/rate.h"
#include "util/scan.h"

#define ERR(...) ((err && errlen) ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

/* Parses the columns after "cpu"/"cpuN"; returns how many, or a negative errno. */
static int parse_times(const char **pp, const char *end, struct pw_cpu_times *t)
{
	const char *eol = pw_line_end(*pp, end);
	const char *p = *pp;
	uint64_t v;
	int n = 0, r;

	memset(t, 0, sizeof(*t));
	for (;;) {
		p = pw_skip_blanks(p, eol);
		if (p == eol)
			break;
		r = pw_scan_u64(&p, eol, &v);
		if (r < 0)
			return r;
		/* a future kernel may append columns: keep the ones we know */
		if (n < PW_CT_NUM)
			t->t[n] = v;
		n++;
	}
	*pp = eol;
	return n;
}

int proc_stat_parse(const char *buf, size_t len, struct pw_proc_stat *st, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	bool have_total = false, have_intr = false, have_ctxt = false;
	unsigned line = 0;
	int r;

	st->n_cpus = 0;
	st->n_fields = 0;
	if (!len) {
		ERR("empty");
		return -EBADMSG;
	}
	for (; p < end; p = pw_next_line(p, end)) {
		line++;
		if (pw_starts_with(p, end, "cpu", 3)) {
			struct pw_cpu_times t;
			const char *q = p + 3;
			uint64_t id = 0;

			if (q < end && pw_is_digit(*q)) {
				r = pw_scan_u64(&q, end, &id);
				if (r < 0 || id > UINT32_MAX) {
					ERR("line %u: bad CPU number", line);
					return -EBADMSG;
				}
			} else if (q >= end || !pw_is_blank(*q)) {
				ERR("line %u: unknown cpu line", line);
				return -EBADMSG;
			}
			r = parse_times(&q, end, &t);
			if (r < 0) {
				ERR("line %u: %s", line, r == -ERANGE ? "a CPU time over 2^64-1" : "a CPU time that is not a number");
				return r;
			}
			if (p[3] == ' ' || p[3] == '\t') {
				if (have_total) {
					ERR("line %u: a second cpu line", line);
					return -EBADMSG;
				}
				if (r < PW_CT_MIN) {
					ERR("line %u: %d CPU time columns, at least %d expected", line, r, PW_CT_MIN);
					return -EBADMSG;
				}
				have_total = true;
				st->n_fields = r < PW_CT_NUM ? (uint32_t)r : PW_CT_NUM;
				st->total = t;
				continue;
			}
			if (!have_total) {
				ERR("line %u: cpu%llu before the cpu line", line, (unsigned long long)id);
				return -EBADMSG;
			}
			/* fewer columns than the total line: the file was cut short */
			if ((uint32_t)r < st->n_fields) {
				ERR("line %u: cpu%llu has %d columns, the cpu line %u (truncated?)", line,
				    (unsigned long long)id, r, st->n_fields);
				return -EBADMSG;
			}
			if (st->n_cpus && id <= st->cpus[st->n_cpus - 1].id) {
				ERR("line %u: cpu%llu out of order", line, (unsigned long long)id);
				return -EBADMSG;
			}
			if (pw_array_reserve(&st->cpus, &st->cap_cpus, st->n_cpus + 1, sizeof(*st->cpus)) < 0) {
				ERR("out of memory");
				return -ENOMEM;
			}
			st->cpus[st->n_cpus].id = (uint32_t)id;
			st->cpus[st->n_cpus].times = t;
			st->n_cpus++;
		} else if (pw_starts_with(p, end, "intr ", 5) || pw_starts_with(p, end, "ctxt ", 5)) {
			const char *q = p + 5;
			uint64_t v;

			/* intr goes on with one count per IRQ (thousands on big machines): only
			 * the total is wanted, and the line is skipped with memchr */
			r = pw_scan_u64(&q, end, &v);
			if (r < 0) {
				ERR("line %u: %.4s: %s", line, p, r == -ERANGE ? "a count over 2^64-1" : "not a number");
				return r;
			}
			if (p[0] == 'i') {
				st->intr = v;
				have_intr = true;
			} else {
				st->ctxt = v;
				have_ctxt = true;
			}
		}
		/* btime, processes, procs_*, softirq and lines of future kernels: not ours */
	}
	if (!have_total) {
		ERR("no cpu line");
		return -EBADMSG;
	}
	/* every kernel since 2.6 prints them after the cpu lines: their absence means the
	 * file was cut short */
	if (!have_intr || !have_ctxt) {
		ERR("no %s line (truncated?)", have_intr ? "ctxt" : "intr");
		return -EBADMSG;
	}
	if (!st->n_cpus) {
		ERR("no cpuN line");
		return -EBADMSG;
	}
	return 0;
}

void proc_stat_free(struct pw_proc_stat *st)
{
	if (!st)
		return;
	free(st->cpus);
	st->cpus = NULL;
	st->n_cpus = st->cap_cpus = 0;
}

/* The columns psutil sums into the total: everything up to steal (guest is inside user). */
static uint32_t total_fields(uint32_t n_fields)
{
	return n_fields < PW_CT_GUEST ? n_fields : PW_CT_GUEST;
}

/*
 * The deltas of one cpu line into d[] (a column that went backwards counts 0) and their
 * total without guest columns; false when there is nothing to divide by: the line's
 * total went backwards (a reset) or did not move.
 */
static bool times_delta(const struct pw_cpu_times *prev, const struct pw_cpu_times *cur, uint32_t n_fields,
			double d[PW_CT_NUM], double *ret_total)
{
	uint32_t nt = total_fields(n_fields), i;
	double total = 0, raw_prev = 0, raw_cur = 0;

	for (i = 0; i < n_fields; i++) {
		uint64_t delta;

		d[i] = pw_delta(prev->t[i], cur->t[i], &delta) ? (double)delta : 0;
	}
	for (; i < PW_CT_NUM; i++)
		d[i] = 0;
	for (i = 0; i < nt; i++) {
		total += d[i];
		raw_prev += (double)prev->t[i];
		raw_cur += (double)cur->t[i];
	}
	if (raw_cur < raw_prev || !(total > 0))
		return false;
	*ret_total = total;
	return true;
}

static double clamp_pct(double v) { return fmin(fmax(v, 0.0), 100.0); }

/* psutil _cpu_busy_time(): everything but idle and iowait */
static double busy_pct(const double d[PW_CT_NUM], uint32_t n_fields, double total)
{
	double idle = d[PW_CT_IDLE] + (n_fields > PW_CT_IOWAIT ? d[PW_CT_IOWAIT] : 0);

	return clamp_pct((total - idle) / total * 100.0);
}

void pw_cpu_times_percent(const struct pw_cpu_times *prev, const struct pw_cpu_times *cur,
			  uint32_t n_fields, struct pw_cpu_pct *ret)
{
	struct pw_cpu_pct pct;
	double d[PW_CT_NUM], total;
	uint32_t i;

	for (i = 0; i < PW_CT_NUM; i++)
		pct.field[i] = NAN;
	pct.busy = NAN;
	if (times_delta(prev, cur, n_fields, d, &total)) {
		for (i = 0; i < n_fields; i++)
			pct.field[i] = clamp_pct(d[i] / total * 100.0);
		pct.busy = busy_pct(d, n_fields, total);
	}
	*ret = pct;
}

/* Only the busy share: what per_core needs, without the per-column divisions. */
static double cpu_busy_percent(const struct pw_cpu_times *prev, const struct pw_cpu_times *cur, uint32_t n_fields)
{
	double d[PW_CT_NUM], total;

	return times_delta(prev, cur, n_fields, d, &total) ? busy_pct(d, n_fields, total) : NAN;
}

static void set_overall(struct pw_cpu *c, const struct pw_cpu_pct *p)
{
	c->usage_percent = p->busy;
	c->user = p->field[PW_CT_USER];
	c->system = p->field[PW_CT_SYSTEM];
	c->idle = p->field[PW_CT_IDLE];
	c->iowait = p->field[PW_CT_IOWAIT];
	c->irq = p->field[PW_CT_IRQ];
	c->softirq = p->field[PW_CT_SOFTIRQ];
}

int proc_stat_fill_cpu(const struct pw_proc_stat *prev, const struct pw_proc_stat *cur, double dt_s,
		       struct pw_cpu *c)
{
	static const struct pw_cpu_pct none = {
		.field = { NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN },
		.busy = NAN,
	};
	bool comparable = prev && prev->n_fields == cur->n_fields;
	bool same_cpus = comparable && prev->n_cpus == cur->n_cpus;
	struct pw_cpu_pct pct;
	uint32_t i, j = 0;

	if (pw_array_reserve(&c->per_core, &c->cap_per_core, cur->n_cpus, sizeof(*c->per_core)) < 0)
		return -ENOMEM;
	c->n_per_core = cur->n_cpus;
	/* per core: a merge of two id-sorted lists */
	for (i = 0; i < cur->n_cpus; i++) {
		const struct pw_proc_stat_cpu *cc = &cur->cpus[i];

		while (comparable && j < prev->n_cpus && prev->cpus[j].id < cc->id)
			j++;
		if (comparable && j < prev->n_cpus && prev->cpus[j].id == cc->id) {
			if (j != i)
				same_cpus = false;
			c->per_core[i] = cpu_busy_percent(&prev->cpus[j].times, &cc->times, cur->n_fields);
		} else {
			same_cpus = false;
			c->per_core[i] = NAN; /* came online since the previous sample */
		}
	}
	if (same_cpus) {
		pw_cpu_times_percent(&prev->total, &cur->total, cur->n_fields, &pct);
		set_overall(c, &pct);
	} else {
		set_overall(c, &none);
	}
	c->interrupts = cur->intr;
	c->ctx_switches = cur->ctxt;
	c->interrupts_per_sec = prev ? pw_rate(prev->intr, cur->intr, dt_s) : NAN;
	c->n_cpus_online = cur->n_cpus;
	return 0;
}
