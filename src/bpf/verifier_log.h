/* SPDX-License-Identifier: MIT */
/*
 * What libbpf says when loading an object fails: which program the kernel refused and the
 * verifier's last word on it. libbpf prints "prog 'NAME': failed to load: -13" after the
 * program's verifier log ("-- BEGIN PROG LOAD LOG --" ... "-- END PROG LOAD LOG --").
 */
#ifndef PW_VERIFIER_LOG_H
#define PW_VERIFIER_LOG_H

#include <stddef.h>

/*
 * Fills name (the refused program) and why (the last line of its verifier log that says
 * something, or "" when there is no log). 0, -ENOENT when no program failed to load in
 * the text, -EINVAL when the name is not one, -E2BIG when it does not fit.
 */
int pw_verifier_verdict(const char *log, size_t len, char *name, size_t name_len, char *why, size_t why_len);

#endif
