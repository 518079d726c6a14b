/* model-route.c - the parts of the switch around plain call control: route
 * points (RouteRegister / RouteRequest / RouteSelect / RouteEnd), the voice unit
 * (PlayMessage / Stop, files from the media directory), the line board (two
 * server lines wired together: the audio path is logged once both are
 * connected), and the "dump" view of everything.
 *
 * A ModelRoute is owned by model.routes and points at the queued connection;
 * whichever goes first unlinks the other.  A route request that is not answered
 * within route_timeout, or that the application ends, falls back to the route
 * point's own behaviour.  Media errors are returned as GError for the service to
 * map to CSTAErrorCode.
 */
#include "model-private.h"

#include <string.h>

#include "fax.h"
#include "media.h"
#include "simlog.h"
#include "xml.h"

static void
route_end_to_client(ModelRoute *route, const char *error_value)
{
	if (!session_exists(route->client))
		return;
	g_autoptr(GString) xml = sess_begin_client(route->client, "RouteEnd");
	xml_leaf(xml, "crossRefIdentifier", route->xref);
	if (route->reg_id != NULL)
		xml_leaf(xml, "routeRegisterReqID", route->reg_id);
	if (error_value != NULL) {
		xml_open(xml, "errorValue");
		xml_leaf(xml, "operation", error_value);
		xml_close(xml, "errorValue");
	}
	sess_end(xml, "RouteEnd");
	session_request(route->client, "RouteEnd", xml);
}

/* route_free - forget ROUTE (and unlink its connection) */
void
route_free(ModelRoute *route)
{
	g_hash_table_remove(model.routes, route->xref);
	g_clear_handle_id(&route->timer, g_source_remove);
	if (route->conn != NULL)
		route->conn->route = NULL;
	g_free(route->xref);
	g_free(route->reg_id);
	g_free(route);
}

static gboolean
on_route_timeout(gpointer data)
{
	ModelRoute *route = data;
	route->timer = 0;
	simlog_kv("route", "event", "timeout", "crossRefIdentifier", route->xref, NULL);
	route_end_to_client(route, "routeingTimerExpired");
	model_route_end(route);
	return G_SOURCE_REMOVE;
}

/* route_request - CONN arrives at a registered route point: queue it and ask the client */
void
route_request(ModelConn *conn)
{
	ModelDevice *d = conn->dev;
	ModelRoute *route = g_new0(ModelRoute, 1);
	route->xref = g_strdup_printf("%u", ++model.next_route);
	route->conn = conn;
	route->client = d->route_owner;
	route->reg_id = g_strdup(d->route_reg_id);
	conn->route = route;
	g_hash_table_insert(model.routes, route->xref, route);
	conn_set(conn, CONN_QUEUED, "newCall");
	g_autoptr(GString) xml = sess_begin_client(route->client, "RouteRequest");
	xml_leaf(xml, "crossRefIdentifier", route->xref);
	xml_leaf(xml, "routeRegisterReqID", route->reg_id);
	xml_ext_device(xml, "currentRoute", conn->device);
	xml_ext_device(xml, "callingDevice", conn->call->calling);
	xml_conn_id(xml, "routedCall", conn->call->id, conn->device);
	sess_end(xml, "RouteRequest");
	session_request(route->client, "RouteRequest", xml);
	route->timer = simlog_timeout_add(model.conf->route_timeout, on_route_timeout, route);
}

/* model_route - the pending route request XREF, or NULL */
ModelRoute *
model_route(const char *xref)
{
	return xref ? g_hash_table_lookup(model.routes, xref) : NULL;
}

static void
route_used_to_client(ModelRoute *route, const char *dest)
{
	if (!session_exists(route->client))
		return;
	g_autoptr(GString) xml = sess_begin_client(route->client, "RouteUsed");
	xml_leaf(xml, "crossRefIdentifier", route->xref);
	if (route->reg_id != NULL)
		xml_leaf(xml, "routeRegisterReqID", route->reg_id);
	xml_leaf(xml, "routeUsed", dest);
	if (route->conn != NULL && route->conn->call->calling != NULL)
		xml_leaf(xml, "callingDevice", route->conn->call->calling);
	sess_end(xml, "RouteUsed");
	session_request(route->client, "RouteUsed", xml);
}

/* model_route_select - the client chose DEST: divert the queued call there (telling the
 * client with RouteUsed when asked), end the dialogue */
void
model_route_select(ModelRoute *route, const char *dest, gboolean route_used)
{
	ModelConn *conn = route->conn;
	simlog_kv("route", "event", "selected", "crossRefIdentifier", route->xref, "to", dest, NULL);
	if (route_used)
		route_used_to_client(route, dest);
	route_end_to_client(route, NULL);
	route_free(route);
	if (conn != NULL)
		model_deflect(conn, dest);
}

