/* model.c - the simulated switch's state: devices (created on first use from the
 * configuration), calls, connections, device and call monitors.
 *
 * The model owns everything: a call owns its connections, a device lists (but
 * does not own) its connections and monitors.  Every LocalConnectionState change
 * goes through conn_set(), which writes the "state" log line.  Who receives an
 * event is decided here (recipients()): every monitor on a device that has a
 * connection in the call, plus call monitors on it.  Call progress lives in
 * model-call.c, routing, the voice unit and the line board in model-route.c.
 * Nothing here fails at run time; services validate requests before calling in.
 */
#include "model-private.h"

#include <string.h>

#include "simlog.h"

ModelState model;

static const char *const state_names[] = {
	[CONN_NULL] = "null",
	[CONN_INITIATED] = "initiated",
	[CONN_ALERTING] = "alerting",
	[CONN_CONNECTED] = "connected",
	[CONN_HOLD] = "hold",
	[CONN_QUEUED] = "queued",
	[CONN_FAIL] = "fail",
};

/* model_state_str - the LocalConnectionState name */
const char *
model_state_str(ConnState state)
{
	return state_names[state];
}

static void
device_free(ModelDevice *d)
{
	g_free(d->id);
	g_free(d->peer);
	g_free(d->path_key);
	g_free(d->route_reg_id);
	g_hash_table_unref(d->fwd);
	g_list_free(d->monitors);
	g_list_free(d->conns);
	g_free(d);
}

static void
monitor_free(ModelMonitor *m)
{
	g_free(m->xref);
	g_free(m->call_id);
	g_free(m);
}

/* model_init - start with no calls; devices come from CONF (borrowed) */
void
model_init(const SimConf *conf)
{
	model.conf = conf;
	model.devices = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)device_free);
	model.calls = g_hash_table_new(g_str_hash, g_str_equal);
	model.monitors = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)monitor_free);
	model.routes = g_hash_table_new(g_str_hash, g_str_equal);
	model.sip_legs = g_hash_table_new(NULL, NULL);
}

/* model_shutdown - free every call, route, monitor and device */
void
model_shutdown(void)
{
	GList *calls = g_hash_table_get_values(model.calls);
	for (GList *l = calls; l != NULL; l = l->next)
		call_destroy(l->data);
	g_list_free(calls);
	GList *routes = g_hash_table_get_values(model.routes);
	g_list_free_full(routes, (GDestroyNotify)route_free);
	g_clear_pointer(&model.routes, g_hash_table_unref);
	g_clear_pointer(&model.sip_legs, g_hash_table_unref);
	g_clear_pointer(&model.calls, g_hash_table_unref);
	g_clear_pointer(&model.monitors, g_hash_table_unref);
	g_clear_pointer(&model.devices, g_hash_table_unref);
}

/* model_conf - the configuration in use */
const SimConf *
model_conf(void)
{
	return model.conf;
}

/* model_device - the device ID, created from the configuration on first use; NULL if unknown */
ModelDevice *
model_device(const char *id)
{
	if (id == NULL || *id == '\0')
		return NULL;
	ModelDevice *d = g_hash_table_lookup(model.devices, id);
	if (d != NULL)
		return d;
	const SimDeviceSpec *spec = simconf_lookup(model.conf, id);
	if (spec == NULL)
		return NULL;
	d = g_new0(ModelDevice, 1);
	d->id = g_strdup(id);
	d->kind = spec->kind;
	d->beh = spec->beh;
	d->peer = g_strdup(spec->peer);
	d->fwd = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	d->ring_count = 3;
	d->talk_time = spec->talk_time >= 0 ? spec->talk_time : model.conf->talk_time;
	g_hash_table_insert(model.devices, d->id, d);
	return d;
}

/* model_call - the call with id ID, or NULL */
ModelCall *
model_call(const char *id)
{
	return id ? g_hash_table_lookup(model.calls, id) : NULL;
}

/* model_conn - DEVICE's connection in CALL, or NULL */
ModelConn *
model_conn(const ModelCall *call, const char *device)
{
	for (guint i = 0; call != NULL && i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		if (device != NULL && strcmp(c->device, device) == 0)
			return c;
	}
	return NULL;
}

