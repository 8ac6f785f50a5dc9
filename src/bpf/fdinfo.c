/* SPDX-License-Identifier: MIT */
#include "bpf/fdinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int pw_fdinfo_u64(const char *buf, size_t len, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key), i = 0;

	while (i < len) {
		const char *line = buf + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - line) : len - i;

		i += llen + 1;
		if (llen <= klen || memcmp(line, key, klen) || line[klen] != ':')
			continue;
		size_t j = klen + 1;
		uint64_t v = 0;
		bool any = false;

		while (j < llen && (line[j] == ' ' || line[j] == '\t'))
			j++;
		for (; j < llen && line[j] >= '0' && line[j] <= '9'; j++) {
			unsigned d = (unsigned)(line[j] - '0');

			if (v > (UINT64_MAX - d) / 10)
				return -ERANGE;
			v = v * 10 + d;
			any = true;
		}
		if (!any || j != llen)
			return -EINVAL;
		*ret = v;
		return 0;
	}
	return -ENOENT;
}
