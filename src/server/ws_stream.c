/* SPDX-License-Identifier: MIT */
/*
 * /ws: the snapshot stream. On connect a client gets the latest snapshot at once, then
 * each new one. Sessions are kept in a list of our own so a broadcast touches only
 * them; each remembers the generation it last got, so a slow client skips straight to
 * the newest and costs at most the one message lws holds for it.
 *
 * A client that stops reading is hung up after PW_SRV_WS_STALL_INTERVALS intervals (at
 * least PW_SRV_WS_STALL_MIN_SECS). Waiting for lws to notice is not enough: the kernel
 * grows a socket's send buffer to megabytes, so a non-reader would look healthy for
 * thousands of snapshots. Instead a periodic timer asks the kernel whether the client
 * acknowledged everything that had been written one period earlier.
 */
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "server/server.h"
#include "util/timeutil.h"

int pw_ws_filter(struct pw_server *srv, struct lws *wsi)
{
	char origin[256], host[256], uri[8];
	enum pw_reject why;
	int ol, hl, status;

	/*
	 * The role is WebSocket already, but nothing was answered yet: a refusal goes out as
	 * a plain HTTP status (lws writes LWS_WRITE_HTTP raw on a ws connection) and the
	 * non-zero return closes the connection.
	 */
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws")) {
		srv->stats.requests_rejected[PW_REJECT_UPGRADE]++;
		pw_http_reply_close(wsi, HTTP_STATUS_NOT_FOUND, "the WebSocket is on /ws", NULL);
		return 1;
	}
	status = pw_http_check_access(srv, wsi, &why);
	if (status) {
		srv->stats.requests_rejected[why]++;
		pw_debug("server: WebSocket upgrade refused: %d (%s)", status, pw_reject_names[why]);
		pw_http_reply_close(wsi, (unsigned)status, status == HTTP_STATUS_UNAUTHORIZED ? "a valid token is required" : "refused",
				    status == HTTP_STATUS_UNAUTHORIZED ? "www-authenticate: Bearer realm=\"perfwatch\"" : NULL);
		return 1;
	}
	/*
	 * Cross-site WebSocket hijacking: a browser always sends Origin; a page from anywhere
	 * but this server must not read the stream. Clients that are not browsers send none.
	 */
	ol = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
	if (ol != 0) {
		hl = lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
		if (ol < 0 || hl <= 0 || !pw_origin_allowed(origin, (size_t)ol, host, (size_t)hl, srv->tls)) {
			srv->stats.requests_rejected[PW_REJECT_ORIGIN]++;
			pw_debug("server: WebSocket upgrade from a foreign origin refused");
			pw_http_reply_close(wsi, HTTP_STATUS_FORBIDDEN, "cross-origin WebSocket refused", NULL);
			return 1;
		}
	}
	return 0;
}

static void stall_check(lws_sorted_usec_list_t *sul);

static void link_session(struct pw_server *srv, struct pss *pss)
{
	/* the first stream starts the stall timer; it stops when the last one goes */
	if (!srv->ws_head)
		lws_sul_schedule(srv->ctx, 0, &srv->sul_stall, stall_check, (lws_usec_t)srv->stall_us);
	pss->prev = NULL;
	pss->next = srv->ws_head;
	if (srv->ws_head)
		srv->ws_head->prev = pss;
	srv->ws_head = pss;
	pss->linked = true;
	srv->stats.ws_clients++;
	atomic_store(&srv->ws_open, (unsigned)srv->stats.ws_clients);
}

void pw_ws_closed(struct pw_server *srv, struct pss *pss)
{
	if (!pss || !pss->linked)
		return;
	if (pss->prev)
		pss->prev->next = pss->next;
	else
		srv->ws_head = pss->next;
	if (pss->next)
		pss->next->prev = pss->prev;
	pss->linked = false;
	pss->prev = pss->next = NULL;
	if (srv->stats.ws_clients)
		srv->stats.ws_clients--;
	atomic_store(&srv->ws_open, (unsigned)srv->stats.ws_clients);
}

