/* SPDX-License-Identifier: MIT */
/*
 * The schedule: one snapshot every interval on an absolute CLOCK_MONOTONIC timeline (no
 * drift), collectors (those that may block in threads of their own, with a deadline),
 * JSON serialized once, then every output in turn. Signals are taken synchronously
 * through a signalfd polled in this thread only, so no other thread is ever interrupted
 * by one; between snapshots the same poll serves the outputs' requests (wake()).
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "collect/runner.h"
#include "log.h"
#include "privdrop.h"
#include "output/outputs.h"
#include "output/snapshot_json.h"
#include "util/readfile.h"
#include "util/scan.h"
#include "util/timeutil.h"

#define MAX_OUTPUTS 8

struct running_output {
	const struct output *o;
	void *ctx;
	bool started;
};

static uint64_t self_rss_bytes(int proc_self_fd, uint64_t page_size)
{
	char buf[128];
	const char *p = buf, *end;
	uint64_t size, resident;
	ssize_t n;

	n = pread(proc_self_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	end = buf + n;
	/* "size resident shared ...": pages */
	if (pw_scan_u64(&p, end, &size) < 0 || pw_scan_u64(&p, end, &resident) < 0)
		return 0;
	return resident * page_size;
}

/* What the daemon thread waits on between snapshots: its signals and the outputs' requests. */
struct waiter {
	int sig_fd; /* signalfd of the blocked HUP, INT, TERM */
	struct pollfd fds[1 + MAX_OUTPUTS];
	struct running_output *owner[1 + MAX_OUTPUTS];
	nfds_t n;
	const struct snapshot *published; /* the last snapshot outputs got, NULL before the first */
};

/*
 * Waits until the absolute monotonic time `until` for one of the signals; returns the
 * signal that came, or 0. An output's request is served meanwhile. A time already past
 * still looks once, so a daemon that runs late keeps answering SIGTERM.
 */
