/* link - the PBX link of ctid: one TCP connection, or a TLS connection over it
 * ([pbx] tls = yes, link-tls.c), carrying CSTA XML frames.
 *
 * States: IDLE (waiting for the reconnect timer) -> CONNECTING -> STARTING
 * (session handshake) -> UP -> (STOPPING) -> CLOSED.  Any read/write error,
 * a malformed frame, a refused or terminated session or an unanswered
 * handshake drops the connection: every pending request gets its callback
 * with an error, the hooks hear "down", and a reconnect is scheduled with an
 * exponential backoff between [pbx] reconnect_min_ms and reconnect_max_ms.
 * The link owns the socket, the frame decoder, the invoke ids and the
 * pending-request table; callers own what they pass as callback data (the
 * destroy notify frees it).  A SystemStatus request from the switch is always
 * answered with SystemStatusResponse and the same invoke id.  Keepalive:
 * ResetApplicationSessionTimer (ecma354) or RequestSystemStatus
 * (system-status) every half [pbx] session_duration; an unanswered one drops
 * the link.
 */
#include "link.h"

#include <gio/gio.h>
#include <string.h>

#include "link-tls.h"
#include "log.h"
#include "timers.h"

#define LINK_REQUEST_TIMEOUT_S   15
#define LINK_HANDSHAKE_TIMEOUT_S 10
#define LINK_STOP_TIMEOUT_MS     2000

typedef enum {
	LINK_IDLE,
	LINK_CONNECTING,
	LINK_STARTING,
	LINK_UP,
	LINK_STOPPING,
	LINK_CLOSED,
} LinkState;

typedef struct {
	CtidLink *link;
	int invoke;
	LinkReplyFunc cb;
	gpointer data;
	GDestroyNotify destroy;
	guint timeout_id;
} LinkPending;

struct CtidLink {
	const CtiConfig *config;
	LinkHooks hooks;
	gpointer hooks_data;
	LinkState state;
	GSocketClient *client;
	GCancellable *cancel;
	LinkTls *tls;    /* NULL: plain TCP */
	GIOStream *conn; /* the TCP connection or the TLS one over it */
	GSocket *sock;   /* the TCP socket under CONN; NULL when not connected */
	guint in_id, out_id, retry_id, reset_id, drop_id, handshake_id;
	GByteArray *out;
	CstaDecoder *dec;
	CstaInvokeIds *ids;
	GHashTable *pending; /* invoke -> LinkPending */
	int backoff_ms;
	char *session_id;
	int session_duration;
	char *ns;     /* namespace for CSTA requests */
	gint64 since; /* unix seconds of the last up/down change */
	guint ups;    /* sessions that came up since start: reconnects are ups - 1 */
	char *last_error;
	void (*stopped)(gpointer);
	gpointer stopped_data;
	gboolean stopped_called;
};

static void link_drop(CtidLink *link, const char *why);
static void link_connect(CtidLink *link);

static void pending_free(LinkPending *p)
{
	g_clear_handle_id(&p->timeout_id, timers_remove);
	if (p->destroy != NULL)
		p->destroy(p->data);
	g_free(p);
}

/* link_new - a link for CONFIG; nothing happens before link_start */
CtidLink *link_new(const CtiConfig *config, LinkTls *tls, const LinkHooks *hooks, gpointer data)
{
	CtidLink *link = g_new0(CtidLink, 1);

	link->config = config;
	link->tls = tls;
	link->hooks = *hooks;
	link->hooks_data = data;
	link->state = LINK_CLOSED;
	link->client = g_socket_client_new();
	g_socket_client_set_timeout(link->client, LINK_HANDSHAKE_TIMEOUT_S);
	link->out = g_byte_array_new();
	link->dec = csta_decoder_new();
	link->ids = csta_invoke_ids_new();
	link->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
	                                      (GDestroyNotify)pending_free);
	link->backoff_ms = config->reconnect_min_ms;
	link->ns = g_strdup(config->protocol_version);
	link->since = g_get_real_time() / G_USEC_PER_SEC;
	return link;
}

