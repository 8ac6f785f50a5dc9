/* SPDX-License-Identifier: MIT */
/*
 * procfs_floor — the physical limit of a procfs collector on this machine.
 *
 * Reads the files PerfWatch reads in one cycle (a list made by the benchmark from an
 * strace of perfwatch, or the fixture tree's files) into buffers with the same reader
 * PerfWatch uses (pw_read_file_at: openat + read to EOF + close), and statfs()es the
 * mount points it statfs()es, and makes the sock_diag netlink dumps it makes (socket
 * states without /proc/net/tcp), with no parsing at all. It repeats that pass many times and
 * prints the CPU time of one pass (median, min, p90) as one JSON line. PerfWatch's CPU per
 * snapshot divided by this is "the ratio to the floor" in `make bench`.
 *
 *   procfs_floor [--proc-root DIR] [--sys-root DIR] [--passes N] [--seconds S] [LIST]
 *
 * LIST (default stdin) has one entry per line: "proc REL", "sys REL" (relative to the
 * roots), "statfs PATH", "abs PATH", or "sockdiag tcp4|tcp6|udp4|udp6" (a full
 * NETLINK_SOCK_DIAG dump of that family and protocol, every state), or "sockdiag tcp46"
 * (the compat TCPDIAG_GETSOCK dump: IPv4 and IPv6 TCP in one walk of the hash table).
 * Blank lines and lines starting with '#' are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/readfile.h"
#include "util/timeutil.h"

enum entry_kind { E_PROC, E_SYS, E_STATFS, E_ABS, E_SOCKDIAG };

struct entry {
	enum entry_kind kind;
	char *path;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void entries_free(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].path);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

static int entries_add(struct entries *e, enum entry_kind kind, const char *path)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct entry *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n].path = strdup(path);
	if (!e->v[e->n].path)
		return -ENOMEM;
	e->v[e->n].kind = kind;
	e->n++;
	return 0;
}

static int parse_list(FILE *f, struct entries *e)
{
	static const struct {
		const char *word;
		enum entry_kind kind;
	} kinds[] = { { "proc", E_PROC }, { "sys", E_SYS }, { "statfs", E_STATFS }, { "abs", E_ABS },
			    { "sockdiag", E_SOCKDIAG } };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		char *sp;
		size_t k;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		sp = strchr(line, ' ');
		if (!sp || !sp[1]) {
			err = -EINVAL;
			break;
		}
		*sp = '\0';
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (!strcmp(line, kinds[k].word))
				break;
		if (k == sizeof(kinds) / sizeof(kinds[0])) {
			err = -EINVAL;
			break;
		}
		err = entries_add(e, kinds[k].kind, sp + 1);
		if (err < 0)
			break;
	}
	free(line);
	return err;
}

/* "tcp4" -> AF_INET/IPPROTO_TCP, ...; "tcp46" -> AF_UNSPEC/TCP (compat); -EINVAL else. */
static int sockdiag_target(const char *what, int *ret_family, int *ret_proto)
{
	int family, proto;

	if (!strcmp(what, "tcp46")) {
		*ret_family = AF_UNSPEC;
		*ret_proto = IPPROTO_TCP;
		return 0;
	}
	if (!strncmp(what, "tcp", 3))
		proto = IPPROTO_TCP;
	else if (!strncmp(what, "udp", 3))
		proto = IPPROTO_UDP;
	else
		return -EINVAL;
	if (!strcmp(what + 3, "4"))
		family = AF_INET;
	else if (!strcmp(what + 3, "6"))
		family = AF_INET6;
	else
		return -EINVAL;
	*ret_family = family;
	*ret_proto = proto;
	return 0;
}

/*
 * One full dump, every socket state; returns the bytes received or a negative errno.
 * AF_UNSPEC asks the compat TCPDIAG_GETSOCK interface, which walks the TCP hash table once
 * for IPv4 and IPv6 together.
 */
static long sockdiag_dump(int nl_fd, int family, int proto)
{
	static char rbuf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = (__u8)family, .sdiag_protocol = (__u8)proto, .idiag_states = ~0u },
	};
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req req;
	} compat = {
		.nlh = { .nlmsg_len = sizeof(compat), .nlmsg_type = TCPDIAG_GETSOCK,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .idiag_family = AF_INET, .idiag_states = ~0u },
	};
	long total = 0;
	ssize_t sent;

	if (family == AF_UNSPEC)
		sent = send(nl_fd, &compat, sizeof(compat), 0);
	else
		sent = send(nl_fd, &msg, sizeof(msg), 0);
	if (sent < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl_fd, rbuf, sizeof(rbuf), 0);
		const struct nlmsghdr *h;
		size_t left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		total += n;
		left = (size_t)n;
		/* only the framing is looked at: where the dump ends */
		for (h = (const struct nlmsghdr *)rbuf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return total;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EIO;
		}
		if (n == 0)
			return -EIO;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One pass over every entry; returns the bytes read, and counts entries that failed. */
