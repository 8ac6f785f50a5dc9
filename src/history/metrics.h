/* SPDX-License-Identifier: MIT */
/*
 * Metric paths: the names history stores and /api/history accepts, read straight from
 * struct snapshot (never from its JSON).
 *
 *   cpu.<field>                          cpu.usage_percent, cpu.interrupts_per_sec, ...
 *   cpu.per_core.<i>  cpu.frequency_mhz.<i>  cpu.temperature_celsius.<i>
 *   memory.<field>
 *   network.interfaces.<name>.<field>    network.connections.<field>
 *   disk.devices.<name>.<field>          disk.partitions.<mountpoint>.<field>
 *   perf.events.<event>.value
 *   self.cycle_cpu_ns  self.rss_bytes
 *
 * <name> and <mountpoint> are everything between the prefix and the LAST dot, so names
 * with dots or slashes need no escaping: `disk.partitions./.usage_percent`,
 * `disk.partitions./mnt/a.b.used_bytes`, `network.interfaces.eth0.100.bytes_recv_per_sec`.
 * Field names never contain a dot. The "bpf" section is not kept in history.
 */
#ifndef PW_HISTORY_METRICS_H
#define PW_HISTORY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/encode.h"
#include "snapshot.h"

#define PWH_PATH_MAX 640 /* longest path: a 511-byte mount point plus prefix and field */

/* Called once per stored value of a snapshot; null values are reported too (null=true). */
typedef void (*pwh_visit_fn)(void *ctx, const char *path, size_t path_len, enum pwh_kind kind, bool null,
			     uint64_t q);
void pwh_snapshot_visit(const struct snapshot *s, pwh_visit_fn fn, void *ctx);

/* 0 and the kind when path (len bytes) names a metric history can hold; else -EINVAL
 * with the reason in err. */
int pwh_metric_check(const char *path, size_t len, enum pwh_kind *ret_kind, char *err, size_t errlen);

#endif
