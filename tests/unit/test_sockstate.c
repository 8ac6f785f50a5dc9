/* SPDX-License-Identifier: MIT */
/*
 * Socket state counts: /proc/net/{tcp,udp}[6] text, inet_diag netlink answers, and both
 * sources against the real kernel in a network namespace of the test's own, where the
 * sockets are exactly the ones the test made.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collect/sockstate.h"
#include "netdisk_fixture.h"
#include "nlmsg_buf.h"
#include "sock_kernel.h"

static bool same(const struct pw_connections *a, const struct pw_connections *b)
{
	return a->tcp_established == b->tcp_established && a->tcp_time_wait == b->tcp_time_wait &&
	       a->tcp_close_wait == b->tcp_close_wait && a->tcp_listen == b->tcp_listen &&
	       a->udp_count == b->udp_count;
}

#define SHOW(c) \
	(unsigned long)(c)->tcp_established, (unsigned long)(c)->tcp_time_wait, (unsigned long)(c)->tcp_close_wait, \
		(unsigned long)(c)->tcp_listen, (unsigned long)(c)->udp_count
#define FMT "est %lu tw %lu cw %lu listen %lu udp %lu"

/* ---------------------------------------------------------------- /proc/net text */

Test(sockstate_proc, fixture_trees)
{
	static const struct {
		const char *machine;
		struct pw_connections want;
	} cases[] = {
		/* psutil.net_connections('inet') over the same files, counted by state */
		{ "nvme-md-dm-server", { true, 2152, 886, 214, 127, 65 } },
		{ "odd-ifnames", { true, 8, 2, 2, 8, 4 } },
		{ "debian12-vm", { true, 0, 0, 0, 1, 0 } },
		{ "kernel-3.10-14-fields", { true, 0, 0, 0, 3, 1 } },
		{ "nasty-garbage", { true, 0, 1, 1, 2, 2 } },
		{ "nasty-empty", { true, 0, 0, 0, 0, 0 } },
	};
	char *buf = malloc(PW_SOCKSTATE_BUF_SIZE);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pw_connections got = { 0 };
		int fd = fixture_tree_fd(cases[i].machine);

		cr_expect_eq(pw_sockstate_read_proc(fd, &got, buf, PW_SOCKSTATE_BUF_SIZE), 0, "%s", cases[i].machine);
		cr_expect(got.valid);
		cr_expect(same(&got, &cases[i].want), "%s: got " FMT ", want " FMT, cases[i].machine, SHOW(&got),
			  SHOW(&cases[i].want));
		close(fd);
	}
	free(buf);
}

Test(sockstate_proc, missing_ipv4_file_is_an_error)
{
	char buf[4096];
	struct pw_connections got = { 0 };
	int fd = fixture_tree_fd("kernel-4.19-18-fields");

	cr_expect_eq(pw_sockstate_read_proc(fd, &got, buf, sizeof(buf)), -ENOENT);
	cr_expect(!got.valid, "the result is filled only on success");
	close(fd);
}

/* The counts do not depend on where the reads cut the text. */
Test(sockstate_proc, any_chunking_same_counts)
{
	struct pw_buf b = { 0 };
	long n = fixture_tree_read("nvme-md-dm-server", "net/tcp", &b);
	struct pw_connections whole = { 0 };

	pw_proc_net_sock_parse(b.data, (size_t)n, true, true, &whole);
	cr_expect_eq(whole.tcp_established + whole.tcp_time_wait + whole.tcp_close_wait + whole.tcp_listen, 2301);
	for (size_t chunk = 1; chunk < 700; chunk += 37) {
		struct pw_connections acc = { 0 };
		size_t have = 0, off = 0;
		char *win = malloc(chunk + 400);

		/* the reader's loop: append a chunk, count complete lines, keep the rest */
		while (off < (size_t)n) {
			size_t take = (size_t)n - off < chunk ? (size_t)n - off : chunk, used;

			memcpy(win + have, b.data + off, take);
			off += take;
			have += take;
			used = pw_proc_net_sock_parse(win, have, true, false, &acc);
			memmove(win, win + used, have - used);
			have -= used;
		}
		pw_proc_net_sock_parse(win, have, true, true, &acc);
		cr_expect(same(&acc, &whole), "chunk %zu: " FMT, chunk, SHOW(&acc));
		free(win);
	}
	pw_buf_free(&b);
}

