/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side: the checks every request passes (method, body, Host, token, path),
 * the API routes (/healthz, /api/snapshot, /api/history, /metrics) and the writing of
 * response bodies in chunks as the client takes them.
 *
 * Refusals are answered and the connection closed: a client that sent something we
 * refuse gets no second request on that connection.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "history/history.h"
#include "log.h"
#include "server/server.h"
#include "util/timeutil.h"

#define URI_MAX PW_SRV_HEADER_BYTES

static bool route_is_api(const char *uri)
{
	return !strcmp(uri, "/healthz") || !strcmp(uri, "/metrics") || !strcmp(uri, "/ws") ||
	       !strcmp(uri, "/api") || !strncmp(uri, "/api/", 5);
}

static void log_refusal(struct lws *wsi, unsigned status, const char *why)
{
	char peer[64] = "", uri[256] = "";

	if (pw_log_get_level() < PW_LOG_DEBUG)
		return;
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	/* a longer URI is left out rather than cut: it is in the counters either way */
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
		snprintf(uri, sizeof(uri), "(long)");
	/* pw_log escapes control characters: a request cannot forge a log line */
	pw_debug("server: %s %s: %u %s", peer, uri, status, why);
}

int pw_http_reply_close(struct lws *wsi, unsigned status, const char *msg, const char *extra_hdr)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	size_t ml = strlen(msg);
	char clen[24];
	int n;

	n = snprintf(clen, sizeof(clen), "%zu", ml + 1);
	if (lws_add_http_header_status(wsi, status, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)"text/plain; charset=utf-8", 25, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (const unsigned char *)clen, n,
					 &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end))
		return -1;
	if (extra_hdr) {
		const char *colon = strchr(extra_hdr, ':');

		if (colon) {
			char name[64];
			size_t nl = (size_t)(colon - extra_hdr) + 1;

			if (nl < sizeof(name)) {
				memcpy(name, extra_hdr, nl);
				name[nl] = '\0';
				if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
								(const unsigned char *)colon + 2,
								(int)strlen(colon + 2), &p, end))
					return -1;
			}
		}
	}
	if (lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < ml + 1)
		return -1;
	memcpy(p, msg, ml);
	p += ml;
	*p++ = '\n';
	lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP);
	return -1;
}

static int refuse(struct pw_server *srv, struct lws *wsi, unsigned status, enum pw_reject why, const char *msg,
		  const char *extra_hdr)
{
	srv->stats.requests_rejected[why]++;
	log_refusal(wsi, status, msg);
	return pw_http_reply_close(wsi, status, msg, extra_hdr);
}

/* true when the request carries the token as a bearer header, a ?token= or a cookie */
static bool token_ok(struct pw_server *srv, struct lws *wsi, bool *ret_via_query)
{
	char buf[URI_MAX + 1];
	const char *tok;
	size_t tl;
	int n, i;

	*ret_via_query = false;
	n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 0 && pw_bearer_token(buf, (size_t)n, &tok, &tl) == 0 &&
	    pw_token_equal(tok, tl, srv->token, srv->token_len))
		return true;
	for (i = 0; (n = lws_hdr_copy_fragment(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_URI_ARGS, i)) >= 0; i++)
		if (n >= 6 && !memcmp(buf, "token=", 6) &&
		    pw_token_equal(buf + 6, (size_t)n - 6, srv->token, srv->token_len)) {
			*ret_via_query = true;
			return true;
		}
	n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_COOKIE);
	if (n > 0 && pw_cookie_value(buf, (size_t)n, "pw_token", &tok, &tl) == 0 &&
	    pw_token_equal(tok, tl, srv->token, srv->token_len))
		return true;
	return false;
}

static bool version_ok(struct lws *wsi)
{
	char v[16];
	int n = lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP);

	return n == 8 && (!strcmp(v, "HTTP/1.1") || !strcmp(v, "HTTP/1.0"));
}

