/* SPDX-License-Identifier: MIT */
#include "collect/conncount.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "collect/sockstat.h"
#include "util/timeutil.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* A netlink count raced with state changes this many times in a row: take the midpoint. */
#define SYNC_TRIES 3

static uint64_t resync_period_ns(void)
{
	const char *v = getenv(PW_SOCK_RESYNC_ENV);
	char *end;
	double s;

	if (!v || !*v)
		return (uint64_t)(PW_SOCK_RESYNC_DEFAULT_S * 1e9);
	s = strtod(v, &end);
	if (*end || !isfinite(s) || s < 0.1 || s > 3600)
		return (uint64_t)(PW_SOCK_RESYNC_DEFAULT_S * 1e9);
	return (uint64_t)(s * 1e9);
}

static void open_bpf(struct pw_conncount *cc)
{
	const char *off = getenv(PW_NO_SOCK_BPF_ENV);
	struct stat st;

	if (!cc->use_netlink) {
		snprintf(cc->bpf_why, sizeof(cc->bpf_why), "not the live procfs (--proc-root): counted from its files");
		return;
	}
	if (off && !strcmp(off, "1")) {
		snprintf(cc->bpf_why, sizeof(cc->bpf_why), "left off (" PW_NO_SOCK_BPF_ENV "=1)");
		return;
	}
	if (fstatat(cc->proc_fd, "self/ns/net", &st, 0)) {
		snprintf(cc->bpf_why, sizeof(cc->bpf_why), "cannot tell our network namespace (/proc/self/ns/net: %s)",
			 strerror(errno));
		return;
	}
	if (pw_sockbpf_open(&cc->bpf, (uint32_t)st.st_ino, cc->bpf_why, sizeof(cc->bpf_why)))
		cc->bpf = NULL;
}