static int wait_until(struct waiter *w, uint64_t until)
{
	for (;;) {
		uint64_t now = pw_mono_ns();
		struct timespec rel = pw_ns_to_ts(now < until ? until - now : 0);
		struct signalfd_siginfo si;
		int n = ppoll(w->fds, w->n, &rel, NULL);

		if (n < 0 && errno != EINTR)
			return 0;
		if (n > 0 && (w->fds[0].revents & POLLIN) && read(w->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
		for (nfds_t i = 1; n > 0 && i < w->n; i++)
			if (w->fds[i].revents & (POLLIN | POLLERR | POLLHUP))
				w->owner[i]->o->wake(w->owner[i]->ctx, w->published);
		if (pw_mono_ns() >= until)
			return 0;
	}
}

static long long read_perf_paranoid(void)
{
	char buf[32];
	long long v;
	ssize_t n;
	int fd;

	/* the host's setting, also when --proc-root points at a fixture tree */
	fd = open("/proc/sys/kernel/perf_event_paranoid", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PW_PARANOID_UNKNOWN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return PW_PARANOID_UNKNOWN;
	buf[n] = '\0';
	return sscanf(buf, "%lld", &v) == 1 ? v : PW_PARANOID_UNKNOWN;
}

/* Says at start who we run as, with which capabilities, and what we cannot do without the others. */
static void report_privileges(const struct pw_options *o)
{
	enum pw_log_level level = o->json ? PW_LOG_DEBUG : PW_LOG_INFO; /* --json stays quiet */
	bool want_bpf = o->perf_source == PW_PERF_AUTO || o->perf_source == PW_PERF_OPT_BPF;
	bool want_perf_stat = o->perf_source == PW_PERF_AUTO || o->perf_source == PW_PERF_OPT_PERF_STAT;
	char caps[512], serious[512], minor[256];

	pw_describe_caps(caps, sizeof(caps));
	pw_log(level, "running as uid %u, capabilities: %s", (unsigned)geteuid(), caps);
	pw_caps_consequences(want_bpf, want_bpf && o->bpf_stats, want_perf_stat, read_perf_paranoid(), serious,
			     sizeof(serious), minor, sizeof(minor));
	if (serious[0])
		pw_warn("%s", serious);
	if (minor[0])
		pw_log(level, "%s", minor);
}

/* --user: the log file must stay reopenable (SIGHUP) by the user we become. */
static void hand_log_over(const char *user)
{
	const char *path = pw_log_path();
	struct passwd *pw;

	if (!path || geteuid() != 0)
		return;
	pw = getpwnam(user);
	if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
		pw_warn("--log-file %s: cannot hand it to %s: %s (SIGHUP may not reopen it)", path, user,
			strerror(errno));
}

/*
 * After set-up (BPF programs loaded and attached, perf events open, the perf child
 * running, the socket bound, the database open and handed over) and one collection:
 * give up what collection no longer needs. With --user, switch to that user; without
 * it, a non-root service started with capabilities keeps only the needed ones; root
 * without --user stays root. What is still needed was found by test
 * (tests/integration/test_privileges.py): CAP_PERFMON for the perf-stat source, whose
 * supervisor restarts `perf stat -a` when it dies; for BPF (the perf source, socket
 * counts) nothing on Linux >= 6.5, where the map and perf event fds already held work
 * without any capability, CAP_BPF on older kernels that refuse every bpf() command
 * without it (asked of the kernel: pw_bpf_needs_cap()).
 */
static int drop_privileges(const struct pw_options *o, const struct snapshot *first)
{
	bool uses_bpf = first->perf.source == PW_PERF_SOURCE_BPF ||
			(first->network.valid && first->network.connections_source == PW_CONN_SOURCE_BPF);
	cap_value_t keep[2];
	size_t n_keep = 0;
	char err[256], caps[512];

	if (!o->user) {
		pw_describe_caps(caps, sizeof(caps));
		if (geteuid() == 0 || !strcmp(caps, "none"))
			return 0;
	}
	if (first->perf.source == PW_PERF_SOURCE_PERF_STAT && pw_has_cap(CAP_PERFMON))
		keep[n_keep++] = CAP_PERFMON;
	if (uses_bpf && pw_has_cap(CAP_BPF) && pw_bpf_needs_cap())
		keep[n_keep++] = CAP_BPF;
	if (o->user)
		hand_log_over(o->user);
	if (pw_drop_privileges(o->user, keep, n_keep, err, sizeof(err)) < 0) {
		if (o->user) {
			pw_err("cannot switch to user %s: %s", o->user, err);
			return -1;
		}
		pw_warn("cannot give up unneeded capabilities: %s", err);
		return 0;
	}
	pw_describe_caps(caps, sizeof(caps));
	/* --json stays quiet unless --user asked for the switch */
	pw_log(o->json && !o->user ? PW_LOG_DEBUG : PW_LOG_INFO, "%s%s, capabilities kept: %s (perf source: %s%s)",
	       o->user ? "now running as user " : "set-up done", o->user ? o->user : "", caps,
	       pw_perf_source_name(first->perf.source),
	       uses_bpf && n_keep && keep[n_keep - 1] == CAP_BPF ? "; this kernel needs CAP_BPF for bpf() on held fds" : "");
	return 0;
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

static void reopen_log(void)
{
	int e = pw_log_reopen();

	if (e < 0)
		pw_warn("SIGHUP: cannot reopen --log-file %s: %s (still writing to the old one)", pw_log_path(),
			strerror(-e));
	else if (pw_log_path())
		pw_debug("SIGHUP: reopened %s", pw_log_path());
}

static void stop_requested(int sig)
{
	pw_info("SIG%s: stopping", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
}

int pw_daemon_run(const struct pw_options *opts)
{
	struct running_output outs[MAX_OUTPUTS] = { 0 };
	uint64_t out_cpu_ns[MAX_OUTPUTS] = { 0 };
	const struct output *const *list;
	struct pw_daemon d = { .opts = opts, .env = { .proc_fd = -1, .sys_fd = -1 } };
	struct runner *runner = NULL;
	struct snapshot snap;
	struct pw_buf json = { 0 };
	char err[PW_ERROR_MAX] = "";
	uint64_t interval_ns, next, deadline_budget, printed = 0, late = 0, stop0, collectors0, page_size = 4096;
	size_t n_outs = 0, i;
	sigset_t sigs, stop_sigs;
	struct waiter wait = { .sig_fd = -1 };
	int statm_fd = -1, rc = 1, sig;
	bool primed = false;

	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigs = stop_sigs;
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread made from here on inherits it */
	signal(SIGPIPE, SIG_IGN);

	snapshot_init(&snap);
	wait.sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (wait.sig_fd < 0) {
		pw_err("cannot wait for signals: signalfd: %s", strerror(errno));
		goto out;
	}
	wait.fds[wait.n++] = (struct pollfd){ .fd = wait.sig_fd, .events = POLLIN };
	if (opts->user && pw_check_user(opts->user, err, sizeof(err)) < 0) {
		pw_err("cannot switch to user %s: %s", opts->user, err);
		goto out;
	}
	report_privileges(opts);
	d.start_mono_ns = pw_mono_ns();
	d.start_time = (double)pw_clock_ns(CLOCK_REALTIME) / 1e9;
	statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	page_size = (uint64_t)sysconf(_SC_PAGESIZE);

	if (pw_env_open(&d.env, opts, err, sizeof(err)) < 0) {
		pw_err("%s", err);
		goto out;
	}
	if (runner_create(&runner, pw_collectors, pw_n_collectors, &d.env) < 0) {
		pw_err("cannot start the collectors: out of memory or threads");
		goto out;
	}
	runner_set_interrupt(runner, &stop_sigs); /* not SIGHUP: a log rotation must not cut a collection short */

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
		if (list[i]->wake_fd && list[i]->wake_fd(outs[i].ctx) >= 0) {
			wait.owner[wait.n] = &outs[i];
			wait.fds[wait.n++] = (struct pollfd){ .fd = list[i]->wake_fd(outs[i].ctx), .events = POLLIN };
		}
	}

	interval_ns = (uint64_t)(opts->interval_s * 1e9);
	/* a collector gets most of the interval, but never more than 2 s: the snapshot is on time */
	deadline_budget = interval_ns * 8 / 10;
	if (deadline_budget > 2000000000ull)
		deadline_budget = 2000000000ull;
	next = pw_mono_ns();

	for (;;) {
		uint64_t cpu0, t0, t1, o0, o1;

		sig = wait_until(&wait, next);
		if (sig == SIGHUP) {
			reopen_log();
			continue;
		}
		if (sig == SIGINT || sig == SIGTERM) {
			stop_requested(sig);
			rc = 0;
			break;
		}
		cpu0 = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		wait.published = NULL; /* no longer intact from here on */
		snapshot_reset(&snap);
		fill_header(&snap, opts);
		runner_collect(runner, &snap, &(struct pw_tick){ .at_ns = next, .interval_ns = interval_ns }, next + deadline_budget);
		/* a stop that came while collecting: no half-collected snapshot goes out */
		sig = wait_until(&wait, 0);
		if (sig == SIGHUP) {
			reopen_log();
		} else if (sig == SIGINT || sig == SIGTERM) {
			stop_requested(sig);
			rc = 0;
			break;
		}
		snap.self.collect_cpu_ns = 0;
		snap.self.n_collectors = 0;
		for (i = 0; i < runner_count(runner); i++) {
			struct runner_stats st = runner_stats(runner, i);

			snap.self.collect_cpu_ns += st.cpu_ns;
			if (i < PW_SELF_MAX_STAGES) {
				snap.self.collectors[i].name = runner_name(runner, i);
				snap.self.collectors[i].cpu_ns = st.cpu_ns;
				snap.self.n_collectors = (uint32_t)i + 1;
			}
			if (st.late)
				late++;
		}
		if (!primed) {
			/* the first sample only sets the baseline every rate is computed from */
			primed = true;
			if (drop_privileges(opts, &snap) < 0)
				goto out;
			/* hand back what set-up used (kernel BTF for CO-RE, ...): RSS stays small */
			malloc_trim(0);
			next += interval_ns;
			continue;
		}
		snap.seq = printed;
		for (i = 0; i < n_outs; i++) {
			const char *why = outs[i].o->status ? outs[i].o->status(outs[i].ctx) : NULL;

			if (why)
				snapshot_add_error(&snap, outs[i].o->name, "%s", why);
		}
		snap.self.rss_bytes = statm_fd >= 0 ? self_rss_bytes(statm_fd, page_size) : 0;
		snap.self.snapshots_late = late;
		snap.self.uptime_s = (double)(pw_mono_ns() - d.start_mono_ns) / 1e9;

		t0 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		pw_buf_clear(&json);
		snapshot_to_json(&snap, &json);
		t1 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		snap.self.json_cpu_ns = t1 - t0;
		o0 = t1;
		if (json.oom) {
			pw_err("out of memory while serializing snapshot %llu", (unsigned long long)snap.seq);
		} else {
			/* one clock reading ends an output's time and starts the next one's */
			for (i = 0; i < n_outs; i++, o0 = o1) {
				outs[i].o->publish(outs[i].ctx, &snap, &json);
				o1 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
				out_cpu_ns[i] = o1 - o0;
			}
			wait.published = &snap;
		}
		printed++;
		/* carried into the next snapshot: this cycle's cost is known only now */
		snap.self.outputs_cpu_ns = o0 - t1;
		snap.self.n_outputs = (uint32_t)n_outs;
		for (i = 0; i < n_outs; i++) {
			snap.self.outputs[i].name = outs[i].o->name;
			snap.self.outputs[i].cpu_ns = out_cpu_ns[i];
		}
		snap.self.cycle_cpu_ns = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
		pw_debug("snapshot %llu: %zu bytes, %u errors, cycle CPU %.2f ms, published %.1f ms after its tick",
			 (unsigned long long)snap.seq, json.len, (unsigned)snap.n_errors, (double)snap.self.cycle_cpu_ns / 1e6,
			 (double)(pw_mono_ns() - next) / 1e6);
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
	/* the server first (clients closed), then history flushed and closed, then the
	 * collectors (BPF detached, perf child stopped); each step timed for --log-level debug */
	stop0 = pw_mono_ns();
	for (i = MAX_OUTPUTS; i-- > 0;) {
		if (outs[i].started && outs[i].o->stop) {
			uint64_t t = pw_mono_ns();

			outs[i].o->stop(outs[i].ctx);
			pw_debug("stopped %s in %.1f ms", outs[i].o->name, (double)(pw_mono_ns() - t) / 1e6);
		}
	}
	collectors0 = pw_mono_ns();
	runner_destroy(runner);
	if (runner)
		pw_debug("stopped the collectors in %.1f ms; everything in %.1f ms", (double)(pw_mono_ns() - collectors0) / 1e6,
			 (double)(pw_mono_ns() - stop0) / 1e6);
	pw_env_close(&d.env);
	snapshot_free(&snap);
	pw_buf_free(&json);
	if (statm_fd >= 0)
		close(statm_fd);
	if (wait.sig_fd >= 0)
		close(wait.sig_fd);
	return rc;
}
