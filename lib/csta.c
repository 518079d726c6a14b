/* csta - framing, invoke ids, request builders and the message decoder of
 * the CSTA XML client codec (see csta.h and CSTA.md sections 1-5).
 *
 * The frame decoder owns a byte buffer; a frame is returned as soon as all of
 * its bytes are in, whatever the TCP split.  A bad header (non-zero format
 * bytes, a length of 8 or less, non-digit invoke id) is fatal for the stream:
 * the caller drops the connection.  Lengths count bytes, never characters.
 * The message decoder is table-driven by root element local name; roots it
 * does not know decode to CSTA_MSG_UNKNOWN so the caller can log and move on.
 */
#include "csta.h"
#include "csta-private.h"

#include <string.h>

/* ---- framing ---- */

struct CstaDecoder {
	GByteArray *buf;
};

/* csta_frame_encode - header + XML body; NULL + error when it exceeds CSTA_MAX_FRAME */
GBytes *csta_frame_encode(int invoke, const char *xml, GError **error)
{
	gsize len = strlen(xml);
	gsize total = len + CSTA_HEADER_LEN;
	char head[CSTA_HEADER_LEN + 1];
	guint8 *frame;

	g_return_val_if_fail(invoke >= 0 && invoke <= CSTA_EVENT_INVOKE, NULL);
	if (total > CSTA_MAX_FRAME) {
		g_set_error(error, CSTA_ERROR, CSTA_ERROR_FRAME,
		            "frame of %" G_GSIZE_FORMAT " bytes exceeds %d", total, CSTA_MAX_FRAME);
		return NULL;
	}
	g_snprintf(head + 4, sizeof head - 4, "%04d", invoke);
	head[0] = 0;
	head[1] = 0;
	head[2] = (char)(total >> 8);
	head[3] = (char)(total & 0xff);
	frame = g_malloc(total);
	memcpy(frame, head, CSTA_HEADER_LEN);
	memcpy(frame + CSTA_HEADER_LEN, xml, len);
	return g_bytes_new_take(frame, total);
}

/* csta_decoder_new - an empty incremental frame decoder */
CstaDecoder *csta_decoder_new(void)
{
	CstaDecoder *dec = g_new0(CstaDecoder, 1);

	dec->buf = g_byte_array_new();
	return dec;
}

/* csta_decoder_free - free; NULL is a no-op */
void csta_decoder_free(CstaDecoder *dec)
{
	if (dec == NULL)
		return;
	g_byte_array_unref(dec->buf);
	g_free(dec);
}

/* csta_decoder_feed - append LEN received bytes */
void csta_decoder_feed(CstaDecoder *dec, const void *data, gsize len)
{
	g_byte_array_append(dec->buf, data, (guint)len);
}

/* csta_decoder_pending - bytes buffered but not yet returned */
gsize csta_decoder_pending(const CstaDecoder *dec)
{
	return dec->buf->len;
}

static gboolean header_check(const guint8 *h, gsize *total_out, int *invoke_out, GError **error)
{
	gsize total = ((gsize)h[2] << 8) | h[3];
	int invoke = 0;

	if (h[0] != 0 || h[1] != 0) {
		g_set_error(error, CSTA_ERROR, CSTA_ERROR_FRAME,
		            "bad frame header: format bytes 0x%02x%02x, not 0x0000", h[0], h[1]);
		return FALSE;
	}
	if (total <= CSTA_HEADER_LEN) {
		g_set_error(error, CSTA_ERROR, CSTA_ERROR_FRAME,
		            "bad frame length %" G_GSIZE_FORMAT, total);
		return FALSE;
	}
	for (int i = 4; i < CSTA_HEADER_LEN; i++) {
		if (!g_ascii_isdigit(h[i])) {
			g_set_error(error, CSTA_ERROR, CSTA_ERROR_FRAME,
			            "bad invoke id byte 0x%02x", h[i]);
			return FALSE;
		}
		invoke = invoke * 10 + (h[i] - '0');
	}
	*total_out = total;
	*invoke_out = invoke;
	return TRUE;
}

/* csta_decoder_next - the next complete frame, or FALSE (more bytes needed, or error) */
gboolean csta_decoder_next(CstaDecoder *dec, int *invoke_out, GBytes **body_out, GError **error)
{
	gsize total;
	int invoke;

	*body_out = NULL;
	if (dec->buf->len < CSTA_HEADER_LEN)
		return FALSE;
	if (!header_check(dec->buf->data, &total, &invoke, error))
		return FALSE;
	if (dec->buf->len < total)
		return FALSE;
	*body_out = g_bytes_new(dec->buf->data + CSTA_HEADER_LEN, total - CSTA_HEADER_LEN);
	*invoke_out = invoke;
	g_byte_array_remove_range(dec->buf, 0, (guint)total);
	return TRUE;
}

/* ---- invoke ids ---- */

struct CstaInvokeIds {
	guint8 busy[CSTA_MAX_INVOKE + 1];
	int last;
};