/* model_route_end - no route from the client: the route point's own behaviour applies */
void
model_route_end(ModelRoute *route)
{
	ModelConn *conn = route->conn;
	route_free(route);
	if (conn != NULL)
		deliver(conn, "newCall");
}

/* model_route_register - C becomes DEV's router; returns the routeRegisterReqID (transfer full) */
char *
model_route_register(SessClient *c, ModelDevice *dev)
{
	dev->route_owner = c;
	g_free(dev->route_reg_id);
	dev->route_reg_id = g_strdup_printf("%u", ++model.next_reg);
	simlog_kv("route", "event", "register", "device", dev->id, "routeRegisterReqID",
		  dev->route_reg_id, NULL);
	return g_strdup(dev->route_reg_id);
}

/* model_route_cancel - drop C's registration REG_ID; FALSE when unknown */
gboolean
model_route_cancel(SessClient *c, const char *reg_id)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, model.devices);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		ModelDevice *d = v;
		if (d->route_owner == c && g_strcmp0(d->route_reg_id, reg_id) == 0) {
			d->route_owner = NULL;
			g_clear_pointer(&d->route_reg_id, g_free);
			return TRUE;
		}
	}
	return FALSE;
}

/* The party a line talks to: a connected one (a held party hears nothing). */
static const char *
far_party(const ModelCall *call, const char *device)
{
	const char *any = "?";
	for (guint i = 0; i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		if (strcmp(c->device, device) == 0)
			continue;
		if (c->state == CONN_CONNECTED)
			return c->device;
		if (strcmp(any, "?") == 0)
			any = c->device;
	}
	return any;
}

static ModelConn *line_conn(ModelDevice *line);

/* Log "A <-> L1 <-> L2 <-> C" once both lines carry connected calls (L1 < L2). */
static void
line_pair_check_ordered(ModelDevice *l1, ModelDevice *l2)
{
	ModelConn *c1 = line_conn(l1), *c2 = line_conn(l2);
	if (c1 == NULL || c2 == NULL || c1->call == c2->call)
		return;
	g_autofree char *key = g_strdup_printf("%s/%s", c1->call->id, c2->call->id);
	if (g_strcmp0(l1->path_key, key) == 0)
		return;
	g_free(l1->path_key);
	l1->path_key = g_steal_pointer(&key);
	g_autofree char *path = g_strdup_printf("%s <-> %s <-> %s <-> %s",
						 far_party(c1->call, l1->id), l1->id, l2->id,
						 far_party(c2->call, l2->id));
	simlog_kv("path", "path", path, "call1", c1->call->id, "call2", c2->call->id, NULL);
}

static ModelConn *
line_conn(ModelDevice *line)
{
	ModelConn *c = line ? model_conn_in_state(line, CONN_CONNECTED) : NULL;
	if (c == NULL)
		return NULL;
	/* The far party must be connected too for the line to carry audio. */
	for (guint i = 0; i < c->call->conns->len; i++) {
		ModelConn *o = g_ptr_array_index(c->call->conns, i);
		if (o != c && o->state == CONN_CONNECTED)
			return c;
	}
	return NULL;
}

static void
line_pair_check(ModelDevice *d)
{
	ModelDevice *peer = d->peer ? model_device(d->peer) : NULL;
	if (peer == NULL)
		return;
	if (strcmp(d->id, peer->id) > 0)
		line_pair_check_ordered(peer, d);
	else
		line_pair_check_ordered(d, peer);
}

/* line_check - when CONN's call now links a line to its board partner's call, log the path */
void
line_check(ModelConn *conn)
{
	for (guint i = 0; i < conn->call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(conn->call->conns, i);
		if (c->dev != NULL && c->dev->kind == SIM_DEV_LINE && c->dev->peer != NULL)
			line_pair_check(c->dev);
	}
}

static void
play_event(ModelConn *conn, EvKind kind, const char *cause)
{
	EvInfo ev = { .kind = kind, .call = conn->call->id, .device = conn->device,
		      .message = conn->playing, .cause = cause };
	emit(conn->call, NULL, &ev);
}

static gboolean
on_play_end(gpointer data)
{
	ModelConn *conn = data;
	conn->play_timer = 0;
	simlog_kv("media", "event", "end", "call", conn->call->id, "device", conn->device,
		  "file", conn->playing, NULL);
	play_event(conn, EV_STOP, "endOfMessageDetected");
	g_clear_pointer(&conn->playing, g_free);
	return G_SOURCE_REMOVE;
}

