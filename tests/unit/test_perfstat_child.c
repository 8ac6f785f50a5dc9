/* SPDX-License-Identifier: MIT */
/*
 * The supervised child, with /bin/sh standing in for perf: what it inherits (fds,
 * environment, signals, process group), its output and stderr, reaping, and stopping a
 * child that ignores SIGTERM.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "perf/perfstat_child.h"

static char *const env[] = { "LC_ALL=C", "PATH=/usr/bin:/bin", NULL };

/* Reads all of the child's output until it ends (bounded by 10 s). */
static size_t read_all(struct pw_perfstat_child *c, char *buf, size_t cap)
{
	struct timespec step = { 0, 5 * 1000000L };
	size_t len = 0;

	for (int i = 0; i < 2000; i++) {
		long n = pw_perfstat_child_read(c, buf + len, cap - 1 - len);

		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		else
			nanosleep(&step, NULL);
	}
	buf[len] = '\0';
	return len;
}

static int wait_reaped(struct pw_perfstat_child *c)
{
	struct timespec step = { 0, 5 * 1000000L };
	int status = -1;

	for (int i = 0; i < 2000; i++) {
		if (pw_perfstat_child_reap(c, &status) == 1)
			return status;
		nanosleep(&step, NULL);
	}
	cr_assert_fail("child not reaped in 10 s");
	return -1;
}

Test(perfstat_child, what_the_child_inherits)
{
	/* a descriptor of ours without O_CLOEXEC: it must not reach the child all the same */
	int leaky = open("/dev/null", O_RDONLY);
	char *const argv[] = { "sh", "-c",
			       "ls /proc/self/fd >&3; echo ENV >&3; tr '\\0' '\\n' </proc/$$/environ >&3; echo SIG >&3; "
			       "grep -E '^Sig(Blk|Ign):' /proc/self/status >&3; "
			       "echo PGRP $(cut -d' ' -f5 /proc/self/stat) PID $$ >&3; "
			       "echo 'first line' >&2; printf 'last \\001 line\\n' >&2; exit 3",
			       NULL };
	struct pw_perfstat_child c;
	sigset_t block, old;
	char out[8192];
	int status;

	cr_assert(leaky >= 0);
	/* the daemon blocks these and ignores SIGPIPE: the child must not inherit that */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	signal(SIGPIPE, SIG_IGN);

	pw_perfstat_child_init(&c);
	cr_assert_eq(pw_perfstat_child_start(&c, "/bin/sh", argv, env), 0);
	read_all(&c, out, sizeof(out));
	status = wait_reaped(&c);
	pw_perfstat_child_drain_stderr(&c);
	pw_perfstat_child_close_pipes(&c);
	close(leaky);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	/* fds 0-3 and the one ls itself opens for /proc/self/fd; nothing else */
	cr_expect(!strncmp(out, "0\n1\n2\n3\n4\nENV\n", 14), "fds: %s", out);
	/* what execve() got, exactly */
	cr_expect(strstr(out, "ENV\nLC_ALL=C\nPATH=/usr/bin:/bin\nSIG\n"), "environment: %s", out);
	cr_expect(strstr(out, "SigBlk:\t0000000000000000\n"), "signal mask: %s", out);
	/*
	 * No standard signal ignored (SIGPIPE above all). glibc's posix_spawn leaves its two
	 * internal real-time signals (32, 33) ignored in every child it starts; the new
	 * program's libc sets them up again.
	 */
	{
		char *ign = strstr(out, "SigIgn:\t");
		unsigned long long mask = ~0ull;

		cr_assert_not_null(ign);
		cr_expect_eq(sscanf(ign, "SigIgn:\t%llx", &mask), 1);
		cr_expect_eq(mask & ~0x180000000ull, 0, "ignored signals: %llx", mask);
	}
	/* its own process group: pgrp == its pid */
	{
		char *pg = strstr(out, "PGRP ");
		long pgrp = 0, pid = -1;

		cr_assert_not_null(pg);
		cr_expect_eq(sscanf(pg, "PGRP %ld PID %ld", &pgrp, &pid), 2);
		cr_expect_eq(pgrp, pid, "%s", pg);
	}
	/* stderr drained, its first and last lines kept, control bytes replaced */
	cr_expect_str_eq(c.err_first, "first line");
	cr_expect_str_eq(c.err_last, "last ? line");
	cr_expect_eq(c.out_fd, -1);
	cr_expect_eq(c.err_fd, -1);
}

