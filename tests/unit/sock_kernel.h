/* SPDX-License-Identifier: MIT */
/*
 * Sockets of known states for the tests that count them against the real kernel, in a
 * network namespace of the test's own (unshare(CLONE_NEWNET) in the test's process).
 */
#ifndef PW_TEST_SOCK_KERNEL_H
#define PW_TEST_SOCK_KERNEL_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0, "bringing lo up: %s", strerror(errno));
	close(fd);
}

static inline int listener(int family, struct sockaddr_storage *ret_addr, socklen_t *ret_len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 4096) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	*ret_len = sizeof(*ret_addr);
	getsockname(fd, (struct sockaddr *)ret_addr, ret_len);
	return fd;
}

/* A connected pair through listener lfd: *c the client, *s the accepted side. */
static inline void connect_pair(int lfd, const struct sockaddr_storage *addr, socklen_t len, int *c, int *s)
{
	*c = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(*c >= 0, "socket: %s", strerror(errno));
	cr_assert_eq(connect(*c, (const struct sockaddr *)addr, len), 0, "connect: %s", strerror(errno));
	*s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert(*s >= 0, "accept: %s", strerror(errno));
}

static inline void udp_socket(int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = 0;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
		len = sizeof(struct sockaddr_in6);
	}
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0, "udp bind: %s", strerror(errno));
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Closes the client c of a pair whose server stays open, so that it leaves a timewait
 * socket in substate FIN_WAIT2 behind. A plain close() may not: when the ACK of its FIN
 * comes while close() still holds the socket (loopback answers at once), the orphan stays
 * a full FIN_WAIT2 socket under the keepalive timer. After shutdown() and that ACK,
 * close() of a FIN_WAIT2 socket always makes the timewait socket.
 */
static inline void close_to_fin_wait2_timewait(int c)
{
	struct tcp_info ti;
	socklen_t len;

	cr_assert_eq(shutdown(c, SHUT_WR), 0);
	for (int i = 0; i < 1000; i++) {
		len = sizeof(ti);
		cr_assert_eq(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
		if (ti.tcpi_state == TCP_FIN_WAIT2)
			break;
		sleep_ms(1);
	}
	cr_assert_eq(ti.tcpi_state, TCP_FIN_WAIT2, "the FIN was not acknowledged");
	close(c);
}

#endif