/* csta_invoke_ids_new - an allocator with nothing outstanding */
CstaInvokeIds *csta_invoke_ids_new(void)
{
	return g_new0(CstaInvokeIds, 1);
}

/* csta_invoke_ids_free - free; NULL is a no-op */
void csta_invoke_ids_free(CstaInvokeIds *ids)
{
	g_free(ids);
}

/* csta_invoke_alloc - the next free id after the last one given, or 0 when none is free */
int csta_invoke_alloc(CstaInvokeIds *ids)
{
	for (int n = 0; n < CSTA_MAX_INVOKE; n++) {
		int id = ids->last % CSTA_MAX_INVOKE + 1;

		ids->last = id;
		if (!ids->busy[id]) {
			ids->busy[id] = 1;
			return id;
		}
	}
	return 0;
}

/* csta_invoke_release - mark ID free again */
void csta_invoke_release(CstaInvokeIds *ids, int id)
{
	if (id >= 1 && id <= CSTA_MAX_INVOKE)
		ids->busy[id] = 0;
}

/* csta_invoke_release_all - forget every outstanding id */
void csta_invoke_release_all(CstaInvokeIds *ids)
{
	memset(ids->busy, 0, sizeof ids->busy);
}

/* ---- builders ---- */

static char *finish(CstaNode *root, const char *ns)
{
	char *xml = csta_node_to_xml(root, ns);

	csta_node_free(root);
	return xml;
}

static void add_connection(CstaNode *parent, const char *name, const char *call_id,
                           const char *device_id)
{
	CstaNode *conn = csta_node_add(parent, name, NULL);

	csta_node_add(conn, "callID", call_id);
	csta_node_add(conn, "deviceID", device_id);
}

/* csta_build_start_session - StartApplicationSession */
char *csta_build_start_session(const char *application_id, const char *user, const char *password,
                               const char *protocol, int duration)
{
	CstaNode *root = csta_node_new("StartApplicationSession", NULL);
	CstaNode *info = csta_node_add(root, "applicationInfo", NULL);
	CstaNode *versions;
	g_autofree char *dur = g_strdup_printf("%d", duration);

	csta_node_add(info, "applicationID", application_id);
	if (user != NULL && user[0] != '\0') {
		CstaNode *specific = csta_node_add(info, "applicationSpecificInfo", NULL);

		csta_node_add(specific, "user", user);
		csta_node_add(specific, "password", password ? password : "");
	}
	versions = csta_node_add(root, "requestedProtocolVersions", NULL);
	csta_node_add(versions, "protocolVersion", protocol);
	csta_node_add(root, "requestedSessionDuration", dur);
	return finish(root, CSTA_NS_SESSION);
}

/* csta_build_reset_session_timer - ResetApplicationSessionTimer */
char *csta_build_reset_session_timer(const char *session_id, int duration)
{
	CstaNode *root = csta_node_new("ResetApplicationSessionTimer", NULL);
	g_autofree char *dur = g_strdup_printf("%d", duration);

	csta_node_add(root, "sessionID", session_id);
	csta_node_add(root, "requestedSessionDuration", dur);
	return finish(root, CSTA_NS_SESSION);
}

/* csta_build_stop_session - StopApplicationSession, normal end */
char *csta_build_stop_session(const char *session_id)
{
	CstaNode *root = csta_node_new("StopApplicationSession", NULL);

	csta_node_add(root, "sessionID", session_id);
	csta_node_add(csta_node_add(root, "sessionEndReason", NULL), "definedEndReason", "normal");
	return finish(root, CSTA_NS_SESSION);
}

/* csta_build_system_status_response - the empty SystemStatusResponse */
char *csta_build_system_status_response(const char *ns)
{
	return finish(csta_node_new("SystemStatusResponse", NULL), ns);
}

/* csta_build_system_register - SystemRegister for systemStatus reports */
char *csta_build_system_register(const char *ns)
{
	CstaNode *root = csta_node_new("SystemRegister", NULL);
	CstaNode *types = csta_node_add(root, "requestTypes", NULL);

	csta_node_add(types, "systemStatus", "true");
	csta_node_add(types, "requestSystemStatus", "false");
	return finish(root, ns);
}

/* csta_build_request_system_status - RequestSystemStatus */
char *csta_build_request_system_status(const char *ns)
{
	return finish(csta_node_new("RequestSystemStatus", NULL), ns);
}

/* csta_build_monitor_start - MonitorStart on DEVICE */
char *csta_build_monitor_start(const char *ns, const char *device)
{
	CstaNode *root = csta_node_new("MonitorStart", NULL);

	csta_node_add(csta_node_add(root, "monitorObject", NULL), "deviceObject", device);
	return finish(root, ns);
}

/* csta_build_monitor_stop - MonitorStop of XREF */
char *csta_build_monitor_stop(const char *ns, const char *xref)
{
	CstaNode *root = csta_node_new("MonitorStop", NULL);

	csta_node_add(root, "monitorCrossRefID", xref);
	return finish(root, ns);
}

