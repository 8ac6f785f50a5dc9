/* SPDX-License-Identifier: MIT */
/*
 * The "perf-stat" source of the perf section: one long-running
 *
 *   perf stat -I <ms> -x@ -a -e <the 17 events> --log-fd 3
 *
 * child, started at open, supervised, its output parsed as it streams.
 *
 * Separator: '@', not ','. A ',' is legal inside event names (raw events such as
 * cpu/event=0x3c,umask=0x0/) and perf's own CSV test uses '@' for that reason; '@' never
 * appears in an event name, a number or a unit. The parser reads ',' output too.
 *
 * Alignment: perf's intervals start when perf does, not on the snapshot schedule, and
 * they drift a little (perf sleeps a fixed -I after each print). With -I equal to the
 * snapshot interval a snapshot would nearly always just miss the interval that belongs
 * to it and report the one before. So -I is a tenth of the snapshot interval (100 ms to
 * 1 s; at most half of it for very short intervals): a snapshot sums the complete perf
 * intervals received since the previous one, and lags the true interval by at most one
 * perf interval (0.5 s at the default 5 s). Cost: perf wakes 10 times per snapshot and
 * prints 17 lines each (about 14 KB per snapshot to parse); measured on this 2-CPU
 * machine, perf at -I 100 used 0.02 s of CPU in 10 s (0.2 % of one CPU), at -I 500 less
 * than that. See perfstat_window.h for how counts are scaled to the snapshot interval.
 * On a machine so busy that perf waits for a CPU longer than a snapshot interval (seen
 * here with eight test suites on two CPUs) a snapshot can find no complete interval: it
 * says so (available=false), and the counts come with the next one.
 *
 * Events: the table of src/perf/perf_events.c. With PW_TEST_SOFTWARE_EVENTS=1 (tests only)
 * perf counts each hardware event's software stand-in instead, so a machine without a PMU
 * runs the whole path up to available=true; perf prints the events in the order given,
 * which is how a stand-in's line (say "task-clock" for instructions) finds its slot.
 *
 * Supervision happens at each read, without blocking: output and stderr are drained,
 * the child is reaped if it exited, and restarted once its backoff (1 s, doubling to
 * 60 s; back to 1 s after a child that ran for a minute) has passed. Meanwhile the
 * snapshot says available=false and why.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perf/perf_backend.h"
#include "perf/perf_caps.h"
#include "perf/perf_events.h"
#include "perf/perfstat_child.h"
#include "perf/perfstat_parse.h"
#include "perf/perfstat_window.h"
#include "util/timeutil.h"

#define SEP '@'
#define SEP_ARG "-x@"
#define NS_PER_MS 1000000ull
#define BACKOFF_MIN_NS (1000 * NS_PER_MS)
#define BACKOFF_MAX_NS (60000 * NS_PER_MS)
#define HEALTHY_RUN_NS (60000 * NS_PER_MS)
/* reads come once per snapshot: one a few ms early for a restart still counts as due */
#define RESTART_SLACK_NS (50 * NS_PER_MS)
#define MAX_READ_PER_CALL (16u << 20) /* bounds one read's parsing work */

struct perfstat {
	char perf_path[PATH_MAX];
	char interval_arg[16];
	char events_arg[PW_PERF_NUM_EVENTS * 32];
	char *argv[16];
	const char *asked[PW_PERF_NUM_EVENTS]; /* the event perf counts in each slot, in -e order */
	bool standins;            /* PW_TEST_SOFTWARE_EVENTS=1 */
	double slot_ts;           /* the interval whose lines are being matched to slots */
	int slot;                 /* the slot of its next line */
	unsigned perf_interval_ms;
	bool has_hw_pmu;

	struct pw_perfstat_child child;
	struct pw_perfstat_parser parser;
	struct pw_perfstat_window window;

	uint64_t last_read_ns;
	uint64_t child_started_ns;
	uint64_t restart_at_ns;   /* no child: when to start the next one */
	uint64_t backoff_ns;
	unsigned restarts;
	bool fresh;               /* a restarted child has not delivered an interval yet */
	char down_reason[512];    /* why the last child ended */

