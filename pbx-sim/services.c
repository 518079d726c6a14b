/* services.c - the CSTA services pbx-sim offers, one table row per request root.
 *
 * Each handler validates the request against the model, answers it (positive
 * response or CSTAErrorCode with the request's invoke id), and only then asks
 * the model to act, so a response always precedes the events it causes.
 * Errors: unknown device -> operation/invalidDeviceID, unknown call ->
 * operation/invalidCallID, device not in the call -> operation/invalidConnectionID,
 * unknown monitor -> operation/invalidMonitorCrossRefID, wrong connection state
 * -> stateIncompatibility/invalidConnectionState, missing or malformed argument
 * -> operation/invalidParameterValue.  Routing messages from the application
 * (RouteSelect, RouteEnd) get no response, as in ECMA-285.
 */
#include "services.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "model.h"
#include "simlog.h"
#include "xml.h"

#define OP "operation"
#define STATE "stateIncompatibility"

/* Text of a DeviceID, or of an ExtendedDeviceID's deviceIdentifier. */
static const char *
device_text(const XmlNode *node)
{
	if (node == NULL)
		return NULL;
	const char *t = xml_is_leaf(node) ? xml_text(node) : xml_child_text(node, "deviceIdentifier");
	return t != NULL && *t != '\0' ? t : NULL;
}

static const char *
need_text(SessReq *r, const char *name)
{
	const char *t = device_text(xml_child(r->req, name));
	if (t == NULL)
		sess_error(r, OP, "invalidParameterValue");
	return t;
}

static ModelDevice *
need_device(SessReq *r, const char *name)
{
	const char *id = need_text(r, name);
	if (id == NULL)
		return NULL;
	ModelDevice *d = model_device(id);
	if (d == NULL)
		sess_error(r, OP, "invalidDeviceID");
	return d;
}

static ModelCall *
need_call(SessReq *r, const char *name)
{
	XmlNode *cid = xml_child(r->req, name);
	const char *call_id = xml_child_text(cid, "callID");
	if (call_id == NULL || *call_id == '\0') {
		sess_error(r, OP, "invalidParameterValue");
		return NULL;
	}
	ModelCall *call = model_call(call_id);
	if (call == NULL)
		sess_error(r, OP, "invalidCallID");
	return call;
}

/* The connection named by ConnectionID child NAME, optionally required in STATE_MASK. */
static ModelConn *
need_conn(SessReq *r, const char *name, guint state_mask)
{
	ModelCall *call = need_call(r, name);
	if (call == NULL)
		return NULL;
	const char *dev = xml_child_text(xml_child(r->req, name), "deviceID");
	ModelConn *conn = model_conn(call, dev);
	if (conn == NULL) {
		sess_error(r, OP, "invalidConnectionID");
		return NULL;
	}
	if (state_mask != 0 && !(state_mask & (1u << conn->state))) {
		sess_error(r, STATE, "invalidConnectionState");
		return NULL;
	}
	return conn;
}

#define S(st) (1u << (st))

static void
reply_conn(SessReq *r, const char *root, const char *elem, const char *call, const char *dev)
{
	g_autoptr(GString) xml = sess_begin(r, root);
	xml_conn_id(xml, elem, call, dev);
	sess_end(xml, root);
	sess_reply(r, xml);
}

static void
svc_make_call(SessReq *r)
{
	ModelDevice *from = need_device(r, "callingDevice");
	const char *to = from ? need_text(r, "calledDirectoryNumber") : NULL;
	if (to == NULL)
		return;
	if (from->kind == SIM_DEV_LINE && from->line_owner != r->client) {
		sess_error(r, OP, "privilegeViolationCallingDevice");
		return;
	}
	const char *auto_orig = xml_child_text(r->req, "autoOriginate");
	if (auto_orig != NULL && strcmp(auto_orig, "prompt") != 0 && strcmp(auto_orig, "doNotPrompt") != 0) {
		sess_error(r, OP, "invalidParameterValue");
		return;
	}
	ModelCall *call = model_call_new();
	reply_conn(r, "MakeCallResponse", "callingDevice", call->id, from->id);
	model_make_call(call, from, to, "makeCall", g_strcmp0(auto_orig, "doNotPrompt") != 0);
}