/* model_conn_in_state - DEV's first connection in STATE, or NULL */
ModelConn *
model_conn_in_state(const ModelDevice *dev, ConnState state)
{
	for (GList *l = dev->conns; l != NULL; l = l->next) {
		ModelConn *c = l->data;
		if (c->state == state)
			return c;
	}
	return NULL;
}

/* model_local_state - DEV's LocalConnectionState in call CALL_ID ("null" when absent) */
const char *
model_local_state(const char *call_id, const ModelDevice *dev)
{
	ModelConn *c = model_conn(model_call(call_id), dev->id);
	return model_state_str(c ? c->state : CONN_NULL);
}

/* model_device_busy - TRUE when DEV is in a call (no call waiting in this switch) */
gboolean
model_device_busy(const ModelDevice *dev)
{
	for (GList *l = dev->conns; l != NULL; l = l->next) {
		ModelConn *c = l->data;
		switch (c->state) {
		case CONN_INITIATED:
		case CONN_ALERTING:
		case CONN_CONNECTED:
		case CONN_HOLD:
		case CONN_QUEUED:
			return TRUE;
		case CONN_NULL:
		case CONN_FAIL:
			break;
		}
	}
	return FALSE;
}

/* model_call_new - a new call with a fresh id and no connections */
ModelCall *
model_call_new(void)
{
	ModelCall *call = g_new0(ModelCall, 1);
	call->id = g_strdup_printf("%u", ++model.next_call);
	call->conns = g_ptr_array_new();
	g_hash_table_insert(model.calls, call->id, call);
	return call;
}

static void
conn_free(ModelConn *c)
{
	g_clear_handle_id(&c->timer, g_source_remove);
	g_clear_handle_id(&c->noans_timer, g_source_remove);
	g_clear_handle_id(&c->play_timer, g_source_remove);
	model_sip_drop(c);
	if (c->route != NULL) {
		c->route->conn = NULL;
		route_free(c->route);
	}
	if (c->dev != NULL)
		c->dev->conns = g_list_remove(c->dev->conns, c);
	g_free(c->device);
	g_free(c->last_redir);
	g_free(c->join_by);
	g_free(c->playing);
	g_free(c);
}

/* conn_new - add DEVICE to CALL in state null (not logged until conn_set) */
ModelConn *
conn_new(ModelCall *call, const char *device, ModelDevice *dev)
{
	ModelConn *c = g_new0(ModelConn, 1);
	c->device = g_strdup(device);
	c->dev = dev;
	c->state = CONN_NULL;
	if (dev != NULL)
		dev->conns = g_list_append(dev->conns, c);
	conn_attach(c, call);
	return c;
}

/* conn_attach - put CONN into CALL */
void
conn_attach(ModelConn *conn, ModelCall *call)
{
	conn->call = call;
	g_ptr_array_add(call->conns, conn);
}

/* conn_detach - take CONN out of its call without freeing it */
void
conn_detach(ModelConn *conn)
{
	g_ptr_array_remove(conn->call->conns, conn);
	conn->call = NULL;
}

/* conn_set - change the LocalConnectionState and log it */
void
conn_set(ModelConn *conn, ConnState state, const char *cause)
{
	conn->state = state;
	simlog_state(conn->call->id, conn->device, model_state_str(state), cause);
	if (state == CONN_CONNECTED)
		line_check(conn);
}

/* conn_remove - take CONN out of its call and free it */
void
conn_remove(ModelConn *conn)
{
	conn_detach(conn);
	conn_free(conn);
}

/* call_live_conns - connections that are not null or failed */
guint
call_live_conns(const ModelCall *call)
{
	guint n = 0;
	for (guint i = 0; i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		n += c->state != CONN_NULL && c->state != CONN_FAIL;
	}
	return n;
}

/* call_destroy - free CALL and its connections, no events */
void
call_destroy(ModelCall *call)
{
	while (call->conns->len > 0)
		conn_remove(g_ptr_array_index(call->conns, call->conns->len - 1));
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, model.devices);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((ModelDevice *)v)->busy_call == call)
			((ModelDevice *)v)->busy_call = NULL;
	g_hash_table_remove(model.calls, call->id);
	g_ptr_array_unref(call->conns);
	g_free(call->id);
	g_free(call->calling);
	g_free(call->called);
	g_free(call);
}

