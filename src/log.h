/* SPDX-License-Identifier: MIT */
/*
 * Daemon logging: one line per message on stderr with a level prefix journald
 * understands (<3> error ... <7> debug) when stderr is the journal, plain otherwise.
 * Control characters in messages are escaped, so no collected or received string can
 * forge a log line. Library code does not log; the daemon layer does.
 */
#ifndef PW_LOG_H
#define PW_LOG_H

#include "options.h"

void pw_log_set_level(enum pw_log_level level);
enum pw_log_level pw_log_get_level(void);
int pw_log_reopen(const char *path); /* SIGHUP: reopen a --log-file; no-op for stderr */
void pw_log(enum pw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pw_err(...) pw_log(PW_LOG_ERROR, __VA_ARGS__)
#define pw_warn(...) pw_log(PW_LOG_WARN, __VA_ARGS__)
#define pw_info(...) pw_log(PW_LOG_INFO, __VA_ARGS__)
#define pw_debug(...) pw_log(PW_LOG_DEBUG, __VA_ARGS__)

#endif
