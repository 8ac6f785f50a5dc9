/* SPDX-License-Identifier: MIT */
/*
 * The supervised `perf stat` child: started by absolute path with posix_spawn (no shell),
 * with exactly the environment it is given, stdin and stdout on /dev/null, stderr on a
 * pipe we drain, its output on fd 3 (a pipe: `--log-fd 3`), and no other descriptor
 * (closefrom 4, on top of O_CLOEXEC everywhere). Signals are back to their defaults and
 * unblocked in the child (the daemon blocks some and ignores SIGPIPE), and it runs in a
 * process group of its own, so a terminal's ^C reaches only the daemon, which stops it.
 *
 * Nothing here blocks: the pipes are read non-blocking, the child reaped with WNOHANG.
 * Only pw_perfstat_child_stop() waits, for a bounded time.
 *
 * If the daemon dies without stopping it, perf gets EPIPE/SIGPIPE on its next write (at
 * most one perf interval later) and exits.
 */
#ifndef PW_PERFSTAT_CHILD_H
#define PW_PERFSTAT_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PW_PERFSTAT_CHILD_OUT_FD 3
#define PW_PERFSTAT_CHILD_ERR_MAX 200

struct pw_perfstat_child {
	pid_t pid;   /* > 0 from start until reaped */
	int out_fd;  /* read end of the output pipe, non-blocking; -1 */
	int err_fd;  /* read end of its stderr, non-blocking; -1 */
	size_t err_len;                          /* the stderr line being received */
	char err_line[PW_PERFSTAT_CHILD_ERR_MAX];
	char err_first[PW_PERFSTAT_CHILD_ERR_MAX]; /* its first stderr line that says something */
	char err_last[PW_PERFSTAT_CHILD_ERR_MAX];  /* its last non-empty stderr line */
};

void pw_perfstat_child_init(struct pw_perfstat_child *c);

/* argv[0] included, NULL-terminated; envp the whole environment. 0 or a negative errno. */
int pw_perfstat_child_start(struct pw_perfstat_child *c, const char *path, char *const argv[],
			    char *const envp[]);

/* Output available now: > 0 bytes, 0 at end of stream (or no child), -EAGAIN when none yet. */
long pw_perfstat_child_read(struct pw_perfstat_child *c, char *buf, size_t len);

/*
 * Reads whatever it wrote to stderr, keeping its first line that says something (perf
 * puts the headline first: "Access to performance monitoring ... is limited.") and its
 * last one. Control bytes are replaced: the text ends up in snapshots and logs.
 */
void pw_perfstat_child_drain_stderr(struct pw_perfstat_child *c);

/*
 * Reaps the child if it has exited: 1 with its wait status, 0 while it runs (or there is
 * none). The pipes stay open, so what it wrote last can still be read.
 */
int pw_perfstat_child_reap(struct pw_perfstat_child *c, int *ret_status);

/* Closes the pipes (after the child was reaped, or to give up on it). */
void pw_perfstat_child_close_pipes(struct pw_perfstat_child *c);

/*
 * Stops and reaps it: SIGTERM, the pipes closed (so a child we may no longer signal,
 * after --user, exits on its next write), up to wait_ms for it to go, then SIGKILL and
 * another wait_ms. Accepts a child that never started or is gone.
 */
void pw_perfstat_child_stop(struct pw_perfstat_child *c, unsigned wait_ms);

/* "exited with status 2", "killed by signal 9 (Killed)" */
void pw_perfstat_describe_status(int status, char *buf, size_t len);

#endif
