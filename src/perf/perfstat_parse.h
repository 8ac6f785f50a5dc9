/* SPDX-License-Identifier: MIT */
/*
 * The parser of `perf stat -I <ms> -x<sep>` output, as perf versions from 5.10 to the
 * late-2024 ones (threshold column) print it:
 *
 *   <timestamp> [<aggregation id> [<n cpus>]] <value> <unit> <event> [<run time> <run %>
 *   [<metric value> <metric unit> [<threshold>]]]
 *
 * Fields are read from the left; any extra trailing column is ignored. The value is a
 * number, `<not counted>` or `<not supported>`; units may be empty; numbers are read
 * without the C library's locale. An event name that contains the separator (a raw event
 * such as `cpu/event=0x3c,umask=0x0/` under `-x,`) is put back together: a name that has
 * an odd number of '/' goes on up to the field that closes it.
 *
 * pw_perfstat_parse_line() is a pure function of one line. pw_perfstat_parser_feed()
 * takes the output as it streams, in chunks of any size, and keeps a line that is split
 * across two reads until its end arrives.
 */
#ifndef PW_PERFSTAT_PARSE_H
#define PW_PERFSTAT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A longer line is not perf's: dropped whole (counted in n_overlong). */
#define PW_PERFSTAT_LINE_MAX 4096
#define PW_PERFSTAT_EVENT_MAX 256
#define PW_PERFSTAT_UNIT_MAX 32
#define PW_PERFSTAT_AGG_MAX 64

enum pw_perfstat_status {
	PW_PERFSTAT_COUNTED = 0,
	PW_PERFSTAT_NOT_COUNTED,   /* opened, but the counter never ran in this interval */
	PW_PERFSTAT_NOT_SUPPORTED, /* the kernel or the hardware cannot count it */
};

struct pw_perfstat_record {
	double timestamp;                   /* seconds since perf started counting */
	enum pw_perfstat_status status;
	double value;                       /* COUNTED: as printed (perf scaled it already) */
	double run_ns;                      /* time the counter ran in the interval, summed over
					       CPUs (time_running); NAN when not printed */
	double running_pct;                 /* % of the enabled time it ran; NAN when not printed */
	char unit[PW_PERFSTAT_UNIT_MAX];    /* "msec", or "" */
	char event[PW_PERFSTAT_EVENT_MAX];  /* as printed */
	char agg_id[PW_PERFSTAT_AGG_MAX];   /* "CPU3", "S0-D0-C1", ...; "" when aggregated */
};

/*
 * Parses one line (without its newline). 0 with *ret filled, -ENODATA for a line that
 * carries no record (blank, "# started on ..."), -EINVAL for anything malformed.
 */
int pw_perfstat_parse_line(const char *line, size_t len, char sep, struct pw_perfstat_record *ret);

/*
 * The index in pw_perf_event_names of a printed event name, or -1. Accepts the forms
 * perf prints for the names it was given: "cycles", "cycles:u", "cpu_core/cycles/" (one
 * line per PMU on hybrid machines).
 */
int pw_perfstat_event_index(const char *printed);

typedef void (*pw_perfstat_record_fn)(const struct pw_perfstat_record *rec, void *userdata);

struct pw_perfstat_parser {
	char sep;
	bool skipping;        /* the current line went past PW_PERFSTAT_LINE_MAX: dropped */
	size_t len;           /* bytes of an unfinished line in line[] */
	uint64_t n_records;
	uint64_t n_malformed;
	uint64_t n_overlong;
	char line[PW_PERFSTAT_LINE_MAX];
};

void pw_perfstat_parser_init(struct pw_perfstat_parser *p, char sep);
/* Parses every line completed by buf[0..len) and calls fn for each record. */
void pw_perfstat_parser_feed(struct pw_perfstat_parser *p, const char *buf, size_t len,
			     pw_perfstat_record_fn fn, void *userdata);
/* Forgets an unfinished line (the writer went away: a new perf starts a new stream). */
void pw_perfstat_parser_reset(struct pw_perfstat_parser *p);

#endif
