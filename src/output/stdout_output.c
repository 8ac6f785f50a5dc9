/* SPDX-License-Identifier: MIT */
/* --json: each snapshot as one line on stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "output/outputs.h"

static int stdout_start(void **ret_ctx, struct pw_daemon *d, char *err, size_t errlen)
{
	(void)d;
	(void)err;
	(void)errlen;
	*ret_ctx = NULL;
	return 0;
}

static void stdout_publish(void *ctx, const struct snapshot *s, const struct pw_buf *json)
{
	(void)ctx;
	(void)s;
	fwrite(json->data, 1, json->len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

const struct output pw_stdout_output = {
	.name = "stdout",
	.start = stdout_start,
	.publish = stdout_publish,
};