static char *
media_path(const char *message, GError **error)
{
	const char *dir = model.conf->media_dir;
	if (dir == NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no media_dir configured");
		return NULL;
	}
	/* A relative name below media_dir: no empty, "." or ".." components. */
	g_auto(GStrv) parts = g_strsplit(message, "/", -1);
	for (int i = 0; parts[i] != NULL; i++) {
		if (*parts[i] == '\0' || parts[i][0] == '.') {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "bad message name");
			return NULL;
		}
	}
	const char *base = strrchr(message, '/') ? strrchr(message, '/') + 1 : message;
	g_autofree char *file = strchr(base, '.') ? g_strdup(message)
						   : g_strconcat(message, ".wav", NULL);
	return g_build_filename(dir, file, NULL);
}

static void
log_media(ModelConn *conn, const char *path, const MediaInfo *mi)
{
	g_autofree char *rate = g_strdup_printf("%u", mi->rate);
	g_autofree char *ch = g_strdup_printf("%u", mi->channels);
	g_autofree char *bits = g_strdup_printf("%u", mi->bits);
	char dur[G_ASCII_DTOSTR_BUF_SIZE];
	g_ascii_formatd(dur, sizeof dur, "%.3f", mi->duration);
	g_autofree char *base = g_path_get_basename(path);
	simlog_kv("media", "event", "play", "call", conn->call->id, "device", conn->device, "file",
		  base, "format", mi->format, "#rate", rate, "#channels", ch, "#bits", bits,
		  "#duration", dur, "checksum", mi->checksum, NULL);
}

/* fax_party - the call has a connected fax receiver (behaviour fax) */
static gboolean
fax_party(const ModelConn *conn)
{
	for (guint i = 0; i < conn->call->conns->len; i++) {
		const ModelConn *c = g_ptr_array_index(conn->call->conns, i);
		if (c->dev != NULL && c->dev->beh.kind == SIM_BEH_FAX && c->state == CONN_CONNECTED)
			return TRUE;
	}
	return FALSE;
}

/* fax_check - PATH is TIFF Class F and CONN's call has a fax receiver */
static gboolean
fax_check(const ModelConn *conn, const char *path, FaxInfo *fi, GError **error)
{
	if (!fax_party(conn)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NXIO,
			    "a TIFF file needs a connected fax receiver on the call");
		return FALSE;
	}
	return fax_probe(path, fi, error);
}

static void
log_fax(ModelConn *conn, const char *path, const FaxInfo *fi)
{
	g_autofree char *pages = g_strdup_printf("%u", fi->pages);
	g_autofree char *width = g_strdup_printf("%u", fi->width);
	g_autofree char *size = g_strdup_printf("%" G_GSIZE_FORMAT, fi->size);
	char dur[G_ASCII_DTOSTR_BUF_SIZE];
	g_ascii_formatd(dur, sizeof dur, "%.3f", fi->duration);
	g_autofree char *base = g_path_get_basename(path);
	simlog_kv("fax", "call", conn->call->id, "device", conn->device, "file", base, "#pages",
		  pages, "#width", width, "compression", "g3", "resolution",
		  fi->fine ? "fine" : "standard", "#size", size, "#duration", dur, "checksum",
		  fi->checksum, NULL);
}

/* play_probe - the playing time of MESSAGE over CONN (WAV, or TIFF to a fax); logs when LOG */
static gboolean
play_probe(ModelConn *conn, const char *message, gboolean log, double *duration, GError **error)
{
	g_autofree char *path = media_path(message, error);
	if (path == NULL)
		return FALSE;
	if (fax_is_tiff_name(message)) {
		FaxInfo fi;
		if (!fax_check(conn, path, &fi, error))
			return FALSE;
		if (log)
			log_fax(conn, path, &fi);
		*duration = fi.duration;
		fax_info_clear(&fi);
		return TRUE;
	}
	MediaInfo mi;
	if (!media_probe(path, &mi, error))
		return FALSE;
	if (log)
		log_media(conn, path, &mi);
	*duration = mi.duration;
	media_info_clear(&mi);
	return TRUE;
}

/* model_play_check - TRUE when MESSAGE names a playable WAV file in media_dir, or a TIFF
 * Class F file and CONN's call has a fax receiver */
gboolean
model_play_check(ModelConn *conn, const char *message, GError **error)
{
	double duration;
	return play_probe(conn, message, FALSE, &duration, error);
}

/* model_play - the voice unit plays MESSAGE (a file in media_dir) into CONN; a TIFF file
 * is sent to the call's fax receiver */
gboolean
model_play(ModelConn *conn, const char *message, GError **error)
{
	double duration;
	model_stop_play(conn);
	conn->playing = g_strdup(message);
	if (!play_probe(conn, message, TRUE, &duration, error)) {
		g_clear_pointer(&conn->playing, g_free);
		return FALSE;
	}
	play_event(conn, EV_PLAY, NULL);
	conn->play_timer = simlog_timeout_add(duration, on_play_end, conn);
	return TRUE;
}

