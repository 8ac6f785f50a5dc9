/* SPDX-License-Identifier: MIT */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/bpf.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int e, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

static bool kept(cap_value_t c, const cap_value_t *keep, size_t n_keep)
{
	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] == c)
			return true;
	return false;
}

bool pw_has_cap(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (!caps)
		return false;
	if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET;
}

static int lookup_user(const char *name, struct passwd *pw, char *buf, size_t buflen, char *err, size_t errlen)
{
	struct passwd *res = NULL;
	int e = getpwnam_r(name, pw, buf, buflen, &res);

	if (e || !res) {
		snprintf(err, errlen, "no such user '%s'", name);
		return e ? -e : -ENOENT;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "--user %s is root: nothing would be dropped", name);
		return -EINVAL;
	}
	return 0;
}

int pw_check_user(const char *name, char *err, size_t errlen)
{
	struct passwd pw;
	char buf[4096];

	return lookup_user(name, &pw, buf, sizeof(buf), err, errlen);
}

/*
 * Every call below that changes credentials goes through libcap, which runs it in every
 * thread when libpsx is linked (glibc alone would do so only for set*id and setgroups).
 */
int pw_drop_privileges(const char *name, const cap_value_t *keep, size_t n_keep, char *err, size_t errlen)
{
	struct passwd pw;
	char pwbuf[4096];
	cap_t caps;
	int e;

	if (name) {
		e = lookup_user(name, &pw, pwbuf, sizeof(pwbuf), err, errlen);
		if (e < 0)
			return e;
	}
	/* the bounding set first: leaving it needs CAP_SETPCAP, which goes away below */
	if (pw_has_cap(CAP_SETPCAP)) {
		for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
			if (!kept(c, keep, n_keep) && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0 && errno != EINVAL)
				return fail(err, errlen, errno, "cannot drop from the capability bounding set");
	}
	if (name) {
		if (cap_setgroups(pw.pw_gid, 1, &pw.pw_gid) < 0)
			return fail(err, errlen, errno, "cannot switch group (needs CAP_SETGID)");
		/* keeps the permitted set across the change of user, lowers the effective one */
		if (cap_setuid(pw.pw_uid) < 0)
			return fail(err, errlen, errno, "cannot switch user (needs CAP_SETUID)");
	}

	caps = cap_init();
	if (!caps)
		return fail(err, errlen, ENOMEM, "cap_init");
	if (n_keep && (cap_set_flag(caps, CAP_PERMITTED, (int)n_keep, keep, CAP_SET) < 0 ||
		       cap_set_flag(caps, CAP_EFFECTIVE, (int)n_keep, keep, CAP_SET) < 0 ||
		       cap_set_flag(caps, CAP_INHERITABLE, (int)n_keep, keep, CAP_SET) < 0)) {
		e = errno;
		cap_free(caps);
		return fail(err, errlen, e, "cap_set_flag");
	}
	if (cap_set_proc(caps) < 0) {
		e = errno;
		cap_free(caps);
		return fail(err, errlen, e, "cannot keep the capabilities collection needs");
	}
	cap_free(caps);
	if (cap_reset_ambient() < 0)
		return fail(err, errlen, errno, "cap_reset_ambient");
	for (size_t i = 0; i < n_keep; i++)
		if (cap_set_ambient(keep[i], CAP_SET) < 0)
			return fail(err, errlen, errno, "cap_set_ambient");
	if (cap_prctlw(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) < 0)
		return fail(err, errlen, errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

/* Lists the capabilities whose effective flag equals want, comma-separated; returns how many. */
static size_t list_caps(cap_t caps, cap_flag_value_t want, char *out, size_t outlen)
{
	size_t used = 0, count = 0;

	out[0] = '\0';
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		char *name;
		int n;

		if (!CAP_IS_SUPPORTED(c) || cap_get_flag(caps, c, CAP_EFFECTIVE, &v) < 0 || v != want)
			continue;
		count++;
		if (used >= outlen)
			continue;
		name = cap_to_name(c);
		n = snprintf(out + used, outlen - used, "%s%s", used ? "," : "", name ? name : "?");
		used += n > 0 ? (size_t)n : 0;
		cap_free(name);
	}
	return count;
}

void pw_describe_caps(char *out, size_t outlen)
{
	cap_t caps = cap_get_proc();
	char missing[256];
	size_t n_set, n_missing;

	if (!caps) {
		snprintf(out, outlen, "unknown");
		return;
	}
	n_missing = list_caps(caps, CAP_CLEAR, missing, sizeof(missing));
	n_set = list_caps(caps, CAP_SET, out, outlen);
	cap_free(caps);
	if (!n_set)
		snprintf(out, outlen, "none");
	else if (!n_missing)
		snprintf(out, outlen, "all");
	else if (n_missing <= 3) /* root in a container or a VM that withholds a few */
		snprintf(out, outlen, "all except %s", missing);
}

/* In the forked child of a threaded process: raw system calls only, then _exit. */
static int probe_bpf_without_cap(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	union bpf_attr attr;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 2;
	data[CAP_BPF / 32].effective &= ~(1u << (CAP_BPF % 32));
	data[CAP_BPF / 32].permitted &= ~(1u << (CAP_BPF % 32));
	data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	data[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return 2;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)-1;
	if (syscall(SYS_bpf, BPF_MAP_GET_NEXT_KEY, &attr, sizeof(attr)) < 0 && errno == EPERM)
		return 1;
	return 0;
}

bool pw_bpf_needs_cap(void)
{
	int status;
	pid_t pid, r;

	pid = fork();
	if (pid < 0)
		return true;
	if (pid == 0)
		_exit(probe_bpf_without_cap());
	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	return r != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static size_t add(char *out, size_t len, size_t used, const char *text)
{
	int n;

	if (used >= len)
		return used;
	n = snprintf(out + used, len - used, "%s%s", used ? "; " : "", text);
	return used + (n > 0 ? (size_t)n : 0);
}

void pw_caps_consequences(bool want_bpf, bool want_bpf_stats, bool want_perf_stat, long long perf_paranoid,
			  char *serious, size_t serious_len, char *minor, size_t minor_len)
{
	/* what the kernel checks: bpf_capable() and perfmon_capable() accept CAP_SYS_ADMIN too */
	bool admin = pw_has_cap(CAP_SYS_ADMIN);
	bool bpf = admin || pw_has_cap(CAP_BPF);
	bool perfmon = admin || pw_has_cap(CAP_PERFMON);
	/* perf_event_paranoid <= 0 lets anyone open system-wide (per-CPU) events */
	bool perf_open = perfmon || (perf_paranoid != PW_PARANOID_UNKNOWN && perf_paranoid <= 0);
	char text[256];
	size_t s = 0;

	serious[0] = minor[0] = '\0';
	if (want_bpf && (!bpf || !perfmon)) {
		snprintf(text, sizeof(text), "no %s: eBPF collector off (loading tracing programs needs CAP_BPF and CAP_PERFMON)",
			 !bpf && !perfmon ? "CAP_BPF, CAP_PERFMON" : !bpf ? "CAP_BPF" : "CAP_PERFMON");
		s = add(serious, serious_len, s, text);
		if (want_perf_stat && perf_open)
			s = add(serious, serious_len, s, "falling back to perf stat");
	}
	if (want_perf_stat && !perf_open) {
		if (perf_paranoid == PW_PARANOID_UNKNOWN)
			snprintf(text, sizeof(text), "no CAP_PERFMON: system-wide perf events (perf stat -a) are likely refused");
		else
			snprintf(text, sizeof(text),
				 "no CAP_PERFMON: system-wide perf events (perf stat -a) refused while "
				 "kernel.perf_event_paranoid=%lld: the perf section will be unavailable", perf_paranoid);
		s = add(serious, serious_len, s, text);
	}
	if (want_bpf_stats && bpf && perfmon && !admin)
		add(minor, minor_len, 0, "no CAP_SYS_ADMIN: BPF run-time statistics only if sysctl kernel.bpf_stats_enabled=1");
}