static void link_close_socket(CtidLink *link)
{
	g_clear_handle_id(&link->in_id, g_source_remove);
	g_clear_handle_id(&link->out_id, g_source_remove);
	g_clear_handle_id(&link->reset_id, g_source_remove);
	g_clear_handle_id(&link->handshake_id, g_source_remove);
	g_clear_handle_id(&link->drop_id, g_source_remove);
	if (link->cancel != NULL)
		g_cancellable_cancel(link->cancel);
	g_clear_object(&link->cancel);
	/* a TLS close writes close_notify with blocking I/O: bound it for a hung PBX */
	if (link->sock != NULL)
		g_socket_set_timeout(link->sock, 1);
	if (link->conn != NULL)
		g_io_stream_close(link->conn, NULL, NULL);
	g_clear_object(&link->conn);
	link->sock = NULL;
	g_byte_array_set_size(link->out, 0);
	csta_decoder_free(link->dec);
	link->dec = csta_decoder_new();
	csta_invoke_release_all(link->ids);
	g_clear_pointer(&link->session_id, g_free);
}

/* link_free - close at once; pending requests are dropped without callbacks */
void link_free(CtidLink *link)
{
	if (link == NULL)
		return;
	link->state = LINK_CLOSED;
	g_clear_handle_id(&link->retry_id, g_source_remove);
	link_close_socket(link);
	g_hash_table_destroy(link->pending);
	csta_decoder_free(link->dec);
	csta_invoke_ids_free(link->ids);
	g_byte_array_unref(link->out);
	g_clear_object(&link->client);
	link_tls_free(link->tls);
	g_free(link->ns);
	g_free(link->last_error);
	g_free(link);
}

static void set_error(CtidLink *link, const char *why)
{
	g_free(link->last_error);
	link->last_error = g_strdup(why);
}

/* ---- output ---- */

static gboolean on_writable(GObject *stream, gpointer data);

/* add_source - a main-loop source for when STREAM (pollable) can be read or written */
static guint add_source(GSource *src, GPollableSourceFunc fn, CtidLink *link)
{
	guint id;

	g_source_set_callback(src, (GSourceFunc)(void (*)(void))fn, link, NULL);
	id = g_source_attach(src, NULL);
	g_source_unref(src);
	return id;
}

static gboolean drop_later_cb(gpointer data)
{
	CtidLink *link = data;

	link->drop_id = 0;
	link_drop(link, link->last_error ? link->last_error : "write failed");
	return G_SOURCE_REMOVE;
}

/* flush - send what we can; a failure drops the link from an idle callback so
 * that callers of link_request never see re-entrant callbacks */
static void flush(CtidLink *link)
{
	while (link->out->len > 0 && link->sock != NULL) {
		g_autoptr(GError) error = NULL;
		GPollableOutputStream *os =
		    G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(link->conn));
		gssize n = g_pollable_output_stream_write_nonblocking(os, link->out->data,
		                                                      link->out->len, NULL, &error);

		if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			if (link->out_id == 0)
				link->out_id =
				    add_source(g_pollable_output_stream_create_source(os, NULL),
				               on_writable, link);
			return;
		}
		if (n < 0) {
			set_error(link, error->message);
			if (link->drop_id == 0)
				link->drop_id = g_idle_add(drop_later_cb, link);
			return;
		}
		g_byte_array_remove_range(link->out, 0, (guint)n);
	}
}

static gboolean on_writable(GObject *stream, gpointer data)
{
	CtidLink *link = data;

	link->out_id = 0;
	flush(link);
	return G_SOURCE_REMOVE;
}

static gboolean send_frame(CtidLink *link, int invoke, const char *xml, GError **error)
{
	g_autoptr(GBytes) frame = csta_frame_encode(invoke, xml, error);
	gsize len;
	const guint8 *data;

	if (frame == NULL)
		return FALSE;
	data = g_bytes_get_data(frame, &len);
	if (strstr(xml, "<password>") != NULL)
		log_debug("pbx: tx %04d (a request carrying the vendor login; not logged)", invoke);
	else
		log_debug("pbx: tx %04d %s", invoke, xml);
	g_byte_array_append(link->out, data, (guint)len);
	flush(link);
	return TRUE;
}

static gboolean pending_timeout_cb(gpointer data)
{
	LinkPending *p = data;
	CtidLink *link = p->link;
	g_autoptr(GError) error =
	    g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no response to invoke %04d within %d s",
	                p->invoke, LINK_REQUEST_TIMEOUT_S);

	p->timeout_id = 0;
	g_hash_table_steal(link->pending, GINT_TO_POINTER(p->invoke));
	csta_invoke_release(link->ids, p->invoke);
	p->cb(NULL, error, p->data);
	pending_free(p);
	return G_SOURCE_REMOVE;
}

