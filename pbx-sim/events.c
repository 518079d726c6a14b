/* events.c - renders CSTA events (ECMA-323 element order, monitorCrossRefID first)
 * and sends them with invoke id 9999 to each monitor, in its client's namespace.
 *
 * The model decides who receives an event (model.c); this module only encodes.
 * localConnectionInfo is computed per monitor: the state of the monitored
 * device's connection in the call after the change.  Nothing here can fail;
 * monitors whose client has gone are skipped.
 */
#include "events.h"

#include "simlog.h"
#include "wire.h"
#include "xml.h"

static const char *const event_names[] = {
	[EV_SERVICE_INITIATED] = "ServiceInitiatedEvent",
	[EV_ORIGINATED] = "OriginatedEvent",
	[EV_DELIVERED] = "DeliveredEvent",
	[EV_ESTABLISHED] = "EstablishedEvent",
	[EV_FAILED] = "FailedEvent",
	[EV_CONNECTION_CLEARED] = "ConnectionClearedEvent",
	[EV_CALL_CLEARED] = "CallClearedEvent",
	[EV_HELD] = "HeldEvent",
	[EV_RETRIEVED] = "RetrievedEvent",
	[EV_DIVERTED] = "DivertedEvent",
	[EV_CONFERENCED] = "ConferencedEvent",
	[EV_TRANSFERED] = "TransferedEvent",
	[EV_FORWARDING] = "ForwardingEvent",
	[EV_PLAY] = "PlayEvent",
	[EV_STOP] = "StopEvent",
};

static void
redirection(GString *xml, const char *redir)
{
	xml_open(xml, "lastRedirectionDevice");
	if (redir != NULL)
		xml_leaf(xml, "numberDialed", redir);
	else
		xml_empty(xml, "notRequired");
	xml_close(xml, "lastRedirectionDevice");
}

/* events_conn_list - append a ConnectionList (connectionListItem*) named NAME */
void
events_conn_list(GString *xml, const char *name, const EvListItem *items, guint n)
{
	xml_open(xml, name);
	for (guint i = 0; i < n; i++) {
		xml_open(xml, "connectionListItem");
		if (items[i].new_call != NULL)
			xml_conn_id(xml, "newConnection", items[i].new_call, items[i].device);
		if (items[i].old_call != NULL)
			xml_conn_id(xml, "oldConnection", items[i].old_call, items[i].device);
		xml_open(xml, "endpoint");
		xml_leaf(xml, "deviceID", items[i].device);
		xml_close(xml, "endpoint");
		xml_close(xml, "connectionListItem");
	}
	xml_close(xml, name);
}

static void
party_block(GString *xml, const EvInfo *ev, const char *conn_name, const char *subject_name)
{
	xml_conn_id(xml, conn_name, ev->call, ev->device);
	xml_ext_device(xml, subject_name, ev->subject);
	xml_ext_device(xml, "callingDevice", ev->calling);
	xml_ext_device(xml, "calledDevice", ev->called);
	redirection(xml, ev->redir);
}

static void
old_calls(GString *xml, const EvInfo *ev)
{
	xml_conn_id(xml, "primaryOldCall", ev->call, ev->device);
	if (ev->old_call != NULL)
		xml_conn_id(xml, "secondaryOldCall", ev->old_call, ev->old_device);
}

/* The children between monitorCrossRefID and localConnectionInfo. */
static void
body(GString *xml, const EvInfo *ev)
{
	switch (ev->kind) {
	case EV_SERVICE_INITIATED:
		xml_conn_id(xml, "initiatedConnection", ev->call, ev->device);
		xml_ext_device(xml, "initiatingDevice", ev->subject);
		break;
	case EV_ORIGINATED:
		xml_conn_id(xml, "originatedConnection", ev->call, ev->device);
		xml_ext_device(xml, "callingDevice", ev->calling);
		xml_ext_device(xml, "calledDevice", ev->called);
		break;
	case EV_DELIVERED: party_block(xml, ev, "connection", "alertingDevice"); break;
	case EV_ESTABLISHED: party_block(xml, ev, "establishedConnection", "answeringDevice"); break;
	case EV_FAILED: party_block(xml, ev, "failedConnection", "failingDevice"); break;
	case EV_CONNECTION_CLEARED:
		xml_conn_id(xml, "droppedConnection", ev->call, ev->device);
		xml_ext_device(xml, "releasingDevice", ev->subject);
		break;
	case EV_CALL_CLEARED: xml_conn_id(xml, "clearedCall", ev->call, NULL); break;
	case EV_HELD:
		xml_conn_id(xml, "heldConnection", ev->call, ev->device);
		xml_ext_device(xml, "holdingDevice", ev->subject);
		break;
	case EV_RETRIEVED:
		xml_conn_id(xml, "retrievedConnection", ev->call, ev->device);
		xml_ext_device(xml, "retrievingDevice", ev->subject);
		break;
	case EV_DIVERTED:
		xml_conn_id(xml, "connection", ev->call, ev->device);
		xml_ext_device(xml, "divertingDevice", ev->subject);
		xml_ext_device(xml, "newDestination", ev->other);
		xml_ext_device(xml, "callingDevice", ev->calling);
		xml_ext_device(xml, "calledDevice", ev->called);
		redirection(xml, ev->redir);
		break;
	case EV_CONFERENCED:
		old_calls(xml, ev);
		xml_ext_device(xml, "conferencingDevice", ev->subject);
		xml_ext_device(xml, "addedParty", ev->other);
		events_conn_list(xml, "conferenceConnections", ev->items, ev->n_items);
		break;
	case EV_TRANSFERED:
		old_calls(xml, ev);
		xml_ext_device(xml, "transferringDevice", ev->subject);
		xml_ext_device(xml, "transferredToDevice", ev->other);
		events_conn_list(xml, "transferredConnections", ev->items, ev->n_items);
		break;
	case EV_FORWARDING:
		xml_ext_device(xml, "device", ev->device);
		xml_leaf(xml, "forwardingType", ev->fwd_type);
		xml_leaf(xml, "forwardStatus", ev->fwd_on ? "true" : "false");
		if (ev->fwd_to != NULL)
			xml_ext_device(xml, "forwardTo", ev->fwd_to);
		break;
	case EV_PLAY:
	case EV_STOP:
		xml_conn_id(xml, "connection", ev->call, ev->device);
		xml_leaf(xml, "message", ev->message);
		break;
	}
}

