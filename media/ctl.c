/* ctl - the control socket of cti-media and the registry of its sessions.
 *
 * Requests (one reply each, in order):
 *   CALL   To, [Line], Steps, [Ring-Timeout]  -> OK Session
 *   ARM    Line, Steps, [Ring-Timeout]        -> OK Session
 *   START  Session                            -> OK
 *   HANGUP Session                            -> OK
 *   STATUS                                    -> OK Lines, Line..., Sessions, Session...
 *   PING                                      -> OK
 * Bad input is REJECT with a Reason; nothing is started then.  Events of a
 * session go to the connection that created it; when that connection
 * closes, its sessions are hung up (cause "disconnected"), so no call
 * outlives its controller.  Writes are buffered and non-blocking: a slow
 * client never stalls the RTP clock.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <re.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "identity.h"
#include "log.h"
#include "steps.h"

#define CTL_MAX_BODY     0
#define CTL_RING_DEFAULT 30
#define CTL_ARM_DEFAULT  60
#define CTL_MAX_OUT      (4 * 1024 * 1024)

typedef struct Conn Conn;

struct Ctl {
	const CtiConfig *config;
	Ua *ua;
	int fd;
	GList *conns; /* Conn* */
	GQueue calls; /* Call*, oldest first */
	CtlPrepare prepare;
	gpointer data;
};

struct Conn {
	Ctl *ctl;
	int fd;
	CtiIpcDecoder *dec;
	GByteArray *out;
	gboolean dead;
};

static void conn_close(Conn *c);
static void on_conn_io(int flags, void *arg);

/* conn_flush - write what is buffered; FALSE when the peer is gone */
static gboolean conn_flush(Conn *c)
{
	while (c->out->len > 0) {
		ssize_t n = write(c->fd, c->out->data, c->out->len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0)
			return FALSE;
		g_byte_array_remove_range(c->out, 0, n);
	}
	return TRUE;
}

static void conn_send(Conn *c, const CtiIpcFrame *f)
{
	g_autoptr(GBytes) wire = NULL;
	gsize len;
	const guint8 *p;

	if (c->dead)
		return;
	wire = ipc_frame_encode(f);
	p = g_bytes_get_data(wire, &len);
	if (c->out->len + len > CTL_MAX_OUT) {
		log_warning("control client does not read its events: closing it");
		c->dead = TRUE;
		return;
	}
	g_byte_array_append(c->out, p, len);
	if (!conn_flush(c))
		c->dead = TRUE;
	else if (c->out->len > 0)
		fd_listen(c->fd, FD_READ | FD_WRITE, on_conn_io, c);
}

static void on_event(const CtiIpcFrame *event, gpointer owner)
{
	conn_send(owner, event);
}

static void on_gone(Call *call, gpointer data)
{
	Ctl *ctl = data;

	g_queue_remove(&ctl->calls, call);
}

static Call *find_call(Ctl *ctl, const char *id)
{
	for (GList *l = ctl->calls.head; id && l; l = l->next)
		if (strcmp(call_id(l->data), id) == 0)
			return l->data;
	return NULL;
}

static void reply(Conn *c, const char *verb, const char *reason)
{
	g_autoptr(CtiIpcFrame) f = ipc_frame_new(verb);

	if (reason)
		ipc_frame_add(f, "Reason", reason);
	conn_send(c, f);
}

/* ring_timeout - the Ring-Timeout field, or DEFAULT; -1 when bad */
static int ring_timeout(const CtiIpcFrame *req, int def)
{
	const char *v = ipc_frame_get(req, "Ring-Timeout");
	char *end;
	long n;

	if (v == NULL)
		return def;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 1 && n <= 600 ? (int)n : -1;
}