Test(sockstate_proc, lines)
{
	static const struct {
		const char *text;
		bool tcp, final;
		bool all; /* consumed whole, or (an incomplete line kept for more) not at all */
		uint64_t est, listen, udp;
	} cases[] = {
		{ "   0: 0100007F:0277 00000000:0000 01 0\n", true, false, true, 1, 0, 0 },
		{ "   0: 0100007F:0277 00000000:0000 01 0", true, false, false, 0, 0, 0 },
		{ "   0: 0100007F:0277 00000000:0000 01 0", true, true, true, 1, 0, 0 }, /* end of text */
		{ "   0: 0100007F:0277 00000000:0000 0A\n", true, false, true, 0, 1, 0 },
		{ "   0: 0100007F:0277 00000000:0000 0a\n", true, false, true, 0, 1, 0 },
		{ "   0: 0100007F:0277 00000000:0000 0G\n", true, false, true, 0, 0, 0 },
		{ "   0: 0100007F:0277 00000000:0000 010\n", true, false, true, 0, 0, 0 },
		{ "   0: 0100007F:0277 00000000:0000\n", true, false, true, 0, 0, 0 },
		{ "   :  0100007F:0277 00000000:0000 01\n", true, false, true, 0, 0, 0 },
		{ "  sl  local_address rem_address   st tx_queue\n", false, false, true, 0, 0, 0 },
		{ "   9: 0100007F:0277 00000000:0000 07\n\n\n", false, false, true, 0, 0, 1 },
		{ "   9: 0100007F:0277 00000000:0000 FF\n", false, false, true, 0, 0, 1 }, /* any state: UDP */
		{ "1: a b 01\n2: a b 01\n3: a b", true, false, false, 2, 0, 0 },
		{ "", true, true, true, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].text);
		struct pw_connections acc = { 0 };
		size_t used = pw_proc_net_sock_parse(cases[i].text, len, cases[i].tcp, cases[i].final, &acc);

		if (cases[i].all)
			cr_expect_eq(used, len, "case %zu consumed %zu of %zu", i, used, len);
		else
			cr_expect_lt(used, len, "case %zu: the incomplete line is kept", i);
		cr_expect_eq(acc.tcp_established, cases[i].est, "case %zu established", i);
		cr_expect_eq(acc.tcp_listen, cases[i].listen, "case %zu listen", i);
		cr_expect_eq(acc.udp_count, cases[i].udp, "case %zu udp", i);
	}
}

/* ---------------------------------------------------------------- netlink answers */

static void put_sock(struct msgbuf *m, uint32_t seq, uint8_t state)
{
	struct inet_diag_msg d = { .idiag_family = AF_INET, .idiag_state = state };

	msgbuf_put(m, SOCK_DIAG_BY_FAMILY, seq, &d, sizeof(d));
}

Test(sockdiag, counts_until_done)
{
	struct msgbuf m = { .len = 0 };
	struct pw_connections acc = { 0 };
	int zero = 0;
	bool done = false;

	put_sock(&m, 5, PW_TCP_ESTABLISHED);
	put_sock(&m, 5, PW_TCP_ESTABLISHED);
	put_sock(&m, 4, PW_TCP_ESTABLISHED); /* another request's: ignored */
	put_sock(&m, 5, PW_TCP_LISTEN);
	put_sock(&m, 5, PW_TCP_TIME_WAIT);
	put_sock(&m, 5, PW_TCP_CLOSE_WAIT);
	put_sock(&m, 5, 2 /* SYN_SENT: not counted */);
	msgbuf_put(&m, NLMSG_DONE, 5, &zero, sizeof(zero));
	put_sock(&m, 5, PW_TCP_ESTABLISHED); /* after DONE: not looked at */
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len, 5, true, &acc, &done), 0);
	cr_expect(done);
	cr_expect(acc.tcp_established == 2 && acc.tcp_listen == 1 && acc.tcp_time_wait == 1 && acc.tcp_close_wait == 1,
		  FMT, SHOW(&acc));
}

Test(sockdiag, udp_counts_every_state)
{
	struct msgbuf m = { .len = 0 };
	struct pw_connections acc = { 0 };
	bool done = false;

	put_sock(&m, 1, 7);
	put_sock(&m, 1, 1);
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len, 1, false, &acc, &done), 0);
	cr_expect(!done, "no DONE yet: read on");
	cr_expect_eq(acc.udp_count, 2);
	cr_expect_eq(acc.tcp_established, 0);
}

Test(sockdiag, errors_and_malformed)
{
	struct pw_connections acc = { 0 };
	struct nlmsgerr e = { .error = -EPERM };
	struct msgbuf m = { .len = 0 };
	struct nlmsghdr h;
	bool done = false;

	msgbuf_put(&m, NLMSG_ERROR, 3, &e, sizeof(e));
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len, 3, true, &acc, &done), -EPERM);

	e.error = 5; /* not an errno */
	m.len = 0;
	msgbuf_put(&m, NLMSG_ERROR, 3, &e, sizeof(e));
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len, 3, true, &acc, &done), -EBADMSG);

	m.len = 0;
	put_sock(&m, 3, 1);
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len - 1, 3, true, &acc, &done), -EBADMSG, "cut short");

	memcpy(&h, m.b, sizeof(h));
	h.nlmsg_len = 8; /* shorter than its own header */
	memcpy(m.b, &h, sizeof(h));
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len, 3, true, &acc, &done), -EBADMSG);

	m.len = 0;
	msgbuf_put(&m, SOCK_DIAG_BY_FAMILY, 3, &e, 4); /* too short for an inet_diag_msg */
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len, 3, true, &acc, &done), -EBADMSG);

	/* a few stray bytes after whole messages are not a message */
	m.len = 0;
	put_sock(&m, 3, 1);
	cr_expect_eq(pw_sockdiag_parse(m.b, m.len + 3, 3, true, &acc, &done), 0);
	cr_expect_eq(acc.tcp_established, 1);
	cr_expect(!done);
}

