/* SPDX-License-Identifier: MIT */
#include "history/history.h"

/* Placeholder until the history store lands (issue #6). */
int pw_history_query(struct pw_history *h, const char *query, struct pw_buf *out)
{
	(void)h;
	(void)query;
	pw_buf_puts(out, "{\"error\":\"history is not available in this build\"}");
	return 503;
}