/* create - a new session of LINE with the request's Steps; replies */
static void create(Conn *c, const CtiIpcFrame *req, const char *line, const char *to, int def)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiIpcFrame) ok = ipc_frame_new("OK");
	int ring = ring_timeout(req, def);
	GPtrArray *steps;
	Call *call;

	if (ring < 0) {
		reply(c, "REJECT", "Ring-Timeout must be 1 to 600 seconds");
		return;
	}
	steps = steps_parse(ipc_frame_get(req, "Steps"), &error);
	if (steps == NULL) {
		reply(c, "REJECT", error->message);
		return;
	}
	call = call_new(c->ctl->ua, line, to, steps, ring, on_event, c, on_gone, c->ctl);
	call_set_spool_dir(call, c->ctl->config->media_spool_dir);
	g_queue_push_tail(&c->ctl->calls, call);
	ipc_frame_add(ok, "Session", call_id(call));
	conn_send(c, ok);
	log_info("session %s: %s line %s%s%s, %u steps", call_id(call), to ? "CALL" : "ARM", line,
	         to ? " to " : "", to ? to : "", steps->len);
	call_set_busy(call, TRUE);
	c->ctl->prepare(call, c->ctl->data);
}

static void do_call(Conn *c, const CtiIpcFrame *req)
{
	const char *to = ipc_frame_get(req, "To");
	const char *line = ipc_frame_get(req, "Line");
	g_auto(GStrv) lines = identity_split_list(c->ctl->config->media_lines);

	if (line == NULL)
		line = lines[0];
	if (to == NULL || (!g_str_has_prefix(to, "sip:") && !g_str_has_prefix(to, "sips:")) ||
	    strpbrk(to, " \t<>\"") != NULL)
		reply(c, "REJECT", "To must be a SIP URI (sip:user@host)");
	else if (line == NULL || ua_line(c->ctl->ua, line) == NULL)
		reply(c, "REJECT", "Line is not one of [media] lines");
	else
		create(c, req, line, to, CTL_RING_DEFAULT);
}

static void do_arm(Conn *c, const CtiIpcFrame *req)
{
	const char *line = ipc_frame_get(req, "Line");

	if (line == NULL || ua_line(c->ctl->ua, line) == NULL)
		reply(c, "REJECT", "Line is not one of [media] lines");
	else
		create(c, req, line, NULL, CTL_ARM_DEFAULT);
}

static void do_start(Conn *c, const CtiIpcFrame *req)
{
	Call *call = find_call(c->ctl, ipc_frame_get(req, "Session"));
	g_autoptr(GError) error = NULL;

	if (call == NULL)
		reply(c, "REJECT", "no such session");
	else if (!call_start(call, &error))
		reply(c, "REJECT", error->message);
	else
		reply(c, "OK", NULL);
}

static void do_hangup(Conn *c, const CtiIpcFrame *req)
{
	Call *call = find_call(c->ctl, ipc_frame_get(req, "Session"));

	if (call == NULL) {
		reply(c, "REJECT", "no such session");
		return;
	}
	reply(c, "OK", NULL);
	call_hangup(call, "hangup");
}

static void do_status(Conn *c, const CtiIpcFrame *req)
{
	g_autoptr(CtiIpcFrame) f = ipc_frame_new("OK");

	ua_status(c->ctl->ua, f);
	ipc_frame_addf(f, "Sessions", "%u", c->ctl->calls.length);
	for (GList *l = c->ctl->calls.head; l; l = l->next)
		ipc_frame_addf(f, "Session", "%s %s %s", call_id(l->data), call_state_name(l->data),
		               call_line(l->data));
	conn_send(c, f);
}

static void do_ping(Conn *c, const CtiIpcFrame *req)
{
	reply(c, "OK", NULL);
}

static const struct {
	const char *verb;
	void (*handle)(Conn *c, const CtiIpcFrame *req);
} verbs[] = {
    {"CALL", do_call},     {"ARM", do_arm},       {"START", do_start},
    {"HANGUP", do_hangup}, {"STATUS", do_status}, {"PING", do_ping},
};

static void dispatch(Conn *c, const CtiIpcFrame *req)
{
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
		if (strcmp(req->verb, verbs[i].verb) == 0) {
			verbs[i].handle(c, req);
			return;
		}
	}
	reply(c, "REJECT", "unknown verb");
}

