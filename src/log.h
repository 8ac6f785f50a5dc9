/* SPDX-License-Identifier: MIT */
/*
 * Daemon logging: one line per message, written with a single write(2) on fd 2 so lines
 * from different threads never interleave. When fd 2 is the journal (JOURNAL_STREAM
 * names it) a line starts with the syslog priority journald understands (<3> error ...
 * <7> debug); otherwise with "perfwatch: LEVEL: ", and in a --log-file with the local
 * time first. Control characters in messages are escaped, so no collected or received
 * string can forge a log line. Library code does not log; the daemon layer does.
 */
#ifndef PW_LOG_H
#define PW_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

void pw_log_set_level(enum pw_log_level level);
enum pw_log_level pw_log_get_level(void);
/*
 * --log-file: opens path for appending and puts it on fd 2, so what libraries print to
 * stderr lands there too. 0 or a negative errno (the old fd 2 stays).
 */
int pw_log_open(const char *path);
/*
 * SIGHUP: opens the --log-file path again (after logrotate moved it away) and swaps it
 * in; a no-op when logging to stderr. 0 or a negative errno (the old file stays in use).
 */
int pw_log_reopen(void);
const char *pw_log_path(void); /* the --log-file, or NULL */
void pw_log(enum pw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Formats one log line into out (outlen >= 64): prefix (the journal's "<N>", or the
 * optional time then "perfwatch: LEVEL: "), msg with every control byte written as
 * \xNN, cut to fit, and one '\n' at the end. Returns the line's length. (What pw_log
 * writes; apart for the fuzz target.)
 */
size_t pw_log_format_line(char *out, size_t outlen, enum pw_log_level level, const char *msg, bool journal,
			  const char *time_prefix);

#define pw_err(...) pw_log(PW_LOG_ERROR, __VA_ARGS__)
#define pw_warn(...) pw_log(PW_LOG_WARN, __VA_ARGS__)
#define pw_info(...) pw_log(PW_LOG_INFO, __VA_ARGS__)
#define pw_debug(...) pw_log(PW_LOG_DEBUG, __VA_ARGS__)

#endif
