/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collect/collector.h"

int pw_env_open(struct pw_env *env, const struct pw_options *opts, char *err, size_t errlen)
{
	const char *proc = opts && opts->proc_root ? opts->proc_root : "/proc";
	const char *sys = opts && opts->sys_root ? opts->sys_root : "/sys";
	int e;

	env->opts = opts;
	env->sys_fd = -1;
	env->proc_fd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (env->proc_fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open the proc root %s: %s", proc, strerror(-e));
		return e;
	}
	env->sys_fd = open(sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (env->sys_fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open the sys root %s: %s", sys, strerror(-e));
		close(env->proc_fd);
		env->proc_fd = -1;
		return e;
	}
	return 0;
}

void pw_env_close(struct pw_env *env)
{
	if (env->proc_fd >= 0)
		close(env->proc_fd);
	if (env->sys_fd >= 0)
		close(env->sys_fd);
	env->proc_fd = env->sys_fd = -1;
}
