/* SPDX-License-Identifier: MIT */
#include "collect/sockstate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/fieldscan.h"

void pw_sockstate_account(struct pw_connections *acc, bool tcp, unsigned state)
{
	if (!tcp) {
		acc->udp_count++;
		return;
	}
	switch (state) {
	case PW_TCP_ESTABLISHED:
		acc->tcp_established++;
		break;
	case PW_TCP_TIME_WAIT:
		acc->tcp_time_wait++;
		break;
	case PW_TCP_CLOSE_WAIT:
		acc->tcp_close_wait++;
		break;
	case PW_TCP_LISTEN:
		acc->tcp_listen++;
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- /proc/net/{tcp,udp}[6] */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Skips blanks then one token; false when the line ends first. */
static bool skip_token(const char **p, const char *end, struct pw_tok *tok)
{
	const char *q = *p;

	while (q < end && pw_is_blank(*q))
		q++;
	if (q >= end)
		return false;
	tok->p = q;
	while (q < end && !pw_is_blank(*q))
		q++;
	tok->n = (size_t)(q - tok->p);
	*p = q;
	return true;
}

/*
 * "   12: 0100007F:0277 00000000:0000 0A 00000000:00000000 ...": a slot number with its
 * ':', two addresses, the state in two hex digits. Only those four tokens are looked at.
 */
static void count_line(const char *p, const char *end, bool tcp, struct pw_connections *acc)
{
	struct pw_tok t;
	int hi, lo;

	if (!skip_token(&p, end, &t) || t.n < 2 || t.p[t.n - 1] != ':')
		return;
	for (size_t i = 0; i + 1 < t.n; i++)
		if (t.p[i] < '0' || t.p[i] > '9')
			return; /* the header line: "sl" */
	if (!skip_token(&p, end, &t) || !skip_token(&p, end, &t) || !skip_token(&p, end, &t))
		return;
	if (t.n != 2 || (hi = hexval(t.p[0])) < 0 || (lo = hexval(t.p[1])) < 0)
		return;
	pw_sockstate_account(acc, tcp, (unsigned)(hi * 16 + lo));
}

size_t pw_proc_net_sock_parse(const char *buf, size_t len, bool tcp, bool final, struct pw_connections *acc)
{
	const char *pos = buf, *end = buf + len;

	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));

		if (!nl) {
			if (!final)
				break;
			nl = end;
		}
		count_line(pos, nl, tcp, acc);
		pos = nl < end ? nl + 1 : end;
	}
	return (size_t)(pos - buf);
}

/*
 * Streams one file through buf: a chunk, its complete lines counted, the rest kept for
 * the next chunk. A line longer than the buffer is no socket line: it is skipped whole.
 */
static int count_proc_file(int proc_fd, const char *path, bool tcp, struct pw_connections *acc, char *buf,
			   size_t buflen)
{
	bool skipping = false;
	size_t have = 0, used;
	ssize_t n;
	int fd, err = 0;

	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, buf + have, buflen - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_close;
		}
		if (n == 0) {
			if (!skipping)
				pw_proc_net_sock_parse(buf, have, tcp, true, acc);
			break;
		}
		have += (size_t)n;
		if (skipping) {
			const char *nl = memchr(buf, '\n', have);

			used = nl ? (size_t)(nl + 1 - buf) : have;
			skipping = !nl;
		} else {
			used = pw_proc_net_sock_parse(buf, have, tcp, false, acc);
			if (!used && have == buflen) {
				used = have;
				skipping = true;
			}
		}
		memmove(buf, buf + used, have - used);
		have -= used;
	}
out_close:
	close(fd);
	return err;
}

int pw_sockstate_read_proc(int proc_fd, struct pw_connections *ret, char *buf, size_t buflen)
{
	static const struct {
		const char *path;
		bool tcp, optional;
	} files[] = {
		{ "net/tcp", true, false },
		{ "net/tcp6", true, true },
		{ "net/udp", false, false },
		{ "net/udp6", false, true },
	};
	struct pw_connections acc = { .valid = true };
	int err;

	if (buflen < 256)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		err = count_proc_file(proc_fd, files[i].path, files[i].tcp, &acc, buf, buflen);
		if (err == -ENOENT && files[i].optional)
			continue; /* no IPv6 in this kernel: psutil skips the file too */
		if (err < 0)
			return err;
	}
	*ret = acc;
	return 0;
}

/* ---------------------------------------------------------------- netlink inet_diag */

/* One message of ours: 1 at NLMSG_DONE, 0, or a negative errno. */
static int sockdiag_msg(const unsigned char *msg, const struct nlmsghdr *h, bool tcp,
		       struct pw_connections *acc)
{
	struct inet_diag_msg m;
	struct nlmsgerr e;

