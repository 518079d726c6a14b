/* session.c - the CSTA side of pbx-sim: one SessClient per TCP connection
 * (or TLS connection over it, simtls.c).
 *
 * Owns the listening socket and every client: its input and output buffers,
 * its namespace (answers go out in the namespace the client used), its
 * ECMA-354 application session and timer, and its SystemStatus heartbeat
 * state.  Frames are decoded here, logged, and handed to the session table
 * below or to services_dispatch().  A client that sends a bad frame, misses K
 * heartbeats, lets its session expire, stops reading (16 MiB of unsent output)
 * or hangs up is dropped; model_client_gone() then releases its monitors, lines
 * and route registrations.  Drops that are noticed while the model is sending
 * events are deferred to the main loop, and clients are freed from an idle
 * callback, so that no handler ever sees a freed client or monitor.
 */
#include "session.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model.h"
#include "services.h"
#include "simlog.h"
#include "simtls.h"
#include "wire.h"

/* A client that stops reading is dropped rather than buffered without bound. */
#define SESS_MAX_BACKLOG (16u << 20)

struct SessClient {
	GIOStream *stream; /* the TCP connection or the TLS one over it */
	GSocket *sock;     /* the TCP socket under STREAM */
	char *peer;
	guint in_src, out_src, hb_src, sess_src, reap_src, drop_src;
	GByteArray *in, *out;
	char *ns;
	char *session_id;       /* ECMA-354 session, NULL when none */
	double session_duration;
	char *sys_reg_id;       /* set by SystemRegister; sent in heartbeats */
	int missed;             /* SystemStatus requests not yet answered */
	guint next_invoke;
	gboolean closing, dead;
};

static struct {
	GSocket *listener;
	guint listen_src;
	GList *clients;
	GList *dead; /* dropped clients waiting for reap() */
	const SimConf *conf;
	SessStyle style;
	const char *default_ns;
	guint next_session;
} srv;

static void client_drop(SessClient *c, const char *reason);
static void heartbeat_arm(SessClient *c);

/* session_exists - TRUE while C is a live client */
gboolean
session_exists(const SessClient *c)
{
	return g_list_find(srv.clients, c) != NULL && !c->dead;
}

/* session_ns - the CSTA namespace to use towards C */
const char *
session_ns(const SessClient *c)
{
	return c->ns;
}

/* session_peer - "127.0.0.1:port" of C, for logs */
const char *
session_peer(const SessClient *c)
{
	return c->peer;
}

static guint
add_source(GSource *src, GPollableSourceFunc fn, SessClient *c)
{
	g_source_set_callback(src, (GSourceFunc)(void (*)(void))fn, c, NULL);
	guint id = g_source_attach(src, NULL);
	g_source_unref(src);
	return id;
}

static gboolean
on_writable(GObject *stream, gpointer data)
{
	SessClient *c = data;
	while (c->out->len > 0) {
		g_autoptr(GError) err = NULL;
		gssize n = g_pollable_output_stream_write_nonblocking(
			G_POLLABLE_OUTPUT_STREAM(stream), c->out->data, c->out->len, NULL, &err);
		if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
			return G_SOURCE_CONTINUE;
		if (n <= 0) {
			c->out_src = 0;
			client_drop(c, "write failed");
			return G_SOURCE_REMOVE;
		}
		g_byte_array_remove_range(c->out, 0, (guint)n);
	}
	c->out_src = 0;
	if (c->closing)
		client_drop(c, "closed by pbx-sim");
	return G_SOURCE_REMOVE;
}

static void
flush(SessClient *c)
{
	if (c->out_src == 0 && !c->dead)
		c->out_src = add_source(g_pollable_output_stream_create_source(
						G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(c->stream)),
						NULL),
					on_writable, c);
}

static gboolean
drop_backlogged(gpointer data)
{
	SessClient *c = data;
	c->drop_src = 0;
	client_drop(c, "client does not read (output backlog)");
	return G_SOURCE_REMOVE;
}

