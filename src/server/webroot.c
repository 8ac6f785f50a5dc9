/* SPDX-License-Identifier: MIT */
/*
 * Static files come from the web root through an lws_http_mount, and every file the
 * mount opens goes through webroot_open(): openat2() below the web root's directory fd
 * with RESOLVE_BENEATH, so neither "..", an absolute path nor a symlink can lead out of
 * it (a symlink to elsewhere inside the root still works). Only regular files and
 * directories (for index.html) are opened; a FIFO or device never is.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/server.h"

/*
 * lws' file-ops hook gets no user pointer, so the one web root of the process is kept
 * here: written once in pw_webroot_install() before the service thread starts, cleared
 * after it ended.
 */
static struct {
	int fd;
	const char *origin;
	size_t origin_len;
} webroot = { .fd = -1 };

static int try_root(struct pw_server *srv, const char *dir)
{
	char real[PATH_MAX];
	struct stat st;
	int fd;

	if (!realpath(dir, real))
		return -errno;
	fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	snprintf(srv->web_root, sizeof(srv->web_root), "%s", real);
	srv->web_root_fd = fd;
	return 0;
}

int pw_webroot_open(struct pw_server *srv, const char *dir, char *err, size_t errlen)
{
	static const char *const rel[] = { "../web", "../../web", "../share/perfwatch/web" };
	char exe[PATH_MAX], cand[PATH_MAX + 32];
	ssize_t n;
	int r;

	srv->web_root_fd = -1;
	srv->web_root[0] = '\0';
	if (dir) {
		r = try_root(srv, dir);
		if (r < 0)
			snprintf(err, errlen, "--web-root %s: %s", dir, strerror(-r));
		return r;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		struct stat st;

		snprintf(cand, sizeof(cand), "%s/%s/index.html", exe, rel[i]);
		if (stat(cand, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(cand, sizeof(cand), "%s/%s", exe, rel[i]);
		if (try_root(srv, cand) == 0)
			return 0;
	}
	return 0; /* no dashboard found: the API still works, the caller warns */
}

static lws_fop_fd_t webroot_open(const struct lws_plat_file_ops *fops, const char *filename, const char *vpath,
				 lws_fop_flags_t *flags)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel;
	lws_fop_fd_t f;
	struct stat st;
	int fd;

	(void)vpath;
	if (webroot.fd < 0 || strncmp(filename, webroot.origin, webroot.origin_len) ||
	    filename[webroot.origin_len] != '/') {
		errno = EACCES;
		return NULL;
	}
	rel = filename + webroot.origin_len;
	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	fd = (int)syscall(SYS_openat2, webroot.fd, rel, &how, sizeof(how));
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		goto fail_close;
	f = malloc(sizeof(*f)); /* freed by lws' platform close, which uses free() */
	if (!f)
		goto fail_close;
	memset(f, 0, sizeof(*f));
	f->fops = fops;
	f->flags = *flags;
	f->fd = fd;
	f->len = S_ISREG(st.st_mode) ? (lws_filepos_t)st.st_size : 0;
	return f;

fail_close:
	close(fd);
	errno = EACCES;
	return NULL;
}

void pw_webroot_install(struct pw_server *srv)
{
	struct lws_plat_file_ops *fops = lws_get_fops(srv->ctx);

	webroot.fd = srv->web_root_fd;
	webroot.origin = srv->web_root;
	webroot.origin_len = strlen(srv->web_root);
	/* replaces the platform open for every file lws serves; close/read/seek stay lws' own */
	fops->LWS_FOP_OPEN = webroot_open;
}

void pw_webroot_close(struct pw_server *srv)
{
	webroot.fd = -1;
	webroot.origin = NULL;
	webroot.origin_len = 0;
	if (srv->web_root_fd >= 0)
		close(srv->web_root_fd);
	srv->web_root_fd = -1;
}
