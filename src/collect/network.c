/* SPDX-License-Identifier: MIT */
/*
 * The network section: per-interface counters and rates from /proc/net/dev (loopback
 * left out, like the reference collector), and TCP/UDP socket counts (collect/conncount.h:
 * BPF-followed, else netlink, else /proc/net). No statvfs, no filesystem access beyond
 * procfs: a dead network mount cannot stall this collector.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collector.h"
#include "collect/conncount.h"
#include "collect/netdev.h"
#include "util/fieldscan.h"
#include "util/rate.h"
#include "util/readfile.h"
#include "util/strindex.h"
#include "util/timeutil.h"

struct network_state {
	struct pw_buf file;       /* /proc/net/dev, reused */
	struct pw_file netdev;    /* kept open (util/readfile.h) */
	struct pw_conncount conns; /* socket counts, with the source they come from */
	/* the previous sample, for rates: interface counters as of prev_ns */
	struct pw_netif *prev;
	uint32_t n_prev, cap_prev;
	uint64_t prev_ns;
	struct pw_strindex prev_ix, cur_ix; /* name -> position in prev / in the sample being read */
	/* filled while parsing */
	struct pw_network *out;
};

static int network_init(void *state, const struct pw_env *env, char *err, size_t errlen)
{
	struct network_state *st = state;

	/* the BPF program is loaded here, before privileges are dropped; never fails for BPF */
	return pw_conncount_init(&st->conns, env, err, errlen);
}

static void network_destroy(void *state)
{
	struct network_state *st = state;

	pw_buf_free(&st->file);
	pw_file_close(&st->netdev);
	pw_conncount_destroy(&st->conns);
	free(st->prev);
	pw_strindex_free(&st->prev_ix);
	pw_strindex_free(&st->cur_ix);
}

static struct pw_strkeys netif_keys(const struct pw_netif *arr)
{
	return (struct pw_strkeys){ arr, sizeof(*arr), offsetof(struct pw_netif, name) };
}

static int add_interface(void *ctx, const struct pw_netdev_entry *e)
{
	struct network_state *st = ctx;
	struct pw_network *net = st->out;
	struct pw_netif *f;

	uint32_t i;
	int r;

	if (!strcmp(e->name, "lo"))
		return 0;
	i = pw_strindex_find(&st->cur_ix, netif_keys(net->interfaces), e->name);
	if (i != PW_STRINDEX_NONE) {
		/* a name twice (only a broken file does that): the last wins, as in psutil's dict */
		f = &net->interfaces[i];
	} else {
		if (pw_array_reserve(&net->interfaces, &net->cap_interfaces, net->n_interfaces + 1, sizeof(*f)) < 0)
			return -ENOMEM;
		i = net->n_interfaces++;
		f = &net->interfaces[i];
		memcpy(f->name, e->name, sizeof(f->name));
		r = pw_strindex_add(&st->cur_ix, netif_keys(net->interfaces), f->name, i);
		if (r < 0)
			return r;
	}
	f->bytes_sent = e->bytes_sent;
	f->bytes_recv = e->bytes_recv;
	f->packets_sent = e->packets_sent;
	f->packets_recv = e->packets_recv;
	f->errors_in = e->errors_in;
	f->errors_out = e->errors_out;
	f->drops_in = e->drops_in;
	f->drops_out = e->drops_out;
	return 0;
}

static void compute_rates(struct network_state *st, struct pw_network *net, double dt)
{
	for (uint32_t i = 0; i < net->n_interfaces; i++) {
		struct pw_netif *f = &net->interfaces[i];
		uint32_t k = pw_strindex_find(&st->prev_ix, netif_keys(st->prev), f->name);
		const struct pw_netif *p = k != PW_STRINDEX_NONE ? &st->prev[k] : NULL;

		if (!p) {
			/* an interface that just appeared has no rate yet */
			f->bytes_sent_per_sec = f->bytes_recv_per_sec = PW_NULL;
			f->packets_sent_per_sec = f->packets_recv_per_sec = PW_NULL;
			continue;
		}
		f->bytes_sent_per_sec = pw_rate(p->bytes_sent, f->bytes_sent, dt);
		f->bytes_recv_per_sec = pw_rate(p->bytes_recv, f->bytes_recv, dt);
		f->packets_sent_per_sec = pw_rate(p->packets_sent, f->packets_sent, dt);
		f->packets_recv_per_sec = pw_rate(p->packets_recv, f->packets_recv, dt);
	}
}

static int network_collect(void *state, const struct pw_env *env, struct snapshot *out, char *err,
			   size_t errlen)
{
	struct network_state *st = state;
	struct pw_network *net = &out->network;
	uint64_t now;
	long n;
	int r;

	net->valid = false;
	net->n_interfaces = 0;
	n = pw_file_read(&st->netdev, env->proc_fd, "net/dev", &st->file, 0);
	if (n < 0) {
		snprintf(err, errlen, "cannot read net/dev: %s", strerror((int)-n));
		return (int)n;
	}
	now = pw_mono_ns();
	st->out = net;
	r = pw_strindex_reset(&st->cur_ix, pw_count_lines(st->file.data, st->file.data + n));
	if (r == 0)
		r = pw_netdev_parse(st->file.data, (size_t)n, add_interface, st);
	if (r < 0) {
		snprintf(err, errlen, "net/dev: %s", strerror(-r));
		return r;
	}
	compute_rates(st, net, pw_dt_s(st->prev_ns, now));

	/* keep this sample for the next rates; interfaces that went away are forgotten */
	if (pw_array_reserve(&st->prev, &st->cap_prev, net->n_interfaces, sizeof(*st->prev)) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (net->n_interfaces)
		memcpy(st->prev, net->interfaces, net->n_interfaces * sizeof(*st->prev));
	st->n_prev = net->n_interfaces;
	st->prev_ns = now;
	pw_strindex_swap(&st->prev_ix, &st->cur_ix); /* this sample's positions are prev's now */

	/* socket counts are optional: without them "connections" is null, interfaces stay */
	memset(&net->connections, 0, sizeof(net->connections));
	net->connections_source = PW_CONN_SOURCE_NONE;
	r = pw_conncount_read(&st->conns, &net->connections, &net->connections_source, net->connections_bpf_error,
			      sizeof(net->connections_bpf_error));
	net->connections.valid = r == 0;

	net->valid = true;
	return 0;
}

const struct collector pw_network_collector = {
	.name = "network",
	.sections = PW_SEC_NETWORK,
	.state_size = sizeof(struct network_state),
	.init = network_init,
	.collect = network_collect,
	.destroy = network_destroy,
};
