/* SPDX-License-Identifier: MIT */
/*
 * The perf stat output parser and interval window on arbitrary bytes. The first byte picks
 * the separator and how the rest is cut into reads, so lines split across reads are
 * exercised too; whatever comes out must obey the window's invariants.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perf/perfstat_parse.h"
#include "perf/perfstat_window.h"

static void on_record(const struct pw_perfstat_record *rec, void *userdata)
{
	struct pw_perfstat_window *w = userdata;

	if (!(rec->timestamp >= 0) || !isfinite(rec->timestamp))
		abort();
	if (rec->status == PW_PERFSTAT_COUNTED && !(rec->value >= 0))
		abort();
	if (strlen(rec->event) == 0 || strlen(rec->event) >= sizeof(rec->event))
		abort();
	pw_perfstat_window_add(w, rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pw_perfstat_parser p;
	static struct pw_perfstat_window w;
	struct pw_perfstat_take t;
	struct pw_perf out;
	size_t chunk, off = 1;
	char sep;

	if (size < 1)
		return 0;
	sep = (data[0] & 1) ? '@' : ',';
	chunk = (size_t)(data[0] >> 1) + 1;
	pw_perfstat_parser_init(&p, sep);
	pw_perfstat_window_init(&w, 0);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		pw_perfstat_parser_feed(&p, (const char *)data + off, n, on_record, &w);
		off += n;
		if (data[off - 1] == 'T') { /* a snapshot in the middle of the stream */
			pw_perfstat_window_take(&w, &t);
			memset(&out, 0, sizeof(out));
			pw_perfstat_fill(&t, 1.0, false, &out);
		}
	}
	pw_perfstat_parser_feed(&p, "\n", 1, on_record, &w);
	pw_perfstat_window_flush(&w);
	pw_perfstat_window_take(&w, &t);
	if (t.covered_s < 0 || !isfinite(t.covered_s))
		abort();
	memset(&out, 0, sizeof(out));
	pw_perfstat_fill(&t, 5.0, true, &out);
	if (strnlen(out.error, sizeof(out.error)) >= sizeof(out.error))
		abort();
	for (int e = 0; e < PW_PERF_NUM_EVENTS; e++)
		if (out.events[e].counted && (!(out.events[e].value >= 0) || out.events[e].running_ratio > 1.0))
			abort();
	/* one line, parsed on its own, must not read past its end */
	{
		char *copy = malloc(size ? size : 1);
		struct pw_perfstat_record r;

		if (copy) {
			memcpy(copy, data, size);
			(void)pw_perfstat_parse_line(copy, size, sep, &r);
			free(copy);
		}
	}
	return 0;
}
