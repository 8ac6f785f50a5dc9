/* SPDX-License-Identifier: MIT */
/* The daemon's log: levels, one line per message, control characters escaped, --log-file and its reopen. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pw-test-log-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	unsetenv("JOURNAL_STREAM");
}

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert_geq(fd, 0, "%s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* Every test runs in its own process (Criterion), so fd 2 and the log state are ours. */
Test(log, file_levels_escaping_and_reopen, .init = make_dir)
{
	char path[128], moved[128];
	const char *text;

	snprintf(path, sizeof(path), "%s/perfwatch.log", dir);
	snprintf(moved, sizeof(moved), "%s/perfwatch.log.1", dir);
	cr_assert_eq(pw_log_open(path), 0);
	cr_expect_str_eq(pw_log_path(), path);
	cr_expect_eq(stat(path, &(struct stat){ 0 }), 0);

	pw_log_set_level(PW_LOG_WARN);
	pw_info("not shown");
	pw_warn("forged\r\nperfwatch: error: line %d\x1b[31m", 2);
	pw_err("an error");
	text = slurp(path);
	cr_expect_null(strstr(text, "not shown"));
	cr_expect_not_null(strstr(text, "perfwatch: warning: forged\\x0d\\x0aperfwatch: error: line 2\\x1b[31m\n"), "%s", text);
	cr_expect_not_null(strstr(text, "perfwatch: error: an error\n"), "%s", text);
	/* two messages, two lines, each starting with the local time */
	cr_expect_eq(strchr(strchr(text, '\n') + 1, '\n')[1], '\0');
	cr_expect(text[0] >= '2' && text[4] == '-' && text[10] == 'T', "%s", text);

	/* logrotate moved it away: reopen writes a new file, the old one keeps what it had */
	cr_assert_eq(rename(path, moved), 0);
	cr_assert_eq(pw_log_reopen(), 0);
	pw_err("after the move");
	cr_expect_not_null(strstr(slurp(path), "after the move"));
	cr_expect_null(strstr(slurp(moved), "after the move"));

	/* the folder gone: reopen fails, the open file stays in use */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(unlink(moved), 0);
	cr_assert_eq(rmdir(dir), 0);
	cr_expect_lt(pw_log_reopen(), 0);
	pw_err("still fine");
}

Test(log, stderr_without_a_file_and_a_long_message, .init = make_dir)
{
	char path[128], big[4000];
	int fd;
	const char *text;

	/* fd 2 is a plain file here, standing for a terminal: no time, no priority prefix */
	snprintf(path, sizeof(path), "%s/stderr", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(dup2(fd, 2), 2);
	close(fd);
	cr_expect_eq(pw_log_reopen(), 0, "no --log-file: reopen is a no-op");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pw_log_set_level(PW_LOG_DEBUG);
	pw_debug("%s", big);
	text = slurp(path);
	cr_expect_eq(strncmp(text, "perfwatch: debug: aaa", 21), 0, "%.40s", text);
	/* cut to the line buffer, still one line */
	cr_expect_eq(strchr(text, '\n')[1], '\0');
	cr_expect_lt(strlen(text), 1300);
	unlink(path);
	rmdir(dir);
}