static void
add_device_monitors(GPtrArray *out, GHashTable *seen, ModelDevice *dev)
{
	for (GList *l = dev ? dev->monitors : NULL; l != NULL; l = l->next)
		if (g_hash_table_add(seen, l->data))
			g_ptr_array_add(out, l->data);
}

static void
add_call(GPtrArray *out, GHashTable *seen, ModelCall *call)
{
	if (call == NULL)
		return;
	for (guint i = 0; i < call->conns->len; i++)
		add_device_monitors(out, seen, ((ModelConn *)g_ptr_array_index(call->conns, i))->dev);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, model.monitors);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		ModelMonitor *m = v;
		if (m->call_id != NULL && strcmp(m->call_id, call->id) == 0 && g_hash_table_add(seen, m))
			g_ptr_array_add(out, m);
	}
}

/* recipients - monitors interested in calls A and B and device EXTRA (container only) */
GPtrArray *
recipients(ModelCall *a, ModelCall *b, ModelDevice *extra)
{
	GPtrArray *out = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	add_call(out, seen, a);
	add_call(out, seen, b);
	add_device_monitors(out, seen, extra);
	return out;
}

/* emit - send EV to everyone watching CALL (and EXTRA) */
void
emit(ModelCall *call, ModelDevice *extra, const EvInfo *ev)
{
	g_autoptr(GPtrArray) to = recipients(call, NULL, extra);
	events_emit(to, ev);
}

/* model_monitor_start - a device monitor (DEV) or call monitor (CALL_ID) for client C */
ModelMonitor *
model_monitor_start(SessClient *c, ModelDevice *dev, const char *call_id)
{
	ModelMonitor *m = g_new0(ModelMonitor, 1);
	m->xref = g_strdup_printf("%u", 1000 + ++model.next_xref);
	m->dev = dev;
	m->call_id = g_strdup(call_id);
	m->client = c;
	if (dev != NULL)
		dev->monitors = g_list_append(dev->monitors, m);
	if (dev != NULL && dev->kind == SIM_DEV_LINE && dev->line_owner == NULL)
		dev->line_owner = c;
	g_hash_table_insert(model.monitors, m->xref, m);
	return m;
}

/* model_monitor - the monitor with cross reference id XREF, or NULL */
ModelMonitor *
model_monitor(const char *xref)
{
	return xref ? g_hash_table_lookup(model.monitors, xref) : NULL;
}

/* model_monitor_stop - remove and free M */
void
model_monitor_stop(ModelMonitor *m)
{
	ModelDevice *dev = m->dev;
	if (dev != NULL)
		dev->monitors = g_list_remove(dev->monitors, m);
	if (dev != NULL && dev->line_owner == m->client) {
		/* The line stays owned while its owner keeps another monitor on it. */
		dev->line_owner = NULL;
		for (GList *l = dev->monitors; l != NULL; l = l->next)
			if (((ModelMonitor *)l->data)->client == m->client)
				dev->line_owner = m->client;
	}
	g_hash_table_remove(model.monitors, m->xref);
}

/* model_client_gone - drop C's monitors, route registrations and pending route requests */
void
model_client_gone(SessClient *c)
{
	GList *mons = g_hash_table_get_values(model.monitors);
	for (GList *l = mons; l != NULL; l = l->next)
		if (((ModelMonitor *)l->data)->client == c)
			model_monitor_stop(l->data);
	g_list_free(mons);
	GList *devs = g_hash_table_get_values(model.devices);
	for (GList *l = devs; l != NULL; l = l->next) {
		ModelDevice *d = l->data;
		if (d->route_owner == c) {
			d->route_owner = NULL;
			g_clear_pointer(&d->route_reg_id, g_free);
		}
	}
	g_list_free(devs);
	GList *routes = g_hash_table_get_values(model.routes);
	for (GList *l = routes; l != NULL; l = l->next)
		if (((ModelRoute *)l->data)->client == c)
			model_route_end(l->data);
	g_list_free(routes);
}
