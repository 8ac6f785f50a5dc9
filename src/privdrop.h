/* SPDX-License-Identifier: MIT */
/*
 * Privileges: what this process may do, and giving up what it no longer needs.
 *
 * Capabilities, the bounding set and no_new_privs are per thread in Linux. PerfWatch
 * has collector and server threads by the time it drops privileges, so it links libpsx
 * (mk/ops.mk): libcap then changes every thread at once, as POSIX semantics ask.
 */
#ifndef PW_PRIVDROP_H
#define PW_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/capability.h>

/*
 * Switches the whole process to user `name` (NULL: stay who we are) and its primary
 * group, keeps only the capabilities in keep[0..n_keep) (permitted, effective,
 * inheritable and ambient, so an exec'd `perf` gets them too), drops every other one
 * from the bounding set when it may (CAP_SETPCAP), and sets no_new_privs. Every thread.
 * 0 or a negative errno with the reason in err.
 */
int pw_drop_privileges(const char *name, const cap_value_t *keep, size_t n_keep, char *err, size_t errlen);

/* Checks at start that --user names a user we can switch to. 0 or a negative errno with err. */
int pw_check_user(const char *name, char *err, size_t errlen);

/* The effective capabilities ("cap_bpf,cap_perfmon", "all" or "none"). */
void pw_describe_caps(char *out, size_t outlen);

/* Whether the calling thread holds cap in its effective set. */
bool pw_has_cap(cap_value_t cap);

/*
 * Whether bpf() on fds already held (map lookups) still needs CAP_BPF on this kernel.
 * Linux 6.5 moved the kernel.unprivileged_bpf_disabled check from every bpf() command to
 * map creation and program load; before that, with the sysctl set (Debian's default is
 * 2), every command needs CAP_BPF. Asked of the kernel, not read off its version: a child
 * process gives up CAP_BPF and CAP_SYS_ADMIN and tries BPF_MAP_GET_NEXT_KEY on fd -1,
 * which an old kernel refuses with EPERM before looking at the fd (a new one: EBADF).
 * True also when the answer is unclear (keeping collection working wins).
 */
bool pw_bpf_needs_cap(void);

/* kernel.perf_event_paranoid when it could not be read */
#define PW_PARANOID_UNKNOWN (-1000)

/*
 * What this process cannot do for want of a capability, in words, given what the
 * perf section may use (--perf-source), whether BPF run-time statistics are asked for
 * (--bpf-stats) and kernel.perf_event_paranoid:
 * `serious` gets what costs collection (no eBPF, no perf events), `minor` the rest.
 * Either is "" when nothing is missing.
 */
void pw_caps_consequences(bool want_bpf, bool want_bpf_stats, bool want_perf_stat, long long perf_paranoid,
			  char *serious, size_t serious_len, char *minor, size_t minor_len);

#endif
