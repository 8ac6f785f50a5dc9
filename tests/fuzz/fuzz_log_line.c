/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the daemon's log line for any message (collected strings, request
 * paths, what perf printed). Whatever the bytes, the line fits its buffer, ends with the
 * only newline in it, and holds no other control byte: no message can forge a log line
 * or a terminal escape.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[2048], line[1280];
	size_t n, len;

	if (size < 2)
		return 0;
	len = size - 2 < sizeof(msg) - 1 ? size - 2 : sizeof(msg) - 1;
	memcpy(msg, data + 2, len);
	msg[len] = '\0';
	/* the first bytes pick the level, the prefix and the buffer size (short ones too) */
	size_t outlen = 64 + (size_t)data[1] * 4;
	if (outlen > sizeof(line))
		outlen = sizeof(line);
	n = pw_log_format_line(line, outlen, (enum pw_log_level)(data[0] & 7), msg, data[0] & 8,
			       data[0] & 16 ? "2026-01-01T00:00:00.000" : NULL);
	CHECK(n >= 2 && n <= outlen);
	CHECK(line[n - 1] == '\n');
	for (size_t i = 0; i + 1 < n; i++)
		CHECK((unsigned char)line[i] >= 0x20 && (unsigned char)line[i] != 0x7f);
	return 0;
}