/* session_send - frame XML with INVOKE, queue it to C and log it as tx ROOT */
void
session_send(SessClient *c, const char *invoke, const char *root, const GString *xml)
{
	g_autoptr(GError) err = NULL;
	if (c->dead || c->drop_src != 0)
		return;
	if (!wire_encode(c->out, invoke, xml->str, xml->len, &err)) {
		g_printerr("pbx-sim: not sent to %s: %s\n", c->peer, err->message);
		return;
	}
	simlog_tx(root, invoke, xml->str, xml->len);
	/* Dropped from the loop, not here: callers may be walking the monitors. */
	if (c->out->len > SESS_MAX_BACKLOG && c->drop_src == 0)
		c->drop_src = g_idle_add_full(G_PRIORITY_HIGH, drop_backlogged, c, NULL);
	flush(c);
}

/* session_request - send a switch-originated request with a fresh invoke id (9000..9998) */
void
session_request(SessClient *c, const char *root, const GString *xml)
{
	char invoke[8];
	g_snprintf(invoke, sizeof invoke, "%04u", 9000 + c->next_invoke);
	c->next_invoke = (c->next_invoke + 1) % 999;
	session_send(c, invoke, root, xml);
}

/* sess_begin_client - a new message body for C: root start tag in C's namespace */
GString *
sess_begin_client(SessClient *c, const char *root)
{
	GString *xml = g_string_sized_new(512);
	xml_open_root(xml, root, c->ns);
	return xml;
}

/* sess_begin - start a response to R in R's client's namespace */
GString *
sess_begin(SessReq *r, const char *root)
{
	return sess_begin_client(r->client, root);
}

/* sess_end - close the root element */
void
sess_end(GString *xml, const char *root)
{
	xml_close(xml, root);
}

static const char *
root_name(const GString *xml)
{
	/* "<Name xmlns=..." or "<p:Name xmlns:p=...": the local name ends at the
	 * first space, '>' or '/'; the log records it without a prefix. */
	static char name[64];
	const char *start = xml->str + 1;
	gsize n = strcspn(start, " />");
	const char *colon = memchr(start, ':', n);
	if (colon != NULL) {
		n -= (gsize)(colon + 1 - start);
		start = colon + 1;
	}
	n = MIN(n, sizeof name - 1);
	memcpy(name, start, n);
	name[n] = '\0';
	return name;
}

/* sess_reply - send XML as the answer to R (same invoke id) */
void
sess_reply(SessReq *r, const GString *xml)
{
	g_return_if_fail(!r->answered);
	r->answered = TRUE;
	session_send(r->client, r->invoke, root_name(xml), xml);
}

/* sess_reply_empty - answer R with an empty ROOT element */
void
sess_reply_empty(SessReq *r, const char *root)
{
	g_autoptr(GString) xml = g_string_new(NULL);
	xml_empty_root(xml, root, r->client->ns);
	sess_reply(r, xml);
}

/* sess_error - answer R with CSTAErrorCode <CATEGORY>VALUE</CATEGORY> */
void
sess_error(SessReq *r, const char *category, const char *value)
{
	g_autoptr(GString) xml = sess_begin(r, "CSTAErrorCode");
	xml_leaf(xml, category, value);
	sess_end(xml, "CSTAErrorCode");
	sess_reply(r, xml);
}

static void
reply_354(SessReq *r, const char *root, const GString *children)
{
	g_autoptr(GString) xml = g_string_new(NULL);
	if (children == NULL || children->len == 0) {
		xml_empty_root(xml, root, NS_354);
	} else {
		xml_open_root(xml, root, NS_354);
		g_string_append_len(xml, children->str, children->len);
		xml_close(xml, root);
	}
	sess_reply(r, xml);
}

static void
send_system_status(SessClient *c)
{
	g_autoptr(GString) xml = sess_begin_client(c, "SystemStatus");
	if (c->sys_reg_id != NULL)
		xml_leaf(xml, "sysStatRegisterID", c->sys_reg_id);
	xml_leaf(xml, "systemStatus", "normal");
	sess_end(xml, "SystemStatus");
	c->missed++;
	session_request(c, "SystemStatus", xml);
}