/* model_stop_play - stop what CONN is playing (StopEvent); FALSE when nothing plays */
gboolean
model_stop_play(ModelConn *conn)
{
	if (conn->playing == NULL)
		return FALSE;
	g_clear_handle_id(&conn->play_timer, g_source_remove);
	simlog_kv("media", "event", "stop", "call", conn->call->id, "device", conn->device,
		  "file", conn->playing, NULL);
	play_event(conn, EV_STOP, "normal");
	g_clear_pointer(&conn->playing, g_free);
	return TRUE;
}

static void
json_kv(GString *j, const char *k, const char *v, gboolean comma)
{
	if (comma)
		g_string_append_c(j, ',');
	simlog_json_str(j, k);
	g_string_append_c(j, ':');
	simlog_json_str(j, v);
}

static void
dump_calls(GString *j)
{
	g_string_append(j, "\"calls\":[");
	GHashTableIter it;
	gpointer v;
	gboolean first = TRUE;
	g_hash_table_iter_init(&it, model.calls);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		ModelCall *call = v;
		g_string_append(j, first ? "{" : ",{");
		first = FALSE;
		json_kv(j, "id", call->id, FALSE);
		json_kv(j, "calling", call->calling, TRUE);
		json_kv(j, "called", call->called, TRUE);
		g_string_append(j, ",\"connections\":[");
		for (guint i = 0; i < call->conns->len; i++) {
			ModelConn *c = g_ptr_array_index(call->conns, i);
			g_string_append(j, i ? ",{" : "{");
			json_kv(j, "device", c->device, FALSE);
			json_kv(j, "state", model_state_str(c->state), TRUE);
			json_kv(j, "lastRedirection", c->last_redir, TRUE);
			json_kv(j, "playing", c->playing, TRUE);
			g_string_append_c(j, '}');
		}
		g_string_append(j, "]}");
	}
	g_string_append(j, "]");
}

static void
dump_monitors(GString *j)
{
	g_string_append(j, ",\"monitors\":[");
	GHashTableIter it;
	gpointer v;
	gboolean first = TRUE;
	g_hash_table_iter_init(&it, model.monitors);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		ModelMonitor *m = v;
		g_string_append(j, first ? "{" : ",{");
		first = FALSE;
		json_kv(j, "monitorCrossRefID", m->xref, FALSE);
		json_kv(j, "device", m->dev ? m->dev->id : NULL, TRUE);
		json_kv(j, "call", m->call_id, TRUE);
		json_kv(j, "client", session_peer(m->client), TRUE);
		g_string_append_c(j, '}');
	}
	g_string_append(j, "]");
}

/* Start an object in a JSON array being built: "{" first, ",{" after. */
static void
json_item(GString *j)
{
	g_string_append(j, j->str[j->len - 1] == '[' ? "{" : ",{");
}

static void
dump_device(GString *devs, GString *regs, GString *fwds, ModelDevice *d)
{
	g_autofree char *beh = simconf_behaviour_str(&d->beh);
	json_item(devs);
	json_kv(devs, "device", d->id, FALSE);
	json_kv(devs, "kind", simconf_kind_str(d->kind), TRUE);
	json_kv(devs, "behaviour", beh, TRUE);
	if (d->kind == SIM_DEV_LINE)
		json_kv(devs, "owner", d->line_owner ? session_peer(d->line_owner) : NULL, TRUE);
	g_string_append_printf(devs, ",\"busy\":%s}", model_device_busy(d) ? "true" : "false");
	if (d->route_owner != NULL) {
		json_item(regs);
		json_kv(regs, "device", d->id, FALSE);
		json_kv(regs, "routeRegisterReqID", d->route_reg_id, TRUE);
		json_kv(regs, "client", session_peer(d->route_owner), TRUE);
		g_string_append_c(regs, '}');
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, d->fwd);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		json_item(fwds);
		json_kv(fwds, "device", d->id, FALSE);
		json_kv(fwds, "forwardingType", k, TRUE);
		json_kv(fwds, "forwardDN", v, TRUE);
		g_string_append_c(fwds, '}');
	}
}

static void
dump_devices(GString *j)
{
	g_autoptr(GString) regs = g_string_new(",\"routeRegistrations\":[");
	g_autoptr(GString) fwds = g_string_new(",\"forwardings\":[");
	g_autoptr(GString) devs = g_string_new(",\"devices\":[");
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, model.devices);
	while (g_hash_table_iter_next(&it, NULL, &v))
		dump_device(devs, regs, fwds, v);
	g_string_append_printf(j, "%s]%s]%s]", regs->str, fwds->str, devs->str);
}

/* model_dump - append a JSON object with calls, monitors, registrations, forwardings, devices */
void
model_dump(GString *json)
{
	g_string_append_c(json, '{');
	dump_calls(json);
	dump_monitors(json);
	dump_devices(json);
	g_string_append_c(json, '}');
}
