/* SPDX-License-Identifier: MIT */
/* /proc/<pid>/fdinfo/<fd> text: "key:\tvalue" lines (for BPF maps: "memlock:\t4096"). */
#ifndef PW_FDINFO_H
#define PW_FDINFO_H

#include <stddef.h>
#include <stdint.h>

/* The unsigned decimal value of key; -ENOENT when absent, -EINVAL/-ERANGE when malformed. */
int pw_fdinfo_u64(const char *buf, size_t len, const char *key, uint64_t *ret);

#endif
