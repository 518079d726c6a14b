/* control.c - a UNIX socket taking one text command per line and answering one
 * JSON line, so tests can play the people at the phones: answer, hangup, busy,
 * free, call FROM TO, set DEV BEHAVIOUR, dump.  Also the client side used by
 * "pbx-sim --ctl PATH COMMAND...".
 *
 * The socket file is created at start (a stale one is replaced) and removed at
 * shutdown.  A command that cannot be carried out gets {"ok":false,"error":...};
 * it never stops the simulator.
 */
#include "control.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

#include "model.h"
#include "simlog.h"

static GSocketService *service;
static char *sock_path;

static char *
reply_error(const char *msg)
{
	g_autoptr(GString) j = g_string_new("{\"ok\":false,\"error\":");
	simlog_json_str(j, msg);
	g_string_append_c(j, '}');
	return g_string_free(g_steal_pointer(&j), FALSE);
}

static char *
reply_ok(const char *key, const char *value)
{
	g_autoptr(GString) j = g_string_new("{\"ok\":true");
	if (key != NULL) {
		g_string_append_printf(j, ",\"%s\":", key);
		simlog_json_str(j, value);
	}
	g_string_append_c(j, '}');
	return g_string_free(g_steal_pointer(&j), FALSE);
}

static ModelConn *
first_conn(ModelDevice *dev)
{
	static const ConnState order[] = { CONN_CONNECTED, CONN_ALERTING, CONN_HOLD,
					   CONN_INITIATED, CONN_QUEUED, CONN_FAIL };
	for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
		ModelConn *c = model_conn_in_state(dev, order[i]);
		if (c != NULL)
			return c;
	}
	return NULL;
}

static char *
cmd_answer(ModelDevice *dev, char **args)
{
	ModelConn *c = model_conn_in_state(dev, CONN_ALERTING);
	if (c == NULL)
		return reply_error("no alerting call at the device");
	model_answer(c);
	return reply_ok("call", c->call ? c->call->id : NULL);
}

static char *
cmd_hangup(ModelDevice *dev, char **args)
{
	if (model_go_free(dev))
		return reply_ok(NULL, NULL);
	ModelConn *c = first_conn(dev);
	if (c == NULL)
		return reply_error("no call at the device");
	model_clear_connection(c, "normalClearing");
	return reply_ok(NULL, NULL);
}

static char *
cmd_busy(ModelDevice *dev, char **args)
{
	return model_go_busy(dev) ? reply_ok(NULL, NULL) : reply_error("already busy");
}

static char *
cmd_free(ModelDevice *dev, char **args)
{
	return model_go_free(dev) ? reply_ok(NULL, NULL) : reply_error("not made busy");
}

static char *
cmd_set(ModelDevice *dev, char **args)
{
	g_autofree char *text = g_strjoinv(" ", args);
	g_autoptr(GError) err = NULL;
	SimBehaviour beh;
	if (!simconf_parse_behaviour(text, &beh, &err))
		return reply_error(err->message);
	model_set_behaviour(dev, &beh);
	simlog_kv("control", "command", "set", "device", dev->id, "behaviour", text, NULL);
	return reply_ok(NULL, NULL);
}

static char *
cmd_call(const char *from, const char *to)
{
	ModelCall *call = model_call_new();
	model_inbound_call(call, from, to);
	g_autofree char *id = g_strdup(call->id);
	return reply_ok("call", id);
}

static char *
cmd_dump(void)
{
	g_autoptr(GString) j = g_string_new(NULL);
	model_dump(j);
	g_string_insert(j, 1, "\"ok\":true,");
	return g_string_free(g_steal_pointer(&j), FALSE);
}

typedef struct {
	const char *name;
	char *(*handle)(ModelDevice *dev, char **args);
	int min_args; /* words after DEV */
} ControlRow;

static const ControlRow control_rows[] = {
	{ "answer", cmd_answer, 0 },
	{ "hangup", cmd_hangup, 0 },
	{ "busy", cmd_busy, 0 },
	{ "free", cmd_free, 0 },
	{ "set", cmd_set, 1 },
};

