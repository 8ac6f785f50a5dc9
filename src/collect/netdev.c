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
	if (pw_split_blank(colon + 1, end, cols, NETDEV_COLUMNS) < NETDEV_COLUMNS)
		return false;
	for (int i = 0; i < NETDEV_COLUMNS; i++)
		if (pw_tok_u64(cols[i], &v[i]) < 0)
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
	const char *pos = buf, *end = buf + len;
	struct pw_netdev_entry e;
	struct pw_tok line;
	int n = 0, r;

	while (pw_next_full_line(&pos, end, &line)) {
		if (!parse_line(line, &e))
			continue;
		r = cb(ctx, &e);
		if (r < 0)
			return r;
		if (n < INT32_MAX)
			n++;
	}
	return n;
}