	char buf[64 * 1024];
};

/* The scrubbed environment perf runs with: no locale, no user or admin perf config. */
static char *const child_env[] = {
	"LC_ALL=C",
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"PERF_CONFIG_NOSYSTEM=1",
	"PERF_CONFIG_NOGLOBAL=1",
	NULL,
};

static unsigned perf_interval_ms(double interval_s)
{
	double ms = interval_s * 1000.0;
	double sub = ms / 10.0;

	if (sub < 100.0)
		sub = 100.0;
	if (sub > 1000.0)
		sub = 1000.0;
	if (sub > ms / 2.0)
		sub = ms / 2.0 < 10.0 ? 10.0 : ms / 2.0; /* perf's minimum is 10 ms */
	return (unsigned)sub;
}

static void build_argv(struct perfstat *ps)
{
	size_t used = 0, k = 0;

	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
		const struct pw_perf_event_def *d = &pw_perf_event_defs[i];

		ps->asked[i] = ps->standins && d->hardware && d->standin ? d->standin : d->name;
		used += (size_t)snprintf(ps->events_arg + used, sizeof(ps->events_arg) - used, "%s%s",
					 i ? "," : "", ps->asked[i]);
	}
	snprintf(ps->interval_arg, sizeof(ps->interval_arg), "%u", ps->perf_interval_ms);
	ps->argv[k++] = "perf";
	ps->argv[k++] = "stat";
	ps->argv[k++] = "-I";
	ps->argv[k++] = ps->interval_arg;
	ps->argv[k++] = SEP_ARG;
	ps->argv[k++] = "-a";
	ps->argv[k++] = "-e";
	ps->argv[k++] = ps->events_arg;
	ps->argv[k++] = "--log-fd";
	ps->argv[k++] = "3";
	ps->argv[k] = NULL;
}

static void on_record(const struct pw_perfstat_record *rec, void *userdata)
{
	struct perfstat *ps = userdata;
	int e = -1;

	if (!ps->standins) {
		pw_perfstat_window_add(&ps->window, rec);
		return;
	}
	/* stand-ins repeat names: the k-th line of an interval is the k-th event asked for */
	if (rec->timestamp != ps->slot_ts) {
		ps->slot_ts = rec->timestamp;
		ps->slot = 0;
	}
	if (ps->slot < PW_PERF_NUM_EVENTS && !strcmp(rec->event, ps->asked[ps->slot]))
		e = ps->slot++;
	pw_perfstat_window_add_event(&ps->window, rec, e);
}

/* Parses what the child wrote since the last call. Returns true at end of stream. */
static bool pump_output(struct perfstat *ps)
{
	size_t total = 0;
	long n;

	while (total < MAX_READ_PER_CALL) {
		n = pw_perfstat_child_read(&ps->child, ps->buf, sizeof(ps->buf));
		if (n == -EAGAIN)
			return false;
		if (n <= 0)
			return true;
		pw_perfstat_parser_feed(&ps->parser, ps->buf, (size_t)n, on_record, ps);
		total += (size_t)n;
	}
	return false;
}

static int start_child(struct perfstat *ps, const struct pw_env *env, uint64_t now)
{
	int n_cpus = pw_perf_online_cpus(env->sys_fd);
	int rc;

	pw_perfstat_parser_reset(&ps->parser);
	pw_perfstat_window_init(&ps->window, n_cpus > 0 ? (unsigned)n_cpus : 0);
	ps->slot_ts = -1.0;
	rc = pw_perfstat_child_start(&ps->child, ps->perf_path, ps->argv, child_env);
	if (rc == 0)
		ps->child_started_ns = now;
	return rc;
}