static void
svc_answer_call(SessReq *r)
{
	ModelConn *conn = need_conn(r, "callToBeAnswered", S(CONN_ALERTING));
	if (conn == NULL)
		return;
	sess_reply_empty(r, "AnswerCallResponse");
	model_answer(conn);
}

static void
svc_clear_connection(SessReq *r)
{
	ModelConn *conn = need_conn(r, "connectionToBeCleared", 0);
	if (conn == NULL)
		return;
	sess_reply_empty(r, "ClearConnectionResponse");
	model_clear_connection(conn, "normalClearing");
}

static void
svc_clear_call(SessReq *r)
{
	ModelCall *call = need_call(r, "callToBeCleared");
	if (call == NULL)
		return;
	sess_reply_empty(r, "ClearCallResponse");
	model_clear_call(call, "normalClearing");
}

static void
svc_hold(SessReq *r)
{
	ModelConn *conn = need_conn(r, "callToBeHeld", S(CONN_CONNECTED));
	if (conn == NULL)
		return;
	sess_reply_empty(r, "HoldCallResponse");
	model_hold(conn, "normal");
}

static void
svc_retrieve(SessReq *r)
{
	ModelConn *conn = need_conn(r, "callToBeRetrieved", S(CONN_HOLD));
	if (conn == NULL)
		return;
	sess_reply_empty(r, "RetrieveCallResponse");
	model_retrieve(conn);
}

static void
svc_consultation(SessReq *r)
{
	ModelConn *held = need_conn(r, "existingCall", S(CONN_CONNECTED) | S(CONN_HOLD));
	if (held == NULL)
		return;
	if (held->dev == NULL) {
		sess_error(r, OP, "invalidDeviceID");
		return;
	}
	const char *to = need_text(r, "consultedDevice");
	if (to == NULL)
		return;
	ModelCall *call2 = model_call_new();
	reply_conn(r, "ConsultationCallResponse", "initiatedCall", call2->id, held->device);
	model_consult(held, call2, to);
}

/* heldCall and activeCall: two different calls at the same device. */
static gboolean
need_pair(SessReq *r, ModelConn **held, ModelConn **active, guint active_mask)
{
	*held = need_conn(r, "heldCall", S(CONN_HOLD));
	*active = *held ? need_conn(r, "activeCall", active_mask) : NULL;
	if (*active == NULL)
		return FALSE;
	if (strcmp((*held)->device, (*active)->device) != 0 || (*held)->call == (*active)->call) {
		sess_error(r, OP, "notSameDevice");
		return FALSE;
	}
	return TRUE;
}

static void
pair_items(GString *xml, const char *elem, ModelCall *keep, ModelCall *other, const char *dev,
	   gboolean include_dev)
{
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(EvListItem));
	ModelCall *calls[2] = { keep, other };
	for (int k = 0; k < 2; k++) {
		for (guint i = 0; i < calls[k]->conns->len; i++) {
			ModelConn *c = g_ptr_array_index(calls[k]->conns, i);
			if (strcmp(c->device, dev) == 0 && (!include_dev || k == 1))
				continue;
			EvListItem it = { keep->id, calls[k]->id, c->device };
			g_array_append_val(items, it);
		}
	}
	events_conn_list(xml, elem, (EvListItem *)items->data, items->len);
}

static void
svc_conference(SessReq *r)
{
	ModelConn *held, *active;
	if (!need_pair(r, &held, &active, S(CONN_CONNECTED)))
		return;
	g_autoptr(GString) xml = sess_begin(r, "ConferenceCallResponse");
	xml_conn_id(xml, "conferenceCall", held->call->id, held->device);
	pair_items(xml, "connections", held->call, active->call, held->device, TRUE);
	sess_end(xml, "ConferenceCallResponse");
	sess_reply(r, xml);
	model_conference(held, active);
}

static const char *
other_party(const ModelCall *call, const char *dev)
{
	for (guint i = 0; i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		if (strcmp(c->device, dev) != 0)
			return c->device;
	}
	return NULL;
}

static void
svc_transfer(SessReq *r)
{
	ModelConn *held, *active;
	if (!need_pair(r, &held, &active, S(CONN_CONNECTED) | S(CONN_INITIATED)))
		return;
	g_autoptr(GString) xml = sess_begin(r, "TransferCallResponse");
	xml_conn_id(xml, "transferredCall", active->call->id,
		    other_party(active->call, active->device));
	pair_items(xml, "connections", active->call, held->call, held->device, FALSE);
	sess_end(xml, "TransferCallResponse");
	sess_reply(r, xml);
	model_transfer(held, active);
}