static gboolean send_request(CtidLink *link, const char *xml, LinkReplyFunc cb, gpointer data,
                             GDestroyNotify destroy, GError **error)
{
	int invoke = csta_invoke_alloc(link->ids);
	LinkPending *p;

	if (invoke == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "all invoke ids are outstanding");
		return FALSE;
	}
	if (!send_frame(link, invoke, xml, error)) {
		csta_invoke_release(link->ids, invoke);
		return FALSE;
	}
	p = g_new0(LinkPending, 1);
	p->link = link;
	p->invoke = invoke;
	p->cb = cb;
	p->data = data;
	p->destroy = destroy;
	p->timeout_id = timers_add_seconds(LINK_REQUEST_TIMEOUT_S, pending_timeout_cb, p);
	g_hash_table_insert(link->pending, GINT_TO_POINTER(invoke), p);
	return TRUE;
}

/* link_request - send XML as a new request */
gboolean link_request(CtidLink *link, const char *xml, LinkReplyFunc cb, gpointer data,
                      GDestroyNotify destroy, GError **error)
{
	if (link->state != LINK_UP) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "PBX link is down%s%s",
		            link->last_error ? ": " : "", link->last_error ? link->last_error : "");
		return FALSE;
	}
	return send_request(link, xml, cb, data, destroy, error);
}

/* ---- the session ---- */

static void link_set_up(CtidLink *link)
{
	g_clear_handle_id(&link->handshake_id, g_source_remove);
	link->state = LINK_UP;
	link->ups++;
	link->backoff_ms = link->config->reconnect_min_ms;
	link->since = g_get_real_time() / G_USEC_PER_SEC;
	log_info("pbx: link up to %s:%d, %s session%s%s, namespace %s", link->config->pbx_host,
	         link->config->pbx_port,
	         link->config->session_style == CTI_SESSION_ECMA354 ? "ecma354" : "system-status",
	         link->session_id ? " " : "", link->session_id ? link->session_id : "", link->ns);
	link->hooks.up(link->hooks_data);
}

static void on_reset_reply(const CstaMessage *reply, const GError *error, gpointer data);

static gboolean reset_timer_cb(gpointer data)
{
	CtidLink *link = data;
	g_autofree char *xml =
	    csta_build_reset_session_timer(link->session_id, link->config->session_duration);
	g_autoptr(GError) error = NULL;

	if (!send_request(link, xml, on_reset_reply, link, NULL, &error))
		log_warning("pbx: ResetApplicationSessionTimer: %s", error->message);
	return G_SOURCE_CONTINUE;
}

static void on_reset_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	CtidLink *link = data;

	if (reply != NULL && reply->kind == CSTA_MSG_RESET_TIMER_POS)
		return;
	link_drop(link, reply ? "session timer reset refused" : error->message);
}

static void on_session_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	CtidLink *link = data;
	g_autofree char *why = NULL;
	int duration;

	if (reply == NULL || reply->kind != CSTA_MSG_START_SESSION_POS) {
		why = reply ? g_strdup_printf("StartApplicationSession refused: %s %s",
		                              reply->error_class ? reply->error_class : reply->root,
		                              reply->error_value ? reply->error_value : "")
		            : g_strdup_printf("StartApplicationSession: %s", error->message);
		link_drop(link, why);
		return;
	}
	link->session_id = g_strdup(reply->session_id);
	if (reply->protocol_version != NULL && g_str_has_prefix(reply->protocol_version, "http")) {
		g_free(link->ns);
		link->ns = g_strdup(reply->protocol_version);
	}
	duration = reply->duration > 0 ? reply->duration : link->config->session_duration;
	link->session_duration = duration;
	link->reset_id = g_timeout_add_seconds(MAX(duration / 2, 1), reset_timer_cb, link);
	link_set_up(link);
}

static void on_probe_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	CtidLink *link = data;
	g_autofree char *why = NULL;

	if (reply != NULL)
		return; /* any answer, even a CSTAErrorCode, shows the switch is alive */
	why = g_strdup_printf("keepalive RequestSystemStatus: %s", error->message);
	link_drop(link, why);
}

