/* SPDX-License-Identifier: MIT */
/*
 * A name -> position index over an array the caller owns (interfaces, block devices,
 * mount points): open addressing, kept between cycles, so that finding the previous
 * sample of a name and spotting a name seen twice cost O(1), not a scan, on a host with
 * thousands of veth interfaces or mounts. The keys are not copied: entry i's key is the
 * NUL-terminated string at base + i * stride + key_off, and the caller passes base on
 * every call (its array may have moved).
 */
#ifndef PW_STRINDEX_H
#define PW_STRINDEX_H

#include <stddef.h>
#include <stdint.h>

#define PW_STRINDEX_NONE UINT32_MAX

struct pw_strindex {
	uint32_t *slots; /* entry index + 1; 0 is empty */
	uint32_t cap;    /* a power of two */
	uint32_t n;      /* keys added since the last reset */
};

struct pw_strkeys {
	const void *base;
	size_t stride, key_off;
};

/* Empties the index, with room for `n` keys at half load. 0 or -ENOMEM. */
int pw_strindex_reset(struct pw_strindex *ix, uint32_t n);
/* The position of key, or PW_STRINDEX_NONE. */
uint32_t pw_strindex_find(const struct pw_strindex *ix, struct pw_strkeys keys, const char *key);
/* Records that entry i holds key, which is not in the index yet; -ENOSPC past the reset's n. */
int pw_strindex_add(struct pw_strindex *ix, struct pw_strkeys keys, const char *key, uint32_t i);
void pw_strindex_free(struct pw_strindex *ix); /* accepts a zeroed one */

static inline void pw_strindex_swap(struct pw_strindex *a, struct pw_strindex *b)
{
	struct pw_strindex t = *a;

	*a = *b;
	*b = t;
}

#endif