static void on_conn_io(int flags, void *arg)
{
	Conn *c = arg;
	g_autoptr(GError) error = NULL;
	guint8 buf[8192];
	ssize_t n = 0;

	if (flags & FD_READ) {
		n = read(c->fd, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			c->dead = TRUE;
	}
	if (n > 0 && !ipc_decoder_feed(c->dec, buf, n, &error)) {
		log_warning("control client: %s", error->message);
		c->dead = TRUE;
	}
	while (!c->dead) {
		g_autoptr(CtiIpcFrame) req = NULL;

		if (!ipc_decoder_next(c->dec, &req, &error)) {
			log_warning("control client: %s", error->message);
			c->dead = TRUE;
		}
		if (req == NULL)
			break;
		dispatch(c, req);
	}
	if (!c->dead && !conn_flush(c))
		c->dead = TRUE;
	if (c->dead) {
		conn_close(c);
		return;
	}
	fd_listen(c->fd, FD_READ | (c->out->len ? FD_WRITE : 0), on_conn_io, c);
}

static void conn_close(Conn *c)
{
	Ctl *ctl = c->ctl;
	g_autoptr(GPtrArray) mine = g_ptr_array_new();

	c->dead = TRUE;
	for (GList *l = ctl->calls.head; l; l = l->next)
		if (call_owner(l->data) == c)
			g_ptr_array_add(mine, l->data);
	for (guint i = 0; i < mine->len; i++) {
		call_hangup(g_ptr_array_index(mine, i), "disconnected");
		call_detach(g_ptr_array_index(mine, i));
	}
	fd_close(c->fd);
	close(c->fd);
	ctl->conns = g_list_remove(ctl->conns, c);
	ipc_decoder_free(c->dec);
	g_byte_array_unref(c->out);
	g_free(c);
}

static void on_accept(int flags, void *arg)
{
	Ctl *ctl = arg;
	int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	Conn *c;

	if (fd < 0)
		return;
	c = g_new0(Conn, 1);
	c->ctl = ctl;
	c->fd = fd;
	c->dec = ipc_decoder_new(CTL_MAX_BODY);
	c->out = g_byte_array_new();
	ctl->conns = g_list_prepend(ctl->conns, c);
	fd_listen(fd, FD_READ, on_conn_io, c);
}

Ctl *ctl_new(const CtiConfig *config, CtlPrepare prepare, gpointer data, GError **error)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *path = config->media_socket;
	Ctl *ctl;
	int fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "[media] socket %s: path too long", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    chmod(path, 0660) != 0 || listen(fd, 16) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "[media] socket %s: %s", path, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	ctl = g_new0(Ctl, 1);
	ctl->config = config;
	ctl->fd = fd;
	ctl->prepare = prepare;
	ctl->data = data;
	g_queue_init(&ctl->calls);
	fd_listen(fd, FD_READ, on_accept, ctl);
	return ctl;
}

void ctl_set_ua(Ctl *ctl, Ua *ua)
{
	ctl->ua = ua;
}

gboolean ctl_invite(const char *line, const struct sip_msg *msg, gpointer data)
{
	Ctl *ctl = data;
	g_autoptr(GError) error = NULL;

	for (GList *l = ctl->calls.head; l; l = l->next) {
		Call *call = l->data;

		if (strcmp(call_line(call), line) != 0 || !call_wants_invite(call))
			continue;
		if (!call_accept(call, msg, &error)) {
			log_warning("session %s: %s", call_id(call), error->message);
			return FALSE;
		}
		return TRUE;
	}
	return FALSE;
}

void ctl_free(Ctl *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->conns)
		conn_close(ctl->conns->data);
	while (ctl->calls.head) /* on_gone takes each off the queue */
		call_release(ctl->calls.head->data);
	fd_close(ctl->fd);
	close(ctl->fd);
	g_unlink(ctl->config->media_socket);
	g_free(ctl);
}