/* csta_build_make_call - MakeCall CALLING -> CALLED, autoOriginate doNotPrompt */
char *csta_build_make_call(const char *ns, const char *calling, const char *called)
{
	CstaNode *root = csta_node_new("MakeCall", NULL);

	csta_node_add(root, "callingDevice", calling);
	csta_node_add(root, "calledDirectoryNumber", called);
	csta_node_add(root, "autoOriginate", "doNotPrompt");
	return finish(root, ns);
}

/* csta_build_make_call_tagged - MakeCall CALLING -> CALLED with correlatorData CORRELATOR */
char *csta_build_make_call_tagged(const char *ns, const char *calling, const char *called,
                                  const char *correlator)
{
	CstaNode *root = csta_node_new("MakeCall", NULL);

	csta_node_add(root, "callingDevice", calling);
	csta_node_add(root, "calledDirectoryNumber", called);
	csta_node_add(root, "autoOriginate", "doNotPrompt");
	csta_node_add(root, "correlatorData", correlator);
	return finish(root, ns);
}

/* csta_build_clear_connection - ClearConnection of (CALL_ID, DEVICE_ID) */
char *csta_build_clear_connection(const char *ns, const char *call_id, const char *device_id)
{
	CstaNode *root = csta_node_new("ClearConnection", NULL);

	add_connection(root, "connectionToBeCleared", call_id, device_id);
	return finish(root, ns);
}

/* csta_build_hold_call - HoldCall of (CALL_ID, DEVICE_ID) */
char *csta_build_hold_call(const char *ns, const char *call_id, const char *device_id)
{
	CstaNode *root = csta_node_new("HoldCall", NULL);

	add_connection(root, "callToBeHeld", call_id, device_id);
	return finish(root, ns);
}

/* csta_build_retrieve_call - RetrieveCall of (CALL_ID, DEVICE_ID) */
char *csta_build_retrieve_call(const char *ns, const char *call_id, const char *device_id)
{
	CstaNode *root = csta_node_new("RetrieveCall", NULL);

	add_connection(root, "callToBeRetrieved", call_id, device_id);
	return finish(root, ns);
}

/* csta_build_consultation_call - ConsultationCall from (CALL_ID, DEVICE_ID) to CONSULTED */
char *csta_build_consultation_call(const char *ns, const char *call_id, const char *device_id,
                                   const char *consulted)
{
	CstaNode *root = csta_node_new("ConsultationCall", NULL);

	add_connection(root, "existingCall", call_id, device_id);
	csta_node_add(root, "consultedDevice", consulted);
	return finish(root, ns);
}

/* csta_build_conference_call - ConferenceCall of HELD_CALL and ACTIVE_CALL at DEVICE_ID */
char *csta_build_conference_call(const char *ns, const char *held_call, const char *active_call,
                                 const char *device_id)
{
	CstaNode *root = csta_node_new("ConferenceCall", NULL);

	add_connection(root, "heldCall", held_call, device_id);
	add_connection(root, "activeCall", active_call, device_id);
	return finish(root, ns);
}

/* csta_build_single_step_conference - SingleStepConferenceCall: JOIN joins actively */
char *csta_build_single_step_conference(const char *ns, const char *call_id, const char *device_id,
                                        const char *join)
{
	CstaNode *root = csta_node_new("SingleStepConferenceCall", NULL);

	add_connection(root, "activeCall", call_id, device_id);
	csta_node_add(root, "deviceToJoin", join);
	csta_node_add(root, "participationType", "active");
	return finish(root, ns);
}

/* csta_build_snapshot_device - SnapshotDevice of DEVICE */
char *csta_build_snapshot_device(const char *ns, const char *device)
{
	CstaNode *root = csta_node_new("SnapshotDevice", NULL);

	csta_node_add(root, "snapshotObject", device);
	return finish(root, ns);
}

/* csta_build_snapshot_call - SnapshotCall of CALL_ID */
char *csta_build_snapshot_call(const char *ns, const char *call_id)
{
	CstaNode *root = csta_node_new("SnapshotCall", NULL);
	CstaNode *obj = csta_node_add(root, "snapshotObject", NULL);

	csta_node_add(obj, "callID", call_id);
	return finish(root, ns);
}

/* csta_build_route_register - RouteRegister for DEVICE */
char *csta_build_route_register(const char *ns, const char *device)
{
	CstaNode *root = csta_node_new("RouteRegister", NULL);

	csta_node_add(root, "routeingDevice", device);
	return finish(root, ns);
}

/* csta_build_route_register_cancel - RouteRegisterCancel of REG_ID */
char *csta_build_route_register_cancel(const char *ns, const char *reg_id)
{
	CstaNode *root = csta_node_new("RouteRegisterCancel", NULL);

	csta_node_add(root, "routeRegisterReqID", reg_id);
	return finish(root, ns);
}

/* csta_build_route_select - RouteSelect SELECTED for XREF */
char *csta_build_route_select(const char *ns, const char *xref, const char *reg_id,
                              const char *selected)
{
	CstaNode *root = csta_node_new("RouteSelect", NULL);

	csta_node_add(root, "crossRefIdentifier", xref);
	if (reg_id != NULL)
		csta_node_add(root, "routeRegisterReqID", reg_id);
	csta_node_add(root, "routeSelected", selected);
	csta_node_add(root, "routeUsedReq", "false");
	return finish(root, ns);
}

