/* SPDX-License-Identifier: MIT */
#include "collect/netdev.h"

#include <string.h>

#include "util/fieldscan.h"

#define NETDEV_COLUMNS 16

/* One "  eth0: 1 2 3 ..." line into e; false when it is not one. */
static bool parse_line(struct pw_tok line, struct pw_netdev_entry *e)
{
	struct pw_tok name, cols[NETDEV_COLUMNS];
	uint64_t v[NETDEV_COLUMNS];
	const char *colon = NULL, *end = line.p + line.n;

	/* psutil splits at the last ':'; the kernel refuses ':' in names (dev_valid_name) */
	for (const char *p = end; p > line.p; p--) {
		if (p[-1] == ':') {
			colon = p - 1;
			break;
		}
	}
	if (!colon)
		return false;

	name.p = line.p;
	name.n = (size_t)(colon - line.p);
	while (name.n && pw_is_blank(*name.p)) {
		name.p++;
		name.n--;
	}
	while (name.n && pw_is_blank(name.p[name.n - 1]))
		name.n--;
	if (!name.n || !pw_tok_copy(name, e->name, sizeof(e->name)))
		return false;

	/* 16 columns since Linux 2.2; more would be a future kernel's: the first 16 keep their meaning */
	if (pw_split_blank(colon + 1, end, cols, NETDEV_COLUMNS) < NETDEV_COLUMNS ||
	    !pw_toks_u64(cols, NETDEV_COLUMNS, v))
		return false;

	e->bytes_recv = v[0];
	e->packets_recv = v[1];
	e->errors_in = v[2];
	e->drops_in = v[3];
	e->bytes_sent = v[8];
	e->packets_sent = v[9];
	e->errors_out = v[10];
	e->drops_out = v[11];
	return true;
}

int pw_netdev_parse(const char *buf, size_t len, pw_netdev_cb cb, void *ctx)
{
	struct pw_netdev_entry e;

	return pw_parse_entry_lines(buf, len, parse_line, &e, cb, ctx);
}