Test(sockdiag, unaligned_buffer)
{
	struct msgbuf m = { .len = 0 };
	unsigned char *odd = malloc(sizeof(m.b) + 1);
	struct pw_connections acc = { 0 };
	bool done = false;

	put_sock(&m, 9, PW_TCP_LISTEN);
	memcpy(odd + 1, m.b, m.len);
	cr_expect_eq(pw_sockdiag_parse(odd + 1, m.len, 9, true, &acc, &done), 0);
	cr_expect_eq(acc.tcp_listen, 1);
	free(odd);
}

/* ---------------------------------------------------------------- the real kernel */

#define N_ESTABLISHED_PAIRS 700 /* 1,400 sockets: the dump answer spans many reads */
#define N_CLOSE_WAIT 5
#define N_TIME_WAIT 7

Test(sockstate_kernel, netlink_and_proc_agree_with_what_was_made, .timeout = 60)
{
	struct pw_connections want = { .valid = true }, nl = { 0 }, nl2 = { 0 }, pr = { 0 };
	struct sockaddr_storage a4, a6;
	socklen_t l4, l6;
	struct rlimit rl;
	int l4fd, l6fd, l4b, proc_fd, c, s;
	char *buf;
	bool v6;

	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("cannot make a network namespace (%s): needs root or CAP_SYS_ADMIN", strerror(errno));
	lo_up();
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	cr_assert_geq(rl.rlim_cur, 2 * N_ESTABLISHED_PAIRS + 100, "too few file descriptors allowed");

	l4fd = listener(AF_INET, &a4, &l4);
	cr_assert_geq(l4fd, 0, "listen: %s", strerror(-l4fd));
	l4b = listener(AF_INET, &a4, &l4); /* a second listener; a4 is now its address */
	cr_assert_geq(l4b, 0);
	l6fd = listener(AF_INET6, &a6, &l6);
	v6 = l6fd >= 0; /* a kernel without IPv6 still counts */
	want.tcp_listen = v6 ? 3 : 2;

	for (int i = 0; i < N_ESTABLISHED_PAIRS; i++)
		connect_pair(l4b, &a4, l4, &c, &s);
	want.tcp_established = 2 * N_ESTABLISHED_PAIRS;
	if (v6) {
		connect_pair(l6fd, &a6, l6, &c, &s);
		want.tcp_established += 2;
	}
	for (int i = 0; i < N_CLOSE_WAIT; i++) {
		connect_pair(l4b, &a4, l4, &c, &s);
		close(c); /* the client's FIN: the server side waits in CLOSE_WAIT, the client in FIN_WAIT2 */
	}
	want.tcp_close_wait = N_CLOSE_WAIT;
	for (int i = 0; i < N_TIME_WAIT; i++) {
		connect_pair(l4b, &a4, l4, &c, &s);
		close(c);
		sleep_ms(2);
		close(s); /* the client, which closed first, goes to TIME_WAIT */
	}
	want.tcp_time_wait = N_TIME_WAIT;
	for (int i = 0; i < 4; i++)
		udp_socket(AF_INET);
	want.udp_count = 4;
	if (v6) {
		udp_socket(AF_INET6);
		want.udp_count++;
	}

	buf = malloc(PW_SOCKSTATE_BUF_SIZE);
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(proc_fd >= 0);
	/* state changes after a close are asynchronous: give them a moment */
	for (int tries = 0; tries < 200; tries++) {
		cr_assert_eq(pw_sockstate_read_netlink(&nl, buf, PW_SOCKSTATE_BUF_SIZE, false), 0);
		cr_assert_eq(pw_sockstate_read_netlink(&nl2, buf, PW_SOCKSTATE_BUF_SIZE, true), 0);
		cr_assert_eq(pw_sockstate_read_proc(proc_fd, &pr, buf, PW_SOCKSTATE_BUF_SIZE), 0);
		if (same(&nl, &want) && same(&nl2, &want) && same(&pr, &want))
			break;
		sleep_ms(10);
	}
	cr_expect(nl.valid && nl2.valid && pr.valid);
	cr_expect(same(&nl, &want), "netlink " FMT ", want " FMT, SHOW(&nl), SHOW(&want));
	cr_expect(same(&nl2, &want), "netlink per family " FMT ", want " FMT, SHOW(&nl2), SHOW(&want));
	cr_expect(same(&pr, &want), "/proc/net " FMT ", want " FMT, SHOW(&pr), SHOW(&want));
	close(proc_fd);
	free(buf);
}