static gboolean
on_heartbeat(gpointer data)
{
	SessClient *c = data;
	if (c->missed >= srv.conf->heartbeat_max_missed) {
		g_autofree char *n = g_strdup_printf("%d", c->missed);
		simlog_kv("session", "event", "heartbeat-missed", "peer", c->peer, "#missed", n, NULL);
		c->hb_src = 0;
		client_drop(c, "heartbeats unanswered");
		return G_SOURCE_REMOVE;
	}
	send_system_status(c);
	return G_SOURCE_CONTINUE;
}

/* Heartbeats go to clients in system-status style: those without an ECMA-354 session. */
static void
heartbeat_arm(SessClient *c)
{
	gboolean want = srv.style != SESS_STYLE_ECMA354 && c->session_id == NULL &&
			srv.conf->heartbeat_interval > 0;
	if (want && c->hb_src == 0)
		c->hb_src = g_timeout_add((guint)(srv.conf->heartbeat_interval * 1000), on_heartbeat, c);
	else if (!want)
		g_clear_handle_id(&c->hb_src, g_source_remove);
}

static gboolean
on_session_expired(gpointer data)
{
	SessClient *c = data;
	c->sess_src = 0;
	g_autoptr(GString) xml = g_string_new(NULL);
	xml_open_root(xml, "ApplicationSessionTerminated", NS_354);
	xml_leaf(xml, "sessionID", c->session_id);
	xml_open(xml, "sessionTermReason");
	xml_leaf(xml, "definedTermReason", "sessionTimerExpired");
	xml_close(xml, "sessionTermReason");
	xml_close(xml, "ApplicationSessionTerminated");
	session_send(c, WIRE_EVENT_INVOKE, "ApplicationSessionTerminated", xml);
	simlog_kv("session", "event", "session-expired", "peer", c->peer, "session", c->session_id, NULL);
	g_clear_pointer(&c->session_id, g_free);
	model_client_gone(c);
	c->closing = TRUE;
	flush(c);
	return G_SOURCE_REMOVE;
}

static void
session_timer_arm(SessClient *c)
{
	g_clear_handle_id(&c->sess_src, g_source_remove);
	if (c->session_id != NULL && c->session_duration > 0)
		c->sess_src = g_timeout_add((guint)(c->session_duration * 1000), on_session_expired, c);
}

static const char *
supported_version(const char *uri)
{
	static const char *const versions[] = {
		NS_ED2, NS_CSTA_PREFIX "3", NS_CSTA_PREFIX "4", NS_CSTA_PREFIX "5", NS_CSTA_PREFIX "6",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(versions); i++)
		if (uri != NULL && strcmp(uri, versions[i]) == 0)
			return versions[i];
	return NULL;
}

static double
duration_granted(const char *requested)
{
	double d = 180;
	if (requested != NULL && *requested != '\0') {
		char *end = NULL;
		double v = g_ascii_strtod(requested, &end);
		if (end != requested && *end == '\0' && v > 0)
			d = v;
	}
	return MIN(MAX(d, 1), srv.conf->session_max);
}

static const char *
first_supported(XmlNode *versions)
{
	for (guint i = 0; versions != NULL && i < versions->children->len; i++) {
		const char *v = supported_version(xml_text(g_ptr_array_index(versions->children, i)));
		if (v != NULL)
			return v;
	}
	return NULL;
}

static void
neg_response(SessReq *r, const char *root, const char *defined)
{
	g_autoptr(GString) body = g_string_new(NULL);
	xml_open(body, "errorCode");
	xml_leaf(body, "definedError", defined);
	xml_close(body, "errorCode");
	reply_354(r, root, body);
}

/* The login in applicationSpecificInfo: <user>/<password> (OpenScape style) or
 * SessionLoginInfo/<userName>/<password> (Avaya style). */