int pw_ws_established(struct pw_server *srv, struct lws *wsi, struct pss *pss)
{
	if (!pss)
		return -1;
	memset(pss, 0, sizeof(*pss));
	pss->kind = PSS_WS;
	pss->wsi = wsi;
	link_session(srv, pss);
	if (srv->json)
		lws_callback_on_writable(wsi);
	return 0;
}

void pw_ws_broadcast(struct pw_server *srv)
{
	for (struct pss *p = srv->ws_head; p; p = p->next)
		lws_callback_on_writable(p->wsi);
	srv->stats.broadcasts++;
}

int pw_ws_writeable(struct pw_server *srv, struct lws *wsi, struct pss *pss)
{
	int n;

	if (!pss || pss->kind != PSS_WS || !srv->json || pss->sent_gen == srv->gen)
		return 0;
	if (pss->sent_gen && srv->gen - pss->sent_gen > 1)
		srv->stats.ws_skipped += srv->gen - pss->sent_gen - 1;
	/* the JSON was serialized once; lws writes the frame header into the LWS_PRE room */
	n = lws_write(wsi, pw_body_data(srv->json), srv->json->len, LWS_WRITE_TEXT);
	if (n < (int)srv->json->len)
		return -1;
	pss->sent_gen = srv->gen;
	srv->stats.ws_messages++;
	return 0;
}

int pw_ws_receive(struct pw_server *srv, struct lws *wsi, struct pss *pss, size_t len)
{
	if (!pss)
		return -1;
	/* clients have nothing to say; small messages are read and ignored, floods closed */
	pss->rx_bytes += (uint32_t)(len > PW_SRV_WS_MSG_MAX ? PW_SRV_WS_MSG_MAX + 1 : len);
	pss->rx_frags++;
	if (pss->rx_bytes > PW_SRV_WS_MSG_MAX || pss->rx_frags > PW_SRV_WS_FRAGS_MAX) {
		srv->stats.ws_bad_frames++;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"message too large", 17);
		return -1;
	}
	if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
		pss->rx_bytes = 0;
		pss->rx_frags = 0;
	}
	return 0;
}

/* Bytes the peer acknowledged, and everything written to the socket so far. */
static int tcp_progress(struct lws *wsi, uint64_t *ret_acked, uint64_t *ret_written)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	int fd = lws_get_socket_fd(wsi), outq;

	memset(&ti, 0, sizeof(ti));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0 ||
	    l < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked) ||
	    ioctl(fd, SIOCOUTQ, &outq) < 0 || outq < 0)
		return -1;
	*ret_acked = ti.tcpi_bytes_acked;
	/* acked + still queued (unsent or unacknowledged) = all the kernel was given */
	*ret_written = ti.tcpi_bytes_acked + (uint64_t)outq;
	return 0;
}

/*
 * One timer for all sessions (per-session timers firing a few microseconds apart made
 * lws spin in poll(0)): every period, a session that has not acknowledged what had been
 * written one period earlier is hung up.
 */
static void stall_check(lws_sorted_usec_list_t *sul)
{
	struct pw_server *srv = (struct pw_server *)((char *)sul - offsetof(struct pw_server, sul_stall));
	uint64_t acked, written;

	for (struct pss *p = srv->ws_head; p; p = p->next) {
		bool stalled = false;

		if (tcp_progress(p->wsi, &acked, &written) == 0) {
			stalled = p->ack_target && acked < p->ack_target;
			p->ack_target = written;
		} else if (p->sent_gen != srv->gen) {
			/* no TCP_INFO: lws could not send for two periods */
			stalled = p->stale_ticks++ > 0;
		} else {
			p->stale_ticks = 0;
		}
		if (stalled && !p->stalled) {
			p->stalled = true;
			srv->stats.ws_stalled++;
			pw_debug("server: hanging up a WebSocket client that stopped reading");
			lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		}
	}
	if (srv->ws_head) /* no stream, no wake-ups: link_session() starts it again */
		lws_sul_schedule(srv->ctx, 0, &srv->sul_stall, stall_check, (lws_usec_t)srv->stall_us);
}
