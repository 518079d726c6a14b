/* csta - CSTA Phase III XML (ECMA-323/-354) over TCP, the client side codec.
 *
 * Three layers, usable separately:
 *  - framing: the 8-byte header of ECMA-323 Annex J.2 (0x0000, uint16 BE
 *    total length including the header, 4 ASCII invoke digits) with an
 *    incremental decoder that takes the stream in any split;
 *  - a small element tree built with GMarkup that matches on local names
 *    (prefixes and namespaces are dropped, names compare case-insensitively);
 *  - builders for the requests ctid sends and a table-driven decoder for the
 *    responses, errors and events it reads (CstaMessage).
 * Nothing here does I/O.  Errors are GErrors in CSTA_ERROR.
 */
#ifndef MAILCTI_CSTA_H
#define MAILCTI_CSTA_H

#include <glib.h>

#define CSTA_HEADER_LEN   8
#define CSTA_MAX_FRAME    65535
#define CSTA_EVENT_INVOKE 9999
#define CSTA_MAX_INVOKE   9998

#define CSTA_NS_ED3     "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
#define CSTA_NS_ED4     "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
#define CSTA_NS_ED6     "http://www.ecma-international.org/standards/ecma-323/csta/ed6"
#define CSTA_NS_SESSION "http://www.ecma-international.org/standards/ecma-354/appl_session"

#define CSTA_ERROR (csta_error_quark())
typedef enum {
	CSTA_ERROR_FRAME,   /* bad header, length out of range, frame too large */
	CSTA_ERROR_XML,     /* body is not well-formed XML (or too deep) */
	CSTA_ERROR_MESSAGE, /* a required element is missing */
} CstaError;
GQuark csta_error_quark(void);

/* ---- framing ---- */

/* csta_frame_encode - header + XML body; NULL + error when it exceeds CSTA_MAX_FRAME (transfer
 * full) */
GBytes *csta_frame_encode(int invoke, const char *xml, GError **error);

typedef struct CstaDecoder CstaDecoder;
/* csta_decoder_new - an empty incremental frame decoder (transfer full) */
CstaDecoder *csta_decoder_new(void);
/* csta_decoder_free - free; NULL is a no-op */
void csta_decoder_free(CstaDecoder *dec);
/* csta_decoder_feed - append LEN received bytes */
void csta_decoder_feed(CstaDecoder *dec, const void *data, gsize len);
/* csta_decoder_next - TRUE and the next complete frame's invoke id and body
 * (transfer full) when one is buffered; FALSE with *body_out NULL when more
 * bytes are needed; FALSE + error on a malformed header (the stream is lost) */
gboolean csta_decoder_next(CstaDecoder *dec, int *invoke_out, GBytes **body_out, GError **error);
/* csta_decoder_pending - bytes buffered but not yet returned */
gsize csta_decoder_pending(const CstaDecoder *dec);

/* ---- invoke ids: 1..9998, wrapping, never one still outstanding ---- */

typedef struct CstaInvokeIds CstaInvokeIds;
/* csta_invoke_ids_new - an allocator with nothing outstanding (transfer full) */
CstaInvokeIds *csta_invoke_ids_new(void);
/* csta_invoke_ids_free - free; NULL is a no-op */
void csta_invoke_ids_free(CstaInvokeIds *ids);
/* csta_invoke_alloc - the next free id after the last one given, or 0 when all 9998 are outstanding
 */
int csta_invoke_alloc(CstaInvokeIds *ids);
/* csta_invoke_release - mark ID free again (a response or error arrived) */
void csta_invoke_release(CstaInvokeIds *ids, int id);
/* csta_invoke_release_all - forget every outstanding id (the link dropped) */
void csta_invoke_release_all(CstaInvokeIds *ids);

/* ---- element tree ---- */

typedef struct CstaNode CstaNode;
struct CstaNode {
	char *name;          /* local name, prefix stripped */
	char *text;          /* character data, whitespace-trimmed; "" when none */
	GPtrArray *children; /* CstaNode*, document order */
};