static gboolean
login_ok(XmlNode *app_info)
{
	const SimConf *conf = srv.conf;
	if (conf->user == NULL && conf->password == NULL)
		return TRUE;
	XmlNode *spec = xml_child(app_info, "applicationSpecificInfo");
	XmlNode *avaya = xml_child(spec, "SessionLoginInfo");
	const char *user = avaya ? xml_child_text(avaya, "userName") : xml_child_text(spec, "user");
	const char *pass = xml_child_text(avaya ? avaya : spec, "password");
	return g_strcmp0(user, conf->user ? conf->user : user) == 0 &&
	       g_strcmp0(pass, conf->password ? conf->password : pass) == 0 && user != NULL;
}

static void
sess_start(SessReq *r)
{
	SessClient *c = r->client;
	XmlNode *app_info = xml_child(r->req, "applicationInfo");
	if (app_info == NULL || !login_ok(app_info)) {
		neg_response(r, "StartApplicationSessionNegResponse", "invalidApplicationInfo");
		return;
	}
	XmlNode *versions = xml_child(r->req, "requestedProtocolVersions");
	const char *version = versions ? first_supported(versions) : c->ns;
	if (version == NULL) {
		neg_response(r, "StartApplicationSessionNegResponse", "requestedProtocolVersionNotSupported");
		return;
	}
	g_free(c->ns);
	c->ns = g_strdup(version);
	g_free(c->session_id);
	c->session_id = g_strdup_printf("%09u", ++srv.next_session);
	c->session_duration =
		duration_granted(xml_child_text(r->req, "requestedSessionDuration"));
	g_autoptr(GString) body = g_string_new(NULL);
	xml_leaf(body, "sessionID", c->session_id);
	xml_leaf(body, "actualProtocolVersion", version);
	g_autofree char *dur = g_strdup_printf("%.0f", c->session_duration);
	xml_leaf(body, "actualSessionDuration", dur);
	reply_354(r, "StartApplicationSessionPosResponse", body);
	simlog_kv("session", "event", "session-start", "peer", c->peer, "session", c->session_id,
		  "version", version, "#duration", dur, NULL);
	session_timer_arm(c);
	heartbeat_arm(c);
}

static gboolean
session_matches(SessReq *r, const char *neg_root)
{
	const char *id = xml_child_text(r->req, "sessionID");
	if (r->client->session_id != NULL && g_strcmp0(id, r->client->session_id) == 0)
		return TRUE;
	neg_response(r, neg_root, "invalidSessionID");
	return FALSE;
}

static void
sess_reset(SessReq *r)
{
	SessClient *c = r->client;
	if (!session_matches(r, "ResetApplicationSessionTimerNegResponse"))
		return;
	c->session_duration =
		duration_granted(xml_child_text(r->req, "requestedSessionDuration"));
	g_autoptr(GString) body = g_string_new(NULL);
	g_autofree char *dur = g_strdup_printf("%.0f", c->session_duration);
	xml_leaf(body, "actualSessionDuration", dur);
	reply_354(r, "ResetApplicationSessionTimerPosResponse", body);
	session_timer_arm(c);
}

static void
sess_stop(SessReq *r)
{
	SessClient *c = r->client;
	if (!session_matches(r, "StopApplicationSessionNegResponse"))
		return;
	reply_354(r, "StopApplicationSessionPosResponse", NULL);
	simlog_kv("session", "event", "session-stop", "peer", c->peer, "session", c->session_id, NULL);
	g_clear_pointer(&c->session_id, g_free);
	session_timer_arm(c);
	model_client_gone(c);
	heartbeat_arm(c);
}

static void
sess_system_register(SessReq *r)
{
	SessClient *c = r->client;
	if (c->sys_reg_id == NULL)
		c->sys_reg_id = g_strdup_printf("%u", ++srv.next_session);
	g_autoptr(GString) xml = sess_begin(r, "SystemRegisterResponse");
	xml_leaf(xml, "sysStatRegisterID", c->sys_reg_id);
	sess_end(xml, "SystemRegisterResponse");
	sess_reply(r, xml);
}