/* csta_build_route_end - RouteEnd of XREF */
char *csta_build_route_end(const char *ns, const char *xref, const char *reg_id)
{
	CstaNode *root = csta_node_new("RouteEnd", NULL);

	csta_node_add(root, "crossRefIdentifier", xref);
	if (reg_id != NULL)
		csta_node_add(root, "routeRegisterReqID", reg_id);
	return finish(root, ns);
}

/* csta_build_set_forwarding - SetForwarding forwardImmediate on DEVICE */
char *csta_build_set_forwarding(const char *ns, const char *device, gboolean activate,
                                const char *dn)
{
	CstaNode *root = csta_node_new("SetForwarding", NULL);

	csta_node_add(root, "device", device);
	csta_node_add(root, "forwardingType", "forwardImmediate");
	csta_node_add(root, "activateForward", activate ? "true" : "false");
	if (activate)
		csta_node_add(root, "forwardDN", dn);
	return finish(root, ns);
}

/* ---- message decoder ---- */

typedef gboolean (*CstaMsgParse)(CstaMessage *msg, const CstaNode *root, GError **error);

typedef struct {
	const char *root;
	CstaMsgKind kind;
	CstaMsgParse parse;
	const char *connection; /* events: the ConnectionID element */
	const char *subject;    /* events: the device that did it */
	const char *other;      /* events: newDestination / addedParty / transferredToDevice */
} CstaMsgRow;

static char *dup_text(const CstaNode *root, const char *path)
{
	return g_strdup(csta_node_text(root, path));
}

static char *dup_nonempty(const CstaNode *node)
{
	return node && node->text[0] != '\0' ? g_strdup(node->text) : NULL;
}

static gboolean missing(const CstaNode *root, const char *what, GError **error)
{
	g_set_error(error, CSTA_ERROR, CSTA_ERROR_MESSAGE, "%s without %s", root->name, what);
	return FALSE;
}

static int int_text(const CstaNode *root, const char *path)
{
	const char *text = csta_node_text(root, path);
	gint64 v;

	if (text == NULL || !g_ascii_string_to_signed(text, 10, 0, G_MAXINT, &v, NULL))
		return -1;
	return (int)v;
}

static void choice_error(CstaMessage *msg, const CstaNode *holder)
{
	const CstaNode *choice;

	if (holder == NULL || holder->children->len == 0)
		return;
	choice = g_ptr_array_index(holder->children, 0);
	msg->error_class = g_strdup(choice->name);
	msg->error_value = g_strdup(choice->text[0] ? choice->text : choice->name);
}

static gboolean parse_nothing(CstaMessage *msg, const CstaNode *root, GError **error)
{
	return TRUE;
}

static gboolean parse_session_pos(CstaMessage *msg, const CstaNode *root, GError **error)
{
	msg->session_id = dup_text(root, "sessionID");
	msg->protocol_version = dup_text(root, "actualProtocolVersion");
	msg->duration = int_text(root, "actualSessionDuration");
	if (msg->session_id == NULL)
		return missing(root, "sessionID", error);
	return TRUE;
}

static gboolean parse_session_neg(CstaMessage *msg, const CstaNode *root, GError **error)
{
	choice_error(msg, csta_node_child(root, "errorCode"));
	if (msg->error_class == NULL) {
		msg->error_class = g_strdup("unspecified");
		msg->error_value = g_strdup("unspecified");
	}
	return TRUE;
}

static gboolean parse_reset_pos(CstaMessage *msg, const CstaNode *root, GError **error)
{
	msg->duration = int_text(root, "actualSessionDuration");
	return TRUE;
}

static gboolean parse_terminated(CstaMessage *msg, const CstaNode *root, GError **error)
{
	const CstaNode *reason = csta_node_child(root, "sessionTermReason");

	msg->session_id = dup_text(root, "sessionID");
	choice_error(msg, reason);
	return TRUE;
}

static gboolean parse_system_status(CstaMessage *msg, const CstaNode *root, GError **error)
{
	msg->register_id = dup_text(root, "sysStatRegisterID");
	msg->system_status = dup_text(root, "systemStatus");
	return TRUE;
}

static gboolean parse_connection(const CstaNode *conn, char **call_id, char **device_id)
{
	if (conn == NULL)
		return FALSE;
	*call_id = dup_nonempty(csta_node_child(conn, "callID"));
	*device_id = g_strdup(csta_device_text(csta_node_child(conn, "deviceID")));
	return TRUE;
}

static gboolean parse_make_call_response(CstaMessage *msg, const CstaNode *root, GError **error)
{
	if (!parse_connection(csta_node_child(root, "callingDevice"), &msg->call_id,
	                      &msg->device_id) ||
	    msg->call_id == NULL)
		return missing(root, "callingDevice/callID", error);
	return TRUE;
}