/* ran_long: the child that ended had run for a while, so this is a first failure again */
static void schedule_restart(struct perfstat *ps, uint64_t now, bool ran_long)
{
	if (ran_long)
		ps->backoff_ns = BACKOFF_MIN_NS;
	ps->restart_at_ns = now + ps->backoff_ns;
	ps->backoff_ns *= 2;
	if (ps->backoff_ns > BACKOFF_MAX_NS)
		ps->backoff_ns = BACKOFF_MAX_NS;
}

/* The child exited: take its last output and say why it ended. */
static void child_ended(struct perfstat *ps, int status)
{
	const struct pw_perfstat_child *c = &ps->child;
	char how[96];
	bool two;

	pump_output(ps);
	pw_perfstat_child_drain_stderr(&ps->child);
	pw_perfstat_window_flush(&ps->window);
	two = c->err_last[0] && strcmp(c->err_first, c->err_last);
	pw_perfstat_describe_status(status, how, sizeof(how));
	snprintf(ps->down_reason, sizeof(ps->down_reason), "perf stat %s%s%s%s%s", how, c->err_first[0] ? ": " : "",
		 c->err_first, two ? " ... " : "", two ? c->err_last : "");
	pw_perfstat_child_close_pipes(&ps->child);
}

/* Drains the child, reaps it if it exited, restarts it when its backoff has passed. */
static void supervise(struct perfstat *ps, const struct pw_env *env, uint64_t now)
{
	int status;

	if (ps->child.pid > 0) {
		pump_output(ps);
		pw_perfstat_child_drain_stderr(&ps->child);
		if (pw_perfstat_child_reap(&ps->child, &status) == 1) {
			child_ended(ps, status);
			schedule_restart(ps, now, now - ps->child_started_ns >= HEALTHY_RUN_NS);
		}
	}
	if (ps->child.pid <= 0 && ps->restart_at_ns && now + RESTART_SLACK_NS >= ps->restart_at_ns) {
		int rc = start_child(ps, env, now);

		if (rc < 0) {
			snprintf(ps->down_reason, sizeof(ps->down_reason), "cannot start %.200s: %s", ps->perf_path,
				 strerror(-rc));
			schedule_restart(ps, now, false);
		} else {
			ps->restart_at_ns = 0;
			ps->restarts++;
			ps->fresh = true;
		}
	}
}

/*
 * Waits for the child's first output (or its exit, or timeout_ms), so that a perf that
 * cannot run at all is found at open and the next source can be tried.
 */
static int wait_first_output(struct perfstat *ps, unsigned timeout_ms, char *err, size_t errlen)
{
	uint64_t deadline = pw_mono_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	int status;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = ps->child.out_fd, .events = POLLIN },
			{ .fd = ps->child.err_fd, .events = POLLIN },
		};
		uint64_t now = pw_mono_ns();
		bool eof;

		if (now >= deadline)
			return 0; /* running, just slow to print: supervision takes over */
		(void)poll(pfd, 2, (int)((deadline - now) / NS_PER_MS) + 1);
		pw_perfstat_child_drain_stderr(&ps->child);
		eof = pump_output(ps);
		if (pw_perfstat_child_reap(&ps->child, &status) == 1) {
			child_ended(ps, status);
			snprintf(err, errlen, "%s", ps->down_reason);
			return -EIO;
		}
		if (ps->parser.n_records > 0)
			return 0;
		if (eof) {
			/* output closed, exit not yet seen: poll() would not wait any more */
			struct timespec t = { 0, 10 * 1000000L };

			nanosleep(&t, NULL);
		}
	}
}

static void perfstat_close(void *ctx)
{
	struct perfstat *ps = ctx;

	if (!ps)
		return;
	pw_perfstat_child_stop(&ps->child, ps->perf_interval_ms + 1000);
	free(ps);
}