static void
svc_ss_conference(SessReq *r)
{
	ModelConn *active = need_conn(r, "activeCall", S(CONN_CONNECTED));
	const char *join = active ? need_text(r, "deviceToJoin") : NULL;
	if (join == NULL)
		return;
	const char *pt = xml_child_text(r->req, "participationType");
	if (pt != NULL && strcmp(pt, "active") != 0 && strcmp(pt, "silent") != 0 &&
	    strcmp(pt, "none") != 0) {
		sess_error(r, OP, "invalidParticipationType");
		return;
	}
	if (model_conn(active->call, join) != NULL) {
		sess_error(r, OP, "invalidDestination");
		return;
	}
	reply_conn(r, "SingleStepConferenceCallResponse", "conferencedCall", active->call->id, join);
	model_ss_conference(active, join, pt != NULL && strcmp(pt, "silent") == 0);
}

static void
svc_ss_transfer(SessReq *r)
{
	ModelConn *active = need_conn(r, "activeCall", S(CONN_CONNECTED) | S(CONN_ALERTING));
	const char *to = active ? need_text(r, "transferredTo") : NULL;
	if (to == NULL)
		return;
	if (model_conn(active->call, to) != NULL) {
		sess_error(r, OP, "invalidDestination");
		return;
	}
	reply_conn(r, "SingleStepTransferCallResponse", "transferredCall", active->call->id, to);
	model_ss_transfer(active, to);
}

static void
svc_deflect(SessReq *r)
{
	ModelConn *conn = need_conn(r, "callToBeDiverted", S(CONN_ALERTING) | S(CONN_QUEUED));
	const char *to = conn ? need_text(r, "newDestination") : NULL;
	if (to == NULL)
		return;
	sess_reply_empty(r, "DeflectCallResponse");
	model_deflect(conn, to);
}

