/* SPDX-License-Identifier: MIT */
#include "history/history.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history/store.h"

/*
 * A folder that is not there is a typo in --db, not something to wait out: say so now.
 * One that exists but cannot be written (read-only, full) is retried later.
 */
static int check_folder(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat sb;

	if (!slash)
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!dir[0])
		return 0;
	if (stat(dir, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR)) {
		snprintf(err, errlen, "cannot keep history in %s: folder %s does not exist", path, dir);
		return -ENOENT;
	}
	if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "cannot keep history in %s: %s is not a folder", path, dir);
		return -ENOTDIR;
	}
	return 0;
}

int pw_history_open(struct pw_history **ret, const char *path, const char *retention, char *err, size_t errlen)
{
	struct pw_history *h;
	int rc;

	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = pwh_retention_parse(retention, &h->retention, err, errlen);
	if (rc < 0)
		goto out_free;
	h->path = strdup(path);
	if (!h->path) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out_free;
	}
	rc = check_folder(path, err, errlen);
	if (rc < 0)
		goto out_free_path;
	if (pwh_journal_init(&h->jr, path) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out_free_path;
	}
	pthread_mutex_init(&h->rd_lock, NULL);
	rc = pwh_store_open(h, err, errlen);
	if (rc < 0) {
		pw_history_close(h);
		return rc;
	}
	*ret = h;
	return 0;
out_free_path:
	free(h->path);
out_free:
	free(h);
	return rc;
}

void pw_history_close(struct pw_history *h)
{
	if (!h)
		return;
	pwh_store_close(h);
	pthread_mutex_lock(&h->rd_lock);
	sqlite3_close_v2(h->rd);
	h->rd = NULL;
	pthread_mutex_unlock(&h->rd_lock);
	pthread_mutex_destroy(&h->rd_lock);
	pwh_journal_fini(&h->jr);
	free(h->path);
	free(h);
}

void pw_history_insert(struct pw_history *h, const struct snapshot *s)
{
	if (h)
		pwh_store_insert(h, s);
}

const char *pw_history_status(struct pw_history *h)
{
	return h && h->broken ? h->status : NULL;
}

void pw_history_stats(struct pw_history *h, struct pw_history_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!h)
		return;
	ret->inserts = h->inserts;
	ret->seals = h->seals;
	ret->dropped = h->total_dropped;
	ret->held = h->ring_n;
}

int pw_history_flush(struct pw_history *h)
{
	return h ? pwh_store_seal(h) : -EINVAL;
}

/* mkdir -p for the default location only: an explicit --db's folder must exist. */
static int make_dirs(char *path, mode_t mode)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			int e = errno;

			*p = '/';
			return -e;
		}
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int pw_history_default_path(char *buf, size_t len, char *err, size_t errlen)
{
	char dir[4096];
	const char *base;
	mode_t mode;
	int n, rc;

	if (geteuid() == 0) {
		snprintf(dir, sizeof(dir), "/var/lib/perfwatch");
		mode = 0750;
	} else {
		base = getenv("XDG_STATE_HOME");
		if (base && base[0] == '/') {
			n = snprintf(dir, sizeof(dir), "%s/perfwatch", base);
		} else {
			base = getenv("HOME");
			if (!base || base[0] != '/') {
				snprintf(err, errlen, "no HOME or XDG_STATE_HOME to keep history in: pass --db PATH or --no-db");
				return -ENOENT;
			}
			n = snprintf(dir, sizeof(dir), "%s/.local/state/perfwatch", base);
		}
		if (n < 0 || (size_t)n >= sizeof(dir)) {
			snprintf(err, errlen, "the state folder's path is too long: pass --db PATH");
			return -ENAMETOOLONG;
		}
		mode = 0700;
	}
	rc = make_dirs(dir, mode);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create %s: %s (pass --db PATH or --no-db)", dir, strerror(-rc));
		return rc;
	}
	n = snprintf(buf, len, "%s/history.db", dir);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "the database path is too long: pass --db PATH");
		return -ENAMETOOLONG;
	}
	return 0;
}