/* probe_cb - system-status style: a RequestSystemStatus every half
 * session_duration finds a switch that went silent without closing TCP */
static gboolean probe_cb(gpointer data)
{
	CtidLink *link = data;
	g_autofree char *xml = csta_build_request_system_status(link->ns);
	g_autoptr(GError) error = NULL;

	if (!send_request(link, xml, on_probe_reply, link, NULL, &error))
		log_warning("pbx: RequestSystemStatus: %s", error->message);
	return G_SOURCE_CONTINUE;
}

static void on_register_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	CtidLink *link = data;

	if (reply == NULL) {
		g_autofree char *why = g_strdup_printf("SystemRegister: %s", error->message);

		link_drop(link, why);
		return;
	}
	if (reply->kind == CSTA_MSG_ERROR)
		log_warning(
		    "pbx: SystemRegister refused (%s %s); relying on the switch's SystemStatus",
		    reply->error_class, reply->error_value);
	link->reset_id =
	    g_timeout_add_seconds(MAX(link->config->session_duration / 2, 1), probe_cb, link);
	link_set_up(link);
}

static gboolean handshake_timeout_cb(gpointer data)
{
	CtidLink *link = data;

	link->handshake_id = 0;
	link_drop(link, "no answer to the session handshake");
	return G_SOURCE_REMOVE;
}

static void link_begin_session(CtidLink *link)
{
	const CtiConfig *c = link->config;
	g_autofree char *xml = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok = FALSE;

	link->state = LINK_STARTING;
	link->handshake_id =
	    g_timeout_add_seconds(LINK_HANDSHAKE_TIMEOUT_S, handshake_timeout_cb, link);
	switch (c->session_style) {
	case CTI_SESSION_ECMA354:
		xml = csta_build_start_session(c->application_id, c->pbx_user, c->pbx_password,
		                               c->protocol_version, c->session_duration);
		ok = send_request(link, xml, on_session_reply, link, NULL, &error);
		break;
	case CTI_SESSION_SYSTEM_STATUS:
		xml = csta_build_system_register(link->ns);
		ok = send_request(link, xml, on_register_reply, link, NULL, &error);
		break;
	}
	if (!ok)
		link_drop(link, error->message);
}

/* ---- input ---- */

static void answer_system_status(CtidLink *link, int invoke, const CstaMessage *msg)
{
	g_autofree char *xml = csta_build_system_status_response(link->ns);
	g_autoptr(GError) error = NULL;

	log_debug("pbx: SystemStatus %s (invoke %04d) answered",
	          msg->system_status ? msg->system_status : "?", invoke);
	if (!send_frame(link, invoke, xml, &error))
		log_warning("pbx: SystemStatusResponse: %s", error->message);
}

static void handle_response(CtidLink *link, int invoke, const CstaMessage *msg)
{
	LinkPending *p = NULL;

	if (!g_hash_table_steal_extended(link->pending, GINT_TO_POINTER(invoke), NULL,
	                                 (gpointer *)&p)) {
		log_warning("pbx: %s with invoke id %04d matches no request; ignored", msg->root,
		            invoke);
		return;
	}
	csta_invoke_release(link->ids, invoke);
	p->cb(msg, NULL, p->data);
	pending_free(p);
}

