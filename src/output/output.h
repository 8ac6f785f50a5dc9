/* SPDX-License-Identifier: MIT */
/*
 * An output reads each finished snapshot: stdout (--json), history, the server. It gets
 * the snapshot and its JSON (serialized once per snapshot, shared by every output) and
 * must not keep pointers into either after publish returns.
 */
#ifndef PW_OUTPUT_H
#define PW_OUTPUT_H

#include <stddef.h>

#include "snapshot.h"
#include "util/buf.h"

struct pw_daemon;

struct output {
	const char *name; /* the key in "errors" while status() reports a problem */
	int (*start)(void **ret_ctx, struct pw_daemon *d, char *err, size_t errlen);
	void (*publish)(void *ctx, const struct snapshot *s, const struct pw_buf *json);
	/* NULL while healthy, else why not (copied into the next snapshot's errors). */
	const char *(*status)(void *ctx);
	void (*stop)(void *ctx); /* accepts NULL */
	/*
	 * Work an output asks of the daemon thread between snapshots (the server: render
	 * /metrics for a scrape). wake_fd() is an fd the daemon thread polls while it waits
	 * (-1: none); when it is readable, wake() runs with the last published snapshot
	 * (NULL before the first), which stays intact until the next collection starts.
	 */
	int (*wake_fd)(void *ctx);
	void (*wake)(void *ctx, const struct snapshot *last);
};

#endif
