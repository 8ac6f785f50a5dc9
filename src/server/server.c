/* SPDX-License-Identifier: MIT */
/*
 * The server output: start() sets up the libwebsockets context (one vhost, one
 * protocol for HTTP and WebSocket, mounts for the web root and the API) and its service
 * thread; publish() hands each snapshot over; stop() ends the thread and the context.
 * See server.h for the threading rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "output/outputs.h"
#include "server/server.h"
#include "util/readfile.h"
#include "util/timeutil.h"

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

/* ---------------------------------------------------------------- service thread */

/* The service thread takes what publish() or wake() handed over: a broadcast, parked scrapes answered. */
static void take_handover(struct pw_server *srv)
{
	struct pw_body *json, *metrics;
	uint64_t metrics_seq;

	pthread_mutex_lock(&srv->lock);
	if (!srv->pending) {
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	json = srv->pending_json;
	metrics = srv->pending_metrics;
	metrics_seq = srv->pending_metrics_seq;
	srv->pending_json = srv->pending_metrics = NULL;
	if (json)
		srv->health = srv->pending_health;
	srv->pending = false;
	pthread_mutex_unlock(&srv->lock);

	if (metrics) {
		srv->stats.metrics_renders++;
		pw_body_unref(srv->metrics);
		srv->metrics = metrics;
		srv->metrics_seq = metrics_seq;
	}
	if (json) {
		pw_body_unref(srv->json);
		srv->json = json;
		srv->gen++;
		pw_ws_broadcast(srv);
	}
	if (metrics)
		pw_http_metrics_ready(srv);
}

void pw_server_request_render(struct pw_server *srv)
{
	uint64_t one = 1;

	if (!atomic_exchange(&srv->render_asked, true) && write(srv->render_fd, &one, sizeof(one)) < 0)
		atomic_store(&srv->render_asked, false); /* cannot fail on an eventfd; never stay stuck */
}

static void set_socket_options(int fd)
{
	unsigned int ms = PW_SRV_TCP_USER_TIMEOUT_MS;

	/* data the peer has not acknowledged for this long means the peer is gone */
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct pw_server *srv = lws_context_user(lws_get_context(wsi));
	struct pss *pss = user;

	switch (reason) {
	/* connections: counted here, since lws' own peer limits are compiled out */
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		if (srv->stats.connections >= srv->opts->max_clients) {
			srv->stats.connections_rejected++;
			return 1; /* lws closes the accepted socket */
		}
		set_socket_options((int)(intptr_t)in);
		return 0;
	case LWS_CALLBACK_WSI_CREATE:
		srv->stats.connections++;
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (pss) {
			pw_http_release(srv, pss);
			pw_ws_closed(srv, pss);
		}
		if (srv->stats.connections && !atomic_load(&srv->stop))
			srv->stats.connections--;
		return 0;

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		take_handover(srv);
		return 0;

	/* HTTP */
	case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
		return pw_http_filter(srv, wsi);
	case LWS_CALLBACK_HTTP:
		take_handover(srv); /* not woken for snapshots while no stream is open */
		return pw_http_request(srv, wsi, pss);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return pw_http_writeable(srv, wsi, pss);
	case LWS_CALLBACK_ADD_HEADERS:
		return pw_http_add_headers(srv, wsi, in);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_HTTP_BODY:
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return -1; /* refused in the filter already; never read one */
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* never reads `in`: CVE-2025-11677 */
		return pw_http_confirm_upgrade(srv, wsi);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss)
			pw_http_release(srv, pss);
		return 0;

	/* WebSocket */
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return pw_ws_filter(srv, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		take_handover(srv);
		return pw_ws_established(srv, wsi, pss);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pw_ws_writeable(srv, wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return pw_ws_receive(srv, wsi, pss, len);
	case LWS_CALLBACK_CLOSED:
		pw_ws_closed(srv, pss);
		return 0;

	/* CONNECT makes lws fall back to a raw socket: nothing is served that way */
	case LWS_CALLBACK_RAW_ADOPT:
	case LWS_CALLBACK_RAW_RX:
		return -1;

	default:
		return 0;
	}
}

static void *service_thread(void *arg)
{
	struct pw_server *srv = arg;

	while (!atomic_load(&srv->stop))
		if (lws_service(srv->ctx, 0) < 0) {
			atomic_store(&srv->thread_failed, true);
			break;
		}
	return NULL;
}

/* ---------------------------------------------------------------- start */

static void lws_line(const char *line, char *msg, size_t size)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(msg, line, n);
	msg[n] = '\0';
}

/* While the context is made: lws' errors (a bad certificate, a busy port) matter. */
static void lws_log_starting(int level, const char *line)
{
	char msg[512];

	lws_line(line, msg, sizeof(msg));
	if (level & LLL_ERR)
		pw_warn("lws: %s", msg);
	else
		pw_debug("lws: %s", msg);
}

/*
 * Once serving, what lws reports is about single clients ("ran out of header space",
 * "denied connection"): a client could flood the log with it, so it goes to debug; the
 * counters in /metrics and /healthz keep the totals.
 */
static void lws_log_running(int level, const char *line)
{
	char msg[512];

	(void)level;
	lws_line(line, msg, sizeof(msg));
	pw_debug("lws: %s", msg);
}

static int load_token(struct pw_server *srv, const char *path, char *err, size_t errlen)
{
	struct pw_buf b = { 0 };
	struct stat st;
	long n;
	int r;

	n = pw_read_file_at(AT_FDCWD, path, &b, PW_TOKEN_MAX + 64);
	if (n < 0) {
		snprintf(err, errlen, "--auth-token-file %s: %s", path,
			 n == -E2BIG ? "too long for a token" : strerror((int)-n));
		pw_buf_free(&b);
		return -EINVAL;
	}
	r = pw_token_parse(b.data ? b.data : "", (size_t)n, srv->token, sizeof(srv->token));
	pw_buf_free(&b);
	if (r < 0) {
		snprintf(err, errlen,
			 "--auth-token-file %s: the token must be %d to %d printable characters without spaces, ';', ',', "
			 "'\"' or '\\' (e.g. the output of: openssl rand -hex 32)",
			 path, PW_TOKEN_MIN, PW_TOKEN_MAX);
		return -EINVAL;
	}
	srv->token_len = strlen(srv->token);
	srv->auth = true;
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		pw_warn("%s can be read by other users: chmod 600 it", path);
	return 0;
}

static const char *listen_str(const struct pw_listen_addr *la, char *buf, size_t n)
{
	snprintf(buf, n, la->ipv6 ? "[%s]:%u" : "%s:%u", la->host, la->port);
	return buf;
}

/* A clear message for the common failures before lws gives a vague one. */
static int probe_bind(const struct pw_listen_addr *la, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	char where[96];
	socklen_t sl;
	int fd, one = 1, r = 0;

	if (la->ipv6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(la->port);
		inet_pton(AF_INET6, la->host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(la->port);
		inet_pton(AF_INET, la->host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* let lws report it */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (la->ipv6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		r = -errno;
		if (errno == EADDRINUSE)
			snprintf(err, errlen, "cannot listen on %s: the port is already in use (another perfwatch?)",
				 listen_str(la, where, sizeof(where)));
		else if (errno == EADDRNOTAVAIL)
			snprintf(err, errlen, "cannot listen on %s: no such address on this machine", listen_str(la, where, sizeof(where)));
		else if (errno == EACCES)
			snprintf(err, errlen, "cannot listen on %s: permission denied (ports below 1024 need root)",
				 listen_str(la, where, sizeof(where)));
		else
			snprintf(err, errlen, "cannot listen on %s: %s", listen_str(la, where, sizeof(where)), strerror(errno));
	}
	close(fd);
	return r;
}

static void setup_tables(struct pw_server *srv)
{
	static const char *const api[] = { "/api", "/metrics", "/healthz", "/ws" };
	struct lws_protocol_vhost_options *h = srv->headers, *m = srv->mimetypes;
	size_t i;

	srv->protocols[0] = (struct lws_protocols){
		.name = "perfwatch",
		.callback = server_callback,
		.per_session_data_size = sizeof(struct pss),
		.rx_buffer_size = PW_SRV_WS_MSG_MAX,
		/* one send() per message: below this lws would copy and trickle every snapshot */
		.tx_packet_size = 1u << 22,
	};
	/* protocols[1] stays zeroed: the terminator */

	/* added to every response lws writes a status line for */
	h[0] = (struct lws_protocol_vhost_options){ &h[1], NULL, "x-content-type-options:", "nosniff" };
	h[1] = (struct lws_protocol_vhost_options){ &h[2], NULL, "referrer-policy:", "no-referrer" };
	h[2] = (struct lws_protocol_vhost_options){ NULL, NULL, "content-security-policy:",
						    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'" };

	m[0] = (struct lws_protocol_vhost_options){ &m[1], NULL, ".mjs", "text/javascript" };
	m[1] = (struct lws_protocol_vhost_options){ &m[2], NULL, ".map", "application/json" };
	m[2] = (struct lws_protocol_vhost_options){ &m[3], NULL, ".wasm", "application/wasm" };
	m[3] = (struct lws_protocol_vhost_options){ NULL, NULL, ".webmanifest", "application/manifest+json" };

	/* the API routes are callback mounts so that no file can shadow them */
	for (i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		struct lws_http_mount *mt = &srv->mounts[i];

		mt->mountpoint = api[i];
		mt->mountpoint_len = (unsigned char)strlen(api[i]);
		mt->origin = "perfwatch";
		mt->origin_protocol = LWSMPRO_CALLBACK;
		mt->mount_next = &srv->mounts[i + 1];
	}
	{
		struct lws_http_mount *mt = &srv->mounts[i];

		mt->mountpoint = "/";
		mt->mountpoint_len = 1;
		mt->def = "index.html";
		mt->extra_mimetypes = srv->mimetypes;
		mt->mount_next = NULL;
		if (srv->web_root_fd >= 0) {
			mt->origin = srv->web_root;
			mt->origin_protocol = LWSMPRO_FILE;
			mt->protocol = "perfwatch"; /* so ADD_HEADERS and the 404 come to our callback */
		} else {
			mt->origin = "perfwatch";
			mt->origin_protocol = LWSMPRO_CALLBACK;
		}
	}
}

static int create_context(struct pw_server *srv, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	char where[96];

	memset(&info, 0, sizeof(info));
	info.port = srv->la.port;
	info.iface = srv->la.any ? NULL : srv->la.host;
	info.vhost_name = srv->la.host;
	info.protocols = srv->protocols;
	info.mounts = srv->mounts;
	info.headers = srv->headers;
	info.user = srv;
	info.server_string = "perfwatch";
	info.count_threads = 1;
	info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (srv->la.ipv6)
		info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
	else
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;

	/* bounds on what one client can hold: see the limits in server.h */
	info.max_http_header_data = PW_SRV_HEADER_BYTES;
	info.max_http_header_pool = (unsigned short)(srv->opts->max_clients > 65535 ? 65535 : srv->opts->max_clients);
	info.fd_limit_per_thread = srv->opts->max_clients + 32;
	info.timeout_secs = PW_SRV_IDLE_SECS;
	info.timeout_secs_ah_idle = PW_SRV_HEADER_SECS;
	info.keepalive_timeout = PW_SRV_IDLE_SECS;
	info.ka_time = 30;
	info.ka_probes = 3;
	info.ka_interval = 5;

	/* HTTP/1.1 only: h2 (over TLS by ALPN) is not offered, h2c upgrades are refused */
	info.alpn = "http/1.1";
	if (srv->tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = srv->opts->tls_cert;
		info.ssl_private_key_filepath = srv->opts->tls_key;
		info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_RENEGOTIATION |
				       SSL_OP_NO_COMPRESSION;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_starting);
	srv->ctx = lws_create_context(&info);
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_running);
	if (!srv->ctx) {
		snprintf(err, errlen, "cannot start the web server on %s%s", listen_str(&srv->la, where, sizeof(where)),
			 srv->tls ? " (check --tls-cert and --tls-key)" : "");
		return -EIO;
	}
	return 0;
}

static void server_free(struct pw_server *srv)
{
	if (!srv)
		return;
	if (srv->thread_started) {
		atomic_store(&srv->stop, true);
		lws_cancel_service(srv->ctx);
		pthread_join(srv->thread, NULL);
	}
	atomic_store(&srv->stop, true);
	if (srv->ctx)
		lws_context_destroy(srv->ctx); /* the service thread is gone: callbacks run here */
	pw_webroot_close(srv);
	pw_body_unref(srv->json);
	pw_body_unref(srv->metrics);
	pw_body_unref(srv->pending_json);
	pw_body_unref(srv->pending_metrics);
	pw_buf_free(&srv->metrics_buf);
	if (srv->render_fd >= 0)
		close(srv->render_fd);
	pthread_mutex_destroy(&srv->lock);
	explicit_bzero(srv->token, sizeof(srv->token));
	free(srv);
}

static int server_start(void **ret_ctx, struct pw_daemon *d, char *err, size_t errlen)
{
	const struct pw_options *o = d->opts;
	struct pw_server *srv;
	double stall;
	char where[96];
	int r;

	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	srv->d = d;
	srv->opts = o;
	srv->web_root_fd = -1;
	srv->render_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->render_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create an eventfd: %s", strerror(errno));
		free(srv);
		return r;
	}
	srv->metrics_opts.per_cpu = !o->no_per_cpu_metrics;
	srv->stats.max_connections = o->max_clients;
	pthread_mutex_init(&srv->lock, NULL);

	r = pw_listen_parse(o->listen, strlen(o->listen), &srv->la);
	if (r < 0) {
		snprintf(err, errlen, "--listen '%s': expected ADDR:PORT with a numeric address, e.g. 127.0.0.1:%d or [::1]:%d",
			 o->listen, PW_DEFAULT_PORT, PW_DEFAULT_PORT);
		goto fail;
	}
	if (o->auth_token_file) {
		r = load_token(srv, o->auth_token_file, err, errlen);
		if (r < 0)
			goto fail;
	}
	if (!srv->la.loopback && !srv->auth) {
		snprintf(err, errlen,
			 "refusing to listen on %s without authentication: a non-loopback address needs --auth-token-file",
			 listen_str(&srv->la, where, sizeof(where)));
		r = -EPERM;
		goto fail;
	}
	if (o->tls_cert) {
		if (access(o->tls_cert, R_OK) < 0 || access(o->tls_key, R_OK) < 0) {
			snprintf(err, errlen, "--tls-cert %s / --tls-key %s: %s", o->tls_cert, o->tls_key, strerror(errno));
			r = -EINVAL;
			goto fail;
		}
		srv->tls = true;
	}
	r = pw_webroot_open(srv, o->web_root, err, errlen);
	if (r < 0)
		goto fail;
	if (srv->web_root_fd < 0)
		pw_warn("no dashboard files found (use --web-root DIR): serving the API only");

	r = probe_bind(&srv->la, err, errlen);
	if (r < 0)
		goto fail;

	stall = o->interval_s * PW_SRV_WS_STALL_INTERVALS;
	if (stall < PW_SRV_WS_STALL_MIN_SECS)
		stall = PW_SRV_WS_STALL_MIN_SECS;
	srv->stall_us = (uint64_t)(stall * 1e6);

	setup_tables(srv);
	r = create_context(srv, err, errlen);
	if (r < 0)
		goto fail;
	pw_webroot_install(srv);

	r = -pthread_create(&srv->thread, NULL, service_thread, srv);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the server thread: %s", strerror(-r));
		goto fail;
	}
	srv->thread_started = true;
	pthread_setname_np(srv->thread, "pw-server"); /* top -H, and the benchmark, find it by name */

	if (srv->la.any) {
		char host[256] = "localhost";

		gethostname(host, sizeof(host) - 1);
		pw_info("dashboard: http%s://%s:%u/%s (listening on every interface)", srv->tls ? "s" : "", host,
			srv->la.port, "?token=<your token>");
	} else {
		pw_info("dashboard: http%s://%s/%s", srv->tls ? "s" : "", listen_str(&srv->la, where, sizeof(where)),
			srv->auth ? "?token=<your token>" : "");
	}
	if (srv->web_root_fd >= 0)
		pw_debug("server: web root %s", srv->web_root);
	*ret_ctx = srv;
	return 0;

fail:
	server_free(srv);
	return r < 0 ? r : -EINVAL;
}

/* ---------------------------------------------------------------- daemon thread side */

/* The snapshot JSON plus the moment it was handed to the server ("published_at"), from
 * which a client measures its delivery latency. */
static struct pw_body *stamped_json(const struct pw_buf *json, double now)
{
	char tail[64];
	struct pw_body *b;
	size_t keep;
	int tl;

	if (json->len < 2 || json->data[json->len - 1] != '}')
		return pw_body_from(json->data ? json->data : "", json->len);
	keep = json->len - 1;
	tl = snprintf(tail, sizeof(tail), "%s\"published_at\":%.6f}", json->data[keep - 1] == '{' ? "" : ",", now);
	b = pw_body_new(keep + (size_t)tl);
	if (!b)
		return NULL;
	memcpy(pw_body_data(b), json->data, keep);
	memcpy(pw_body_data(b) + keep, tail, (size_t)tl);
	return b;
}

/* Renders /metrics from s and hands it to the service thread (daemon thread). */
static struct pw_body *render_metrics(struct pw_server *srv, const struct snapshot *s)
{
	atomic_store(&srv->render_asked, false); /* a scrape from here on asks again */
	pw_buf_clear(&srv->metrics_buf);
	pw_metrics_render(s, &srv->metrics_opts, &srv->metrics_buf);
	return srv->metrics_buf.oom ? NULL : pw_body_from(srv->metrics_buf.data, srv->metrics_buf.len);
}

static void server_publish(void *ctx, const struct snapshot *s, const struct pw_buf *json)
{
	struct pw_server *srv = ctx;
	struct pw_body *jb, *mb = NULL, *old_j, *old_m = NULL;
	double now = (double)pw_clock_ns(CLOCK_REALTIME) / 1e9;
	bool render = atomic_load(&srv->render_asked); /* scrapes parked before the first snapshot */

	jb = stamped_json(json, now);
	if (render)
		mb = render_metrics(srv, s);
	if (!jb || (render && !mb)) {
		pw_body_unref(jb);
		pw_body_unref(mb);
		pw_warn("server: out of memory: snapshot %llu not sent", (unsigned long long)s->seq);
		return;
	}

	pthread_mutex_lock(&srv->lock);
	old_j = srv->pending_json;
	srv->pending_json = jb;
	if (mb) {
		old_m = srv->pending_metrics;
		srv->pending_metrics = mb;
		srv->pending_metrics_seq = s->seq;
	}
	pw_health_fill(&srv->pending_health, s, srv->d, now);
	srv->pending = true;
	pthread_mutex_unlock(&srv->lock);
	/* never seen by the service thread (it was busy, or nobody asked): ours to free */
	pw_body_unref(old_j);
	pw_body_unref(old_m);

	/* no stream open and no scrape parked: the next request takes the handover itself */
	if (mb || atomic_load(&srv->ws_open) > 0)
		lws_cancel_service(srv->ctx); /* the one lws call allowed from this thread */
}

/* A scrape asked for /metrics of the last snapshot (daemon thread, between snapshots). */
static int server_wake_fd(void *ctx)
{
	struct pw_server *srv = ctx;

	return srv ? srv->render_fd : -1;
}

static void server_wake(void *ctx, const struct snapshot *last)
{
	struct pw_server *srv = ctx;
	struct pw_body *mb, *old_m;
	uint64_t n;

	/*
	 * Before the first snapshot, publish() renders for the parked scrapes; a request that
	 * came during a collection was answered by publish() already (it cleared the flag).
	 */
	if (read(srv->render_fd, &n, sizeof(n)) < 0 || !last || !atomic_load(&srv->render_asked))
		return;
	mb = render_metrics(srv, last);
	if (!mb) {
		pw_warn("server: out of memory: /metrics of snapshot %llu not rendered", (unsigned long long)last->seq);
		return;
	}
	pthread_mutex_lock(&srv->lock);
	old_m = srv->pending_metrics;
	srv->pending_metrics = mb;
	srv->pending_metrics_seq = last->seq;
	srv->pending = true;
	pthread_mutex_unlock(&srv->lock);
	pw_body_unref(old_m);
	lws_cancel_service(srv->ctx);
}

static const char *server_status(void *ctx)
{
	struct pw_server *srv = ctx;

	return srv && atomic_load(&srv->thread_failed) ? "the web server thread stopped" : NULL;
}

static void server_stop(void *ctx)
{
	server_free(ctx);
}

const struct output pw_server_output = {
	.name = "server",
	.start = server_start,
	.publish = server_publish,
	.status = server_status,
	.stop = server_stop,
	.wake_fd = server_wake_fd,
	.wake = server_wake,
};