/* handle_message - FALSE when the link was dropped */
static gboolean handle_message(CtidLink *link, int invoke, const CstaMessage *msg)
{
	switch (msg->kind) {
	case CSTA_MSG_SYSTEM_STATUS:
		answer_system_status(link, invoke, msg);
		return TRUE;
	case CSTA_MSG_SESSION_TERMINATED: {
		g_autofree char *why =
		    g_strdup_printf("session terminated by the switch: %s",
		                    msg->error_value ? msg->error_value : "no reason");

		link_drop(link, why);
		return FALSE;
	}
	case CSTA_MSG_UNKNOWN:
		if (invoke == CSTA_EVENT_INVOKE) {
			log_debug("pbx: event %s ignored", msg->root);
			return TRUE;
		}
		break;
	case CSTA_MSG_SERVICE_INITIATED:
	case CSTA_MSG_ORIGINATED:
	case CSTA_MSG_DELIVERED:
	case CSTA_MSG_ESTABLISHED:
	case CSTA_MSG_FAILED:
	case CSTA_MSG_CONNECTION_CLEARED:
	case CSTA_MSG_CALL_CLEARED:
	case CSTA_MSG_HELD:
	case CSTA_MSG_RETRIEVED:
	case CSTA_MSG_CONFERENCED:
	case CSTA_MSG_TRANSFERRED:
	case CSTA_MSG_DIVERTED:
	case CSTA_MSG_ROUTE_REQUEST: /* switch-originated, answered by RouteSelect/RouteEnd */
	case CSTA_MSG_ROUTE_END:
	case CSTA_MSG_ROUTE_USED:
		if (link->state == LINK_UP)
			link->hooks.event(msg, link->hooks_data);
		return link->sock != NULL;
	case CSTA_MSG_START_SESSION_POS:
	case CSTA_MSG_START_SESSION_NEG:
	case CSTA_MSG_RESET_TIMER_POS:
	case CSTA_MSG_RESET_TIMER_NEG:
	case CSTA_MSG_STOP_SESSION_POS:
	case CSTA_MSG_SYSTEM_STATUS_RESPONSE:
	case CSTA_MSG_SYSTEM_REGISTER_RESPONSE:
	case CSTA_MSG_REQUEST_SYSTEM_STATUS_RESPONSE:
	case CSTA_MSG_MAKE_CALL_RESPONSE:
	case CSTA_MSG_MONITOR_START_RESPONSE:
	case CSTA_MSG_MONITOR_STOP_RESPONSE:
	case CSTA_MSG_CLEAR_CONNECTION_RESPONSE:
	case CSTA_MSG_HOLD_CALL_RESPONSE:
	case CSTA_MSG_RETRIEVE_CALL_RESPONSE:
	case CSTA_MSG_CONSULTATION_CALL_RESPONSE:
	case CSTA_MSG_CONFERENCE_CALL_RESPONSE:
	case CSTA_MSG_SS_CONFERENCE_RESPONSE:
	case CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE:
	case CSTA_MSG_SNAPSHOT_CALL_RESPONSE:
	case CSTA_MSG_ROUTE_REGISTER_RESPONSE:
	case CSTA_MSG_ROUTE_REGISTER_CANCEL_RESPONSE:
	case CSTA_MSG_SET_FORWARDING_RESPONSE:
	case CSTA_MSG_ERROR:
		break;
	}
	handle_response(link, invoke, msg);
	return link->sock != NULL;
}

/* handle_frame - FALSE when the link was dropped */
static gboolean handle_frame(CtidLink *link, int invoke, GBytes *body)
{
	gsize len;
	const char *xml = g_bytes_get_data(body, &len);
	g_autoptr(GError) error = NULL;
	g_autoptr(CstaMessage) msg = csta_message_parse(xml, (gssize)len, &error);

	log_debug("pbx: rx %04d %.*s", invoke, (int)len, xml);
	if (msg == NULL) {
		/* a bad body in a good frame: the stream is intact, so report and go on,
		 * but a request waiting for this invoke id must hear about it */
		log_warning("pbx: undecodable frame (invoke %04d): %s", invoke, error->message);
		if (invoke != CSTA_EVENT_INVOKE &&
		    g_hash_table_contains(link->pending, GINT_TO_POINTER(invoke))) {
			LinkPending *p = NULL;

			g_hash_table_steal_extended(link->pending, GINT_TO_POINTER(invoke), NULL,
			                            (gpointer *)&p);
			csta_invoke_release(link->ids, invoke);
			p->cb(NULL, error, p->data);
			pending_free(p);
		}
		return link->sock != NULL;
	}
	return handle_message(link, invoke, msg);
}

