/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: /proc/net/{tcp,tcp6,udp,udp6} text, whole and cut at the place the first
 * byte picks (the counts must not depend on where a read ends), the same bytes as a
 * netlink inet_diag answer (to a dump, and to a batch of lookups), and as sockstat text.
 */
#include <stdint.h>
#include <string.h>

#include "collect/sockstat.h"
#include "collect/sockstate.h"

static uint64_t total(const struct pw_connections *c)
{
	return c->tcp_established + c->tcp_time_wait + c->tcp_close_wait + c->tcp_listen + c->udp_count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_connections whole = { 0 }, parts = { 0 }, nl = { 0 };
	uint8_t state[16] = { 0 };
	const char *buf;
	size_t cut, used;
	uint64_t v;
	bool done = false;
	int r;

	if (size < 1)
		return 0;
	cut = data[0];
	buf = (const char *)data + 1;
	size--;
	if (cut > size)
		cut = size;

	if (pw_proc_net_sock_parse(buf, size, true, true, &whole) != size)
		__builtin_trap();
	used = pw_proc_net_sock_parse(buf, cut, true, false, &parts);
	if (used > cut)
		__builtin_trap();
	pw_proc_net_sock_parse(buf + used, size - used, true, true, &parts);
	if (memcmp(&whole, &parts, sizeof(whole)))
		__builtin_trap();
	if (total(&whole) > size)
		__builtin_trap();

	(void)pw_sockdiag_parse(data, size + 1, 1, data[0] & 1, &nl, &done);
	if (total(&nl) > (size + 1) / 16)
		__builtin_trap();

	r = pw_sockdiag_parse_lookups(data, size + 1, 7, 16, state);
	if (r > 16 || (r > 0 && (size_t)r > (size + 1) / 16))
		__builtin_trap();
	for (int i = 0; i < 16; i++)
		if (state[i] > PW_LOOKUP_GONE)
			__builtin_trap();

	(void)pw_sockstat_parse(buf, size, "TCP:", "tw", &v);
	(void)pw_sockstat_parse(buf, size, "UDP6:", "inuse", &v);
	return 0;
}