static gboolean parse_monitor_start_response(CstaMessage *msg, const CstaNode *root, GError **error)
{
	msg->monitor_xref = dup_nonempty(csta_node_child(root, "monitorCrossRefID"));
	if (msg->monitor_xref == NULL)
		return missing(root, "monitorCrossRefID", error);
	return TRUE;
}

static gboolean parse_conn_response(CstaMessage *msg, const CstaNode *root, const char *elem,
                                    GError **error)
{
	if (!parse_connection(csta_node_child(root, elem), &msg->call_id, &msg->device_id) ||
	    msg->call_id == NULL)
		return missing(root, elem, error);
	return TRUE;
}

static gboolean parse_consultation_response(CstaMessage *msg, const CstaNode *root, GError **error)
{
	return parse_conn_response(msg, root, "initiatedCall", error);
}

static gboolean parse_conference_response(CstaMessage *msg, const CstaNode *root, GError **error)
{
	return parse_conn_response(msg, root, "conferenceCall", error);
}

static gboolean parse_ss_conference_response(CstaMessage *msg, const CstaNode *root, GError **error)
{
	return parse_conn_response(msg, root, "conferencedCall", error);
}

/* one connection of a snapshot: its callID, and its localConnectionState
 * wherever the switch put it (localCallState/compoundCallState or directly) */
static void snapshot_item(const CstaNode *info, GPtrArray *calls, GPtrArray *states)
{
	const CstaNode *conn = csta_node_child(info, "connectionIdentifier");
	const char *call = conn ? csta_node_text(conn, "callID") : NULL;
	const char *state =
	    csta_node_text(info, "localCallState/compoundCallState/localConnectionState");

	if (call == NULL || call[0] == '\0')
		return;
	if (state == NULL)
		state = csta_node_text(info, "localCallState/localConnectionState");
	g_ptr_array_add(calls, g_strdup(call));
	g_ptr_array_add(states, g_strdup(state ? state : ""));
}

static gboolean parse_snapshot_device_response(CstaMessage *msg, const CstaNode *root,
                                               GError **error)
{
	const CstaNode *data = csta_node_find(root, "crossRefIDorSnapshotData/snapshotData");
	GPtrArray *calls = g_ptr_array_new();
	GPtrArray *states = g_ptr_array_new();

	if (data == NULL)
		data = csta_node_child(root, "snapshotData");
	for (guint i = 0; data != NULL && i < data->children->len; i++) {
		const CstaNode *info = g_ptr_array_index(data->children, i);

		if (g_ascii_strcasecmp(info->name, "snapshotDeviceResponseInfo") == 0)
			snapshot_item(info, calls, states);
	}
	g_ptr_array_add(calls, NULL);
	g_ptr_array_add(states, NULL);
	msg->snapshot_calls = (char **)g_ptr_array_free(calls, FALSE);
	msg->snapshot_states = (char **)g_ptr_array_free(states, FALSE);
	return TRUE;
}

/* one party of a call snapshot: deviceOnCall and its localConnectionState */
static void snapshot_party(const CstaNode *info, GPtrArray *devices, GPtrArray *states)
{
	const char *dev = csta_device_text(csta_node_child(info, "deviceOnCall"));
	const char *state = csta_node_text(info, "localConnectionState");

	if (dev == NULL || dev[0] == '\0')
		return;
	g_ptr_array_add(devices, g_strdup(dev));
	g_ptr_array_add(states, g_strdup(state ? state : ""));
}

static gboolean parse_snapshot_call_response(CstaMessage *msg, const CstaNode *root, GError **error)
{
	const CstaNode *data = csta_node_find(root, "crossRefIDorSnapshotData/snapshotData");
	GPtrArray *devices = g_ptr_array_new();
	GPtrArray *states = g_ptr_array_new();

	if (data == NULL)
		data = csta_node_child(root, "snapshotData");
	for (guint i = 0; data != NULL && i < data->children->len; i++) {
		const CstaNode *info = g_ptr_array_index(data->children, i);

		if (g_ascii_strcasecmp(info->name, "snapshotCallResponseInfo") == 0)
			snapshot_party(info, devices, states);
	}
	g_ptr_array_add(devices, NULL);
	g_ptr_array_add(states, NULL);
	msg->snapshot_devices = (char **)g_ptr_array_free(devices, FALSE);
	msg->snapshot_states = (char **)g_ptr_array_free(states, FALSE);
	return TRUE;
}

static gboolean parse_route_register_response(CstaMessage *msg, const CstaNode *root,
                                              GError **error)
{
	msg->route_register_id = dup_nonempty(csta_node_child(root, "routeRegisterReqID"));
	if (msg->route_register_id == NULL)
		return missing(root, "routeRegisterReqID", error);
	return TRUE;
}

