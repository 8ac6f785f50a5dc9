/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum pw_log_level log_level = PW_LOG_INFO;

void pw_log_set_level(enum pw_log_level level) { log_level = level; }
enum pw_log_level pw_log_get_level(void) { return log_level; }

int pw_log_reopen(const char *path)
{
	if (!path)
		return 0;
	return freopen(path, "a", stderr) ? 0 : -1;
}

void pw_log(enum pw_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { 3, 4, 6, 7 };
	char msg[1024], line[1200];
	size_t o = 0;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (getenv("JOURNAL_STREAM"))
		o = (size_t)snprintf(line, sizeof(line), "<%d>", prio[level]);
	else
		o = (size_t)snprintf(line, sizeof(line), "perfwatch: %s: ", names[level]);
	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof(line); p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\x%02x", *p);
		else
			line[o++] = (char)*p;
	}
	line[o++] = '\n';
	fwrite(line, 1, o, stderr);
}
