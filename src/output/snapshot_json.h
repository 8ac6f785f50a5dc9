/* SPDX-License-Identifier: MIT */
#ifndef PW_SNAPSHOT_JSON_H
#define PW_SNAPSHOT_JSON_H

#include "snapshot.h"
#include "util/buf.h"

/* Appends the snapshot as one JSON object (no newline), as the schema describes. */
void snapshot_to_json(const struct snapshot *s, struct pw_buf *out);

#endif