int pw_http_check_access(struct pw_server *srv, struct lws *wsi, enum pw_reject *ret_why)
{
	char buf[256];
	bool via_query;
	int n;

	/*
	 * lws ends the request line at a %0d/%0a it decoded, and reads what follows as
	 * headers: such a request has no "HTTP/1.x" left at its end. Refuse it whole.
	 */
	if (!version_ok(wsi)) {
		*ret_why = PW_REJECT_PATH;
		return HTTP_STATUS_BAD_REQUEST;
	}
	/* no route takes a body: refuse one before anything reads it */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)) {
		*ret_why = PW_REJECT_BODY;
		return HTTP_STATUS_BAD_REQUEST;
	}
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)) {
		n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_LENGTH);
		*ret_why = PW_REJECT_BODY;
		if (n <= 0)
			return HTTP_STATUS_BAD_REQUEST;
		n = pw_content_length_zero(buf, (size_t)n);
		if (n == -EFBIG)
			return HTTP_STATUS_REQ_ENTITY_TOO_LARGE;
		if (n < 0)
			return HTTP_STATUS_BAD_REQUEST;
	}
	if (!srv->auth) {
		n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HOST);
		if (n < 0 || !pw_host_allowed(buf, (size_t)n, &srv->la)) {
			*ret_why = PW_REJECT_HOST;
			return HTTP_STATUS_FORBIDDEN;
		}
	} else if (!token_ok(srv, wsi, &via_query)) {
		*ret_why = PW_REJECT_AUTH;
		return HTTP_STATUS_UNAUTHORIZED;
	}
	return 0;
}

static const char *status_text(unsigned status)
{
	switch (status) {
	case HTTP_STATUS_BAD_REQUEST:
		return "bad request";
	case HTTP_STATUS_UNAUTHORIZED:
		return "a valid token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)";
	case HTTP_STATUS_FORBIDDEN:
		return "forbidden";
	case HTTP_STATUS_REQ_ENTITY_TOO_LARGE:
		return "request bodies are not accepted";
	default:
		return "refused";
	}
}

int pw_http_filter(struct pw_server *srv, struct lws *wsi)
{
	char uri[URI_MAX + 1];
	enum pw_reject why;
	char *uri_ptr;
	int meth, n, uri_len;

	meth = lws_http_get_uri_and_method(wsi, &uri_ptr, &uri_len);
	if (meth != LWSHUMETH_GET)
		return refuse(srv, wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, PW_REJECT_METHOD, "only GET is served",
			      "allow: GET");
	n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
	if (n <= 0)
		return refuse(srv, wsi, HTTP_STATUS_BAD_REQUEST, PW_REJECT_PATH, "bad request", NULL);
	for (int i = 0; i < n; i++)
		if ((unsigned char)uri[i] < 0x20 || uri[i] == 0x7f)
			return refuse(srv, wsi, HTTP_STATUS_BAD_REQUEST, PW_REJECT_PATH, "bad request", NULL);
	n = pw_http_check_access(srv, wsi, &why);
	if (n)
		return refuse(srv, wsi, (unsigned)n, why, status_text((unsigned)n),
			      n == HTTP_STATUS_UNAUTHORIZED ? "www-authenticate: Bearer realm=\"perfwatch\"" : NULL);
	if (route_is_api(uri))
		return 0;
	if (!pw_file_path_ok(uri, strlen(uri)))
		return refuse(srv, wsi, HTTP_STATUS_NOT_FOUND, PW_REJECT_PATH, "not found", NULL);
	/* lws builds "<root>/<path>/index.html" in 256 bytes: a longer one is refused, not cut */
	if (strlen(srv->web_root) + strlen(uri) + sizeof("/index.html") > 250)
		return refuse(srv, wsi, HTTP_STATUS_REQ_URI_TOO_LONG, PW_REJECT_PATH, "URI too long", NULL);
	return 0;
}

static void unpark(struct pw_server *srv, struct pss *pss)
{
	for (uint32_t i = 0; i < srv->n_metrics_waiters; i++) {
		if (srv->metrics_waiters[i] == pss) {
			srv->metrics_waiters[i] = srv->metrics_waiters[--srv->n_metrics_waiters];
			break;
		}
	}
	pss->awaiting_metrics = false;
}

void pw_http_release(struct pw_server *srv, struct pss *pss)
{
	if (pss->awaiting_metrics)
		unpark(srv, pss);
	pss->metrics_due = false;
	pw_body_unref(pss->body);
	pss->body = NULL;
	pss->off = 0;
	if (pss->scrape_slot) {
		pss->scrape_slot = false;
		if (srv->n_scrapes)
			srv->n_scrapes--;
	}
}