static void
sess_system_status_response(SessReq *r)
{
	r->client->missed = 0;
	r->answered = TRUE; /* a response: nothing goes back */
}

static void
sess_system_status(SessReq *r)
{
	sess_reply_empty(r, "SystemStatusResponse");
}

static void
sess_request_system_status(SessReq *r)
{
	g_autoptr(GString) xml = sess_begin(r, "RequestSystemStatusResponse");
	xml_leaf(xml, "systemStatus", "normal");
	sess_end(xml, "RequestSystemStatusResponse");
	sess_reply(r, xml);
}

typedef struct {
	const char *name;
	void (*handle)(SessReq *r);
	gboolean ecma354; /* part of ECMA-354 (refused in system-status style) */
} SessRow;

static const SessRow sess_rows[] = {
	{ "StartApplicationSession", sess_start, TRUE },
	{ "ResetApplicationSessionTimer", sess_reset, TRUE },
	{ "StopApplicationSession", sess_stop, TRUE },
	{ "SystemRegister", sess_system_register, FALSE },
	{ "SystemStatusResponse", sess_system_status_response, FALSE },
	{ "SystemStatus", sess_system_status, FALSE },
	{ "RequestSystemStatus", sess_request_system_status, FALSE },
};

static gboolean
session_dispatch(SessReq *r)
{
	for (gsize i = 0; i < G_N_ELEMENTS(sess_rows); i++) {
		if (strcmp(sess_rows[i].name, r->req->name) != 0)
			continue;
		if (sess_rows[i].ecma354 && srv.style == SESS_STYLE_SYSTEM_STATUS)
			sess_error(r, "operation", "serviceNotSupported");
		else
			sess_rows[i].handle(r);
		return TRUE;
	}
	return FALSE;
}

static void
flatten_args(GString *json, GHashTable *seen, XmlNode *node, const char *prefix)
{
	for (guint i = 0; i < node->children->len; i++) {
		XmlNode *ch = g_ptr_array_index(node->children, i);
		g_autofree char *key = prefix ? g_strconcat(prefix, ".", ch->name, NULL) : g_strdup(ch->name);
		if (!xml_is_leaf(ch)) {
			flatten_args(json, seen, ch, key);
			continue;
		}
		if (g_hash_table_contains(seen, key))
			continue;
		g_hash_table_add(seen, g_strdup(key));
		g_string_append(json, json->len > 1 ? "," : "");
		simlog_json_str(json, key);
		g_string_append_c(json, ':');
		simlog_json_str(json, xml_text(ch));
	}
}

static void
log_rx(const char *invoke, XmlNode *root, const char *xml, gsize len)
{
	g_autoptr(GString) args = g_string_new("{");
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (root != NULL)
		flatten_args(args, seen, root, NULL);
	g_string_append_c(args, '}');
	simlog_rx(root ? root->name : "?", invoke, args, xml, len);
}

/* Answer in the edition the client uses: negotiated by ECMA-354, else that of its
 * latest request (responses such as SystemStatusResponse do not count). */
static void
adopt_namespace(SessClient *c, const XmlNode *root)
{
	if (c->session_id == NULL && !g_str_has_suffix(root->name, "Response") && root->ns != NULL && (g_str_has_prefix(root->ns, NS_CSTA_PREFIX) ||
				 strcmp(root->ns, NS_ED2) == 0) &&
	    strcmp(root->ns, c->ns) != 0) {
		g_free(c->ns);
		c->ns = g_strdup(root->ns);
	}
}

static gboolean
needs_session(const SessClient *c, const XmlNode *root)
{
	if (srv.style != SESS_STYLE_ECMA354 || c->session_id != NULL)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(sess_rows); i++)
		if (strcmp(sess_rows[i].name, root->name) == 0)
			return FALSE;
	return TRUE;
}