static gboolean on_readable(GObject *stream, gpointer data)
{
	CtidLink *link = data;
	char buf[16384];
	g_autoptr(GError) error = NULL;
	gssize n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(stream), buf,
	                                                    sizeof buf, NULL, &error);
	int invoke;
	GBytes *body;

	if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		link->in_id = 0; /* returning REMOVE below */
		link_drop(link, n == 0 ? "connection closed by the PBX" : error->message);
		return G_SOURCE_REMOVE;
	}
	csta_decoder_feed(link->dec, buf, (gsize)n);
	while (csta_decoder_next(link->dec, &invoke, &body, &error)) {
		gboolean alive = handle_frame(link, invoke, body);

		g_bytes_unref(body);
		if (!alive)
			return G_SOURCE_REMOVE; /* in_id was cleared by link_drop */
	}
	if (error != NULL) {
		link->in_id = 0;
		link_drop(link, error->message);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* ---- connect / drop / reconnect ---- */

static gboolean retry_cb(gpointer data)
{
	CtidLink *link = data;

	link->retry_id = 0;
	link_connect(link);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(CtidLink *link)
{
	link->state = LINK_IDLE;
	link->retry_id = g_timeout_add((guint)link->backoff_ms, retry_cb, link);
	link->backoff_ms = MIN(link->backoff_ms * 2, link->config->reconnect_max_ms);
}

static void fail_all_pending(CtidLink *link, const char *why)
{
	g_autoptr(GError) error =
	    g_error_new(G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "PBX link lost: %s", why);
	GList *all = g_hash_table_get_values(link->pending);

	g_hash_table_steal_all(link->pending);
	for (GList *l = all; l != NULL; l = l->next) {
		LinkPending *p = l->data;

		p->cb(NULL, error, p->data);
		pending_free(p);
	}
	g_list_free(all);
}

static void notify_stopped(CtidLink *link)
{
	if (link->stopped != NULL && !link->stopped_called) {
		link->stopped_called = TRUE;
		link->stopped(link->stopped_data);
	}
}

/* link_drop - close the connection, fail what was pending, tell the hooks, reconnect later */
static void link_drop(CtidLink *link, const char *why)
{
	gboolean was_up = link->state == LINK_UP;
	LinkState before = link->state;

	if (link->sock == NULL && link->state != LINK_CONNECTING)
		return;
	set_error(link, why);
	link_close_socket(link);
	link->since = g_get_real_time() / G_USEC_PER_SEC;
	if (before == LINK_STOPPING || before == LINK_CLOSED) {
		link->state = LINK_CLOSED;
		fail_all_pending(link, why);
		notify_stopped(link);
		return;
	}
	schedule_reconnect(link);
	log_warning("pbx: link to %s:%d down: %s; reconnecting in %d ms", link->config->pbx_host,
	            link->config->pbx_port, why, link->backoff_ms);
	fail_all_pending(link, why);
	if (was_up)
		link->hooks.down(link->hooks_data);
}

/* connect_failed - TCP or TLS could not be set up: say why, try again later */
static void connect_failed(CtidLink *link, const char *what, const GError *error)
{
	g_clear_object(&link->cancel);
	if (link->conn != NULL)
		g_io_stream_close(link->conn, NULL, NULL);
	g_clear_object(&link->conn);
	set_error(link, error->message);
	log_warning("pbx: %s %s:%d: %s", what, link->config->pbx_host, link->config->pbx_port,
	            error->message);
	schedule_reconnect(link);
}

/* link_ready - STREAM (transfer full) to the PBX is open, TCP or TLS verified over
 * TCP, whose socket is SOCK: start the session */
static void link_ready(CtidLink *link, GIOStream *stream, GSocket *sock)
{
	GPollableInputStream *in = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(stream));

	g_clear_object(&link->cancel);
	link->conn = stream;
	link->sock = sock;
	g_socket_set_blocking(link->sock, FALSE);
	/* the client's I/O timeout bounds connect and TLS handshake; an idle session is
	 * watched by the keepalive instead (a socket timeout would fire the sources) */
	g_socket_set_timeout(link->sock, 0);
	link->in_id =
	    add_source(g_pollable_input_stream_create_source(in, NULL), on_readable, link);
	log_info("pbx: connected to %s:%d%s", link->config->pbx_host, link->config->pbx_port,
	         link->tls ? " over TLS, certificate verified" : "");
	link_begin_session(link);
}

static void on_tls_done(GObject *source, GAsyncResult *res, gpointer data)
{
	CtidLink *link = data;
	g_autoptr(GError) error = NULL;
	GIOStream *tls = link_tls_handshake_finish(res, &error);
	GSocket *sock;

	if (tls == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return; /* link freed or shut down: LINK may be gone */
		connect_failed(link, "no TLS session with", error);
		return;
	}
	/* the TCP connection, now TLS's base stream, which keeps it and its socket */
	sock = g_socket_connection_get_socket(G_SOCKET_CONNECTION(link->conn));
	g_clear_object(&link->conn);
	link_ready(link, tls, sock);
}

static void on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
	CtidLink *link = data;
	g_autoptr(GError) error = NULL;
	GSocketConnection *conn =
	    g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), res, &error);

	if (conn == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			return; /* link freed or shut down: LINK may be gone */
		connect_failed(link, "cannot connect to", error);
		return;
	}
	if (link->tls == NULL) {
		link_ready(link, G_IO_STREAM(conn), g_socket_connection_get_socket(conn));
		return;
	}
	/* held here so that a shutdown during the handshake closes it */
	link->conn = G_IO_STREAM(conn);
	link_tls_handshake_async(link->tls, link->conn, link->cancel, on_tls_done, link);
}