static int perfstat_open(void **ret_ctx, const struct pw_env *env, char *err, size_t errlen)
{
	const struct pw_options *o = env->opts;
	struct perfstat *ps;
	bool paranoid_known;
	int paranoid = 0, rc;

	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pw_perfstat_child_init(&ps->child);
	pw_perfstat_parser_init(&ps->parser, SEP);
	pw_perfstat_window_init(&ps->window, 0);

	rc = pw_perf_find_binary(o ? o->perf_path : NULL, getenv("PATH"), ps->perf_path, sizeof(ps->perf_path), err,
				 errlen);
	if (rc < 0)
		goto out_free;
	paranoid_known = pw_perf_read_paranoid(env->proc_fd, &paranoid) == 0;
	rc = pw_perf_check_access(paranoid_known, paranoid, pw_perf_child_privileged(ps->perf_path), err, errlen);
	if (rc < 0)
		goto out_free;
	ps->has_hw_pmu = pw_perf_has_hw_pmu(env->sys_fd);
	ps->perf_interval_ms = perf_interval_ms(o && o->interval_s > 0 ? o->interval_s : 5.0);
	ps->standins = getenv(PW_TEST_SOFTWARE_EVENTS_ENV) && !strcmp(getenv(PW_TEST_SOFTWARE_EVENTS_ENV), "1");
	build_argv(ps);
	ps->backoff_ns = BACKOFF_MIN_NS;

	rc = start_child(ps, env, pw_mono_ns());
	if (rc < 0) {
		snprintf(err, errlen, "cannot start %s: %s", ps->perf_path, strerror(-rc));
		goto out_free;
	}
	rc = wait_first_output(ps, ps->perf_interval_ms + 1500, err, errlen);
	if (rc < 0)
		goto out_stop;
	ps->last_read_ns = pw_mono_ns();
	*ret_ctx = ps;
	return 0;

out_stop:
	pw_perfstat_child_stop(&ps->child, ps->perf_interval_ms + 1000);
out_free:
	free(ps);
	return rc;
}

static int perfstat_read(void *ctx, const struct pw_env *env, struct snapshot *out, char *err, size_t errlen)
{
	struct perfstat *ps = ctx;
	struct pw_perfstat_take take;
	struct pw_perf *p = &out->perf;
	uint64_t now = pw_mono_ns();
	double elapsed_s, interval_s, span_s;

	(void)err;
	(void)errlen;
	supervise(ps, env, now);
	pw_perfstat_window_take(&ps->window, &take);
	elapsed_s = (double)(now - ps->last_read_ns) / 1e9;
	ps->last_read_ns = now;
	/*
	 * Counts over the snapshot interval: interval_s, or a whole number of them when ticks
	 * were skipped. Not the time between two reads, which jitters with the wake-up of
	 * this thread (±12 % measured on this loaded 2-CPU VM) while the ticks do not.
	 */
	interval_s = env->opts && env->opts->interval_s > 0 ? env->opts->interval_s : elapsed_s;
	span_s = interval_s * fmax(1.0, round(elapsed_s / interval_s));

	pw_perfstat_fill(&take, span_s, ps->has_hw_pmu, p);
	p->source = PW_PERF_SOURCE_PERF_STAT;
	if (ps->standins && p->available)
		snprintf(p->error, sizeof(p->error), "test mode (" PW_TEST_SOFTWARE_EVENTS_ENV "=1): the 13 hardware "
			 "events count software stand-ins");
	if (take.n_intervals)
		ps->fresh = false;
	if (ps->child.pid <= 0) {
		uint64_t wait_ns = ps->restart_at_ns > now ? ps->restart_at_ns - now : 0;

		p->available = false;
		snprintf(p->error, sizeof(p->error), "%s; restarting it in %llu s", ps->down_reason,
			 (unsigned long long)((wait_ns + 999999999ull) / 1000000000ull));
	} else if (ps->fresh) {
		p->available = false;
		snprintf(p->error, sizeof(p->error), "perf stat restarted (%u so far) after: %s; waiting for its first interval",
			 ps->restarts, ps->down_reason);
	}
	return 0;
}

const struct perf_backend pw_perfstat_backend = {
	.name = "perf-stat",
	.source = PW_PERF_SOURCE_PERF_STAT,
	.open = perfstat_open,
	.read = perfstat_read,
	.close = perfstat_close,
};