static void
handle_frame(SessClient *c, const WireFrame *f)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(XmlNode) root = xml_parse(f->body, f->body_len, &err);
	log_rx(f->invoke, root, f->body, f->body_len);
	SessReq r = { .client = c, .invoke = f->invoke, .req = root };
	if (root == NULL) {
		g_printerr("pbx-sim: %s: malformed XML: %s\n", c->peer, err->message);
		sess_error(&r, "operation", "invalidParameterValue");
		return;
	}
	adopt_namespace(c, root);
	if (needs_session(c, root))
		sess_error(&r, "operation", "securityViolation");
	else if (!session_dispatch(&r) && !services_dispatch(&r) && !r.answered)
		sess_error(&r, "operation", "serviceNotSupported");
}

static gboolean
on_readable(GObject *stream, gpointer data)
{
	SessClient *c = data;
	guint8 buf[65536];
	g_autoptr(GError) rerr = NULL;
	gssize n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(stream), buf,
							    sizeof buf, NULL, &rerr);
	if (n < 0 && g_error_matches(rerr, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		c->in_src = 0;
		client_drop(c, n == 0 ? "peer closed" : rerr->message);
		return G_SOURCE_REMOVE;
	}
	g_byte_array_append(c->in, buf, (guint)n);
	gsize used = 0;
	while (!c->dead && !c->closing) {
		WireFrame f;
		g_autoptr(GError) err = NULL;
		WireResult res = wire_decode(c->in->data + used, c->in->len - used, &f, &err);
		if (res == WIRE_NEED_MORE)
			break;
		if (res == WIRE_BAD) {
			g_printerr("pbx-sim: %s: %s\n", c->peer, err->message);
			c->in_src = 0;
			client_drop(c, err->message);
			return G_SOURCE_REMOVE;
		}
		handle_frame(c, &f);
		used += f.frame_len;
	}
	if (!c->dead)
		g_byte_array_remove_range(c->in, 0, (guint)used);
	return c->dead ? (c->in_src = 0, G_SOURCE_REMOVE) : G_SOURCE_CONTINUE;
}

static void
client_free(SessClient *c)
{
	g_clear_handle_id(&c->in_src, g_source_remove);
	g_clear_handle_id(&c->out_src, g_source_remove);
	g_clear_handle_id(&c->hb_src, g_source_remove);
	g_clear_handle_id(&c->sess_src, g_source_remove);
	g_clear_object(&c->stream);
	g_clear_object(&c->sock);
	g_byte_array_unref(c->in);
	g_byte_array_unref(c->out);
	g_free(c->peer);
	g_free(c->ns);
	g_free(c->session_id);
	g_free(c->sys_reg_id);
	g_free(c);
}

static gboolean
reap(gpointer data)
{
	SessClient *c = data;
	c->reap_src = 0;
	srv.dead = g_list_remove(srv.dead, c);
	client_free(c);
	return G_SOURCE_REMOVE;
}

static void
client_drop(SessClient *c, const char *reason)
{
	if (c->dead)
		return;
	c->dead = TRUE;
	simlog_kv("session", "event", "drop", "peer", c->peer, "reason", reason, NULL);
	srv.clients = g_list_remove(srv.clients, c);
	model_client_gone(c);
	g_clear_handle_id(&c->hb_src, g_source_remove);
	g_clear_handle_id(&c->sess_src, g_source_remove);
	g_clear_handle_id(&c->out_src, g_source_remove);
	g_clear_handle_id(&c->drop_src, g_source_remove);
	g_socket_shutdown(c->sock, TRUE, TRUE, NULL);
	srv.dead = g_list_prepend(srv.dead, c);
	c->reap_src = g_idle_add(reap, c);
}

