/* SPDX-License-Identifier: MIT */
/* Reference-counted response bodies with lws' LWS_PRE headroom in front. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

struct pw_body *pw_body_new(size_t len)
{
	struct pw_body *b;

	if (len > SIZE_MAX - sizeof(*b) - LWS_PRE - 1)
		return NULL;
	b = malloc(sizeof(*b) + LWS_PRE + len + 1);
	if (!b)
		return NULL;
	b->refs = 1;
	b->len = len;
	memset(b->buf, 0, LWS_PRE);
	b->buf[LWS_PRE + len] = '\0';
	return b;
}

struct pw_body *pw_body_from(const char *data, size_t len)
{
	struct pw_body *b = pw_body_new(len);

	if (b && len)
		memcpy(pw_body_data(b), data, len);
	return b;
}

struct pw_body *pw_body_ref(struct pw_body *b)
{
	if (b)
		b->refs++;
	return b;
}

void pw_body_unref(struct pw_body *b)
{
	if (b && --b->refs == 0)
		free(b);
}
