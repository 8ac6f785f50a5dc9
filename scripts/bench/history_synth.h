/* SPDX-License-Identifier: MIT */
/*
 * A synthetic host for the history benchmark: fills a struct snapshot the way a busy-ish
 * 4-CPU server would, step by step (deterministic for a seed).
 *
 * The model, so the numbers can be judged: per-core usage is a daily wave plus a random
 * walk plus noise (0-100 %, user/system/iowait/irq/softirq splits of it); 4 frequencies
 * that change a few times an hour; 4 temperatures in whole degrees; interrupts and
 * context switches counting at noisy rates; memory used and cached walking in pages;
 * swap and hugepages constant; paging and fault rates noisy, major faults mostly 0;
 * eth0 with a noisy ~50 KB/s and bursts, eth1 idle; TCP/UDP counts walking a little;
 * vda writing in bursts, vdb idle; / and /boot partitions; all 17 perf events counting
 * (cycles ~ 1e9/s with 30 % noise, the rest proportional); PerfWatch's own cost noisy.
 * Every value is as noisy as real data at its last digits, so nothing compresses for free.
 */
#ifndef PW_BENCH_HISTORY_SYNTH_H
#define PW_BENCH_HISTORY_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "snapshot.h"

struct synth {
	uint64_t rng;
	double core_walk[4];
	double freq[4];
	double used, cached, rootused;
	uint64_t intr, ctxt;
	uint64_t net[2][8];   /* bytes_sent, bytes_recv, packets_sent, packets_recv, errs/drops */
	uint64_t disk[2][6];  /* read/write bytes, counts, times */
	double est, tw;
	uint64_t seq;
};

static inline double synth_u01(struct synth *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (double)(s->rng >> 11) / 9007199254740992.0;
}

static inline double synth_gauss(struct synth *s)
{
	double u = synth_u01(s) + 1e-12, v = synth_u01(s);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static inline double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static inline void synth_init(struct synth *s, uint64_t seed, struct snapshot *snap)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed * 2654435761u + 88172645463325252ull;
	for (int i = 0; i < 4; i++)
		s->freq[i] = 2400;
	s->used = 6e9;
	s->cached = 3e9;
	s->rootused = 40e9;
	s->intr = 123456789;
	s->ctxt = 987654321;
	s->est = 40;
	s->tw = 20;
	snapshot_init(snap);
	pw_array_reserve(&snap->cpu.per_core, &snap->cpu.cap_per_core, 4, sizeof(double));
	pw_array_reserve(&snap->cpu.frequency_mhz, &snap->cpu.cap_freq, 4, sizeof(double));
	pw_array_reserve(&snap->cpu.temperature_celsius, &snap->cpu.cap_temp, 4, sizeof(double));
	pw_array_reserve(&snap->network.interfaces, &snap->network.cap_interfaces, 2, sizeof(struct pw_netif));
	pw_array_reserve(&snap->disk.devices, &snap->disk.cap_devices, 2, sizeof(struct pw_blockdev));
	pw_array_reserve(&snap->disk.partitions, &snap->disk.cap_partitions, 2, sizeof(struct pw_partition));
}

static inline double rate_of(uint64_t *ctr, double per_sec, double dt)
{
	uint64_t d = (uint64_t)llround(per_sec < 0 ? 0 : per_sec * dt);

	*ctr += d;
	return (double)d / dt;
}