/* client_new - a client on STREAM (transfer none), TCP or TLS over the TCP socket SOCK */
static void
client_new(GIOStream *stream, GSocket *sock, const char *peer)
{
	SessClient *c = g_new0(SessClient, 1);
	c->stream = g_object_ref(stream);
	c->sock = g_object_ref(sock);
	g_socket_set_blocking(c->sock, FALSE);
	c->peer = g_strdup(peer);
	c->in = g_byte_array_new();
	c->out = g_byte_array_new();
	c->ns = g_strdup(srv.default_ns);
	srv.clients = g_list_append(srv.clients, c);
	c->in_src = add_source(g_pollable_input_stream_create_source(
				       G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(stream)), NULL),
			       on_readable, c);
	simlog_kv("session", "event", "connect", "peer", c->peer, NULL);
	if (srv.style != SESS_STYLE_ECMA354)
		send_system_status(c);
	heartbeat_arm(c);
}

/* on_tls_ready - a TLS handshake ended; STREAM is NULL when it failed */
static void
on_tls_ready(GIOStream *stream, GSocket *sock, const char *peer)
{
	if (stream != NULL)
		client_new(stream, sock, peer);
}

static gboolean
on_accept(GSocket *listener, GIOCondition cond, gpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GSocket) sock = g_socket_accept(listener, NULL, &err);
	if (sock == NULL) {
		g_printerr("pbx-sim: accept: %s\n", err->message);
		return G_SOURCE_CONTINUE;
	}
	int one = 1;
	setsockopt(g_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	g_autoptr(GSocketAddress) addr = g_socket_get_remote_address(sock, NULL);
	g_autofree char *ip = addr ? g_inet_address_to_string(g_inet_socket_address_get_address(
						 G_INET_SOCKET_ADDRESS(addr)))
				   : g_strdup("?");
	g_autofree char *peer = g_strdup_printf(
		"%s:%u", ip, addr ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr)) : 0);
	g_autoptr(GSocketConnection) conn = g_socket_connection_factory_create_connection(sock);
	if (simtls_enabled())
		simtls_accept(conn, peer, on_tls_ready);
	else
		client_new(G_IO_STREAM(conn), sock, peer);
	return G_SOURCE_CONTINUE;
}

/* session_listen - listen on HOST:PORT (loopback only) */
gboolean
session_listen(const char *hostport, const SimConf *conf, SessStyle style, const char *default_ns,
	       GError **error)
{
	srv.conf = conf;
	srv.style = style;
	srv.default_ns = default_ns;
	g_autoptr(GSocketConnectable) conn = g_network_address_parse(hostport, 0, error);
	if (conn == NULL)
		return FALSE;
	const char *host = g_network_address_get_hostname(G_NETWORK_ADDRESS(conn));
	guint16 port = g_network_address_get_port(G_NETWORK_ADDRESS(conn));
	g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
	if (ia == NULL || !g_inet_address_get_is_loopback(ia)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "%s: listen address must be a loopback IP address", hostport);
		return FALSE;
	}
	g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, port);
	srv.listener = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_STREAM,
				    G_SOCKET_PROTOCOL_TCP, error);
	if (srv.listener == NULL || !g_socket_bind(srv.listener, sa, TRUE, error) ||
	    !g_socket_listen(srv.listener, error)) {
		g_prefix_error(error, "%s: ", hostport);
		g_clear_object(&srv.listener);
		return FALSE;
	}
	GSource *src = g_socket_create_source(srv.listener, G_IO_IN, NULL);
	g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_accept, NULL, NULL);
	srv.listen_src = g_source_attach(src, NULL);
	g_source_unref(src);
	return TRUE;
}

/* session_shutdown - close the listener and every client */
void
session_shutdown(void)
{
	g_clear_handle_id(&srv.listen_src, g_source_remove);
	if (srv.listener != NULL)
		g_socket_close(srv.listener, NULL);
	g_clear_object(&srv.listener);
	while (srv.clients != NULL) {
		SessClient *c = srv.clients->data;
		client_drop(c, "pbx-sim stopping");
	}
	/* The main loop has stopped: free the dropped clients now. */
	while (srv.dead != NULL) {
		SessClient *c = srv.dead->data;
		g_clear_handle_id(&c->reap_src, g_source_remove);
		reap(c);
	}
}