/* csta_xml_parse - parse an XML document into a tree (transfer full) or NULL + error */
CstaNode *csta_xml_parse(const char *xml, gssize len, GError **error);
/* csta_node_new - a detached element NAME with TEXT (may be NULL) (transfer full) */
CstaNode *csta_node_new(const char *name, const char *text);
/* csta_node_free - free a node and its subtree; NULL is a no-op */
void csta_node_free(CstaNode *node);
/* csta_node_add - append a new child NAME with TEXT to PARENT; returns the child (transfer none) */
CstaNode *csta_node_add(CstaNode *parent, const char *name, const char *text);
/* csta_node_child - first child whose local name equals NAME, case-insensitively, or NULL */
const CstaNode *csta_node_child(const CstaNode *node, const char *name);
/* csta_node_find - follow a "a/b/c" path of child names, or NULL */
const CstaNode *csta_node_find(const CstaNode *node, const char *path);
/* csta_node_text - text of the element at PATH below NODE, or NULL when absent */
const char *csta_node_text(const CstaNode *node, const char *path);
/* csta_node_to_xml - serialise with a default xmlns NS on the root (NULL: none), text escaped
 * (transfer full) */
char *csta_node_to_xml(const CstaNode *root, const char *ns);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CstaNode, csta_node_free)

/* ---- requests ctid sends (each returns the XML body, transfer full) ---- */

/* csta_build_start_session - StartApplicationSession; USER/PASSWORD NULL: no vendor login */
char *csta_build_start_session(const char *application_id, const char *user, const char *password,
                               const char *protocol, int duration);
/* csta_build_reset_session_timer - ResetApplicationSessionTimer */
char *csta_build_reset_session_timer(const char *session_id, int duration);
/* csta_build_stop_session - StopApplicationSession with definedEndReason normal */
char *csta_build_stop_session(const char *session_id);
/* csta_build_system_status_response - the empty SystemStatusResponse */
char *csta_build_system_status_response(const char *ns);
/* csta_build_system_register - SystemRegister asking for systemStatus reports */
char *csta_build_system_register(const char *ns);
/* csta_build_request_system_status - RequestSystemStatus (a keepalive probe) */
char *csta_build_request_system_status(const char *ns);
/* csta_build_monitor_start - MonitorStart on device DEVICE */
char *csta_build_monitor_start(const char *ns, const char *device);
/* csta_build_monitor_stop - MonitorStop of cross reference XREF */
char *csta_build_monitor_stop(const char *ns, const char *xref);
/* csta_build_make_call - MakeCall CALLING -> CALLED, autoOriginate doNotPrompt */
char *csta_build_make_call(const char *ns, const char *calling, const char *called);
/* csta_build_make_call_tagged - MakeCall as above, carrying CORRELATOR (hex, even length,
 * at most 64 digits) as correlatorData so the PBX's records tie the call to the job */
char *csta_build_make_call_tagged(const char *ns, const char *calling, const char *called,
                                  const char *correlator);
/* csta_build_clear_connection - ClearConnection of (CALL_ID, DEVICE_ID) */
char *csta_build_clear_connection(const char *ns, const char *call_id, const char *device_id);
/* csta_build_hold_call - HoldCall of connection (CALL_ID, DEVICE_ID) */
char *csta_build_hold_call(const char *ns, const char *call_id, const char *device_id);
/* csta_build_retrieve_call - RetrieveCall of held connection (CALL_ID, DEVICE_ID) */
char *csta_build_retrieve_call(const char *ns, const char *call_id, const char *device_id);
/* csta_build_consultation_call - ConsultationCall: hold (CALL_ID, DEVICE_ID), dial CONSULTED */
char *csta_build_consultation_call(const char *ns, const char *call_id, const char *device_id,
                                   const char *consulted);
/* csta_build_conference_call - ConferenceCall of HELD_CALL and ACTIVE_CALL at DEVICE_ID */
char *csta_build_conference_call(const char *ns, const char *held_call, const char *active_call,
                                 const char *device_id);
/* csta_build_single_step_conference - SingleStepConferenceCall: JOIN joins (CALL_ID,
 * DEVICE_ID) as an active participant */
char *csta_build_single_step_conference(const char *ns, const char *call_id, const char *device_id,
                                        const char *join);