static gboolean
forwarding_type_ok(const char *type)
{
	static const char *const types[] = {
		"forwardImmediate", "forwardBusy", "forwardNoAns", "forwardDND",
		"forwardBusyInt", "forwardBusyExt", "forwardNoAnsInt", "forwardNoAnsExt",
		"forwardImmInt", "forwardImmExt", "forwardDNDInt", "forwardDNDExt",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
		if (strcmp(type, types[i]) == 0)
			return TRUE;
	return FALSE;
}

static void
svc_set_forwarding(SessReq *r)
{
	ModelDevice *dev = need_device(r, "device");
	const char *on = dev ? need_text(r, "activateForward") : NULL;
	if (on == NULL)
		return;
	const char *type = xml_child_text(r->req, "forwardingType");
	const char *dn = device_text(xml_child(r->req, "forwardDN"));
	const char *rc = xml_child_text(r->req, "ringCount");
	int rings = rc ? atoi(rc) : 0;
	gboolean activate = strcmp(on, "true") == 0;
	if (type == NULL)
		type = "forwardImmediate";
	if (!forwarding_type_ok(type))
		sess_error(r, OP, "invalidForwardingType");
	else if (!activate && strcmp(on, "false") != 0)
		sess_error(r, OP, "invalidParameterValue");
	else if (activate && dn == NULL)
		sess_error(r, OP, "invalidForwardingDestination");
	else if (rc != NULL && (rings < 1 || rings > 100))
		sess_error(r, OP, "ringCountOutOfRange");
	if (r->answered)
		return;
	sess_reply_empty(r, "SetForwardingResponse");
	model_set_forwarding(dev, type, activate, dn, rings);
}

static void
svc_monitor_start(SessReq *r)
{
	XmlNode *obj = xml_child(r->req, "monitorObject");
	const char *dev_id = device_text(xml_child(obj, "deviceObject"));
	XmlNode *call_obj = xml_child(obj, "callObject");
	ModelDevice *dev = NULL;
	ModelCall *call = NULL;
	if (dev_id != NULL) {
		if ((dev = model_device(dev_id)) == NULL)
			sess_error(r, OP, "invalidDeviceID");
	} else if (call_obj != NULL) {
		if ((call = model_call(xml_child_text(call_obj, "callID"))) == NULL)
			sess_error(r, OP, "invalidCallID");
	} else {
		sess_error(r, OP, "invalidParameterValue");
	}
	if (r->answered)
		return;
	ModelMonitor *m = model_monitor_start(r->client, dev, call ? call->id : NULL);
	m->filter = events_filter_parse(xml_child(r->req, "requestedMonitorFilter"));
	g_autoptr(GString) xml = sess_begin(r, "MonitorStartResponse");
	xml_leaf(xml, "monitorCrossRefID", m->xref);
	sess_end(xml, "MonitorStartResponse");
	sess_reply(r, xml);
}

static void
svc_monitor_stop(SessReq *r)
{
	ModelMonitor *m = model_monitor(xml_child_text(r->req, "monitorCrossRefID"));
	if (m == NULL || m->client != r->client) {
		sess_error(r, OP, "invalidMonitorCrossRefID");
		return;
	}
	model_monitor_stop(m);
	sess_reply_empty(r, "MonitorStopResponse");
}

static void
svc_snapshot_device(SessReq *r)
{
	ModelDevice *dev = need_device(r, "snapshotObject");
	if (dev == NULL)
		return;
	g_autoptr(GString) xml = sess_begin(r, "SnapshotDeviceResponse");
	xml_open(xml, "crossRefIDorSnapshotData");
	if (dev->conns == NULL)
		xml_empty(xml, "snapshotData");
	else
		xml_open(xml, "snapshotData");
	for (GList *l = dev->conns; l != NULL; l = l->next) {
		ModelConn *c = l->data;
		xml_open(xml, "snapshotDeviceResponseInfo");
		xml_conn_id(xml, "connectionIdentifier", c->call->id, c->device);
		xml_open(xml, "localCallState");
		xml_open(xml, "compoundCallState");
		xml_leaf(xml, "localConnectionState", model_state_str(c->state));
		xml_close(xml, "compoundCallState");
		xml_close(xml, "localCallState");
		xml_close(xml, "snapshotDeviceResponseInfo");
	}
	if (dev->conns != NULL)
		xml_close(xml, "snapshotData");
	xml_close(xml, "crossRefIDorSnapshotData");
	sess_end(xml, "SnapshotDeviceResponse");
	sess_reply(r, xml);
}

/* SnapshotCall: every party of the call (deviceOnCall, its connection, its state). */
static void
svc_snapshot_call(SessReq *r)
{
	ModelCall *call = need_call(r, "snapshotObject");
	if (call == NULL)
		return;
	g_autoptr(GString) xml = sess_begin(r, "SnapshotCallResponse");
	xml_open(xml, "crossRefIDorSnapshotData");
	xml_open(xml, "snapshotData");
	for (guint i = 0; i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		xml_open(xml, "snapshotCallResponseInfo");
		xml_open(xml, "deviceOnCall");
		xml_leaf(xml, "deviceIdentifier", c->device);
		xml_close(xml, "deviceOnCall");
		xml_conn_id(xml, "callIdentifier", call->id, c->device);
		xml_leaf(xml, "localConnectionState", model_state_str(c->state));
		xml_close(xml, "snapshotCallResponseInfo");
	}
	xml_close(xml, "snapshotData");
	xml_close(xml, "crossRefIDorSnapshotData");
	sess_end(xml, "SnapshotCallResponse");
	sess_reply(r, xml);
}

static void
svc_route_register(SessReq *r)
{
	ModelDevice *dev = need_device(r, "routeingDevice");
	if (dev == NULL)
		return;
	g_autofree char *id = model_route_register(r->client, dev);
	g_autoptr(GString) xml = sess_begin(r, "RouteRegisterResponse");
	xml_leaf(xml, "routeRegisterReqID", id);
	sess_end(xml, "RouteRegisterResponse");
	sess_reply(r, xml);
}

static void
svc_route_register_cancel(SessReq *r)
{
	if (!model_route_cancel(r->client, xml_child_text(r->req, "routeRegisterReqID"))) {
		sess_error(r, OP, "invalidRouteRegistrationCrossRefID");
		return;
	}
	sess_reply_empty(r, "RouteRegisterCancelResponse");
}

/* RouteSelect/RouteEnd have no response; a bad one is answered by a RouteEnd with errorValue. */
static ModelRoute *
need_route(SessReq *r)
{
	const char *xref = xml_child_text(r->req, "crossRefIdentifier");
	ModelRoute *route = model_route(xref);
	r->answered = TRUE;
	if (route != NULL && route->client == r->client)
		return route;
	g_autoptr(GString) xml = sess_begin(r, "RouteEnd");
	xml_leaf(xml, "crossRefIdentifier", xref ? xref : "");
	xml_open(xml, "errorValue");
	xml_leaf(xml, OP, "invalidRouteingCrossRefID");
	xml_close(xml, "errorValue");
	sess_end(xml, "RouteEnd");
	session_request(r->client, "RouteEnd", xml);
	return NULL;
}

static void
svc_route_select(SessReq *r)
{
	ModelRoute *route = need_route(r);
	const char *dest = route ? device_text(xml_child(r->req, "routeSelected")) : NULL;
	if (route == NULL)
		return;
	if (dest == NULL) {
		model_route_end(route);
		return;
	}
	model_route_select(route, dest,
			   g_strcmp0(xml_child_text(r->req, "routeUsedReq"), "true") == 0);
}

static void
svc_route_end(SessReq *r)
{
	ModelRoute *route = need_route(r);
	if (route != NULL)
		model_route_end(route);
}

/* play_error_value - the CSTA operation error for a refused PlayMessage */
static const char *
play_error_value(const GError *err)
{
	if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_INVAL))
		return "invalidFile"; /* not a WAV file, or a TIFF that is not Class F */
	if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NXIO))
		return "requestIncompatibleWithObject"; /* a TIFF with no fax receiver */
	return "invalidMsgID";
}

