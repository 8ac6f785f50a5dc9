/* SPDX-License-Identifier: MIT */
/* Everything the command line can set. Parsed once by cli.c, read-only afterwards. */
#ifndef PW_OPTIONS_H
#define PW_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PW_DEFAULT_PORT 9464 /* not used by node_exporter (9100), netdata (19999), prometheus (9090) */
#define PW_DEFAULT_LISTEN "127.0.0.1:9464"

enum pw_perf_source_opt { PW_PERF_AUTO = 0, PW_PERF_OPT_BPF, PW_PERF_OPT_PERF_STAT, PW_PERF_OPT_NONE };

enum pw_log_level { PW_LOG_ERROR = 0, PW_LOG_WARN, PW_LOG_INFO, PW_LOG_DEBUG };

struct pw_options {
	bool json;              /* --json: print snapshots to stdout, no daemon */
	uint64_t count;         /* --count N with --json (default 1) */
	double interval_s;      /* --interval S (default 5) */
	const char *listen;     /* --listen ADDR:PORT */
	const char *web_root;   /* --web-root DIR */
	const char *auth_token_file;
	const char *tls_cert, *tls_key;
	const char *db_path;    /* --db PATH; NULL: default location */
	bool no_db;             /* --no-db */
	const char *retention;  /* --retention raw=24h,minute=14d,hour=365d */
	enum pw_perf_source_opt perf_source;
	const char *user;       /* --user NAME: drop privileges after set-up */
	enum pw_log_level log_level;
	const char *log_file;   /* --log-file PATH: log there instead of stderr; SIGHUP reopens it */
	bool no_per_cpu_metrics;
	bool bpf_stats;         /* --bpf-stats: hold the kernel's BPF run-time statistics on */
	const char *proc_root;  /* --proc-root DIR (tests and benchmarks: a fixture tree) */
	const char *sys_root;   /* --sys-root DIR */
	const char *perf_path;  /* --perf-binary PATH (default: resolved from PATH at start) */
	uint32_t max_clients;   /* --max-clients N */
	const char *test_hang_collector; /* PW_TEST_HANG_COLLECTOR: fault injection for tests */
};

/* Fills opts from argv. 0 = run, 1 = done (help/version printed), 2 = usage error (printed). */
int pw_parse_options(int argc, char **argv, struct pw_options *opts);
void pw_print_usage(FILE *f);

#endif