Test(perfstat_child, nothing_blocks)
{
	char *const argv[] = { "sh", "-c", "exec sleep 30", NULL };
	struct pw_perfstat_child c;
	char buf[64];
	int status;

	pw_perfstat_child_init(&c);
	cr_assert_eq(pw_perfstat_child_start(&c, "/bin/sh", argv, env), 0);
	cr_expect_eq(pw_perfstat_child_read(&c, buf, sizeof(buf)), -EAGAIN);
	pw_perfstat_child_drain_stderr(&c);
	cr_expect_eq(pw_perfstat_child_reap(&c, &status), 0);
	cr_expect_eq(pw_perfstat_child_start(&c, "/bin/sh", argv, env), -EBUSY);
	pw_perfstat_child_stop(&c, 1000);
	cr_expect_eq(c.pid, 0);
}

Test(perfstat_child, killed_child_is_reaped_and_described)
{
	char *const argv[] = { "sh", "-c", "exec sleep 30", NULL };
	struct pw_perfstat_child c;
	char how[96], buf[16];
	pid_t pid;
	int status;

	pw_perfstat_child_init(&c);
	cr_assert_eq(pw_perfstat_child_start(&c, "/bin/sh", argv, env), 0);
	pid = c.pid;
	cr_assert_eq(kill(pid, SIGKILL), 0);
	status = wait_reaped(&c);
	pw_perfstat_describe_status(status, how, sizeof(how));
	cr_expect_str_eq(how, "killed by signal 9 (Killed)");
	cr_expect_eq(pw_perfstat_child_read(&c, buf, sizeof(buf)), 0); /* its end of the pipe closed */
	pw_perfstat_child_close_pipes(&c);
	/* reaped: no zombie left behind */
	cr_expect(kill(pid, 0) < 0 && errno == ESRCH);
	pw_perfstat_describe_status(2 << 8, how, sizeof(how));
	cr_expect_str_eq(how, "exited with status 2");
}

Test(perfstat_child, stop_escalates_to_sigkill)
{
	/* ignores SIGTERM (an ignored disposition survives exec) */
	char *const argv[] = { "sh", "-c", "trap '' TERM; exec sleep 30", NULL };
	struct pw_perfstat_child c;
	struct timespec t0, t1, settle = { 0, 100 * 1000000L };
	pid_t pid;
	double took;

	pw_perfstat_child_init(&c);
	cr_assert_eq(pw_perfstat_child_start(&c, "/bin/sh", argv, env), 0);
	pid = c.pid;
	nanosleep(&settle, NULL); /* let it set the trap and exec */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pw_perfstat_child_stop(&c, 300);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_expect_eq(c.pid, 0);
	cr_expect(kill(pid, 0) < 0 && errno == ESRCH, "still there after stop");
	cr_expect(took >= 0.29, "SIGTERM was ignored, so stop waited before SIGKILL (%.3f s)", took);
	pw_perfstat_child_stop(&c, 300); /* twice: a no-op */
}

Test(perfstat_child, exec_failure)
{
	char *const argv[] = { "perf", NULL };
	struct pw_perfstat_child c;

	pw_perfstat_child_init(&c);
	cr_expect_eq(pw_perfstat_child_start(&c, "/nonexistent/perf", argv, env), -ENOENT);
	cr_expect_eq(c.pid, 0);
	cr_expect_eq(c.out_fd, -1);
	pw_perfstat_child_stop(&c, 100);
}