static inline void synth_step(struct synth *s, struct snapshot *snap, double t, double dt)
{
	double day = 0.5 + 0.5 * sin(2 * M_PI * fmod(t, 86400) / 86400), sum = 0;
	struct pw_cpu *c = &snap->cpu;
	struct pw_memory *m = &snap->memory;

	snapshot_reset(snap);
	snap->timestamp = t;
	snap->interval_s = dt;
	snap->seq = s->seq++;

	c->valid = true;
	c->n_per_core = c->n_freq = c->n_temp = 4;
	for (int i = 0; i < 4; i++) {
		s->core_walk[i] = clampd(s->core_walk[i] + synth_gauss(s) * 2, -20, 40);
		c->per_core[i] = clampd(10 + 30 * day + s->core_walk[i] + synth_gauss(s) * 5, 0, 100);
		sum += c->per_core[i];
		if (synth_u01(s) < 0.002)
			s->freq[i] = 1200 + 400 * floor(synth_u01(s) * 6);
		c->frequency_mhz[i] = s->freq[i];
		c->temperature_celsius[i] = round(40 + c->per_core[i] * 0.3 + synth_gauss(s));
	}
	c->usage_percent = sum / 4;
	c->user = c->usage_percent * 0.7;
	c->system = c->usage_percent * 0.2;
	c->iowait = clampd(synth_gauss(s) * 0.5 + 1, 0, 100);
	c->irq = clampd(0.3 + synth_gauss(s) * 0.1, 0, 100);
	c->softirq = clampd(0.8 + synth_gauss(s) * 0.3, 0, 100);
	c->idle = clampd(100 - c->usage_percent, 0, 100);
	c->interrupts_per_sec = rate_of(&s->intr, 2000 + 1500 * day + synth_gauss(s) * 300, dt);
	c->interrupts = s->intr;
	rate_of(&s->ctxt, 5000 + 4000 * day + synth_gauss(s) * 1500, dt);
	c->ctx_switches = s->ctxt;
	c->n_cpus_online = 4;

	m->valid = true;
	m->total_bytes = 16ull << 30;
	s->used = clampd(s->used + 4096.0 * round(synth_gauss(s) * 200), 1e9, 12e9);
	s->cached = clampd(s->cached + 4096.0 * round(synth_gauss(s) * 50 + 5), 1e9, 6e9);
	m->used_bytes = (uint64_t)s->used;
	m->cached_bytes = (uint64_t)s->cached;
	m->buffers_bytes = 300ull << 20;
	m->free_bytes = m->total_bytes - m->used_bytes - m->cached_bytes - m->buffers_bytes;
	m->available_bytes = m->free_bytes + m->cached_bytes;
	m->usage_percent = 100.0 * (double)(m->total_bytes - m->available_bytes) / (double)m->total_bytes;
	m->swap_total_bytes = 2ull << 30;
	m->swap_used_bytes = 0;
	m->swap_free_bytes = m->swap_total_bytes;
	m->hugepage_size_bytes = 2 << 20;
	m->pgpgin_per_sec = fabs(synth_gauss(s) * 20);
	m->pgpgout_per_sec = fabs(synth_gauss(s) * 80 + 40);
	m->pswpin_per_sec = 0;
	m->pswpout_per_sec = 0;
	m->page_io_bytes_per_sec = (m->pgpgin_per_sec + m->pgpgout_per_sec) * 1024;
	m->swap_io_bytes_per_sec = 0;
	m->pgfault_per_sec = fabs(1000 + 800 * day + synth_gauss(s) * 300);
	m->pgmajfault_per_sec = synth_u01(s) < 0.05 ? round(synth_u01(s) * 20) / dt : 0;

	snap->network.valid = true;
	snap->network.n_interfaces = 2;
	for (int i = 0; i < 2; i++) {
		struct pw_netif *f = &snap->network.interfaces[i];
		bool busy = i == 0;
		double burst = busy && synth_u01(s) < 0.02 ? 2e6 * synth_u01(s) : 0;
		double rx = busy ? fabs(50e3 + 30e3 * day + synth_gauss(s) * 15e3) + burst : 0;
		double tx = busy ? fabs(20e3 + synth_gauss(s) * 8e3) + burst / 10 : (synth_u01(s) < 0.01 ? 90 / dt : 0);

		snprintf(f->name, sizeof(f->name), "eth%d", i);
		f->bytes_recv_per_sec = rate_of(&s->net[i][1], rx, dt);
		f->bytes_sent_per_sec = rate_of(&s->net[i][0], tx, dt);
		f->packets_recv_per_sec = rate_of(&s->net[i][3], rx / 900, dt);
		f->packets_sent_per_sec = rate_of(&s->net[i][2], tx / 600, dt);
		f->bytes_sent = s->net[i][0];
		f->bytes_recv = s->net[i][1];
		f->packets_sent = s->net[i][2];
		f->packets_recv = s->net[i][3];
		if (busy && synth_u01(s) < 0.001)
			s->net[i][6]++;
		f->drops_in = s->net[i][6];
	}
	snap->network.connections.valid = true;
	s->est = clampd(s->est + synth_gauss(s), 5, 200);
	s->tw = clampd(s->tw + synth_gauss(s) * 2, 0, 300);
	snap->network.connections.tcp_established = (uint64_t)s->est;
	snap->network.connections.tcp_time_wait = (uint64_t)s->tw;
	snap->network.connections.tcp_close_wait = synth_u01(s) < 0.05 ? 1 : 0;
	snap->network.connections.tcp_listen = 12;
	snap->network.connections.udp_count = 8;

	snap->disk.valid = true;
	snap->disk.n_devices = 2;
	for (int i = 0; i < 2; i++) {
		struct pw_blockdev *b = &snap->disk.devices[i];
		bool busy = i == 0 && synth_u01(s) < 0.6;
		double wb = busy ? fabs(100e3 + synth_gauss(s) * 80e3) : 0;
		double rb = i == 0 && synth_u01(s) < 0.1 ? fabs(synth_gauss(s) * 200e3) : 0;
		double wi = wb / 16384, ri = rb / 32768;

		snprintf(b->name, sizeof(b->name), "vd%c", 'a' + i);
		b->write_bytes_per_sec = rate_of(&s->disk[i][1], wb, dt);
		b->read_bytes_per_sec = rate_of(&s->disk[i][0], rb, dt);
		b->write_iops = rate_of(&s->disk[i][3], wi, dt);
		b->read_iops = rate_of(&s->disk[i][2], ri, dt);
		b->write_latency_ms = b->write_iops > 0 ? fabs(0.8 + synth_gauss(s) * 0.3) : NAN;
		b->read_latency_ms = b->read_iops > 0 ? fabs(0.5 + synth_gauss(s) * 0.2) : NAN;
		s->disk[i][5] += (uint64_t)llround(b->write_iops * dt * (isnan(b->write_latency_ms) ? 0 : b->write_latency_ms));
		s->disk[i][4] += (uint64_t)llround(b->read_iops * dt * (isnan(b->read_latency_ms) ? 0 : b->read_latency_ms));
		b->read_bytes = s->disk[i][0];
		b->write_bytes = s->disk[i][1];
		b->read_count = s->disk[i][2];
		b->write_count = s->disk[i][3];
		b->read_time_ms = s->disk[i][4];
		b->write_time_ms = s->disk[i][5];
	}
	snap->disk.n_partitions = 2;
	s->rootused = clampd(s->rootused + 4096.0 * round(synth_gauss(s) * 10 + 2), 1e9, 90e9);
	for (int i = 0; i < 2; i++) {
		struct pw_partition *p = &snap->disk.partitions[i];

		snprintf(p->mountpoint, sizeof(p->mountpoint), "%s", i ? "/boot" : "/");
		snprintf(p->device, sizeof(p->device), "/dev/vda%d", i + 1);
		snprintf(p->fstype, sizeof(p->fstype), "ext4");
		p->total_bytes = i ? 500ull << 20 : 100ull << 30;
		p->used_bytes = i ? 120ull << 20 : (uint64_t)s->rootused;
		p->free_bytes = p->total_bytes - p->used_bytes;
		p->usage_percent = 100.0 * (double)p->used_bytes / (double)p->total_bytes;
	}

	snap->perf.available = true;
	snap->perf.source = PW_PERF_SOURCE_BPF;
	for (int i = 0; i < PW_PERF_NUM_EVENTS; i++) {
		static const double scale[PW_PERF_NUM_EVENTS] = {
			4000, 6000, 200, 1000, 1e9, 1.2e9, 2e8, 4e6, 4e8, 2e7, 3e7, 3e6, 5e8, 4e8, 1e6, 1e7, 2e5,
		};
		struct pw_perf_event *e = &snap->perf.events[i];

		e->counted = true;
		e->value = fabs(scale[i] * dt * (0.3 + day) * (1 + 0.3 * synth_gauss(s)));
		if (i != 0)
			e->value = round(e->value);
		e->running_ratio = 1.0;
	}
	snap->self.cycle_cpu_ns = (uint64_t)fabs(300000 + synth_gauss(s) * 50000);
	snap->self.rss_bytes = 6ull << 20;
}

#endif
