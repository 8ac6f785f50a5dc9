/* SPDX-License-Identifier: MIT */
/* Netlink answers built by hand, for the tests of the sock_diag parsers. */
#ifndef PW_TEST_NLMSG_BUF_H
#define PW_TEST_NLMSG_BUF_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct msgbuf {
	unsigned char b[4096];
	size_t len;
};

/* Appends one message (header + payload of n bytes), aligned as the kernel aligns them. */
static inline void msgbuf_put(struct msgbuf *m, uint16_t type, uint32_t seq, const void *payload, size_t n)
{
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)NLMSG_LENGTH(n), .nlmsg_type = type, .nlmsg_seq = seq };

	memcpy(m->b + m->len, &h, sizeof(h));
	memcpy(m->b + m->len + NLMSG_HDRLEN, payload, n);
	m->len += NLMSG_ALIGN(h.nlmsg_len);
}

#endif
