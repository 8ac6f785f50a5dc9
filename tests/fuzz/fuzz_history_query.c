/* SPDX-License-Identifier: MIT */
/* libFuzzer: the /api/history query string (what any client can send). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "history/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwh_query q;
	char err[256];

	/* the bytes as they come, not NUL-terminated: the parser must keep to size */
	if (pwh_query_parse((const char *)data, size, 1700000000000LL, &q, err, sizeof(err)) == 0) {
		if (q.n_metrics == 0 || q.from_ms >= q.to_ms || q.points == 0)
			__builtin_trap();
		for (uint32_t i = 0; i < q.n_metrics; i++)
			if (strlen(q.metrics[i]) == 0)
				__builtin_trap();
		pwh_query_free(&q);
	} else if (!memchr(err, '\0', sizeof(err)) || err[0] == '\0') {
		__builtin_trap(); /* a refusal always says why */
	}
	return 0;
}
