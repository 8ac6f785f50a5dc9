/* SPDX-License-Identifier: MIT */
#include "perf/perfstat_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Room for many perf intervals if a snapshot is late: perf is never held up writing. */
#define OUT_PIPE_SIZE (1 << 20)

void pw_perfstat_child_init(struct pw_perfstat_child *c)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = c->err_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Moves fd to a number >= min, so the dup2()s into 2 and 3 cannot clobber each other. */
static int fd_at_least(int fd, int min)
{
	int nfd;

	if (fd >= min)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, min);
	close(fd);
	return nfd < 0 ? -errno : nfd;
}

static int make_pipe(int *ret_read, int *ret_write)
{
	int p[2], w;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	w = fd_at_least(p[1], PW_PERFSTAT_CHILD_OUT_FD + 1);
	if (w < 0) {
		close(p[0]);
		return w;
	}
	/* only our end is non-blocking: perf's writes must not fail with EAGAIN */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int e = -errno;

		close(p[0]);
		close(w);
		return e;
	}
	*ret_read = p[0];
	*ret_write = w;
	return 0;
}

int pw_perfstat_child_start(struct pw_perfstat_child *c, const char *path, char *const argv[],
			    char *const envp[])
{
	static const int reset_sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD,
					  SIGUSR1, SIGUSR2, SIGALRM, SIGXFSZ };
	int out_r = -1, out_w = -1, err_r = -1, err_w = -1, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	pid_t pid;

	if (c->pid > 0)
		return -EBUSY;
	e = make_pipe(&out_r, &out_w);
	if (e < 0)
		return e;
	e = make_pipe(&err_r, &err_w);
	if (e < 0)
		goto out_close_out;
	/* best effort (64 KiB also works): perf must not block on a write between two reads */
	(void)fcntl(out_r, F_SETPIPE_SZ, OUT_PIPE_SIZE);
	(void)fcntl(err_r, F_SETPIPE_SZ, OUT_PIPE_SIZE);

	e = -posix_spawn_file_actions_init(&fa);
	if (e < 0)
		goto out_close_err;
	e = -posix_spawnattr_init(&attr);
	if (e < 0)
		goto out_destroy_fa;
	sigemptyset(&none);
	sigemptyset(&defaults);
	for (size_t i = 0; i < sizeof(reset_sigs) / sizeof(reset_sigs[0]); i++)
		sigaddset(&defaults, reset_sigs[i]);
	if ((e = -posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) < 0 ||
	    (e = -posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) < 0 ||
	    (e = -posix_spawn_file_actions_adddup2(&fa, err_w, 2)) < 0 ||
	    (e = -posix_spawn_file_actions_adddup2(&fa, out_w, PW_PERFSTAT_CHILD_OUT_FD)) < 0 ||
	    (e = -posix_spawn_file_actions_addclosefrom_np(&fa, PW_PERFSTAT_CHILD_OUT_FD + 1)) < 0 ||
	    (e = -posix_spawnattr_setsigmask(&attr, &none)) < 0 ||
	    (e = -posix_spawnattr_setsigdefault(&attr, &defaults)) < 0 ||
	    (e = -posix_spawnattr_setpgroup(&attr, 0)) < 0 ||
	    (e = -posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
							  POSIX_SPAWN_SETPGROUP)) < 0)
		goto out_destroy_attr;

	e = -posix_spawn(&pid, path, &fa, &attr, argv, envp);
	if (e < 0)
		goto out_destroy_attr;

	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(out_w);
	close(err_w);
	pw_perfstat_child_init(c);
	c->pid = pid;
	c->out_fd = out_r;
	c->err_fd = err_r;
	return 0;

out_destroy_attr:
	posix_spawnattr_destroy(&attr);
out_destroy_fa:
	posix_spawn_file_actions_destroy(&fa);
out_close_err:
	close(err_r);
	close(err_w);
out_close_out:
	close(out_r);
	close(out_w);
	return e;
}

long pw_perfstat_child_read(struct pw_perfstat_child *c, char *buf, size_t len)
{
	ssize_t n;

	if (c->out_fd < 0)
		return 0;
	do
		n = read(c->out_fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	return (long)n;
}

static void err_line_end(struct pw_perfstat_child *c)
{
	size_t n = c->err_len;

	while (n && c->err_line[n - 1] == ' ')
		n--;
	if (n) {
		memcpy(c->err_last, c->err_line, n);
		c->err_last[n] = '\0';
		/* "Error:" alone only announces the line that says what */
		if (!c->err_first[0] && strcmp(c->err_last, "Error:") && strcmp(c->err_last, "WARNING:"))
			memcpy(c->err_first, c->err_last, n + 1);
	}
	c->err_len = 0;
}

void pw_perfstat_child_drain_stderr(struct pw_perfstat_child *c)
{
	char buf[4096];
	ssize_t n;

	while (c->err_fd >= 0) {
		n = read(c->err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			err_line_end(c);
			close_fd(&c->err_fd);
			return;
		}
		if (n < 0)
			return;
		for (ssize_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)buf[i];

			if (ch == '\n') {
				err_line_end(c);
				continue;
			}
			if (c->err_len + 1 >= sizeof(c->err_line))
				continue; /* the start of a long line is the useful part */
			if (c->err_len == 0 && (ch == ' ' || ch == '\t'))
				continue;
			/* what perf says ends up in snapshots and logs: printable ASCII only */
			c->err_line[c->err_len++] = ch >= 0x20 && ch < 0x7f ? (char)ch : (ch == '\t' ? ' ' : '?');
		}
	}
}

int pw_perfstat_child_reap(struct pw_perfstat_child *c, int *ret_status)
{
	int status;
	pid_t r;

	if (c->pid <= 0)
		return 0;
	do
		r = waitpid(c->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0) {
		/* ECHILD: someone else reaped it (a SIGCHLD set to SIG_IGN): it is gone */
		status = 0;
	}
	c->pid = 0;
	*ret_status = status;
	return 1;
}

void pw_perfstat_child_close_pipes(struct pw_perfstat_child *c)
{
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	c->err_len = 0;
}

static bool wait_gone(struct pw_perfstat_child *c, unsigned wait_ms)
{
	struct timespec step = { 0, 5 * 1000000L };
	int status;

	for (unsigned waited = 0;; waited += 5) {
		if (pw_perfstat_child_reap(c, &status))
			return true;
		if (waited >= wait_ms)
			return false;
		nanosleep(&step, NULL);
	}
}

void pw_perfstat_child_stop(struct pw_perfstat_child *c, unsigned wait_ms)
{
	if (c->pid > 0) {
		(void)kill(c->pid, SIGTERM); /* EPERM after --user: closing its pipe stops it */
		pw_perfstat_child_close_pipes(c);
		if (!wait_gone(c, wait_ms)) {
			(void)kill(c->pid, SIGKILL);
			(void)wait_gone(c, wait_ms);
		}
	}
	pw_perfstat_child_close_pipes(c);
}

void pw_perfstat_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 sigdescr_np(WTERMSIG(status)) ? sigdescr_np(WTERMSIG(status)) : "unknown");
	else
		snprintf(buf, len, "ended (wait status %#x)", (unsigned)status);
}