/* csta_build_snapshot_device - SnapshotDevice of DEVICE */
char *csta_build_snapshot_device(const char *ns, const char *device);
/* csta_build_snapshot_call - SnapshotCall of CALL_ID (who is in the call, in which state) */
char *csta_build_snapshot_call(const char *ns, const char *call_id);
/* csta_build_route_register - RouteRegister for routeing device DEVICE */
char *csta_build_route_register(const char *ns, const char *device);
/* csta_build_route_register_cancel - RouteRegisterCancel of REG_ID */
char *csta_build_route_register_cancel(const char *ns, const char *reg_id);
/* csta_build_route_select - RouteSelect SELECTED for route dialogue XREF (REG_ID may be NULL) */
char *csta_build_route_select(const char *ns, const char *xref, const char *reg_id,
                              const char *selected);
/* csta_build_route_end - RouteEnd of route dialogue XREF (REG_ID may be NULL) */
char *csta_build_route_end(const char *ns, const char *xref, const char *reg_id);
/* csta_build_set_forwarding - SetForwarding forwardImmediate on DEVICE to DN (ACTIVATE FALSE:
 * off, DN ignored) */
char *csta_build_set_forwarding(const char *ns, const char *device, gboolean activate,
                                const char *dn);

/* ---- messages ctid reads ---- */

typedef enum {
	CSTA_MSG_UNKNOWN,
	CSTA_MSG_START_SESSION_POS,
	CSTA_MSG_START_SESSION_NEG,
	CSTA_MSG_RESET_TIMER_POS,
	CSTA_MSG_RESET_TIMER_NEG,
	CSTA_MSG_STOP_SESSION_POS,
	CSTA_MSG_SESSION_TERMINATED,
	CSTA_MSG_SYSTEM_STATUS, /* a request from the switch: answer it */
	CSTA_MSG_SYSTEM_STATUS_RESPONSE,
	CSTA_MSG_SYSTEM_REGISTER_RESPONSE,
	CSTA_MSG_REQUEST_SYSTEM_STATUS_RESPONSE,
	CSTA_MSG_MAKE_CALL_RESPONSE,
	CSTA_MSG_MONITOR_START_RESPONSE,
	CSTA_MSG_MONITOR_STOP_RESPONSE,
	CSTA_MSG_CLEAR_CONNECTION_RESPONSE,
	CSTA_MSG_HOLD_CALL_RESPONSE,
	CSTA_MSG_RETRIEVE_CALL_RESPONSE,
	CSTA_MSG_CONSULTATION_CALL_RESPONSE, /* call_id/device_id: initiatedCall */
	CSTA_MSG_CONFERENCE_CALL_RESPONSE,   /* call_id/device_id: conferenceCall */
	CSTA_MSG_SS_CONFERENCE_RESPONSE,     /* call_id/device_id: conferencedCall */
	CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE,   /* snapshot_calls/snapshot_states */
	CSTA_MSG_SNAPSHOT_CALL_RESPONSE,     /* snapshot_devices/snapshot_states */
	CSTA_MSG_ROUTE_REGISTER_RESPONSE,    /* route_register_id */
	CSTA_MSG_ROUTE_REGISTER_CANCEL_RESPONSE,
	CSTA_MSG_SET_FORWARDING_RESPONSE,
	CSTA_MSG_ROUTE_REQUEST, /* a request from the switch (its own invoke id), no response */
	CSTA_MSG_ROUTE_END,     /* from the switch, no response */
	CSTA_MSG_ROUTE_USED,    /* from the switch, no response */
	CSTA_MSG_ERROR,         /* CSTAErrorCode */
	CSTA_MSG_SERVICE_INITIATED,
	CSTA_MSG_ORIGINATED,
	CSTA_MSG_DELIVERED,
	CSTA_MSG_ESTABLISHED,
	CSTA_MSG_FAILED,
	CSTA_MSG_CONNECTION_CLEARED,
	CSTA_MSG_CALL_CLEARED,
	CSTA_MSG_HELD,
	CSTA_MSG_RETRIEVED,
	CSTA_MSG_CONFERENCED,
	CSTA_MSG_TRANSFERRED,
	CSTA_MSG_DIVERTED,
} CstaMsgKind;