/* Sends the headers now and the body from the writable callback. Takes the reference. */
static int respond(struct pw_server *srv, struct lws *wsi, struct pss *pss, unsigned status, const char *ctype,
		   struct pw_body *body)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;

	if (!body)
		return -1; /* out of memory: drop the connection rather than lie */
	pss->body = body;
	pss->off = 0;
	if (lws_add_http_common_headers(wsi, status, ctype, body->len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8,
					 &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (body->len == 0) {
		pw_http_release(srv, pss);
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, PW_SRV_SEND_STALL_SECS);
	lws_callback_on_writable(wsi);
	return 0;
}

static struct pw_body *text_body(const char *s)
{
	return pw_body_from(s, strlen(s));
}

static int respond_buf(struct pw_server *srv, struct lws *wsi, struct pss *pss, unsigned status, const char *ctype,
		       struct pw_buf *b)
{
	if (b->oom)
		return -1;
	return respond(srv, wsi, pss, status, ctype, pw_body_from(b->data ? b->data : "", b->len));
}

#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_PROM "text/plain; version=0.0.4; charset=utf-8"

static int serve_history(struct pw_server *srv, struct lws *wsi, struct pss *pss)
{
	struct pw_buf q = { 0 }, out = { 0 };
	char frag[URI_MAX + 1];
	int n, i, status, r;

	for (i = 0; (n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i)) >= 0; i++)
		pw_query_append(&q, frag, (size_t)n);
	if (q.oom) {
		pw_buf_free(&q);
		return -1;
	}
	status = pw_history_query(srv->d->history, q.len ? q.data : NULL, &out);
	if (status < 100 || status > 599)
		status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
	r = respond_buf(srv, wsi, pss, (unsigned)status, CT_JSON, &out);
	pw_buf_free(&q);
	pw_buf_free(&out);
	return r;
}

/* The last snapshot's /metrics plus the server's own series; the scrape holds a slot. */
static int send_metrics(struct pw_server *srv, struct lws *wsi, struct pss *pss)
{
	struct pw_buf out = { 0 };
	int r;

	if (srv->metrics)
		pw_buf_append(&out, (const char *)pw_body_data(srv->metrics), srv->metrics->len);
	srv->stats.thread_cpu_ns = pw_clock_ns(CLOCK_THREAD_CPUTIME_ID); /* this is the server thread */
	pw_metrics_render_server(&srv->stats, &out);
	r = respond_buf(srv, wsi, pss, HTTP_STATUS_OK, CT_PROM, &out);
	pw_buf_free(&out);
	return r;
}

/*
 * /metrics is rendered when scraped, once per snapshot, not for every snapshot: a
 * scraper that comes every 15 s costs a render every 15 s, none costs nothing. A scrape
 * of a snapshot not rendered yet parks until the daemon thread renders it (well under a
 * millisecond between snapshots; at most one collection's time during one).
 */
static int serve_metrics(struct pw_server *srv, struct lws *wsi, struct pss *pss)
{
	if (srv->n_scrapes >= PW_SRV_MAX_SCRAPES) {
		srv->stats.scrapes_rejected++;
		return respond(srv, wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, CT_TEXT,
			       text_body("too many concurrent scrapes\n"));
	}
	srv->n_scrapes++;
	pss->scrape_slot = true;
	if (!srv->json || (srv->metrics && srv->metrics_seq == srv->health.seq))
		return send_metrics(srv, wsi, pss); /* no snapshot yet: the server's own series only */
	pss->awaiting_metrics = true;
	srv->metrics_waiters[srv->n_metrics_waiters++] = pss; /* n_scrapes bounds it */
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, PW_SRV_SEND_STALL_SECS);
	pw_server_request_render(srv);
	return 0;
}

void pw_http_metrics_ready(struct pw_server *srv)
{
	while (srv->n_metrics_waiters) {
		struct pss *pss = srv->metrics_waiters[--srv->n_metrics_waiters];

		pss->awaiting_metrics = false;
		pss->metrics_due = true;
		lws_callback_on_writable(pss->wsi);
	}
}

