/* SPDX-License-Identifier: MIT */
#include "collect/sockbpf.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/btf_min.h"
#include "collect/sockstate.h"
#include "sockstate.skel.h"

struct pw_sockbpf {
	struct sockstate_bpf *skel;
	struct bpf_link *link;
	int prog_fd, counters_fd;
	struct ring_buffer *ring;
	struct pw_sock_ids *taking; /* where the ring callback puts ids, during take_fw2 */
	int take_err;
	size_t ncpus;
	struct pw_sock_counters *percpu; /* [ncpus] */
};

/* ---------------------------------------------------------------- pure arithmetic */
void pw_sockbpf_sum(const struct pw_sock_counters *percpu, size_t ncpus, struct pw_sock_totals *ret)
{
	static const unsigned state[PW_SS_N] = {
		[PW_SS_ESTABLISHED] = PW_TCP_ESTABLISHED,
		[PW_SS_CLOSE_WAIT] = PW_TCP_CLOSE_WAIT,
		[PW_SS_LISTEN] = PW_TCP_LISTEN,
	};
	struct pw_sock_totals t = { 0 };

	for (size_t c = 0; c < ncpus; c++) {
		const struct pw_sock_counters *v = &percpu[c];

		for (int s = 0; s < PW_SS_N; s++) {
			t.in[s] += v->enter[state[s]];
			t.out[s] += v->leave[state[s]];
		}
		t.lost += v->fw2_lost;
	}
	for (int s = 0; s < PW_SS_N; s++)
		t.events += t.in[s] + t.out[s];
	*ret = t;
}

/* base + (in - in_at) - (out - out_at), in wrapping u64 arithmetic; false when negative. */
static bool moved(uint64_t base, uint64_t in_at, uint64_t out_at, uint64_t in, uint64_t out, uint64_t *ret)
{
	uint64_t came = in - in_at, left = out - out_at;

	if (came > UINT64_MAX - base || base + came < left)
		return false;
	*ret = base + came - left;
	return true;
}

int pw_sockbpf_apply(const struct pw_connections *base, const struct pw_sock_totals *at,
		     const struct pw_sock_totals *now, struct pw_connections *ret)
{
	const uint64_t b[PW_SS_N] = {
		[PW_SS_ESTABLISHED] = base->tcp_established,
		[PW_SS_CLOSE_WAIT] = base->tcp_close_wait,
		[PW_SS_LISTEN] = base->tcp_listen,
	};
	uint64_t v[PW_SS_N];

	for (int s = 0; s < PW_SS_N; s++)
		if (!moved(b[s], at->in[s], at->out[s], now->in[s], now->out[s], &v[s]))
			return -ERANGE;
	ret->tcp_established = v[PW_SS_ESTABLISHED];
	ret->tcp_close_wait = v[PW_SS_CLOSE_WAIT];
	ret->tcp_listen = v[PW_SS_LISTEN];
	return 0;
}

void pw_sockbpf_midpoint(const struct pw_sock_totals *a, const struct pw_sock_totals *b, struct pw_sock_totals *ret)
{
	struct pw_sock_totals m;

	for (int s = 0; s < PW_SS_N; s++) {
		m.in[s] = a->in[s] + (b->in[s] - a->in[s]) / 2;
		m.out[s] = a->out[s] + (b->out[s] - a->out[s]) / 2;
	}
	m.events = a->events + (b->events - a->events) / 2;
	m.lost = b->lost;
	*ret = m;
}

/* ---------------------------------------------------------------- kernel */
/*
 * Library code does not log: libbpf stays silent (the reasons come back as errnos). Its
 * print callback is process-wide; the eBPF collector's loader sets its own, as silent,
 * when it loads its programs later.
 */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void whyf(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void whyf(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

void pw_sockbpf_event_id(const struct pw_fw2_event *e, struct pw_sock_id *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = e->family;
	ret->sport = e->sport;
	ret->dport = e->dport;
	ret->ifindex = e->bound_dev_if;
	memcpy(ret->src, e->saddr, sizeof(ret->src));
	memcpy(ret->dst, e->daddr, sizeof(ret->dst));
}

static int check_kernel(char *why, size_t whylen)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		whyf(why, whylen, "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s)", strerror(errno));
		return -ENOTSUP;
	}
	return 0;
}

static const char *perm_hint(int e)
{
	if (e == EPERM || e == EACCES)
		return " (needs root, or CAP_BPF and CAP_PERFMON)";
	return "";
}

/*
 * Opens and loads the object. CO-RE relocates against the embedded minimized BTF on the
 * kernel it was made from, so that start-up does not parse the kernel's BTF (bpf/btf_min.h).
 */