/* control_execute - run one command line; returns the JSON reply (transfer full) */
char *
control_execute(const char *line)
{
	g_auto(GStrv) words = g_strsplit_set(line, " \t\r\n", -1);
	g_autoptr(GPtrArray) w = g_ptr_array_new();
	for (int i = 0; words[i] != NULL; i++)
		if (*words[i] != '\0')
			g_ptr_array_add(w, words[i]);
	g_ptr_array_add(w, NULL);
	char **argv = (char **)w->pdata;
	guint argc = w->len - 1;
	if (argc == 0)
		return reply_error("empty command");
	if (strcmp(argv[0], "dump") == 0)
		return cmd_dump();
	if (strcmp(argv[0], "call") == 0)
		return argc == 3 ? cmd_call(argv[1], argv[2]) : reply_error("usage: call FROM TO");
	for (gsize i = 0; i < G_N_ELEMENTS(control_rows); i++) {
		if (strcmp(argv[0], control_rows[i].name) != 0)
			continue;
		if (argc < 2 + (guint)control_rows[i].min_args)
			return reply_error("missing argument");
		ModelDevice *dev = model_device(argv[1]);
		if (dev == NULL)
			return reply_error("unknown device");
		return control_rows[i].handle(dev, argv + 2);
	}
	return reply_error("unknown command");
}

typedef struct {
	GSocketConnection *conn;
	GDataInputStream *in;
} ControlConn;

static void
control_conn_free(ControlConn *cc)
{
	g_object_unref(cc->in);
	g_object_unref(cc->conn);
	g_free(cc);
}

static void
on_line(GObject *src, GAsyncResult *res, gpointer data)
{
	ControlConn *cc = data;
	gsize len = 0;
	g_autofree char *line = g_data_input_stream_read_line_finish(cc->in, res, &len, NULL);
	if (line == NULL) {
		control_conn_free(cc);
		return;
	}
	g_autofree char *reply = control_execute(line);
	g_autofree char *out = g_strconcat(reply, "\n", NULL);
	GOutputStream *os = g_io_stream_get_output_stream(G_IO_STREAM(cc->conn));
	if (!g_output_stream_write_all(os, out, strlen(out), NULL, NULL, NULL)) {
		control_conn_free(cc);
		return;
	}
	g_data_input_stream_read_line_async(cc->in, G_PRIORITY_DEFAULT, NULL, on_line, cc);
}

static gboolean
on_incoming(GSocketService *svc, GSocketConnection *conn, GObject *src, gpointer data)
{
	ControlConn *cc = g_new0(ControlConn, 1);
	cc->conn = g_object_ref(conn);
	cc->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
	g_data_input_stream_read_line_async(cc->in, G_PRIORITY_DEFAULT, NULL, on_line, cc);
	return TRUE;
}

/* control_listen - serve the control socket at PATH */
gboolean
control_listen(const char *path, GError **error)
{
	g_unlink(path);
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
	service = g_socket_service_new();
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(service), addr, G_SOCKET_TYPE_STREAM,
					   G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, error)) {
		g_prefix_error(error, "%s: ", path);
		g_clear_object(&service);
		return FALSE;
	}
	sock_path = g_strdup(path);
	g_signal_connect(service, "incoming", G_CALLBACK(on_incoming), NULL);
	g_socket_service_start(service);
	return TRUE;
}

/* control_shutdown - stop serving and remove the socket file */
void
control_shutdown(void)
{
	if (service != NULL) {
		g_socket_service_stop(service);
		g_socket_listener_close(G_SOCKET_LISTENER(service));
		g_clear_object(&service);
	}
	if (sock_path != NULL)
		g_unlink(sock_path);
	g_clear_pointer(&sock_path, g_free);
}

/* control_client - send ARGV joined as one command to PATH, print the reply; exit status */
int
control_client(const char *path, int argc, char **argv)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
	g_autoptr(GSocketConnection) conn =
		g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &err);
	if (conn == NULL) {
		g_printerr("pbx-sim: %s: %s\n", path, err->message);
		return 2;
	}
	g_autofree char *joined = g_strjoinv(" ", argv);
	g_autofree char *line = g_strconcat(joined, "\n", NULL);
	GOutputStream *os = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	g_autoptr(GDataInputStream) in =
		g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
	if (!g_output_stream_write_all(os, line, strlen(line), NULL, NULL, &err)) {
		g_printerr("pbx-sim: %s: %s\n", path, err->message);
		return 2;
	}
	g_autofree char *reply = g_data_input_stream_read_line(in, NULL, NULL, &err);
	if (reply == NULL) {
		g_printerr("pbx-sim: %s: no reply\n", path);
		return 2;
	}
	g_print("%s\n", reply);
	return g_str_has_prefix(reply, "{\"ok\":true") ? 0 : 1;
}