static gboolean
has_local_info(EvKind kind)
{
	switch (kind) {
	case EV_CALL_CLEARED:
	case EV_FORWARDING:
	case EV_PLAY:
	case EV_STOP:
		return FALSE;
	case EV_SERVICE_INITIATED:
	case EV_ORIGINATED:
	case EV_DELIVERED:
	case EV_ESTABLISHED:
	case EV_FAILED:
	case EV_CONNECTION_CLEARED:
	case EV_HELD:
	case EV_RETRIEVED:
	case EV_DIVERTED:
	case EV_CONFERENCED:
	case EV_TRANSFERED:
		return TRUE;
	}
	return FALSE;
}

static void
emit_one(ModelMonitor *m, const EvInfo *ev)
{
	if (!session_exists(m->client) || (m->filter & (1u << ev->kind)))
		return;
	const char *name = event_names[ev->kind];
	g_autoptr(GString) xml = sess_begin_client(m->client, name);
	xml_leaf(xml, "monitorCrossRefID", m->xref);
	body(xml, ev);
	if (has_local_info(ev->kind) && m->dev != NULL) {
		const char *call = ev->result_call ? ev->result_call : ev->call;
		xml_leaf(xml, "localConnectionInfo", model_local_state(call, m->dev));
	}
	if (ev->cause != NULL)
		xml_leaf(xml, "cause", ev->cause);
	sess_end(xml, name);
	session_send(m->client, WIRE_EVENT_INVOKE, name, xml);
}

typedef struct {
	const char *group, *name;
	EvKind kind;
} FilterRow;

/* requestedMonitorFilter children that pbx-sim can generate. */
static const FilterRow filter_rows[] = {
	{ "callcontrol", "callCleared", EV_CALL_CLEARED },
	{ "callcontrol", "conferenced", EV_CONFERENCED },
	{ "callcontrol", "connectionCleared", EV_CONNECTION_CLEARED },
	{ "callcontrol", "delivered", EV_DELIVERED },
	{ "callcontrol", "diverted", EV_DIVERTED },
	{ "callcontrol", "established", EV_ESTABLISHED },
	{ "callcontrol", "failed", EV_FAILED },
	{ "callcontrol", "held", EV_HELD },
	{ "callcontrol", "originated", EV_ORIGINATED },
	{ "callcontrol", "retrieved", EV_RETRIEVED },
	{ "callcontrol", "serviceInitiated", EV_SERVICE_INITIATED },
	{ "callcontrol", "transferred", EV_TRANSFERED },
	{ "logicalDeviceFeature", "forwarding", EV_FORWARDING },
	{ "voice", "play", EV_PLAY },
	{ "voice", "stop", EV_STOP },
};

/* events_filter_parse - the filter mask of a requestedMonitorFilter (true = filtered out) */
guint
events_filter_parse(const XmlNode *filter)
{
	guint mask = 0;
	for (gsize i = 0; filter != NULL && i < G_N_ELEMENTS(filter_rows); i++) {
		const char *v = xml_child_text(xml_child(filter, filter_rows[i].group), filter_rows[i].name);
		if (g_strcmp0(v, "true") == 0)
			mask |= 1u << filter_rows[i].kind;
	}
	return mask;
}

/* events_emit - send EV to every monitor in MONITORS (ModelMonitor*) */
void
events_emit(GPtrArray *monitors, const EvInfo *ev)
{
	for (guint i = 0; i < monitors->len; i++)
		emit_one(g_ptr_array_index(monitors, i), ev);
}
