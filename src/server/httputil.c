/* SPDX-License-Identifier: MIT */
#include "server/httputil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int parse_port(const char *s, size_t len, uint16_t *ret)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int pw_listen_parse(const char *s, size_t len, struct pw_listen_addr *ret)
{
	struct pw_listen_addr la = { 0 };
	const char *host, *colon;
	size_t hlen;
	unsigned char a[16];

	if (!s || len == 0 || len > 128 || memchr(s, '\0', len))
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || (size_t)(close - s) + 1 >= len || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
		la.ipv6 = true;
	} else {
		colon = NULL;
		for (size_t i = len; i-- > 0;)
			if (s[i] == ':') {
				colon = s + i;
				break;
			}
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL; /* no port, or an IPv6 address without brackets */
		host = s;
		hlen = (size_t)(colon - s);
	}
	if (parse_port(colon + 1, len - (size_t)(colon + 1 - s), &la.port) < 0)
		return -EINVAL;
	if (hlen == 0 || hlen >= sizeof(la.host))
		return -EINVAL;

	if (!la.ipv6 && hlen == 9 && !strncasecmp(host, "localhost", 9))
		memcpy(la.host, "127.0.0.1", 10);
	else if (!la.ipv6 && hlen == 1 && host[0] == '*')
		memcpy(la.host, "0.0.0.0", 8);
	else {
		memcpy(la.host, host, hlen);
		la.host[hlen] = '\0';
	}
	if (la.ipv6) {
		if (inet_pton(AF_INET6, la.host, a) != 1)
			return -EINVAL;
		la.any = !memcmp(a, in6addr_any.s6_addr, 16);
		la.loopback = !memcmp(a, in6addr_loopback.s6_addr, 16);
		/* print it back canonically, so logs and Host checks see one spelling */
		inet_ntop(AF_INET6, a, la.host, sizeof(la.host));
	} else {
		if (inet_pton(AF_INET, la.host, a) != 1)
			return -EINVAL;
		la.any = !a[0] && !a[1] && !a[2] && !a[3];
		la.loopback = a[0] == 127;
	}
	*ret = la;
	return 0;
}

/* Splits "host[:port]" / "[v6][:port]" into its host part. */
static bool host_part(const char *h, size_t len, const char **ret, size_t *ret_len)
{
	if (len && h[0] == '[') {
		const char *close = memchr(h, ']', len);

		if (!close)
			return false;
		*ret = h + 1;
		*ret_len = (size_t)(close - h) - 1;
		return true;
	}
	for (size_t i = 0; i < len; i++)
		if (h[i] == ':') {
			len = i;
			break;
		}
	*ret = h;
	*ret_len = len;
	return true;
}

bool pw_host_allowed(const char *host, size_t len, const struct pw_listen_addr *la)
{
	char tmp[64];
	const char *hp;
	size_t hl;
	unsigned char a[16];

	if (len == 0)
		return true;
	if (!host_part(host, len, &hp, &hl) || hl == 0 || hl >= sizeof(tmp))
		return false;
	memcpy(tmp, hp, hl);
	tmp[hl] = '\0';
	if (!strcasecmp(tmp, "localhost"))
		return true;
	if (!strcasecmp(tmp, la->host))
		return true;
	if (inet_pton(AF_INET, tmp, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, tmp, a) == 1)
		return !memcmp(a, in6addr_loopback.s6_addr, 16);
	return false;
}

bool pw_origin_allowed(const char *origin, size_t olen, const char *host, size_t hlen, bool tls)
{
	const char *scheme = tls ? "https://" : "http://";
	size_t sl = strlen(scheme);

	if (!origin || !host || hlen == 0 || olen != sl + hlen)
		return false;
	return !strncasecmp(origin, scheme, sl) && !strncasecmp(origin + sl, host, hlen) &&
	       !memchr(host, '\0', hlen);
}