static uint64_t one_pass(const struct entries *e, int proc_fd, int sys_fd, int nl_fd,
			 struct pw_buf *b, size_t *ret_failed)
{
	uint64_t bytes = 0;
	size_t failed = 0;

	for (size_t i = 0; i < e->n; i++) {
		const struct entry *en = &e->v[i];
		struct statfs sfs;
		int family, proto;
		long n;

		switch (en->kind) {
		case E_SOCKDIAG:
			if (nl_fd < 0 || sockdiag_target(en->path, &family, &proto) < 0)
				n = -EINVAL;
			else
				n = sockdiag_dump(nl_fd, family, proto);
			break;
		case E_STATFS:
			if (statfs(en->path, &sfs) < 0)
				failed++;
			continue;
		case E_PROC:
			n = pw_read_file_at(proc_fd, en->path, b, 0);
			break;
		case E_SYS:
			n = pw_read_file_at(sys_fd, en->path, b, 0);
			break;
		default:
			n = pw_read_file_at(AT_FDCWD, en->path, b, 0);
			break;
		}
		if (n < 0)
			failed++;
		else
			bytes += (uint64_t)n;
	}
	*ret_failed = failed;
	return bytes;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: procfs_floor [--proc-root DIR] [--sys-root DIR] [--passes N] [--seconds S] [LIST]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "proc-root", required_argument, NULL, 'p' },
		{ "sys-root", required_argument, NULL, 's' },
		{ "passes", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *proc_root = "/proc", *sys_root = "/sys";
	struct entries e = { 0 };
	struct pw_buf b = { 0 };
	uint64_t *cpu = NULL, *wall = NULL, bytes = 0, stop_ns;
	unsigned long passes = 20000, done = 0;
	double seconds = 2.0;
	size_t failed = 0;
	int proc_fd = -1, sys_fd = -1, nl_fd = -1, rc = 1, c;
	FILE *list = stdin;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			proc_root = optarg;
			break;
		case 's':
			sys_root = optarg;
			break;
		case 'n':
			passes = strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (passes < 1 || !(seconds > 0) || argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	if (optind < argc) {
		list = fopen(argv[optind], "re");
		if (!list) {
			fprintf(stderr, "procfs_floor: %s: %s\n", argv[optind], strerror(errno));
			return 1;
		}
	}
	if (parse_list(list, &e) < 0) {
		fprintf(stderr, "procfs_floor: bad list line (want 'proc|sys|statfs|abs PATH')\n");
		goto out_free;
	}
	proc_fd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sys_fd = open(sys_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0 || sys_fd < 0) {
		fprintf(stderr, "procfs_floor: cannot open %s or %s: %s\n", proc_root, sys_root, strerror(errno));
		goto out_close;
	}
	/* one netlink socket for the whole run, as a daemon would keep it */
	for (size_t i = 0; i < e.n; i++)
		if (e.v[i].kind == E_SOCKDIAG && nl_fd < 0)
			nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	cpu = calloc(passes, sizeof(*cpu));
	wall = calloc(passes, sizeof(*wall));
	if (!cpu || !wall) {
		fprintf(stderr, "procfs_floor: out of memory\n");
		goto out_close;
	}

	/* warm the dentry cache and size the buffer once, as a running daemon would have */
	for (int i = 0; i < 3; i++)
		bytes = one_pass(&e, proc_fd, sys_fd, nl_fd, &b, &failed);

	stop_ns = pw_mono_ns() + (uint64_t)(seconds * 1e9);
	do {
		uint64_t c0 = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID), w0 = pw_mono_ns();

		one_pass(&e, proc_fd, sys_fd, nl_fd, &b, &failed);
		cpu[done] = pw_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
		wall[done] = pw_mono_ns() - w0;
		done++;
	} while (done < passes && pw_mono_ns() < stop_ns);
	qsort(cpu, done, sizeof(*cpu), cmp_u64);
	qsort(wall, done, sizeof(*wall), cmp_u64);
	printf("{\"entries\": %zu, \"failed\": %zu, \"bytes_per_pass\": %llu, \"passes\": %lu, "
	       "\"cpu_ns_per_pass\": {\"median\": %llu, \"min\": %llu, \"p90\": %llu, \"max\": %llu}, "
	       "\"wall_ns_per_pass_median\": %llu}\n",
	       e.n, failed, (unsigned long long)bytes, done, (unsigned long long)cpu[done / 2],
	       (unsigned long long)cpu[0], (unsigned long long)cpu[done * 9 / 10],
	       (unsigned long long)cpu[done - 1], (unsigned long long)wall[done / 2]);
	rc = 0;
out_close:
	if (proc_fd >= 0)
		close(proc_fd);
	if (sys_fd >= 0)
		close(sys_fd);
	if (nl_fd >= 0)
		close(nl_fd);
out_free:
	free(cpu);
	free(wall);
	pw_buf_free(&b);
	entries_free(&e);
	if (list != stdin)
		fclose(list);
	return rc;
}
