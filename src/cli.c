/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/tiers.h"
#include "options.h"
#include "pw_version.h"

enum {
	OPT_INTERVAL = 'i',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_JSON = 1000,
	OPT_COUNT,
	OPT_LISTEN,
	OPT_WEB_ROOT,
	OPT_TOKEN,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_DB,
	OPT_NO_DB,
	OPT_RETENTION,
	OPT_PERF_SOURCE,
	OPT_USER,
	OPT_LOG_LEVEL,
	OPT_LOG_FILE,
	OPT_NO_PER_CPU,
	OPT_PROC_ROOT,
	OPT_SYS_ROOT,
	OPT_PERF_BINARY,
	OPT_MAX_CLIENTS,
	OPT_BPF_STATS,
};

static const struct option long_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "web-root", required_argument, NULL, OPT_WEB_ROOT },
	{ "auth-token-file", required_argument, NULL, OPT_TOKEN },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "db", required_argument, NULL, OPT_DB },
	{ "no-db", no_argument, NULL, OPT_NO_DB },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "perf-source", required_argument, NULL, OPT_PERF_SOURCE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "no-per-cpu-metrics", no_argument, NULL, OPT_NO_PER_CPU },
	{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
	{ "sys-root", required_argument, NULL, OPT_SYS_ROOT },
	{ "perf-binary", required_argument, NULL, OPT_PERF_BINARY },
	{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

void pw_print_usage(FILE *f)
{
	fprintf(f,
		"Usage: perfwatch [OPTIONS]\n"
		"       perfwatch --json [--interval S] [--count N]\n"
		"\n"
		"PerfWatch: an eBPF-first performance monitor for one Linux host. Without --json it\n"
		"runs the daemon: web dashboard, WebSocket stream, HTTP API, Prometheus /metrics and\n"
		"an SQLite history.\n"
		"\n"
		"Snapshots:\n"
		"  --json                 print snapshots as JSON, one per line, and exit\n"
		"  --count N              with --json: how many snapshots (default 1); each is\n"
		"                         measured over one interval, so rates are real\n"
		"  -i, --interval S       seconds between snapshots (default 5; 0.05 to 3600)\n"
		"  --perf-source SRC      auto|bpf|perf-stat|none (default auto: bpf, then\n"
		"                         perf-stat, then none)\n"
		"  --perf-binary PATH     the perf program for the perf-stat source (default: from PATH)\n"
		"  --bpf-stats            turn on the kernel's BPF run-time statistics while running, for\n"
		"                         each program's runs and ns per run (off by default: they add\n"
		"                         two clock reads to every run of every BPF program on the host;\n"
		"                         needs CAP_SYS_ADMIN, or sysctl kernel.bpf_stats_enabled=1)\n"
		"\n"
		"Server:\n"
		"  --listen ADDR:PORT     where to serve (default " PW_DEFAULT_LISTEN "). Any address other\n"
		"                         than loopback requires --auth-token-file\n"
		"  --web-root DIR         dashboard files (default: web/ next to the binary's tree,\n"
		"                         or the installed share/perfwatch/web)\n"
		"  --auth-token-file FILE a secret token; clients send 'Authorization: Bearer TOKEN'\n"
		"                         (or ?token=TOKEN on the WebSocket URL)\n"
		"  --tls-cert FILE --tls-key FILE\n"
		"                         serve HTTPS/WSS\n"
		"  --max-clients N        concurrent connections (default 256)\n"
		"  --no-per-cpu-metrics   leave per-CPU series out of /metrics (hosts with many CPUs)\n"
		"\n"
		"History:\n"
		"  --db PATH              SQLite database (default /var/lib/perfwatch/history.db as\n"
		"                         root, else $XDG_STATE_HOME/perfwatch/history.db)\n"
		"  --no-db                keep no history\n"
		"  --retention SPEC       how long each tier is kept (default raw=24h,minute=14d,hour=365d)\n"
		"\n"
		"Operation:\n"
		"  --user NAME            drop to this user once BPF, perf events and the socket are set up,\n"
		"                         keeping only the capabilities collection still needs\n"
		"  --log-level LEVEL      error|warn|info|debug (default info)\n"
		"  --log-file PATH        append the log to PATH instead of stderr; SIGHUP reopens it\n"
		"                         (after logrotate moved it)\n"
		"  --proc-root DIR        read procfs from DIR instead of /proc (tests, benchmarks)\n"
		"  --sys-root DIR         read sysfs from DIR instead of /sys\n"
		"  -h, --help             this text\n"
		"  -V, --version          print the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure, 2 bad command line.\n");
}

static int parse_double(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (*s == '-' || *s == '+' || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "perfwatch: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'perfwatch --help' for more information.\n");
	return 2;
}

int pw_parse_options(int argc, char **argv, struct pw_options *o)
{
	uint64_t u;
	int c;

	memset(o, 0, sizeof(*o));
	o->count = 1;
	o->interval_s = 5.0;
	o->listen = PW_DEFAULT_LISTEN;
	o->log_level = PW_LOG_INFO;
	o->max_clients = 256;
	o->proc_root = "/proc";
	o->sys_root = "/sys";
	o->test_hang_collector = getenv("PW_TEST_HANG_COLLECTOR");

	opterr = 0;
	/* 0, not 1: glibc then forgets a half-read "-ih" cluster of an earlier argv (found by fuzz_cli) */
	optind = 0;
	while ((c = getopt_long(argc, argv, ":i:hV", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_COUNT:
			if (parse_u64(optarg, &o->count) < 0 || o->count == 0)
				return usage_error("--count needs a whole number of at least 1, not '%s'", optarg);
			break;
		case OPT_INTERVAL:
			if (parse_double(optarg, &o->interval_s) < 0 || o->interval_s < 0.05 || o->interval_s > 3600)
				return usage_error("--interval needs seconds between 0.05 and 3600, not '%s'", optarg);
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_WEB_ROOT:
			o->web_root = optarg;
			break;
		case OPT_TOKEN:
			o->auth_token_file = optarg;
			break;
		case OPT_TLS_CERT:
			o->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			o->tls_key = optarg;
			break;
		case OPT_DB:
			o->db_path = optarg;
			break;
		case OPT_NO_DB:
			o->no_db = true;
			break;
		case OPT_RETENTION: {
			struct pwh_retention ret;
			char why[256];

			if (pwh_retention_parse(optarg, &ret, why, sizeof(why)) < 0)
				return usage_error("%s", why);
			o->retention = optarg;
			break;
		}
		case OPT_PERF_SOURCE:
			if (!strcmp(optarg, "auto"))
				o->perf_source = PW_PERF_AUTO;
			else if (!strcmp(optarg, "bpf"))
				o->perf_source = PW_PERF_OPT_BPF;
			else if (!strcmp(optarg, "perf-stat"))
				o->perf_source = PW_PERF_OPT_PERF_STAT;
			else if (!strcmp(optarg, "none"))
				o->perf_source = PW_PERF_OPT_NONE;
			else
				return usage_error("--perf-source is one of auto, bpf, perf-stat, none; not '%s'", optarg);
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (!strcmp(optarg, "error"))
				o->log_level = PW_LOG_ERROR;
			else if (!strcmp(optarg, "warn"))
				o->log_level = PW_LOG_WARN;
			else if (!strcmp(optarg, "info"))
				o->log_level = PW_LOG_INFO;
			else if (!strcmp(optarg, "debug"))
				o->log_level = PW_LOG_DEBUG;
			else
				return usage_error("--log-level is one of error, warn, info, debug; not '%s'", optarg);
			break;
		case OPT_LOG_FILE:
			if (!*optarg)
				return usage_error("%s", "--log-file needs a path");
			o->log_file = optarg;
			break;
		case OPT_NO_PER_CPU:
			o->no_per_cpu_metrics = true;
			break;
		case OPT_BPF_STATS:
			o->bpf_stats = true;
			break;
		case OPT_PROC_ROOT:
			o->proc_root = optarg;
			break;
		case OPT_SYS_ROOT:
			o->sys_root = optarg;
			break;
		case OPT_PERF_BINARY:
			o->perf_path = optarg;
			break;
		case OPT_MAX_CLIENTS:
			if (parse_u64(optarg, &u) < 0 || u == 0 || u > 100000)
				return usage_error("--max-clients needs a number from 1 to 100000, not '%s'", optarg);
			o->max_clients = (uint32_t)u;
			break;
		case OPT_HELP:
			pw_print_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("perfwatch %s\n", PW_VERSION);
			return 1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->json && o->count != 1)
		return usage_error("%s", "--count goes with --json");
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return usage_error("%s", "--tls-cert and --tls-key go together");
	return 0;
}
