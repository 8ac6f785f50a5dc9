/* SPDX-License-Identifier: MIT */
#include "bpf/cpulist.h"

#include <errno.h>
#include <string.h>

/* Reads a decimal number at buf[*i]; at most 9 digits (CPU numbers are far smaller). */
static int parse_num(const char *buf, size_t len, size_t *i, size_t *ret)
{
	size_t v = 0, digits = 0;

	while (*i < len && buf[*i] >= '0' && buf[*i] <= '9') {
		if (++digits > 9)
			return -ERANGE;
		v = v * 10 + (size_t)(buf[*i] - '0');
		(*i)++;
	}
	if (!digits)
		return -EINVAL;
	*ret = v;
	return 0;
}

int pw_cpulist_parse(const char *buf, size_t len, bool *mask, size_t n)
{
	size_t i = 0, a, b;
	int err;

	if (n)
		memset(mask, 0, n * sizeof(*mask));
	if (len && buf[len - 1] == '\n')
		len--;
	while (i < len) {
		err = parse_num(buf, len, &i, &a);
		if (err)
			return err == -ERANGE ? -E2BIG : err;
		b = a;
		if (i < len && buf[i] == '-') {
			i++;
			err = parse_num(buf, len, &i, &b);
			if (err)
				return err == -ERANGE ? -E2BIG : err;
			if (b < a)
				return -EINVAL;
		}
		if (b >= n)
			return -E2BIG;
		for (size_t c = a; c <= b; c++)
			mask[c] = true;
		if (i == len)
			break;
		if (buf[i] != ',' || i + 1 == len)
			return -EINVAL;
		i++;
	}
	return 0;
}