static gboolean parse_route_message(CstaMessage *msg, const CstaNode *root, GError **error)
{
	msg->route_xref = dup_nonempty(csta_node_child(root, "crossRefIdentifier"));
	if (msg->route_xref == NULL)
		return missing(root, "crossRefIdentifier", error);
	msg->route_register_id = dup_nonempty(csta_node_child(root, "routeRegisterReqID"));
	parse_connection(csta_node_child(root, "routedCall"), &msg->call_id, &msg->device_id);
	msg->called_device = g_strdup(csta_device_text(csta_node_child(root, "currentRoute")));
	msg->calling_device = g_strdup(csta_device_text(csta_node_child(root, "callingDevice")));
	msg->new_destination = g_strdup(csta_device_text(csta_node_child(root, "routeUsed")));
	choice_error(msg, csta_node_child(root, "errorValue"));
	return TRUE;
}

static gboolean parse_error_code(CstaMessage *msg, const CstaNode *root, GError **error)
{
	choice_error(msg, root);
	if (msg->error_class == NULL) {
		msg->error_class = g_strdup("unspecified");
		msg->error_value = g_strdup("unspecified");
	} else if (g_ascii_strcasecmp(msg->error_class, "systemResourceAvailibility") == 0) {
		g_free(msg->error_class);
		msg->error_class = g_strdup("systemResourceAvailability");
	}
	return TRUE;
}

static const CstaMsgRow *find_row(const char *root);

static gboolean parse_event(CstaMessage *msg, const CstaNode *root, GError **error)
{
	const CstaMsgRow *row = find_row(root->name);

	msg->monitor_xref = dup_nonempty(csta_node_child(root, "monitorCrossRefID"));
	if (!parse_connection(csta_node_child(root, row->connection), &msg->call_id,
	                      &msg->device_id) &&
	    msg->kind != CSTA_MSG_DIVERTED)
		return missing(root, row->connection, error);
	if (msg->kind == CSTA_MSG_CALL_CLEARED)
		g_clear_pointer(&msg->device_id, g_free);
	if (row->subject != NULL)
		msg->subject_device =
		    g_strdup(csta_device_text(csta_node_child(root, row->subject)));
	if (row->other != NULL)
		msg->new_destination =
		    g_strdup(csta_device_text(csta_node_child(root, row->other)));
	msg->calling_device = g_strdup(csta_device_text(csta_node_child(root, "callingDevice")));
	msg->called_device = g_strdup(csta_device_text(csta_node_child(root, "calledDevice")));
	msg->local_state = dup_text(root, "localConnectionInfo");
	msg->cause = dup_text(root, "cause");
	msg->secondary_call_id = dup_text(root, "secondaryOldCall/callID");
	return TRUE;
}

