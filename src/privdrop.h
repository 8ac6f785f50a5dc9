/* SPDX-License-Identifier: MIT */
#ifndef PW_PRIVDROP_H
#define PW_PRIVDROP_H

#include <stddef.h>
#include <sys/capability.h>

/*
 * Switches the whole process (every thread) to user `name` and its primary group, keeps
 * only the capabilities in keep[0..n_keep) (permitted, effective, inheritable and ambient,
 * so an exec'd `perf` keeps them too), drops every other one from the bounding set, and
 * sets no_new_privs. 0 or a negative errno with the reason in err.
 */
int pw_drop_privileges(const char *name, const cap_value_t *keep, size_t n_keep, char *err, size_t errlen);

/* Describes the capabilities this process holds ("cap_bpf,cap_perfmon" or "none"). */
void pw_describe_caps(char *out, size_t outlen);

#endif
