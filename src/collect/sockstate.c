/* SPDX-License-Identifier: MIT */
#include "collect/sockstate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
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
static int sockdiag_msg(const unsigned char *msg, const struct nlmsghdr *h, pw_sockdiag_visit_fn visit, void *ctx)
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
		visit(ctx, &m);
		return 0;
	default:
		return 0;
	}
}

int pw_sockdiag_parse_visit(const void *buf, size_t len, uint32_t seq, pw_sockdiag_visit_fn visit, void *ctx,
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
			r = sockdiag_msg(p + off, &h, visit, ctx);
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

struct count_ctx {
	struct pw_connections *acc;
	bool tcp;
	struct pw_sock_ids *fw2; /* NULL: not wanted */
	int err;
};

static void count_visit(void *ctx, const struct inet_diag_msg *m)
{
	struct count_ctx *c = ctx;

	pw_sockstate_account(c->acc, c->tcp, m->idiag_state);
	if (c->fw2 && c->tcp && pw_sockdiag_is_fw2_timewait(m) && !c->err) {
		struct pw_sock_id id;

		pw_sock_id_from_diag(m, &id);
		c->err = pw_sock_ids_add(c->fw2, &id);
	}
}

int pw_sockdiag_parse(const void *buf, size_t len, uint32_t seq, bool tcp, struct pw_connections *acc,
		      bool *done)
{
	struct count_ctx c = { .acc = acc, .tcp = tcp };

	return pw_sockdiag_parse_visit(buf, len, seq, count_visit, &c, done);
}

/* ---------------------------------------------------------------- socket ids */

bool pw_sockdiag_is_fw2_timewait(const struct inet_diag_msg *m)
{
	/* a timewait socket reports its substate, and timer 3 ("timewait") */
	return m->idiag_state == PW_TCP_FIN_WAIT2 && m->idiag_timer == 3;
}

void pw_sock_id_from_diag(const struct inet_diag_msg *m, struct pw_sock_id *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = m->idiag_family;
	ret->sport = m->id.idiag_sport;
	ret->dport = m->id.idiag_dport;
	ret->ifindex = m->id.idiag_if;
	memcpy(ret->src, m->id.idiag_src, sizeof(ret->src));
	memcpy(ret->dst, m->id.idiag_dst, sizeof(ret->dst));
}

int pw_sock_ids_add(struct pw_sock_ids *ids, const struct pw_sock_id *id)
{
	if (ids->n == ids->cap) {
		uint32_t cap = ids->cap ? ids->cap * 2 : 64;
		struct pw_sock_id *v;

		if (cap > PW_SOCK_IDS_MAX)
			return -E2BIG;
		v = realloc(ids->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = *id;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pw_sock_id));
}

void pw_sock_ids_unique(struct pw_sock_ids *ids)
{
	uint32_t w = 0;

	if (ids->n < 2)
		return;
	qsort(ids->v, ids->n, sizeof(*ids->v), cmp_id);
	for (uint32_t r = 0; r < ids->n; r++)
		if (!w || cmp_id(&ids->v[w - 1], &ids->v[r]))
			ids->v[w++] = ids->v[r];
	ids->n = w;
}

void pw_sock_ids_free(struct pw_sock_ids *ids)
{
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

/* Sends one dump request and counts its answer (FIN_WAIT2 timewait sockets into fw2 too). */
static int dump(int fd, const void *req, size_t len, uint32_t seq, bool tcp, struct pw_connections *acc,
		struct pw_sock_ids *fw2, void *buf, size_t buflen)
{
	struct count_ctx c = { .acc = acc, .tcp = tcp, .fw2 = fw2 };
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
		err = pw_sockdiag_parse_visit(buf, (size_t)n, seq, count_visit, &c, &done);
		if (err < 0)
			return err;
	}
	return c.err;
}

static int dump_family(int fd, uint8_t family, uint8_t protocol, uint32_t states, uint32_t seq,
		       struct pw_connections *acc, struct pw_sock_ids *fw2, void *buf, size_t buflen)
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

	return dump(fd, &req, sizeof(req), seq, protocol == IPPROTO_TCP, acc, fw2, buf, buflen);
}

/*
 * TCP of both families in one dump: the compat request (TCPDIAG_GETSOCK) asks with
 * AF_UNSPEC, and each dump walks the whole established hash table (262,144 buckets on a
 * machine with 24 GiB), which is most of the cost when there are few sockets.
 */
