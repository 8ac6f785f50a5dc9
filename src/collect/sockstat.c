/* SPDX-License-Identifier: MIT */
#include "collect/sockstat.h"

#include <errno.h>
#include <string.h>

#include "util/fieldscan.h"
#include "util/readfile.h"

static bool tok_is(const struct pw_tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->n == n && memcmp(t->p, s, n) == 0;
}

/* "UDP: inuse 3 mem 2": name value pairs after the protocol. */
static int find_field(const char *p, const char *end, const char *field, uint64_t *ret)
{
	struct pw_tok name;

	for (;;) {
		p = pw_skip_blanks(p, end);
		if (p >= end)
			return -ENOENT;
		name.p = p;
		while (p < end && !pw_is_blank(*p))
			p++;
		name.n = (size_t)(p - name.p);
		if (tok_is(&name, field))
			return pw_scan_u64(&p, end, ret);
		/* another name: skip its value */
		p = pw_skip_blanks(p, end);
		while (p < end && !pw_is_blank(*p))
			p++;
	}
}

int pw_sockstat_parse(const char *buf, size_t len, const char *proto, const char *field, uint64_t *ret)
{
	const char *pos = buf, *end = buf + len;

	while (pos < end) {
		const char *line = pos, *eol = pw_line_end(pos, end), *p;
		struct pw_tok first;

		pos = eol < end ? eol + 1 : end;
		p = pw_skip_blanks(line, eol);
		first.p = p;
		while (p < eol && !pw_is_blank(*p))
			p++;
		first.n = (size_t)(p - first.p);
		if (tok_is(&first, proto))
			return find_field(p, eol, field, ret);
	}
	return -ENOENT;
}

int pw_sockstat_read_kept(struct pw_sockstat_files *f, int proc_fd, struct pw_buf *b, struct pw_sockstat *ret)
{
	uint64_t udp = 0, udp6 = 0, tw = 0;
	long n;
	int err;

	n = pw_file_read(&f->sockstat, proc_fd, "net/sockstat", b, 65536);
	if (n < 0)
		return (int)n;
	err = pw_sockstat_parse(b->data, (size_t)n, "UDP:", "inuse", &udp);
	if (!err)
		err = pw_sockstat_parse(b->data, (size_t)n, "TCP:", "tw", &tw);
	if (err)
		return err;
	n = pw_file_read(&f->sockstat6, proc_fd, "net/sockstat6", b, 65536);
	if (n == -ENOENT)
		goto out; /* no IPv6: no UDP6 sockets */
	if (n < 0)
		return (int)n;
	err = pw_sockstat_parse(b->data, (size_t)n, "UDP6:", "inuse", &udp6);
	if (err)
		return err;
	if (udp6 > UINT64_MAX - udp)
		return -ERANGE;
out:
	ret->udp = udp + udp6;
	ret->tcp_tw = tw;
	return 0;
}

void pw_sockstat_files_close(struct pw_sockstat_files *f)
{
	if (!f)
		return;
	pw_file_close(&f->sockstat);
	pw_file_close(&f->sockstat6);
}

int pw_sockstat_read(int proc_fd, struct pw_buf *b, struct pw_sockstat *ret)
{
	struct pw_sockstat_files f = { 0 };
	int r = pw_sockstat_read_kept(&f, proc_fd, b, ret);

	pw_sockstat_files_close(&f);
	return r;
}