/* Every string is NULL when the element is absent.  Devices are opaque
 * strings: a DeviceID's text or an ExtendedDeviceID's deviceIdentifier. */
typedef struct {
	CstaMsgKind kind;
	char *root;             /* local name of the root element */
	char *session_id;       /* session responses, ApplicationSessionTerminated */
	char *protocol_version; /* actualProtocolVersion */
	int duration;           /* actualSessionDuration, -1 when absent */
	char *error_class;      /* CSTAErrorCode child ("operation", ..., spelled
	                         * systemResourceAvailability), "definedError" or
	                         * "applError" for session Neg responses,
	                         * "sessionTermReason" for a terminated session */
	char *error_value;      /* its text ("unspecified" for <unspecified/>) */
	char *system_status;    /* SystemStatus */
	char *register_id;      /* sysStatRegisterID */
	char *monitor_xref;     /* monitorCrossRefID (events, MonitorStartResponse) */
	char *call_id;          /* the event's (or MakeCallResponse's) connection */
	char *device_id;
	char *subject_device; /* alerting/answering/failing/releasing/... device */
	char *calling_device;
	char *called_device;
	char *new_destination; /* DivertedEvent; addedParty / transferredToDevice */
	char *local_state;     /* localConnectionInfo */
	char *cause;
	char *secondary_call_id; /* secondaryOldCall (Conferenced/Transfered) */
	char *route_xref;        /* RouteRequest/RouteEnd/RouteUsed crossRefIdentifier */
	char *route_register_id; /* routeRegisterReqID; RouteRequest's currentRoute is
	                          * called_device, its routedCall call_id/device_id */
	char **snapshot_calls; /* SnapshotDeviceResponse: callID per connection (NULL-terminated) */
	char **snapshot_states; /* and its localConnectionState, same index ("" when absent) */
	char **snapshot_devices; /* SnapshotCallResponse: deviceOnCall per connection, states
	                          * in snapshot_states (NULL-terminated) */
} CstaMessage;

/* csta_message_parse - decode an XML body; unknown roots give CSTA_MSG_UNKNOWN
 * (not an error); NULL + error if it is not XML or a required part is missing */
CstaMessage *csta_message_parse(const char *xml, gssize len, GError **error);
/* csta_message_from_node - the same, from a parsed tree */
CstaMessage *csta_message_from_node(const CstaNode *root, GError **error);
/* csta_message_copy - a deep copy (transfer full) */
CstaMessage *csta_message_copy(const CstaMessage *msg);
/* csta_message_free - free; NULL is a no-op */
void csta_message_free(CstaMessage *msg);
/* csta_msg_kind_name - the root element name of KIND ("unknown" for CSTA_MSG_UNKNOWN) */
const char *csta_msg_kind_name(CstaMsgKind kind);
/* csta_msg_is_event - TRUE for the call-control events */
gboolean csta_msg_is_event(CstaMsgKind kind);

/* CstaCallEvent - the call-control events of CstaMsgKind, for a switch over
 * the events alone (every other message is CSTA_EVENT_NONE) */
typedef enum {
	CSTA_EVENT_NONE,
	CSTA_EVENT_SERVICE_INITIATED,
	CSTA_EVENT_ORIGINATED,
	CSTA_EVENT_DELIVERED,
	CSTA_EVENT_ESTABLISHED,
	CSTA_EVENT_FAILED,
	CSTA_EVENT_CONNECTION_CLEARED,
	CSTA_EVENT_CALL_CLEARED,
	CSTA_EVENT_HELD,
	CSTA_EVENT_RETRIEVED,
	CSTA_EVENT_CONFERENCED,
	CSTA_EVENT_TRANSFERRED,
	CSTA_EVENT_DIVERTED,
} CstaCallEvent;
/* csta_call_event - KIND as a call-control event, CSTA_EVENT_NONE for any other message */
CstaCallEvent csta_call_event(CstaMsgKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CstaMessage, csta_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CstaDecoder, csta_decoder_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CstaInvokeIds, csta_invoke_ids_free)

#endif