static const CstaMsgRow csta_msg_rows[] = {
    {"StartApplicationSessionPosResponse", CSTA_MSG_START_SESSION_POS, parse_session_pos, NULL,
     NULL, NULL},
    {"StartApplicationSessionNegResponse", CSTA_MSG_START_SESSION_NEG, parse_session_neg, NULL,
     NULL, NULL},
    {"ResetApplicationSessionTimerPosResponse", CSTA_MSG_RESET_TIMER_POS, parse_reset_pos, NULL,
     NULL, NULL},
    {"ResetApplicationSessionTimerNegResponse", CSTA_MSG_RESET_TIMER_NEG, parse_session_neg, NULL,
     NULL, NULL},
    {"StopApplicationSessionPosResponse", CSTA_MSG_STOP_SESSION_POS, parse_nothing, NULL, NULL,
     NULL},
    {"ApplicationSessionTerminated", CSTA_MSG_SESSION_TERMINATED, parse_terminated, NULL, NULL,
     NULL},
    {"SystemStatus", CSTA_MSG_SYSTEM_STATUS, parse_system_status, NULL, NULL, NULL},
    {"SystemStatusResponse", CSTA_MSG_SYSTEM_STATUS_RESPONSE, parse_nothing, NULL, NULL, NULL},
    {"RequestSystemStatusResponse", CSTA_MSG_REQUEST_SYSTEM_STATUS_RESPONSE, parse_system_status,
     NULL, NULL, NULL},
    {"SystemRegisterResponse", CSTA_MSG_SYSTEM_REGISTER_RESPONSE, parse_system_status, NULL, NULL,
     NULL},
    {"MakeCallResponse", CSTA_MSG_MAKE_CALL_RESPONSE, parse_make_call_response, NULL, NULL, NULL},
    {"MonitorStartResponse", CSTA_MSG_MONITOR_START_RESPONSE, parse_monitor_start_response, NULL,
     NULL, NULL},
    {"MonitorStopResponse", CSTA_MSG_MONITOR_STOP_RESPONSE, parse_nothing, NULL, NULL, NULL},
    {"ClearConnectionResponse", CSTA_MSG_CLEAR_CONNECTION_RESPONSE, parse_nothing, NULL, NULL,
     NULL},
    {"HoldCallResponse", CSTA_MSG_HOLD_CALL_RESPONSE, parse_nothing, NULL, NULL, NULL},
    {"RetrieveCallResponse", CSTA_MSG_RETRIEVE_CALL_RESPONSE, parse_nothing, NULL, NULL, NULL},
    {"ConsultationCallResponse", CSTA_MSG_CONSULTATION_CALL_RESPONSE, parse_consultation_response,
     NULL, NULL, NULL},
    {"ConferenceCallResponse", CSTA_MSG_CONFERENCE_CALL_RESPONSE, parse_conference_response, NULL,
     NULL, NULL},
    {"SingleStepConferenceCallResponse", CSTA_MSG_SS_CONFERENCE_RESPONSE,
     parse_ss_conference_response, NULL, NULL, NULL},
    {"SnapshotDeviceResponse", CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE, parse_snapshot_device_response,
     NULL, NULL, NULL},
    {"SnapshotCallResponse", CSTA_MSG_SNAPSHOT_CALL_RESPONSE, parse_snapshot_call_response, NULL,
     NULL, NULL},
    {"RouteRegisterResponse", CSTA_MSG_ROUTE_REGISTER_RESPONSE, parse_route_register_response, NULL,
     NULL, NULL},
    {"RouteRegisterCancelResponse", CSTA_MSG_ROUTE_REGISTER_CANCEL_RESPONSE, parse_nothing, NULL,
     NULL, NULL},
    {"SetForwardingResponse", CSTA_MSG_SET_FORWARDING_RESPONSE, parse_nothing, NULL, NULL, NULL},
    {"RouteRequest", CSTA_MSG_ROUTE_REQUEST, parse_route_message, NULL, NULL, NULL},
    {"RouteEnd", CSTA_MSG_ROUTE_END, parse_route_message, NULL, NULL, NULL},
    {"RouteUsed", CSTA_MSG_ROUTE_USED, parse_route_message, NULL, NULL, NULL},
    {"CSTAErrorCode", CSTA_MSG_ERROR, parse_error_code, NULL, NULL, NULL},
    {"ServiceInitiatedEvent", CSTA_MSG_SERVICE_INITIATED, parse_event, "initiatedConnection",
     "initiatingDevice", NULL},
    {"OriginatedEvent", CSTA_MSG_ORIGINATED, parse_event, "originatedConnection", "callingDevice",
     NULL},
    {"DeliveredEvent", CSTA_MSG_DELIVERED, parse_event, "connection", "alertingDevice", NULL},
    {"EstablishedEvent", CSTA_MSG_ESTABLISHED, parse_event, "establishedConnection",
     "answeringDevice", NULL},
    {"FailedEvent", CSTA_MSG_FAILED, parse_event, "failedConnection", "failingDevice", NULL},
    {"ConnectionClearedEvent", CSTA_MSG_CONNECTION_CLEARED, parse_event, "droppedConnection",
     "releasingDevice", NULL},
    {"CallClearedEvent", CSTA_MSG_CALL_CLEARED, parse_event, "clearedCall", NULL, NULL},
    {"HeldEvent", CSTA_MSG_HELD, parse_event, "heldConnection", "holdingDevice", NULL},
    {"RetrievedEvent", CSTA_MSG_RETRIEVED, parse_event, "retrievedConnection", "retrievingDevice",
     NULL},
    {"ConferencedEvent", CSTA_MSG_CONFERENCED, parse_event, "primaryOldCall", "conferencingDevice",
     "addedParty"},
    {"TransferedEvent", CSTA_MSG_TRANSFERRED, parse_event, "primaryOldCall", "transferringDevice",
     "transferredToDevice"},
    {"TransferredEvent", CSTA_MSG_TRANSFERRED, parse_event, "primaryOldCall", "transferringDevice",
     "transferredToDevice"},
    {"DivertedEvent", CSTA_MSG_DIVERTED, parse_event, "connection", "divertingDevice",
     "newDestination"},
};

static const CstaMsgRow *find_row(const char *root)
{
	for (guint i = 0; i < G_N_ELEMENTS(csta_msg_rows); i++)
		if (g_ascii_strcasecmp(csta_msg_rows[i].root, root) == 0)
			return &csta_msg_rows[i];
	return NULL;
}

/* csta_message_from_node - decode a parsed tree */
CstaMessage *csta_message_from_node(const CstaNode *root, GError **error)
{
	const CstaMsgRow *row = find_row(root->name);
	CstaMessage *msg = g_new0(CstaMessage, 1);

	msg->root = g_strdup(root->name);
	msg->duration = -1;
	msg->kind = row ? row->kind : CSTA_MSG_UNKNOWN;
	if (row != NULL && !row->parse(msg, root, error)) {
		csta_message_free(msg);
		return NULL;
	}
	return msg;
}

/* csta_message_parse - decode an XML body */
CstaMessage *csta_message_parse(const char *xml, gssize len, GError **error)
{
	g_autoptr(CstaNode) root = csta_xml_parse(xml, len, error);

	if (root == NULL)
		return NULL;
	return csta_message_from_node(root, error);
}

