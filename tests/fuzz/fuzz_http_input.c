/* SPDX-License-Identifier: MIT */
/*
 * Everything the server parses out of a request, and what it writes back from it:
 * listen address, Host, Origin, Content-Length, bearer token, cookie, query re-encoding,
 * static path check, Prometheus label escaping. The input is split at 0xff bytes into
 * the pieces; each function must neither crash nor break its output's invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/httputil.h"
#include "server/metrics.h"

static void check_query(const struct pw_buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		/* only unreserved characters, escapes and the separators we put there */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-._~,:%&=", c)))
			abort();
	}
}

static void check_label(const struct pw_buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n')
			abort();
		if (b->data[i] == '\\') {
			i++;
			if (i >= b->len || !strchr("\\\"n", b->data[i]))
				abort();
		} else if (b->data[i] == '"') {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *piece[4] = { "", "", "", "" };
	size_t len[4] = { 0 }, n = 0, start = 0;
	struct pw_listen_addr la;
	struct pw_buf b = { 0 };
	char tok[PW_TOKEN_MAX + 1];
	const char *v;
	size_t vl;

	for (size_t i = 0; i <= size && n < 4; i++)
		if (i == size || data[i] == 0xff) {
			piece[n] = (const char *)data + start;
			len[n++] = i - start;
			start = i + 1;
		}

	if (pw_listen_parse(piece[0], len[0], &la) < 0)
		pw_listen_parse("127.0.0.1:9464", 14, &la);
	(void)pw_host_allowed(piece[1], len[1], &la);
	(void)pw_origin_allowed(piece[1], len[1], piece[2], len[2], len[3] & 1);
	(void)pw_content_length_zero(piece[0], len[0]);
	if (pw_bearer_token(piece[1], len[1], &v, &vl) == 0 && (v < piece[1] || v + vl > piece[1] + len[1]))
		abort();
	if (pw_cookie_value(piece[2], len[2], "pw_token", &v, &vl) == 0 &&
	    (v < piece[2] || v + vl > piece[2] + len[2]))
		abort();
	(void)pw_token_equal(piece[0], len[0], piece[1], len[1]);
	if (pw_token_parse(piece[3], len[3], tok, sizeof(tok)) == 0 && strlen(tok) < PW_TOKEN_MIN)
		abort();
	(void)pw_file_path_ok(piece[2], len[2]);

	for (size_t i = 0; i < 4; i++)
		pw_query_append(&b, piece[i], len[i]);
	check_query(&b);
	pw_buf_clear(&b);
	pw_prom_label_value(&b, (const char *)data, size);
	check_label(&b);
	pw_buf_free(&b);
	return 0;
}