static int load_skeleton(struct pw_sockbpf *sb, uint32_t netns_ino, char *why, size_t whylen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct pw_btf_min btf;
	int err;

	pw_btf_min_open(&btf);
	opts.btf_custom_path = pw_btf_min_path(&btf);
	sb->skel = sockstate_bpf__open_opts(&opts);
	if (!sb->skel) {
		err = -errno;
		whyf(why, whylen, "opening the BPF object: %s", strerror(-err));
		goto out_close_btf;
	}
	sb->skel->rodata->pw_netns_ino = netns_ino;
	err = sockstate_bpf__load(sb->skel);
	if (err)
		whyf(why, whylen, "loading the BPF program: %s%s", strerror(-err), perm_hint(-err));
out_close_btf:
	pw_btf_min_close(&btf);
	return err;
}

static int on_fw2(void *ctx, void *data, size_t size)
{
	struct pw_sockbpf *sb = ctx;
	struct pw_fw2_event e;
	struct pw_sock_id id;

	if (size < sizeof(e) || sb->take_err)
		return 0;
	memcpy(&e, data, sizeof(e));
	pw_sockbpf_event_id(&e, &id);
	sb->take_err = pw_sock_ids_add(sb->taking, &id);
	return 0;
}

int pw_sockbpf_open(struct pw_sockbpf **ret, uint32_t netns_ino, char *why, size_t whylen)
{
	struct pw_sockbpf *sb;
	int ncpus, err;

	err = check_kernel(why, whylen);
	if (err)
		return err;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		whyf(why, whylen, "cannot tell the number of possible CPUs");
		return ncpus < 0 ? ncpus : -EINVAL;
	}
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		goto out_nomem;
	sb->ncpus = (size_t)ncpus;
	sb->percpu = calloc(sb->ncpus, sizeof(*sb->percpu));
	if (!sb->percpu)
		goto out_nomem;
	libbpf_set_print(libbpf_quiet);
	err = load_skeleton(sb, netns_ino, why, whylen);
	if (err)
		goto out_close;
	sb->ring = ring_buffer__new(bpf_map__fd(sb->skel->maps.fw2_ring), on_fw2, sb, NULL);
	if (!sb->ring) {
		err = -errno;
		whyf(why, whylen, "mapping the BPF ring buffer: %s", strerror(-err));
		goto out_close;
	}
	sb->link = bpf_program__attach(sb->skel->progs.pw_ss_state);
	if (!sb->link) {
		err = -errno;
		if (err == -ENOENT) /* a raw tracepoint loads on any kernel: a missing one shows here */
			whyf(why, whylen, "this kernel has no tracepoint sock:inet_sock_set_state");
		else
			whyf(why, whylen, "attaching to tracepoint sock:inet_sock_set_state: %s%s", strerror(-err),
			     perm_hint(-err));
		goto out_close;
	}
	sb->prog_fd = bpf_program__fd(sb->skel->progs.pw_ss_state);
	sb->counters_fd = bpf_map__fd(sb->skel->maps.sock_counters);
	*ret = sb;
	return 0;
out_nomem:
	whyf(why, whylen, "out of memory");
	err = -ENOMEM;
out_close:
	pw_sockbpf_close(sb);
	return err;
}

int pw_sockbpf_read(struct pw_sockbpf *sb, struct pw_sock_totals *ret)
{
	struct bpf_prog_info info;
	struct pw_sock_totals t;
	__u32 len = sizeof(info), zero = 0;

	if (bpf_map_lookup_elem(sb->counters_fd, &zero, sb->percpu))
		return -errno;
	/* the program fired while it ran on the same CPU (softirq over a process): that run was skipped */
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(sb->prog_fd, &info, &len))
		return -errno;
	pw_sockbpf_sum(sb->percpu, sb->ncpus, &t);
	t.lost += info.recursion_misses;
	*ret = t;
	return 0;
}

int pw_sockbpf_take_fw2(struct pw_sockbpf *sb, struct pw_sock_ids *ids)
{
	int r;

	sb->taking = ids;
	sb->take_err = 0;
	r = ring_buffer__consume(sb->ring);
	sb->taking = NULL;
	if (r < 0)
		return r;
	return sb->take_err;
}

size_t pw_sockbpf_prog_stats(const struct pw_sockbpf *sb, struct pw_sockbpf_prog_stats *ret, size_t max)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	if (!max)
		return 1;
	memset(&info, 0, sizeof(info));
	memset(ret, 0, sizeof(*ret));
	if (bpf_obj_get_info_by_fd(sb->prog_fd, &info, &len) == 0) {
		snprintf(ret->name, sizeof(ret->name), "%s", info.name);
		ret->run_cnt = info.run_cnt;
		ret->run_time_ns = info.run_time_ns;
		ret->recursion_misses = info.recursion_misses;
	}
	return 1;
}

void pw_sockbpf_close(struct pw_sockbpf *sb)
{
	if (!sb)
		return;
	bpf_link__destroy(sb->link);
	ring_buffer__free(sb->ring);
	sockstate_bpf__destroy(sb->skel);
	free(sb->percpu);
	free(sb);
}
