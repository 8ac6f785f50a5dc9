/* SPDX-License-Identifier: MIT */
/*
 * The web server: one libwebsockets context on its own service thread.
 *
 * Threads. The daemon thread calls publish() once per snapshot: it copies the snapshot
 * JSON (serialized once by the daemon) and renders /metrics into fresh bodies, then
 * hands them over under `lock` and wakes the service thread with lws_cancel_service(),
 * the only lws call made from another thread. Everything else below `lock` belongs to
 * the service thread alone: the latest bodies, the generation counter, the sessions.
 *
 * Broadcast. The service thread keeps the latest snapshot and a generation number;
 * each WebSocket session remembers the generation it last got. On a new generation it
 * asks every session for a writable callback; a session that is still busy sending an
 * older one (a slow reader) simply gets the newest when it can take one, so it costs
 * at most one message of memory and never delays collection or the other clients.
 */
#ifndef PW_SERVER_H
#define PW_SERVER_H

#include <libwebsockets.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "server/httputil.h"
#include "server/metrics.h"
#include "snapshot.h"

/* Limits, all stated in --help (cli.c) and README.md. */
#define PW_SRV_HEADER_BYTES 8192        /* request line + headers of one request */
#define PW_SRV_HEADER_SECS 5            /* to send a complete request head */
#define PW_SRV_IDLE_SECS 5              /* keep-alive idle, request body, TLS handshake */
#define PW_SRV_SEND_STALL_SECS 10       /* an HTTP response the client stopped reading */
#define PW_SRV_MAX_SCRAPES 8            /* concurrent /metrics responses */
#define PW_SRV_WS_MSG_MAX 4096          /* bytes of one message a client may send */
#define PW_SRV_WS_FRAGS_MAX 16          /* frames of one message a client may send */
#define PW_SRV_WS_STALL_INTERVALS 3     /* intervals a client may fall behind */
#define PW_SRV_WS_STALL_MIN_SECS 5
#define PW_SRV_TCP_USER_TIMEOUT_MS 20000 /* unacknowledged data: the peer is gone */
#define PW_SRV_CHUNK 16384              /* HTTP body bytes per write */

/* A response body, shared by reference between requests; only the service thread
 * touches refs once it was handed over. */
struct pw_body {
	unsigned refs;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom (WebSocket framing), then len bytes, NUL */
};

struct pw_body *pw_body_new(size_t len);
struct pw_body *pw_body_from(const char *data, size_t len);
static inline unsigned char *pw_body_data(struct pw_body *b) { return b->buf + LWS_PRE; }
struct pw_body *pw_body_ref(struct pw_body *b);
void pw_body_unref(struct pw_body *b); /* accepts NULL */

#define PW_HEALTH_SECTIONS 6

/* What /healthz reports about the last snapshot; copied by value at each handover. */
struct pw_health {
	bool have;
	uint64_t seq;
	double timestamp;
	double published_at;
	uint32_t n_sections;
	/* indices, not pointers, so the struct can be copied by value */
	struct {
		const char *name; /* a string literal */
		int error;        /* -1 ok, -2 null without a reason, else an index into errors[] */
	} sections[PW_HEALTH_SECTIONS];
	const char *perf_source;   /* a string literal */
	bool perf_available;
	char perf_error[sizeof(((struct pw_perf *)0)->error)];
	const char *history;       /* "ok", "disabled", "error", "unavailable" */
	int history_error;         /* -1, or an index into errors[] */
	uint32_t n_errors;
	struct pw_error errors[PW_MAX_ERRORS];
};

enum pss_kind { PSS_NONE = 0, PSS_HTTP, PSS_WS };

/* Per connection (lws user_space, zeroed by lws). */
struct pss {
	enum pss_kind kind;
	struct lws *wsi;
	/* HTTP: the response body being written */
	struct pw_body *body;
	size_t off;
	bool scrape_slot;
	bool awaiting_metrics; /* a /metrics request parked until the daemon thread renders */
	bool metrics_due;      /* its render arrived: answered at the next writable callback */
	/* WebSocket */
	bool linked;
	struct pss *prev, *next;
	uint64_t sent_gen;
	uint64_t ack_target; /* TCP bytes the client must have acknowledged by the next tick */
	uint32_t stale_ticks;
	bool stalled;
	uint32_t rx_bytes, rx_frags;
};

