/* SPDX-License-Identifier: MIT */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int e, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

int pw_drop_privileges(const char *name, const cap_value_t *keep, size_t n_keep, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	cap_t caps;
	int e;

	e = getpwnam_r(name, &pw, pwbuf, sizeof(pwbuf), &res);
	if (e || !res) {
		snprintf(err, errlen, "no such user '%s'", name);
		return e ? -e : -ENOENT;
	}
	if (pw.pw_uid == 0) {
		snprintf(err, errlen, "--user %s is root: nothing would be dropped", name);
		return -EINVAL;
	}
	/* bounding set first: dropping from it needs CAP_SETPCAP, which goes away below */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool kept = false;

		for (size_t i = 0; i < n_keep; i++)
			kept |= keep[i] == c;
		if (!kept && CAP_IS_SUPPORTED(c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(err, errlen, errno, "cannot drop from the capability bounding set");
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, errno, "PR_SET_KEEPCAPS");
	/* glibc applies set*id to every thread of the process (the collector threads too) */
	if (setgroups(1, &pw.pw_gid) < 0)
		return fail(err, errlen, errno, "setgroups");
	if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0)
		return fail(err, errlen, errno, "setresgid");
	if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0)
		return fail(err, errlen, errno, "setresuid");

	caps = cap_init();
	if (!caps)
		return fail(err, errlen, ENOMEM, "cap_init");
	if (n_keep && (cap_set_flag(caps, CAP_PERMITTED, (int)n_keep, keep, CAP_SET) < 0 ||
		       cap_set_flag(caps, CAP_EFFECTIVE, (int)n_keep, keep, CAP_SET) < 0 ||
		       cap_set_flag(caps, CAP_INHERITABLE, (int)n_keep, keep, CAP_SET) < 0)) {
		e = errno;
		cap_free(caps);
		return fail(err, errlen, e, "cap_set_flag");
	}
	if (cap_set_proc(caps) < 0) {
		e = errno;
		cap_free(caps);
		return fail(err, errlen, e, "cap_set_proc");
	}
	cap_free(caps);
	if (cap_reset_ambient() < 0)
		return fail(err, errlen, errno, "cap_reset_ambient");
	for (size_t i = 0; i < n_keep; i++)
		if (cap_set_ambient(keep[i], CAP_SET) < 0)
			return fail(err, errlen, errno, "cap_set_ambient");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail(err, errlen, errno, "PR_SET_KEEPCAPS");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}

void pw_describe_caps(char *out, size_t outlen)
{
	cap_t caps = cap_get_proc();
	size_t used = 0;

	out[0] = '\0';
	if (!caps) {
		snprintf(out, outlen, "unknown");
		return;
	}
	for (cap_value_t c = 0; c <= CAP_LAST_CAP && used < outlen; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		char *name;

		if (cap_get_flag(caps, c, CAP_EFFECTIVE, &v) < 0 || v != CAP_SET)
			continue;
		name = cap_to_name(c);
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? "," : "", name ? name : "?");
		cap_free(name);
	}
	cap_free(caps);
	if (!out[0])
		snprintf(out, outlen, "none");
}
