/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Set once in the main thread before any other thread starts (level, path) or only
 * there afterwards (SIGHUP): the other threads only read them.
 */
static enum pw_log_level log_level = PW_LOG_INFO;
static const char *log_path;
static int to_journal = -1; /* -1: not checked yet */

void pw_log_set_level(enum pw_log_level level) { log_level = level; }
enum pw_log_level pw_log_get_level(void) { return log_level; }
const char *pw_log_path(void) { return log_path; }

/* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected to fd 2. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int open_onto_stderr(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0)
		return -errno;
	/* dup2 swaps the file in atomically: a concurrent write goes to the old or the new one */
	if (fd != STDERR_FILENO) {
		if (dup2(fd, STDERR_FILENO) < 0) {
			int e = -errno;

			close(fd);
			return e;
		}
		close(fd);
	}
	return 0;
}

int pw_log_open(const char *path)
{
	int e = open_onto_stderr(path);

	if (e < 0)
		return e;
	log_path = path;
	to_journal = 0;
	return 0;
}

int pw_log_reopen(void)
{
	return log_path ? open_onto_stderr(log_path) : 0;
}

size_t pw_log_format_line(char *out, size_t outlen, enum pw_log_level level, const char *msg, bool journal,
			  const char *time_prefix)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { 3, 4, 6, 7 };
	size_t o;
	int n;

	if ((unsigned)level > PW_LOG_DEBUG)
		level = PW_LOG_DEBUG;
	if (journal)
		n = snprintf(out, outlen, "<%d>", prio[level]);
	else
		n = snprintf(out, outlen, "%s%sperfwatch: %s: ", time_prefix ? time_prefix : "", time_prefix ? " " : "",
			     names[level]);
	o = n < 0 ? 0 : (size_t)n;
	if (o > outlen - 6)
		o = outlen - 6;
	/* room for one escaped byte (4) and the newline, always */
	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < outlen; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(out + o, outlen - o, "\\x%02x", *p);
			o += 4;
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o++] = '\n';
	return o;
}

void pw_log(enum pw_log_level level, const char *fmt, ...)
{
	char msg[1024], line[1280], when[40];
	const char *time_prefix = NULL;
	size_t o;
	va_list ap;
	int saved_errno = errno;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_journal < 0)
		to_journal = stderr_is_journal(); /* a benign race: every thread computes the same */
	if (!to_journal && log_path) {
		struct timespec ts;
		struct tm tm;
		size_t n;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(when + n, sizeof(when) - n, ".%03ld", ts.tv_nsec / 1000000);
		time_prefix = when;
	}
	o = pw_log_format_line(line, sizeof(line), level, msg, to_journal, time_prefix);
	/* one write: lines of different threads never interleave; a failed log is not fatal */
	if (write(STDERR_FILENO, line, o) < 0) {
		/* nowhere left to say it */
	}
	errno = saved_errno;
}