int pw_http_request(struct pw_server *srv, struct lws *wsi, struct pss *pss)
{
	char uri[URI_MAX + 1];
	struct pw_buf out = { 0 };
	int r;

	if (!pss)
		return -1;
	pw_http_release(srv, pss);
	pss->kind = PSS_HTTP;
	pss->wsi = wsi;
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
		return -1;

	if (!strcmp(uri, "/healthz")) {
		pw_health_json(srv, &out);
		r = respond_buf(srv, wsi, pss, HTTP_STATUS_OK, CT_JSON, &out);
		pw_buf_free(&out);
		return r;
	}
	if (!strcmp(uri, "/api/snapshot")) {
		if (!srv->json)
			return respond(srv, wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, CT_JSON,
				       text_body("{\"error\":\"no snapshot yet\"}"));
		return respond(srv, wsi, pss, HTTP_STATUS_OK, CT_JSON, pw_body_ref(srv->json));
	}
	if (!strcmp(uri, "/api/history"))
		return serve_history(srv, wsi, pss);
	if (!strcmp(uri, "/metrics"))
		return serve_metrics(srv, wsi, pss);
	if (!strcmp(uri, "/ws"))
		return respond(srv, wsi, pss, 426, CT_TEXT, text_body("/ws is a WebSocket: send an Upgrade\n"));
	if (!strcmp(uri, "/api") || !strncmp(uri, "/api/", 5))
		return respond(srv, wsi, pss, HTTP_STATUS_NOT_FOUND, CT_JSON, text_body("{\"error\":\"no such API\"}"));
	/* the static mount found no file */
	return respond(srv, wsi, pss, HTTP_STATUS_NOT_FOUND, CT_TEXT, text_body("not found\n"));
}

int pw_http_writeable(struct pw_server *srv, struct lws *wsi, struct pss *pss)
{
	size_t chunk;
	bool final;

	if (pss && pss->kind == PSS_HTTP && pss->metrics_due) {
		pss->metrics_due = false;
		return send_metrics(srv, wsi, pss);
	}
	if (!pss || pss->kind != PSS_HTTP || !pss->body)
		return 0;
	if (pss->off == pss->body->len) {
		/* lws has flushed the tail it was holding: the slot is free now */
		pw_http_release(srv, pss);
		return 0;
	}
	chunk = pss->body->len - pss->off;
	if (chunk > PW_SRV_CHUNK)
		chunk = PW_SRV_CHUNK;
	final = pss->off + chunk == pss->body->len;
	/* a copy into our own buffer: lws may use the LWS_PRE bytes before what it writes */
	memcpy(srv->scratch + LWS_PRE, pw_body_data(pss->body) + pss->off, chunk);
	if (lws_write(wsi, srv->scratch + LWS_PRE, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)chunk)
		return -1;
	pss->off += chunk;
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, PW_SRV_SEND_STALL_SECS);
	if (!final) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	/*
	 * A client that does not read leaves the end of the response in lws' buffer: the
	 * request keeps its /metrics slot (and the stall timeout) until that is flushed, so
	 * slow scrapers cannot pile up unbounded.
	 */
	if (!lws_partial_buffered(wsi)) {
		pw_http_release(srv, pss);
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	}
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int pw_http_add_headers(struct pw_server *srv, struct lws *wsi, struct lws_process_html_args *args)
{
	unsigned char *p = (unsigned char *)args->p, *end = p + args->max_len;
	char cookie[PW_TOKEN_MAX + 96];
	bool via_query;
	int n;

	/* a browser that opened /?token=... keeps the token as a cookie for the page's files,
	 * its API calls and its WebSocket */
	if (!srv->auth || !token_ok(srv, wsi, &via_query) || !via_query)
		return 0;
	n = snprintf(cookie, sizeof(cookie), "pw_token=%s; Path=/; HttpOnly; SameSite=Strict%s", srv->token,
		     srv->tls ? "; Secure" : "");
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:", (const unsigned char *)cookie, n,
					&p, end))
		return -1;
	args->p = (char *)p;
	return 0;
}

int pw_http_confirm_upgrade(struct pw_server *srv, struct lws *wsi)
{
	char up[32], uri[8];

	/*
	 * `in` is never read here (CVE-2025-11677: after a refused Upgrade it can point into
	 * freed headers). The headers are read through the wsi instead: if they are gone, so
	 * is this request.
	 */
	if (lws_hdr_copy(wsi, up, sizeof(up), WSI_TOKEN_UPGRADE) <= 0)
		return -1;
	if (strcasecmp(up, "websocket"))
		return refuse(srv, wsi, HTTP_STATUS_BAD_REQUEST, PW_REJECT_UPGRADE,
			      "only a WebSocket upgrade on /ws is served", NULL);
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws"))
		return refuse(srv, wsi, HTTP_STATUS_NOT_FOUND, PW_REJECT_UPGRADE, "the WebSocket is on /ws", NULL);
	return 0;
}