/* csta_message_copy - a deep copy */
CstaMessage *csta_message_copy(const CstaMessage *msg)
{
	CstaMessage *copy = g_memdup2(msg, sizeof *msg);

	copy->root = g_strdup(msg->root);
	copy->session_id = g_strdup(msg->session_id);
	copy->protocol_version = g_strdup(msg->protocol_version);
	copy->error_class = g_strdup(msg->error_class);
	copy->error_value = g_strdup(msg->error_value);
	copy->system_status = g_strdup(msg->system_status);
	copy->register_id = g_strdup(msg->register_id);
	copy->monitor_xref = g_strdup(msg->monitor_xref);
	copy->call_id = g_strdup(msg->call_id);
	copy->device_id = g_strdup(msg->device_id);
	copy->subject_device = g_strdup(msg->subject_device);
	copy->calling_device = g_strdup(msg->calling_device);
	copy->called_device = g_strdup(msg->called_device);
	copy->new_destination = g_strdup(msg->new_destination);
	copy->local_state = g_strdup(msg->local_state);
	copy->cause = g_strdup(msg->cause);
	copy->secondary_call_id = g_strdup(msg->secondary_call_id);
	copy->route_xref = g_strdup(msg->route_xref);
	copy->route_register_id = g_strdup(msg->route_register_id);
	copy->snapshot_calls = g_strdupv(msg->snapshot_calls);
	copy->snapshot_states = g_strdupv(msg->snapshot_states);
	copy->snapshot_devices = g_strdupv(msg->snapshot_devices);
	return copy;
}

/* csta_message_free - free; NULL is a no-op */
void csta_message_free(CstaMessage *msg)
{
	if (msg == NULL)
		return;
	g_free(msg->root);
	g_free(msg->session_id);
	g_free(msg->protocol_version);
	g_free(msg->error_class);
	g_free(msg->error_value);
	g_free(msg->system_status);
	g_free(msg->register_id);
	g_free(msg->monitor_xref);
	g_free(msg->call_id);
	g_free(msg->device_id);
	g_free(msg->subject_device);
	g_free(msg->calling_device);
	g_free(msg->called_device);
	g_free(msg->new_destination);
	g_free(msg->local_state);
	g_free(msg->cause);
	g_free(msg->secondary_call_id);
	g_free(msg->route_xref);
	g_free(msg->route_register_id);
	g_strfreev(msg->snapshot_calls);
	g_strfreev(msg->snapshot_states);
	g_strfreev(msg->snapshot_devices);
	g_free(msg);
}

/* csta_msg_kind_name - the root element name of KIND */
const char *csta_msg_kind_name(CstaMsgKind kind)
{
	if (kind == CSTA_MSG_UNKNOWN)
		return "unknown";
	for (guint i = 0; i < G_N_ELEMENTS(csta_msg_rows); i++)
		if (csta_msg_rows[i].kind == kind)
			return csta_msg_rows[i].root;
	g_return_val_if_reached("unknown");
}

/* csta_call_event - see csta.h */
CstaCallEvent csta_call_event(CstaMsgKind kind)
{
	switch (kind) {
	case CSTA_MSG_SERVICE_INITIATED:
		return CSTA_EVENT_SERVICE_INITIATED;
	case CSTA_MSG_ORIGINATED:
		return CSTA_EVENT_ORIGINATED;
	case CSTA_MSG_DELIVERED:
		return CSTA_EVENT_DELIVERED;
	case CSTA_MSG_ESTABLISHED:
		return CSTA_EVENT_ESTABLISHED;
	case CSTA_MSG_FAILED:
		return CSTA_EVENT_FAILED;
	case CSTA_MSG_CONNECTION_CLEARED:
		return CSTA_EVENT_CONNECTION_CLEARED;
	case CSTA_MSG_CALL_CLEARED:
		return CSTA_EVENT_CALL_CLEARED;
	case CSTA_MSG_HELD:
		return CSTA_EVENT_HELD;
	case CSTA_MSG_RETRIEVED:
		return CSTA_EVENT_RETRIEVED;
	case CSTA_MSG_CONFERENCED:
		return CSTA_EVENT_CONFERENCED;
	case CSTA_MSG_TRANSFERRED:
		return CSTA_EVENT_TRANSFERRED;
	case CSTA_MSG_DIVERTED:
		return CSTA_EVENT_DIVERTED;
	case CSTA_MSG_UNKNOWN:
	case CSTA_MSG_START_SESSION_POS:
	case CSTA_MSG_START_SESSION_NEG:
	case CSTA_MSG_RESET_TIMER_POS:
	case CSTA_MSG_RESET_TIMER_NEG:
	case CSTA_MSG_STOP_SESSION_POS:
	case CSTA_MSG_SESSION_TERMINATED:
	case CSTA_MSG_SYSTEM_STATUS:
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
	case CSTA_MSG_ROUTE_REQUEST:
	case CSTA_MSG_ROUTE_END:
	case CSTA_MSG_ROUTE_USED:
	case CSTA_MSG_ERROR:
		break;
	}
	return CSTA_EVENT_NONE;
}

/* csta_msg_is_event - TRUE for the call-control events */
gboolean csta_msg_is_event(CstaMsgKind kind)
{
	return csta_call_event(kind) != CSTA_EVENT_NONE;
}
