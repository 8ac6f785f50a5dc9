/* SPDX-License-Identifier: MIT */
/*
 * The history output: opens the database when the daemon starts, stores each snapshot,
 * and says in the snapshot's errors (and so /healthz) when it cannot. The daemon layer:
 * this is where history logs.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "history/history.h"
#include "history/journal.h"
#include "log.h"
#include "output/output.h"

struct history_output {
	struct pw_history *h;
	struct pw_daemon *d;
	bool was_broken;
	uint64_t dropped_seen;
};

/*
 * With --user the daemon gives up root after the outputs start: hand the database (and
 * the default folder, which is ours) to that user so writing and reopening keep working.
 */
static void hand_over(const char *user, const char *db, bool own_dir)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", PWH_JOURNAL_SUFFIX };
	struct passwd *pw = getpwnam(user);
	char path[PATH_MAX + 8];

	if (!pw || geteuid() != 0)
		return;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
		if (chown(path, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
			pw_warn("history: cannot hand %s to %s: %s", path, user, strerror(errno));
	}
	if (own_dir) {
		char *slash;

		snprintf(path, sizeof(path), "%s", db);
		slash = strrchr(path, '/');
		if (slash && slash != path) {
			*slash = '\0';
			if (chown(path, pw->pw_uid, pw->pw_gid) < 0)
				pw_warn("history: cannot hand %s to %s: %s", path, user, strerror(errno));
		}
	}
}

static int history_start(void **ret_ctx, struct pw_daemon *d, char *err, size_t errlen)
{
	const struct pw_options *o = d->opts;
	struct history_output *ho;
	char path[PATH_MAX];
	const char *why;
	int rc;

	if (o->no_db) {
		pw_info("history: off (--no-db)");
		*ret_ctx = NULL;
		return 0;
	}
	if (o->db_path) {
		if (snprintf(path, sizeof(path), "%s", o->db_path) >= (int)sizeof(path)) {
			snprintf(err, errlen, "--db: path too long");
			return -ENAMETOOLONG;
		}
	} else {
		rc = pw_history_default_path(path, sizeof(path), err, errlen);
		if (rc < 0)
			return rc;
	}
	ho = calloc(1, sizeof(*ho));
	if (!ho) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = pw_history_open(&ho->h, path, o->retention, err, errlen);
	if (rc < 0) {
		free(ho);
		return rc;
	}
	if (o->user)
		hand_over(o->user, path, !o->db_path);
	why = pw_history_status(ho->h);
	if (why) {
		pw_warn("history: %s", why);
		ho->was_broken = true;
	} else {
		pw_info("history: %s", path);
	}
	ho->d = d;
	d->history = ho->h;
	*ret_ctx = ho;
	return 0;
}

static void history_publish(void *ctx, const struct snapshot *s, const struct pw_buf *json)
{
	struct history_output *ho = ctx;
	struct pw_history_stats st;
	const char *why;

	(void)json;
	if (!ho)
		return;
	pw_history_insert(ho->h, s);
	why = pw_history_status(ho->h);
	if (why && !ho->was_broken)
		pw_warn("history: %s", why);
	pw_history_stats(ho->h, &st);
	if (!why && ho->was_broken) {
		if (st.dropped > ho->dropped_seen)
			pw_warn("history: writing again; %" PRIu64 " snapshots were lost while it could not",
				st.dropped - ho->dropped_seen);
		else
			pw_info("history: writing again, nothing lost");
	}
	if (!why)
		ho->dropped_seen = st.dropped;
	ho->was_broken = why != NULL;
}

static const char *history_status(void *ctx)
{
	struct history_output *ho = ctx;

	return ho ? pw_history_status(ho->h) : NULL;
}

static void history_stop(void *ctx)
{
	struct history_output *ho = ctx;
	struct pw_history_stats st;

	if (!ho)
		return;
	pw_history_stats(ho->h, &st);
	if (st.held)
		pw_warn("history: stopping with %u snapshots that could not be written", st.held);
	ho->d->history = NULL;
	pw_history_close(ho->h);
	free(ho);
}

const struct output pw_history_output = {
	.name = "history",
	.start = history_start,
	.publish = history_publish,
	.status = history_status,
	.stop = history_stop,
};