struct pw_server {
	struct pw_daemon *d;
	const struct pw_options *opts;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_bool thread_failed;

	/* handover: written by publish() (daemon thread), taken by the service thread */
	pthread_mutex_t lock;
	struct pw_body *pending_json, *pending_metrics;
	uint64_t pending_metrics_seq; /* the snapshot pending_metrics was rendered from */
	struct pw_health pending_health;
	bool pending;

	/*
	 * /metrics is rendered on demand, not for every snapshot: a scrape of a snapshot not
	 * rendered yet parks and writes render_fd, which the daemon thread polls between
	 * snapshots (the daemon thread owns the snapshot; see output.h wake()).
	 */
	int render_fd;           /* eventfd */
	atomic_bool render_asked;
	/*
	 * WebSocket streams open (mirrors stats.ws_clients for the daemon thread): with none,
	 * publish() does not wake the service thread, which takes the handover when a request
	 * or a stream comes instead.
	 */
	atomic_uint ws_open;

	/* daemon thread only */
	struct pw_buf metrics_buf;
	struct pw_metrics_opts metrics_opts;

	/* service thread only */
	struct pw_body *json, *metrics;
	uint64_t metrics_seq;
	struct pw_health health;
	uint64_t gen;
	struct pss *ws_head;
	uint32_t n_scrapes;
	struct pss *metrics_waiters[PW_SRV_MAX_SCRAPES];
	uint32_t n_metrics_waiters;
	struct pw_server_stats stats;
	uint64_t stall_us;
	lws_sorted_usec_list_t sul_stall;
	unsigned char scratch[LWS_PRE + PW_SRV_CHUNK];

	/* configuration, fixed after start */
	struct pw_listen_addr la;
	bool tls;
	bool auth;
	char token[PW_TOKEN_MAX + 1];
	size_t token_len;
	char web_root[PATH_MAX];
	int web_root_fd;
	struct lws_protocols protocols[2];
	struct lws_http_mount mounts[5];
	struct lws_protocol_vhost_options headers[4];
	struct lws_protocol_vhost_options mimetypes[4];
};

/* http_api.c: the HTTP side of the one protocol callback */
int pw_http_filter(struct pw_server *srv, struct lws *wsi);
int pw_http_request(struct pw_server *srv, struct lws *wsi, struct pss *pss);
int pw_http_writeable(struct pw_server *srv, struct lws *wsi, struct pss *pss);
int pw_http_add_headers(struct pw_server *srv, struct lws *wsi, struct lws_process_html_args *args);
int pw_http_confirm_upgrade(struct pw_server *srv, struct lws *wsi);
void pw_http_release(struct pw_server *srv, struct pss *pss);
void pw_http_metrics_ready(struct pw_server *srv); /* a render arrived: answer the parked scrapes */
void pw_server_request_render(struct pw_server *srv); /* service thread: ask the daemon thread */
/* shared checks of every request, HTTP or upgrade: 0 to go on, else the status sent */
int pw_http_check_access(struct pw_server *srv, struct lws *wsi, enum pw_reject *ret_why);
int pw_http_reply_close(struct lws *wsi, unsigned status, const char *msg, const char *extra_hdr);

/* ws_stream.c */
int pw_ws_filter(struct pw_server *srv, struct lws *wsi);
int pw_ws_established(struct pw_server *srv, struct lws *wsi, struct pss *pss);
int pw_ws_writeable(struct pw_server *srv, struct lws *wsi, struct pss *pss);
int pw_ws_receive(struct pw_server *srv, struct lws *wsi, struct pss *pss, size_t len);
void pw_ws_closed(struct pw_server *srv, struct pss *pss);
void pw_ws_broadcast(struct pw_server *srv);

/* webroot.c */
int pw_webroot_open(struct pw_server *srv, const char *dir, char *err, size_t errlen);
void pw_webroot_install(struct pw_server *srv);
void pw_webroot_close(struct pw_server *srv);

/* health.c */
void pw_health_fill(struct pw_health *h, const struct snapshot *s, const struct pw_daemon *d, double published_at);
void pw_health_json(const struct pw_server *srv, struct pw_buf *out);

#endif