static void link_connect(CtidLink *link)
{
	link->state = LINK_CONNECTING;
	link->cancel = g_cancellable_new();
	g_socket_client_connect_to_host_async(link->client, link->config->pbx_host,
	                                      (guint16)link->config->pbx_port, link->cancel,
	                                      on_connected, link);
}

/* link_start - begin connecting */
void link_start(CtidLink *link)
{
	g_return_if_fail(link->state == LINK_CLOSED);
	link_connect(link);
}

/* link_kick - when waiting to reconnect, try now */
void link_kick(CtidLink *link)
{
	if (link->state != LINK_IDLE)
		return;
	g_clear_handle_id(&link->retry_id, g_source_remove);
	link->backoff_ms = link->config->reconnect_min_ms;
	link_connect(link);
}

static gboolean stop_timeout_cb(gpointer data)
{
	CtidLink *link = data;

	link->reset_id = 0;
	link_drop(link, "shut down");
	return G_SOURCE_REMOVE;
}

static void on_stop_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	CtidLink *link = data;

	if (link->state == LINK_STOPPING)
		link_drop(link, "session stopped");
}

/* link_shutdown - end the session politely, then call DONE once */
void link_shutdown(CtidLink *link, void (*done)(gpointer data), gpointer data)
{
	gboolean polite = link->state == LINK_UP && link->session_id != NULL;
	LinkState before = link->state;

	link->stopped = done;
	link->stopped_data = data;
	g_clear_handle_id(&link->retry_id, g_source_remove);
	link->state = LINK_STOPPING;
	if (polite) {
		g_autofree char *xml = csta_build_stop_session(link->session_id);

		g_clear_handle_id(&link->reset_id, g_source_remove);
		if (send_request(link, xml, on_stop_reply, link, NULL, NULL)) {
			link->reset_id = g_timeout_add(LINK_STOP_TIMEOUT_MS, stop_timeout_cb, link);
			return;
		}
	}
	if (before != LINK_IDLE && before != LINK_CLOSED)
		set_error(link, "shut down");
	link_close_socket(link);
	link->state = LINK_CLOSED;
	fail_all_pending(link, "shut down");
	notify_stopped(link);
}

/* link_is_up - TRUE when the session is established */
gboolean link_is_up(const CtidLink *link)
{
	return link->state == LINK_UP;
}

/* link_namespace - the CSTA namespace for requests */
const char *link_namespace(const CtidLink *link)
{
	return link->ns;
}

/* link_status - add Link, Session-Style, Link-Since, Last-Error, Link-Reconnects to REPLY */
void link_status(const CtidLink *link, CtiIpcFrame *reply)
{
	g_autoptr(GDateTime) since = g_date_time_new_from_unix_utc(link->since);
	g_autofree char *iso = g_date_time_format_iso8601(since);

	ipc_frame_add(reply, "Link", link->state == LINK_UP ? "up" : "down");
	ipc_frame_add(reply, "Session-Style",
	              link->config->session_style == CTI_SESSION_ECMA354 ? "ecma354"
	                                                                 : "system-status");
	ipc_frame_add(reply, "Link-Since", iso);
	ipc_frame_add(reply, "Last-Error", link->last_error ? link->last_error : "");
	ipc_frame_addf(reply, "Link-Reconnects", "%u", link->ups > 0 ? link->ups - 1 : 0);
	if (link->session_id != NULL)
		ipc_frame_add(reply, "Session-Id", link->session_id);
}
