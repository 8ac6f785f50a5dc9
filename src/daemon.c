/* SPDX-License-Identifier: MIT */
/*
 * The schedule: one snapshot every interval on an absolute CLOCK_MONOTONIC timeline (no
 * drift), collectors in parallel with a deadline, JSON serialized once, then every
 * output in turn. Signals are taken synchronously with sigtimedwait() in this thread
 * only, so no other thread is ever interrupted by one.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect/runner.h"
#include "log.h"
#include "privdrop.h"
#include "output/outputs.h"
#include "output/snapshot_json.h"
#include "util/readfile.h"
#include "util/timeutil.h"

#define MAX_OUTPUTS 8

struct running_output {
	const struct output *o;
	void *ctx;
	bool started;
};

static uint64_t self_rss_bytes(int proc_self_fd)
{
	char buf[128];
	unsigned long long size, resident;
	ssize_t n;

	n = pread(proc_self_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Waits until the absolute monotonic time `until`; returns the signal that came, or 0. */
static int wait_until(const sigset_t *sigs, uint64_t until)
{
	for (;;) {
		uint64_t now = pw_mono_ns();
		struct timespec rel;
		int sig;

		if (now >= until)
			return 0;
		rel = pw_ns_to_ts(until - now);
		sig = sigtimedwait(sigs, NULL, &rel);
		if (sig > 0)
			return sig;
		if (errno != EINTR && errno != EAGAIN)
			return 0;
	}
}

static void fill_header(struct snapshot *s, const struct pw_options *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	s->timestamp = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	s->mono_ns = pw_mono_ns();
	s->interval_s = o->interval_s;
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0)
		snprintf(s->hostname, sizeof(s->hostname), "unknown");
}

int pw_daemon_run(const struct pw_options *opts)
{
	struct running_output outs[MAX_OUTPUTS] = { 0 };
	const struct output *const *list;
	struct pw_daemon d = { .opts = opts };
	struct runner *runner = NULL;
	struct snapshot snap;
	struct pw_buf json = { 0 };
	char err[PW_ERROR_MAX] = "";
	uint64_t interval_ns, next, deadline_budget, printed = 0, late = 0;
	size_t n_outs = 0, i;
	sigset_t sigs;
	int statm_fd, rc = 1, sig;
	bool primed = false;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread made from here on inherits it */
	signal(SIGPIPE, SIG_IGN);

	snapshot_init(&snap);
	d.start_mono_ns = pw_mono_ns();
	d.start_time = (double)pw_clock_ns(CLOCK_REALTIME) / 1e9;
	statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (pw_env_open(&d.env, opts, err, sizeof(err)) < 0) {
		pw_err("%s", err);
		goto out;
	}
	if (runner_create(&runner, pw_collectors, pw_n_collectors, &d.env) < 0) {
		pw_err("cannot start the collectors: out of memory or threads");
		goto out;
	}

	if (opts->json) {
		static const struct output *const json_outs[] = { &pw_stdout_output };
		list = json_outs;
		n_outs = 1;
	} else {
		list = pw_daemon_outputs;
		n_outs = pw_n_daemon_outputs;
	}
	for (i = 0; i < n_outs && i < MAX_OUTPUTS; i++) {
		outs[i].o = list[i];
		err[0] = '\0';
		if (list[i]->start(&outs[i].ctx, &d, err, sizeof(err)) < 0) {
			pw_err("%s: %s", list[i]->name, err[0] ? err : "failed to start");
			goto out;
		}
		outs[i].started = true;
	}

	if (opts->user) {
		/*
		 * Everything privileged is set up by now (BPF programs and perf events loaded,
		 * perf child started, socket bound, database open). What collection still needs
		 * afterwards on this kernel was found by test (tests/integration/test_privileges.py).
		 */
		static const cap_value_t keep[] = { CAP_PERFMON };
		char caps[256];

		if (pw_drop_privileges(opts->user, keep, sizeof(keep) / sizeof(keep[0]), err, sizeof(err)) < 0) {
			pw_err("cannot switch to user %s: %s", opts->user, err);
			goto out;
		}
		pw_describe_caps(caps, sizeof(caps));
		pw_info("running as user %s, capabilities kept: %s", opts->user, caps);
	}

	interval_ns = (uint64_t)(opts->interval_s * 1e9);
	/* a collector gets most of the interval, but never more than 2 s: the snapshot is on time */
	deadline_budget = interval_ns * 8 / 10;
	if (deadline_budget > 2000000000ull)
		deadline_budget = 2000000000ull;
	next = pw_mono_ns();

	for (;;) {
		uint64_t cpu0, t0, t1;

		sig = wait_until(&sigs, next);
		if (sig == SIGHUP) {
			pw_log_reopen(NULL);
			continue;
		}
		if (sig == SIGINT || sig == SIGTERM) {
			pw_info("%s: stopping", strsignal(sig));
			rc = 0;
			break;
		}
		cpu0 = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		snapshot_reset(&snap);
		fill_header(&snap, opts);
		runner_collect(runner, &snap, next + deadline_budget);
		snap.self.collect_cpu_ns = 0;
		for (i = 0; i < runner_count(runner); i++) {
			struct runner_stats st = runner_stats(runner, i);

			snap.self.collect_cpu_ns += st.cpu_ns;
			if (st.late)
				late++;
		}
		if (!primed) {
			/* the first sample only sets the baseline every rate is computed from */
			primed = true;
			next += interval_ns;
			continue;
		}
		snap.seq = printed;
		for (i = 0; i < n_outs; i++) {
			const char *why = outs[i].o->status ? outs[i].o->status(outs[i].ctx) : NULL;

			if (why)
				snapshot_add_error(&snap, outs[i].o->name, "%s", why);
		}
		snap.self.rss_bytes = statm_fd >= 0 ? self_rss_bytes(statm_fd) : 0;
		snap.self.snapshots_late = late;
		snap.self.uptime_s = (double)(pw_mono_ns() - d.start_mono_ns) / 1e9;

		t0 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		pw_buf_clear(&json);
		snapshot_to_json(&snap, &json);
		t1 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		snap.self.json_cpu_ns = t1 - t0;
		if (json.oom) {
			pw_err("out of memory while serializing snapshot %llu", (unsigned long long)snap.seq);
		} else {
			for (i = 0; i < n_outs; i++)
				outs[i].o->publish(outs[i].ctx, &snap, &json);
		}
		d.cost.outputs_cpu_ns[0] = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t1;
		printed++;
		/* carried into the next snapshot: this cycle's cost is known only now */
		snap.self.outputs_cpu_ns = d.cost.outputs_cpu_ns[0];
		snap.self.cycle_cpu_ns = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
		if (opts->json && printed >= opts->count) {
			rc = 0;
			break;
		}
		next += interval_ns;
		/* a cycle that ran past one or more ticks skips them rather than bursting */
		while (next <= pw_mono_ns())
			next += interval_ns;
	}
out:
	for (i = MAX_OUTPUTS; i-- > 0;)
		if (outs[i].started && outs[i].o->stop)
			outs[i].o->stop(outs[i].ctx);
	runner_destroy(runner);
	pw_env_close(&d.env);
	snapshot_free(&snap);
	pw_buf_free(&json);
	if (statm_fd >= 0)
		close(statm_fd);
	return rc;
}