static void
svc_play_message(SessReq *r)
{
	ModelConn *conn = need_conn(r, "overConnection", S(CONN_CONNECTED));
	const char *msg = conn ? xml_child_text(r->req, "messageToBePlayed") : NULL;
	if (conn == NULL)
		return;
	g_autoptr(GError) err = NULL;
	if (msg == NULL || *msg == '\0') {
		sess_error(r, OP, "messageIDRequired");
		return;
	}
	/* Check the file before answering: a bad message is an error response. */
	if (!model_play_check(conn, msg, &err)) {
		g_printerr("pbx-sim: PlayMessage %s: %s\n", msg, err->message);
		sess_error(r, OP, play_error_value(err));
		return;
	}
	sess_reply_empty(r, "PlayMessageResponse");
	if (!model_play(conn, msg, &err))
		g_printerr("pbx-sim: PlayMessage %s: %s\n", msg, err->message);
}

static void
svc_stop(SessReq *r)
{
	ModelConn *conn = need_conn(r, "connection", 0);
	if (conn == NULL)
		return;
	if (conn->playing == NULL) {
		sess_error(r, STATE, "incorrectMsgState");
		return;
	}
	sess_reply_empty(r, "StopResponse");
	model_stop_play(conn);
}

typedef struct {
	const char *name;
	void (*handle)(SessReq *r);
} ServiceRow;

static const ServiceRow service_rows[] = {
	{ "MakeCall", svc_make_call },
	{ "AnswerCall", svc_answer_call },
	{ "ClearConnection", svc_clear_connection },
	{ "ClearCall", svc_clear_call },
	{ "HoldCall", svc_hold },
	{ "RetrieveCall", svc_retrieve },
	{ "ConsultationCall", svc_consultation },
	{ "ConferenceCall", svc_conference },
	{ "SingleStepConferenceCall", svc_ss_conference },
	{ "TransferCall", svc_transfer },
	{ "SingleStepTransferCall", svc_ss_transfer },
	{ "DeflectCall", svc_deflect },
	{ "SetForwarding", svc_set_forwarding },
	{ "MonitorStart", svc_monitor_start },
	{ "MonitorStop", svc_monitor_stop },
	{ "SnapshotDevice", svc_snapshot_device },
	{ "SnapshotCall", svc_snapshot_call },
	{ "RouteRegister", svc_route_register },
	{ "RouteRegisterCancel", svc_route_register_cancel },
	{ "RouteSelect", svc_route_select },
	{ "RouteEnd", svc_route_end },
	{ "PlayMessage", svc_play_message },
	{ "Stop", svc_stop },
};

/* services_dispatch - run the handler for R's root element; FALSE when there is none */
gboolean
services_dispatch(SessReq *r)
{
	for (gsize i = 0; i < G_N_ELEMENTS(service_rows); i++) {
		if (strcmp(service_rows[i].name, r->req->name) == 0) {
			service_rows[i].handle(r);
			return TRUE;
		}
	}
	return FALSE;
}