	switch (h->nlmsg_type) {
	case NLMSG_DONE:
		return 1;
	case NLMSG_ERROR:
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
			return -EBADMSG;
		memcpy(&e, msg + NLMSG_HDRLEN, sizeof(e));
		return e.error < 0 && e.error > -4096 ? e.error : -EBADMSG;
	case SOCK_DIAG_BY_FAMILY:
	case TCPDIAG_GETSOCK: /* the answer to the compat request */
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(m)))
			return -EBADMSG;
		memcpy(&m, msg + NLMSG_HDRLEN, sizeof(m));
		pw_sockstate_account(acc, tcp, m.idiag_state);
		return 0;
	default:
		return 0;
	}
}

int pw_sockdiag_parse(const void *buf, size_t len, uint32_t seq, bool tcp, struct pw_connections *acc,
		      bool *done)
{
	const unsigned char *p = buf;
	size_t off = 0;
	int r;

	while (len - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;

		memcpy(&h, p + off, sizeof(h)); /* the buffer need not be aligned (fuzzers) */
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			return -EBADMSG;
		/* another sequence number: an answer to an earlier, abandoned request */
		if (h.nlmsg_seq == seq) {
			r = sockdiag_msg(p + off, &h, tcp, acc);
			if (r < 0)
				return r;
			if (r > 0) {
				*done = true;
				return 0;
			}
		}
		/* messages are padded to 4 bytes; the last one of a read need not be */
		if (NLMSG_ALIGN(h.nlmsg_len) >= len - off)
			break;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}

/* Sends one dump request and counts its answer. */
static int dump(int fd, const void *req, size_t len, uint32_t seq, bool tcp, struct pw_connections *acc,
		void *buf, size_t buflen)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	bool done = false;
	ssize_t n;
	int err;

	if (sendto(fd, req, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	while (!done) {
		n = recv(fd, buf, buflen, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG;
		err = pw_sockdiag_parse(buf, (size_t)n, seq, tcp, acc, &done);
		if (err < 0)
			return err;
	}
	return 0;
}

static int dump_family(int fd, uint8_t family, uint8_t protocol, uint32_t states, uint32_t seq,
		       struct pw_connections *acc, void *buf, size_t buflen)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = seq,
		},
		/* no idiag_ext: the state is in the fixed part of every answer */
		.r = { .sdiag_family = family, .sdiag_protocol = protocol, .idiag_states = states },
	};

	return dump(fd, &req, sizeof(req), seq, protocol == IPPROTO_TCP, acc, buf, buflen);
}

/*
 * TCP of both families in one dump: the compat request (TCPDIAG_GETSOCK) asks with
 * AF_UNSPEC, and each dump walks the whole established hash table (262,144 buckets on a
 * machine with 24 GiB), which is most of the cost when there are few sockets.
 */
static int dump_tcp_compat(int fd, uint32_t states, uint32_t seq, struct pw_connections *acc, void *buf,
			   size_t buflen)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req r;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = TCPDIAG_GETSOCK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = seq,
		},
		.r = { .idiag_family = AF_INET, .idiag_states = states },
	};

	return dump(fd, &req, sizeof(req), seq, true, acc, buf, buflen);
}

int pw_sockstate_read_netlink(struct pw_connections *ret, void *buf, size_t buflen, bool per_family)
{
	const uint32_t tcp_states = (1u << PW_TCP_ESTABLISHED) | (1u << PW_TCP_TIME_WAIT) |
				    (1u << PW_TCP_CLOSE_WAIT) | (1u << PW_TCP_LISTEN);
	/* a stuck answer must not hold the collector forever: the runner's deadline is 2 s */
	struct timeval tmo = { .tv_sec = 1 };
	struct pw_connections acc = { .valid = true }, tcp = { 0 };
	uint32_t seq = 1;
	int fd, err = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0) {
		err = -errno;
		goto out_close;
	}
	err = per_family ? -EOPNOTSUPP : dump_tcp_compat(fd, tcp_states, seq++, &tcp, buf, buflen);
	if (err < 0) {
		/* a kernel without the compat request: one dump per family */
		memset(&tcp, 0, sizeof(tcp));
		err = dump_family(fd, AF_INET, IPPROTO_TCP, tcp_states, seq++, &tcp, buf, buflen);
		if (err < 0)
			goto out_close;
		err = dump_family(fd, AF_INET6, IPPROTO_TCP, tcp_states, seq++, &tcp, buf, buflen);
		if (err == -ENOENT)
			err = 0; /* no IPv6 in this kernel: there are no such sockets */
		if (err < 0)
			goto out_close;
	}
	err = dump_family(fd, AF_INET, IPPROTO_UDP, ~0u, seq++, &acc, buf, buflen);
	if (err < 0)
		goto out_close;
	err = dump_family(fd, AF_INET6, IPPROTO_UDP, ~0u, seq++, &acc, buf, buflen);
	if (err == -ENOENT)
		err = 0;
	if (err < 0)
		goto out_close;
	acc.tcp_established = tcp.tcp_established;
	acc.tcp_time_wait = tcp.tcp_time_wait;
	acc.tcp_close_wait = tcp.tcp_close_wait;
	acc.tcp_listen = tcp.tcp_listen;
	*ret = acc;
out_close:
	close(fd);
	return err;
}