static int dump_tcp_compat(int fd, uint32_t states, uint32_t seq, struct pw_connections *acc,
			   struct pw_sock_ids *fw2, void *buf, size_t buflen)
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

	return dump(fd, &req, sizeof(req), seq, true, acc, fw2, buf, buflen);
}

/* A sock_diag socket whose answers cannot hold the collector forever (its deadline is 2 s). */
int pw_sockstate_open_diag(void)
{
	struct timeval tmo = { .tv_sec = 1 };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* TCP counts of both families: one compat dump, or one per family when it is refused. */
static int dump_tcp(int fd, uint32_t *seq, bool per_family, struct pw_connections *ret, struct pw_sock_ids *fw2,
		    void *buf, size_t buflen)
{
	uint32_t states = (1u << PW_TCP_ESTABLISHED) | (1u << PW_TCP_TIME_WAIT) | (1u << PW_TCP_CLOSE_WAIT) |
			  (1u << PW_TCP_LISTEN);
	struct pw_connections tcp = { 0 };
	uint32_t n_fw2 = fw2 ? fw2->n : 0;
	int err;

	if (fw2)
		states |= 1u << PW_TCP_FIN_WAIT2; /* timewait sockets in that substate */
	err = per_family ? -EOPNOTSUPP : dump_tcp_compat(fd, states, (*seq)++, &tcp, fw2, buf, buflen);
	if (err < 0) {
		/* a kernel without the compat request: one dump per family */
		memset(&tcp, 0, sizeof(tcp));
		if (fw2)
			fw2->n = n_fw2;
		err = dump_family(fd, AF_INET, IPPROTO_TCP, states, (*seq)++, &tcp, fw2, buf, buflen);
		if (err < 0)
			return err;
		err = dump_family(fd, AF_INET6, IPPROTO_TCP, states, (*seq)++, &tcp, fw2, buf, buflen);
		if (err == -ENOENT)
			err = 0; /* no IPv6 in this kernel: there are no such sockets */
		if (err < 0)
			return err;
	}
	ret->tcp_established = tcp.tcp_established;
	ret->tcp_time_wait = tcp.tcp_time_wait;
	ret->tcp_close_wait = tcp.tcp_close_wait;
	ret->tcp_listen = tcp.tcp_listen;
	return 0;
}

int pw_sockstate_read_netlink(struct pw_connections *ret, void *buf, size_t buflen, bool per_family)
{
	struct pw_connections acc = { .valid = true };
	uint32_t seq = 1;
	int fd, err;

	fd = pw_sockstate_open_diag();
	if (fd < 0)
		return fd;
	err = dump_tcp(fd, &seq, per_family, &acc, NULL, buf, buflen);
	if (err < 0)
		goto out_close;
	err = dump_family(fd, AF_INET, IPPROTO_UDP, ~0u, seq++, &acc, NULL, buf, buflen);
	if (err < 0)
		goto out_close;
	err = dump_family(fd, AF_INET6, IPPROTO_UDP, ~0u, seq++, &acc, NULL, buf, buflen);
	if (err == -ENOENT)
		err = 0;
	if (err < 0)
		goto out_close;
	*ret = acc;
out_close:
	close(fd);
	return err;
}

int pw_sockstate_read_netlink_tcp(struct pw_connections *ret, struct pw_sock_ids *fw2, void *buf, size_t buflen)
{
	struct pw_connections acc = { .valid = true };
	uint32_t seq = 1;
	int fd, err;

	fd = pw_sockstate_open_diag();
	if (fd < 0)
		return fd;
	fw2->n = 0;
	err = dump_tcp(fd, &seq, false, &acc, fw2, buf, buflen);
	close(fd);
	if (err < 0)
		return err;
	*ret = acc;
	return 0;
}

/* ---------------------------------------------------------------- exact lookups */

static void lookup_answer(uint8_t *state, uint32_t i, uint8_t what, uint32_t *answered)
{
	if (state[i] == PW_LOOKUP_UNKNOWN)
		(*answered)++;
	state[i] = what;
}

int pw_sockdiag_parse_lookups(const void *buf, size_t len, uint32_t seq0, uint32_t n, uint8_t *state)
{
	const unsigned char *p = buf;
	uint32_t answered = 0;
	size_t off = 0;

	while (len - off >= sizeof(struct nlmsghdr)) {
		struct inet_diag_msg m;
		struct nlmsgerr e;
		struct nlmsghdr h;
		uint32_t i;

		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			return -EBADMSG;
		i = h.nlmsg_seq - seq0; /* wraps past n for a sequence number not ours */
		if (i < n && h.nlmsg_type == NLMSG_ERROR) {
			if (h.nlmsg_len < NLMSG_LENGTH(sizeof(e)))
				return -EBADMSG;
			memcpy(&e, p + off + NLMSG_HDRLEN, sizeof(e));
			if (e.error != -ENOENT)
				return e.error < 0 && e.error > -4096 ? e.error : -EBADMSG;
			lookup_answer(state, i, PW_LOOKUP_GONE, &answered);
		} else if (i < n && h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			if (h.nlmsg_len < NLMSG_LENGTH(sizeof(m)))
				return -EBADMSG;
			memcpy(&m, p + off + NLMSG_HDRLEN, sizeof(m));
			lookup_answer(state, i, pw_sockdiag_is_fw2_timewait(&m) ? PW_LOOKUP_FW2_TIMEWAIT : PW_LOOKUP_OTHER,
				      &answered);
		}
		if (NLMSG_ALIGN(h.nlmsg_len) >= len - off)
			break;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return (int)answered;
}

/*
 * Requests per write: the answers wait in the socket's receive buffer until read, each
 * taking about 1.5 KiB of it (skb overhead included); 256 overran the default 208 KiB
 * (ENOBUFS).
 */
#define LOOKUP_BATCH 64

struct lookup_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

static void lookup_request(struct lookup_req *q, const struct pw_sock_id *id, uint32_t seq)
{
	memset(q, 0, sizeof(*q));
	q->nlh.nlmsg_len = sizeof(*q);
	q->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q->nlh.nlmsg_flags = NLM_F_REQUEST; /* no dump: one socket, found by its address */
	q->nlh.nlmsg_seq = seq;
	q->r.sdiag_family = (uint8_t)id->family;
	q->r.sdiag_protocol = IPPROTO_TCP;
	q->r.idiag_states = ~0u;
	q->r.id.idiag_sport = id->sport;
	q->r.id.idiag_dport = id->dport;
	q->r.id.idiag_if = id->ifindex;
	memcpy(q->r.id.idiag_src, id->src, sizeof(id->src));
	memcpy(q->r.id.idiag_dst, id->dst, sizeof(id->dst));
	q->r.id.idiag_cookie[0] = q->r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

/* Asks about n <= LOOKUP_BATCH sockets in one write; fills state[0..n). */
static int lookup_batch(int fd, const struct pw_sock_id *ids, uint32_t n, uint32_t seq0, uint8_t *state, void *buf,
			size_t buflen)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct lookup_req req[LOOKUP_BATCH];
	uint32_t answered = 0;
	ssize_t got;
	int r;

	for (uint32_t i = 0; i < n; i++)
		lookup_request(&req[i], &ids[i], seq0 + i);
	memset(state, PW_LOOKUP_UNKNOWN, n);
	/* the kernel handles every message of one write in turn and answers each */
	if (sendto(fd, req, n * sizeof(req[0]), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	while (answered < n) {
		got = recv(fd, buf, buflen, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (got == 0)
			return -EBADMSG;
		r = pw_sockdiag_parse_lookups(buf, (size_t)got, seq0, n, state);
		if (r < 0)
			return r;
		answered += (uint32_t)r;
	}
	return 0;
}

int pw_sockstate_keep_fw2(int fd, struct pw_sock_ids *ids, void *buf, size_t buflen)
{
	uint8_t state[LOOKUP_BATCH];
	uint32_t w = 0, i = 0, seq = 1;
	int err = 0;

	if (!ids->n)
		return 0;
	while (i < ids->n) {
		uint32_t n = ids->n - i < LOOKUP_BATCH ? ids->n - i : LOOKUP_BATCH;

		err = lookup_batch(fd, &ids->v[i], n, seq, state, buf, buflen);
		if (err < 0)
			break;
		for (uint32_t k = 0; k < n; k++)
			if (state[k] == PW_LOOKUP_FW2_TIMEWAIT)
				ids->v[w++] = ids->v[i + k];
		i += n;
		seq += n;
	}
	/* on failure the ones not asked about yet stay */
	memmove(&ids->v[w], &ids->v[i], (ids->n - i) * sizeof(ids->v[0]));
	ids->n = w + (ids->n - i);
	return err;
}