int pw_conncount_init(struct pw_conncount *cc, const struct pw_env *env, char *err, size_t errlen)
{
	struct statfs sfs;

	memset(cc, 0, sizeof(*cc));
	cc->proc_fd = env->proc_fd;
	cc->diag_fd = -1;
	cc->buf = malloc(PW_SOCKSTATE_BUF_SIZE);
	if (!cc->buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* a fixture tree (--proc-root) has files, not the kernel's sockets: read its files */
	cc->use_netlink = fstatfs(env->proc_fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	cc->resync_ns = resync_period_ns();
	cc->lookup_ns = PW_FW2_LOOKUP_NS_GUESS;
	open_bpf(cc);
	return 0;
}

void pw_conncount_destroy(struct pw_conncount *cc)
{
	pw_sockbpf_close(cc->bpf);
	cc->bpf = NULL;
	free(cc->buf);
	cc->buf = NULL;
	pw_buf_free(&cc->statbuf);
	pw_sockstat_files_close(&cc->statfiles);
	pw_sock_ids_free(&cc->fw2);
	if (cc->diag_fd >= 0)
		close(cc->diag_fd);
	cc->diag_fd = -1;
}

/*
 * The reference point of the BPF counts: a netlink count, with the BPF totals read just
 * before and after it. A change between the two reads may or may not be in the count
 * (the walk may have passed its socket already): then count again, and after a few
 * tries take the totals halfway, whose error is at most half those changes.
 */
static int sync_bpf(struct pw_conncount *cc, struct pw_sock_totals *now)
{
	struct pw_sock_totals t0, t1;
	struct pw_connections b;
	uint64_t cpu0;
	int r;

	for (int tries = 1;; tries++) {
		r = pw_sockbpf_read(cc->bpf, &t0);
		cpu0 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		if (!r)
			r = pw_sockstate_read_netlink_tcp(&b, &cc->fw2, cc->buf, PW_SOCKSTATE_BUF_SIZE);
		cc->walk_ns = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
		if (!r)
			r = pw_sockbpf_read(cc->bpf, &t1);
		if (r) {
			cc->synced = false;
			return r;
		}
		if (t0.events == t1.events && t0.lost == t1.lost) {
			cc->at_base = t1;
			break;
		}
		if (tries == SYNC_TRIES) {
			pw_sockbpf_midpoint(&t0, &t1, &cc->at_base);
			break;
		}
	}
	cc->base = b;
	cc->synced = true;
	cc->synced_at_ns = pw_mono_ns();
	cc->n_syncs++;
	*now = t1;
	return 0;
}

/* Asks about each FIN_WAIT2 timewait socket followed, and times it. */
static int keep_fw2(struct pw_conncount *cc)
{
	uint32_t n = cc->fw2.n;
	uint64_t cpu0, per;
	int r;

	if (!n)
		return 0;
	if (cc->diag_fd < 0) {
		r = pw_sockstate_open_diag();
		if (r < 0)
			return r;
		cc->diag_fd = r;
	}
	cpu0 = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	r = pw_sockstate_keep_fw2(cc->diag_fd, &cc->fw2, cc->buf, PW_SOCKSTATE_BUF_SIZE);
	per = (pw_clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / n;
	if (!r && n >= 16) /* a few are mostly the system calls' fixed cost */
		cc->lookup_ns = (cc->lookup_ns * 3 + per) / 4;
	if (r < 0) {
		/* a socket in an unknown state (a half-read answer): a fresh one next time */
		close(cc->diag_fd);
		cc->diag_fd = -1;
	}
	return r;
}

/* A netlink count now, and the counts from it. */
static int count_again(struct pw_conncount *cc, struct pw_sock_totals *now, struct pw_connections *c)
{
	int r = sync_bpf(cc, now);

	return r ? r : pw_sockbpf_apply(&cc->base, &cc->at_base, now, c);
}

static int read_bpf(struct pw_conncount *cc, struct pw_connections *ret)
{
	struct pw_connections c = { .valid = true };
	struct pw_sock_totals now;
	struct pw_sockstat ss;
	bool walked = false;
	int r;

	r = pw_sockbpf_read(cc->bpf, &now);
	if (r)
		return r;
	if (!cc->synced || now.lost != cc->at_base.lost || pw_mono_ns() - cc->synced_at_ns >= cc->resync_ns) {
		r = sync_bpf(cc, &now);
		if (r)
			return r;
		walked = true;
	}
	/* sockets that may have left a FIN_WAIT2 timewait socket: taken before sockstat is read */
	r = pw_sockbpf_take_fw2(cc->bpf, &cc->fw2);
	pw_sock_ids_unique(&cc->fw2);
	if (!r)
		r = pw_sockbpf_apply(&cc->base, &cc->at_base, &now, &c);
	if (!walked && (r || cc->fw2.n * cc->lookup_ns > cc->walk_ns)) {
		/*
		 * A count off (-ERANGE) or ids dropped (-ENOMEM, -E2BIG): count again. Or so many
		 * FIN_WAIT2 timewait sockets (peers that do not close) that one walk costs less.
		 */
		r = count_again(cc, &now, &c);
		walked = true;
	}
	if (r)
		return r;
	r = pw_sockstat_read_kept(&cc->statfiles, cc->proc_fd, &cc->statbuf, &ss);
	if (r)
		return r;
	c.udp_count = ss.udp;
	if (walked) {
		c.tcp_time_wait = cc->base.tcp_time_wait; /* the walk just counted them */
	} else {
		r = keep_fw2(cc);
		if (r)
			return r;
		c.tcp_time_wait = ss.tcp_tw > cc->fw2.n ? ss.tcp_tw - cc->fw2.n : 0;
	}
	*ret = c;
	return 0;
}

int pw_conncount_read(struct pw_conncount *cc, struct pw_connections *ret, enum pw_conn_source *ret_source,
		      char *why, size_t whylen)
{
	struct pw_connections c = { 0 };
	int r;

	if (cc->bpf) {
		r = read_bpf(cc, &c);
		if (!r) {
			*ret = c;
			*ret_source = PW_CONN_SOURCE_BPF;
			why[0] = '\0';
			return 0;
		}
		/* the program stays: this snapshot comes from netlink, the next tries BPF again */
		cc->synced = false;
		snprintf(why, whylen, "reading the BPF counts: %s", strerror(-r));
	} else {
		snprintf(why, whylen, "%s", cc->bpf_why);
	}
	r = -ENOTSUP;
	if (cc->use_netlink) {
		r = pw_sockstate_read_netlink(&c, cc->buf, PW_SOCKSTATE_BUF_SIZE, false);
		if (!r) {
			*ret = c;
			*ret_source = PW_CONN_SOURCE_NETLINK;
			return 0;
		}
	}
	r = pw_sockstate_read_proc(cc->proc_fd, &c, cc->buf, PW_SOCKSTATE_BUF_SIZE);
	if (r)
		return r;
	*ret = c;
	*ret_source = PW_CONN_SOURCE_PROC;
	return 0;
}