int pw_content_length_zero(const char *v, size_t len)
{
	bool nonzero = false;
	size_t i;

	while (len && is_space(v[len - 1]))
		len--;
	while (len && is_space(*v)) {
		v++;
		len--;
	}
	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		if (v[i] != '0')
			nonzero = true;
	}
	return nonzero ? -EFBIG : 0;
}

bool pw_token_equal(const char *given, size_t given_len, const char *secret, size_t secret_len)
{
	volatile unsigned char diff = given_len != secret_len;
	size_t i;

	for (i = 0; i < secret_len; i++) {
		/* an index into given that never runs past it, without a branch on secret data */
		unsigned char g = given_len ? (unsigned char)given[i % given_len] : 0;

		diff |= g ^ (unsigned char)secret[i];
	}
	return diff == 0;
}

int pw_bearer_token(const char *authz, size_t len, const char **ret_tok, size_t *ret_len)
{
	while (len && is_space(*authz)) {
		authz++;
		len--;
	}
	if (len < 7 || strncasecmp(authz, "Bearer", 6) || !is_space(authz[6]))
		return -ENOENT;
	authz += 7;
	len -= 7;
	while (len && is_space(*authz)) {
		authz++;
		len--;
	}
	while (len && is_space(authz[len - 1]))
		len--;
	if (len == 0)
		return -ENOENT;
	*ret_tok = authz;
	*ret_len = len;
	return 0;
}

int pw_cookie_value(const char *cookie, size_t len, const char *name, const char **ret_val,
		    size_t *ret_len)
{
	size_t nl = strlen(name), i = 0;

	while (i < len) {
		size_t start, end, eq;

		while (i < len && (is_space(cookie[i]) || cookie[i] == ';'))
			i++;
		start = i;
		while (i < len && cookie[i] != ';')
			i++;
		end = i;
		for (eq = start; eq < end && cookie[eq] != '='; eq++)
			;
		if (eq < end && eq - start == nl && !memcmp(cookie + start, name, nl)) {
			size_t vs = eq + 1, ve = end;

			while (ve > vs && is_space(cookie[ve - 1]))
				ve--;
			if (ve - vs >= 2 && cookie[vs] == '"' && cookie[ve - 1] == '"') {
				vs++;
				ve--;
			}
			*ret_val = cookie + vs;
			*ret_len = ve - vs;
			return 0;
		}
	}
	return -ENOENT;
}

int pw_token_parse(const char *buf, size_t len, char *ret, size_t retsz)
{
	size_t i;

	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || is_space(buf[len - 1])))
		len--;
	if (len < PW_TOKEN_MIN || len > PW_TOKEN_MAX || len >= retsz)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		/* what a URL query, a cookie and a header all carry without quoting trouble */
		if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\')
			return -EINVAL;
	}
	memcpy(ret, buf, len);
	ret[len] = '\0';
	return 0;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == ',' || c == ':';
}

static void encode_into(struct pw_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = { '%', 0, 0 };

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c)) {
			pw_buf_append(out, (const char *)&s[i], 1);
			continue;
		}
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		pw_buf_append(out, esc, 3);
	}
}

void pw_query_append(struct pw_buf *out, const char *arg, size_t len)
{
	const char *eq = memchr(arg, '=', len);
	size_t nl = eq ? (size_t)(eq - arg) : len;

	if (len == 0 || (nl == 5 && !memcmp(arg, "token", 5)))
		return;
	if (out->len)
		pw_buf_append(out, "&", 1);
	encode_into(out, arg, nl);
	if (eq) {
		pw_buf_append(out, "=", 1);
		encode_into(out, eq + 1, len - nl - 1);
	}
}

bool pw_file_path_ok(const char *path, size_t len)
{
	size_t i;

	if (len == 0 || path[0] != '/')
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
		if (c == '/' && i + 1 < len && path[i + 1] == '.')
			return false;
	}
	return true;
}
