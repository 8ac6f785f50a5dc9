/* SPDX-License-Identifier: MIT */
/*
 * The server's small parsers and checks over request data: pure functions over
 * (buffer, length), no lws, no allocation except into a pw_buf, so the unit tests and
 * the fuzzer (tests/fuzz/fuzz_http_input.c) call them directly.
 */
#ifndef PW_SERVER_HTTPUTIL_H
#define PW_SERVER_HTTPUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define PW_TOKEN_MIN 16   /* a shorter auth token is refused at start */
#define PW_TOKEN_MAX 1024

/* --listen ADDR:PORT, parsed. */
struct pw_listen_addr {
	char host[64];  /* numeric address without brackets: "127.0.0.1", "::1", "0.0.0.0" */
	bool ipv6;
	bool any;       /* 0.0.0.0 or :: (every interface) */
	bool loopback;  /* 127.0.0.0/8 or ::1 */
	uint16_t port;
};

/*
 * "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", "localhost:9464" (= 127.0.0.1),
 * "*:9464" (= 0.0.0.0). Numeric addresses only (no DNS at start). 0 or -EINVAL.
 */
int pw_listen_parse(const char *s, size_t len, struct pw_listen_addr *ret);

/*
 * DNS-rebinding defence for a loopback listener without a token: the Host header's
 * host part must name this machine's loopback ("localhost", 127.x.y.z, [::1]) or the
 * listen address itself. The port is not compared, so an ssh -L tunnel on another
 * local port still works; a rebinding attacker's host name never passes. An absent
 * Host (len 0) passes: no browser sends a request without one.
 */
bool pw_host_allowed(const char *host, size_t len, const struct pw_listen_addr *la);

/*
 * Same-origin check of a WebSocket upgrade: Origin must be exactly
 * "http://<Host>" ("https://" with TLS), compared without case. "null" and an Origin
 * without a Host fail.
 */
bool pw_origin_allowed(const char *origin, size_t olen, const char *host, size_t hlen, bool tls);

/* A Content-Length value: 0 for "0", -EINVAL when not a plain number, -EFBIG when > 0. */
int pw_content_length_zero(const char *v, size_t len);

/* Constant-time comparison; the time depends only on secret_len. */
bool pw_token_equal(const char *given, size_t given_len, const char *secret, size_t secret_len);

/* "Bearer TOKEN" -> TOKEN (scheme without case, spaces trimmed). 0 or -ENOENT. */
int pw_bearer_token(const char *authz, size_t len, const char **ret_tok, size_t *ret_len);

/* The value of cookie `name` in a Cookie header ("a=1; b=2"). 0 or -ENOENT. */
int pw_cookie_value(const char *cookie, size_t len, const char *name, const char **ret_val,
		    size_t *ret_len);

/*
 * The token file's content -> the token: trailing whitespace and newlines trimmed;
 * -EINVAL if empty, shorter than PW_TOKEN_MIN, longer than PW_TOKEN_MAX or holding
 * whitespace or control characters inside.
 */
int pw_token_parse(const char *buf, size_t len, char *ret, size_t retsz);

/*
 * Appends one decoded query argument ("name=value", as libwebsockets hands them over:
 * split at '&', percent-decoded) to out, percent-encoded again and '&'-separated, so
 * the history API gets a well-formed raw query string. The "token" argument is left
 * out (it never reaches another module or a log).
 */
void pw_query_append(struct pw_buf *out, const char *arg, size_t len);

/*
 * A URL path (already percent-decoded and dot-segment-normalized by libwebsockets) that
 * may name a static file: absolute, no segment starting with '.', no backslash, no
 * control or non-ASCII-control bytes. The web root's own open (openat2 RESOLVE_BENEATH)
 * is the real barrier; this only refuses what no dashboard file is called.
 */
bool pw_file_path_ok(const char *path, size_t len);

#endif
