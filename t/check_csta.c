/* check_csta - unit tests of the CSTA codec (lib/csta*).
 *
 * Golden frames live in t/csta-golden/: tx-*.frame are the exact bytes ctid
 * must send, rx-*.frame are frames as switches send them (namespaces,
 * prefixes, attribute-laden deviceIDs, UTF-8 text).  The frame tests feed the
 * decoder every possible split of a stream and check lengths count bytes.
 */
#include <check.h>
#include <string.h>

#include "csta.h"

#define GOLDEN SRCDIR "/csta-golden/"
#define ED3    CSTA_NS_ED3
#define ED4    CSTA_NS_ED4

static GBytes *golden(const char *name)
{
	g_autofree char *path = g_strconcat(GOLDEN, name, ".frame", NULL);
	g_autoptr(GError) error = NULL;
	char *data;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, &error))
		ck_abort_msg("%s", error->message);
	return g_bytes_new_take(data, len);
}

static void assert_bytes_eq(GBytes *got, GBytes *want, const char *what)
{
	gsize glen, wlen;
	const char *g = g_bytes_get_data(got, &glen);
	const char *w = g_bytes_get_data(want, &wlen);

	ck_assert_msg(glen == wlen && memcmp(g, w, glen) == 0, "%s: got %.*s\nwant %.*s", what,
	              (int)glen - 8, g + 8, (int)wlen - 8, w + 8);
}

/* ---- encoder goldens ---- */

typedef struct {
	const char *file;
	int invoke;
	int which;
} TxCase;

static char *build_tx(int which)
{
	switch (which) {
	case 0:
		return csta_build_make_call(ED3, "2001", "0312345678");
	case 1:
		return csta_build_monitor_start(ED3, "2001");
	case 2:
		return csta_build_monitor_stop(ED3, "17");
	case 3:
		return csta_build_clear_connection(ED3, "c1", "2001");
	case 4:
		return csta_build_start_session("mailcti", "cti", "s&cret<", ED3, 300);
	case 5:
		return csta_build_reset_session_timer("009968951", 300);
	case 6:
		return csta_build_stop_session("009968951");
	case 7:
		return csta_build_system_status_response(ED4);
	case 8:
		return csta_build_system_register(ED4);
	case 9:
		return csta_build_request_system_status(ED4);
	case 10:
		return csta_build_hold_call(ED3, "17", "2001");
	case 11:
		return csta_build_retrieve_call(ED3, "17", "2001");
	case 12:
		return csta_build_consultation_call(ED3, "17", "2001", "2002");
	case 13:
		return csta_build_conference_call(ED3, "17", "18", "2001");
	case 14:
		return csta_build_single_step_conference(ED3, "17", "2001", "7001");
	case 15:
		return csta_build_snapshot_device(ED4, "2001");
	case 16:
		return csta_build_route_register(ED3, "2006");
	case 17:
		return csta_build_route_register_cancel(ED3, "1");
	case 18:
		return csta_build_route_select(ED3, "77", "1", "2009");
	case 19:
		return csta_build_route_end(ED3, "77", "1");
	case 20:
		return csta_build_set_forwarding(ED3, "2006", TRUE, "2009");
	case 21:
		return csta_build_make_call_tagged(ED3, "2001", "0312345678",
		                                   "0123456789abcdef0123456789abcdef0002");
	case 22:
		return csta_build_snapshot_call(ED4, "17");
	default:
		ck_abort_msg("no builder %d", which);
		return NULL;
	}
}

static const TxCase tx_cases[] = {
    {"tx-make-call", 1, 0},           {"tx-monitor-start", 2, 1},
    {"tx-monitor-stop", 3, 2},        {"tx-clear-connection", 4, 3},
    {"tx-start-session", 5, 4},       {"tx-reset-timer", 6, 5},
    {"tx-stop-session", 7, 6},        {"tx-system-status-response", 42, 7},
    {"tx-system-register", 8, 8},     {"tx-request-system-status", 9, 9},
    {"tx-hold-call", 20, 10},         {"tx-retrieve-call", 21, 11},
    {"tx-consultation-call", 22, 12}, {"tx-conference-call", 23, 13},
    {"tx-ss-conference", 24, 14},     {"tx-snapshot-device", 25, 15},
    {"tx-route-register", 26, 16},    {"tx-route-register-cancel", 27, 17},
    {"tx-route-select", 28, 18},      {"tx-route-end", 29, 19},
    {"tx-set-forwarding", 30, 20},    {"tx-make-call-tagged", 31, 21},
    {"tx-snapshot-call", 32, 22},
};

START_TEST(test_encode_golden)
{
	const TxCase *c = &tx_cases[_i];
	g_autofree char *xml = build_tx(c->which);
	g_autoptr(GBytes) frame = csta_frame_encode(c->invoke, xml, NULL);
	g_autoptr(GBytes) want = golden(c->file);

	ck_assert_ptr_nonnull(frame);
	assert_bytes_eq(frame, want, c->file);
}
END_TEST

/* ---- decoder goldens ---- */

typedef struct {
	const char *file;
	int invoke;
	CstaMsgKind kind;
	const char *call_id;
	const char *device_id;
	const char *xref;
	const char *subject;
	const char *cause;
	const char *extra; /* session id, error class:value, system status, or local state */
} RxCase;

static const RxCase rx_cases[] = {
    {"rx-start-session-pos", 1, CSTA_MSG_START_SESSION_POS, NULL, NULL, NULL, NULL, NULL,
     "009968951"},
    {"rx-start-session-neg", 1, CSTA_MSG_START_SESSION_NEG, NULL, NULL, NULL, NULL, NULL,
     "definedError:invalidApplicationInfo"},
    {"rx-system-status", 17, CSTA_MSG_SYSTEM_STATUS, NULL, NULL, NULL, NULL, NULL, "normal"},
    {"rx-make-call-response", 12, CSTA_MSG_MAKE_CALL_RESPONSE, "FF000100000000002D65C85C1C750000",
     "2001", NULL, NULL, NULL, NULL},
    {"rx-monitor-start-response", 11, CSTA_MSG_MONITOR_START_RESPONSE, NULL, NULL, "1136370025",
     NULL, NULL, NULL},
    {"rx-delivered-ed4", 9999, CSTA_MSG_DELIVERED, "FF00010000000000EC6114647E570000",
     "3021061290002", "1173673890", "3021061290002", "normal", "alerting"},
    {"rx-established-avaya", 9999, CSTA_MSG_ESTABLISHED, "812", "0312345678:CM:10.1.1.1:0", "5",
     "0312345678:CM:10.1.1.1:0", "normal", NULL},
    {"rx-failed-busy", 9999, CSTA_MSG_FAILED, "c7", "0399999999", "5", "0399999999", "busy",
     "fail"},
    {"rx-connection-cleared-utf8", 9999, CSTA_MSG_CONNECTION_CLEARED, "c7",
     "N<302118840100>;noa=nk", "5", "Z\xc3\xbcrich-B\xc3\xbcro \xe2\x98\x8e 2001", "normalClearing",
     NULL},
    {"rx-error-system-resource", 12, CSTA_MSG_ERROR, NULL, NULL, NULL, NULL, NULL,
     "systemResourceAvailability:resourceBusy"},
    {"rx-session-terminated", 9999, CSTA_MSG_SESSION_TERMINATED, NULL, NULL, NULL, NULL, NULL,
     "009968951"},
    {"rx-request-system-status-response", 9, CSTA_MSG_REQUEST_SYSTEM_STATUS_RESPONSE, NULL, NULL,
     NULL, NULL, NULL, "normal"},
    {"rx-consultation-call-response", 22, CSTA_MSG_CONSULTATION_CALL_RESPONSE, "18", "2001", NULL,
     NULL, NULL, NULL},
    {"rx-conference-call-response", 23, CSTA_MSG_CONFERENCE_CALL_RESPONSE, "17", "2001", NULL, NULL,
     NULL, NULL},
    {"rx-ss-conference-response", 24, CSTA_MSG_SS_CONFERENCE_RESPONSE, "17", "7001", NULL, NULL,
     NULL, NULL},
    {"rx-hold-call-response", 20, CSTA_MSG_HOLD_CALL_RESPONSE, NULL, NULL, NULL, NULL, NULL, NULL},
    {"rx-snapshot-device-response", 25, CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE, NULL, NULL, NULL, NULL,
     NULL, "17:hold,18:connected"},
    {"rx-snapshot-device-idle", 26, CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE, NULL, NULL, NULL, NULL, NULL,
     ""},
    /* the parties of a call: how ctid learns whom to hold for a server-lines intrude */
    {"rx-snapshot-call-response", 32, CSTA_MSG_SNAPSHOT_CALL_RESPONSE, NULL, NULL, NULL, NULL, NULL,
     "0312345678:connected,2003:connected"},
    {"rx-route-register-response", 26, CSTA_MSG_ROUTE_REGISTER_RESPONSE, NULL, NULL, NULL, NULL,
     NULL, "1"},
    {"rx-route-request", 9001, CSTA_MSG_ROUTE_REQUEST, "21", "2006", NULL, NULL, NULL,
     "77/1/2006/0312345678/-"},
    {"rx-route-end", 9002, CSTA_MSG_ROUTE_END, NULL, NULL, NULL, NULL, NULL,
     "77/1/-/-/routeingTimerExpired"},
    /* every element prefixed, xmlns:csta on the root (OpenScape style; pbx-sim --prefix) */
    {"rx-system-status-prefixed", 9000, CSTA_MSG_SYSTEM_STATUS, NULL, NULL, NULL, NULL, NULL,
     "normal"},
    {"rx-start-session-pos-prefixed", 1, CSTA_MSG_START_SESSION_POS, NULL, NULL, NULL, NULL, NULL,
     "000000001"},
    {"rx-make-call-response-prefixed", 3, CSTA_MSG_MAKE_CALL_RESPONSE, "1", "2001", NULL, NULL,
     NULL, NULL},
    {"rx-failed-busy-prefixed", 9999, CSTA_MSG_FAILED, "1", "0399999999", "1001", "0399999999",
     "busy", "connected"},
    {"rx-error-prefixed", 4, CSTA_MSG_ERROR, NULL, NULL, NULL, NULL, NULL,
     "operation:invalidMonitorCrossRefID"},
};

/* "call:state,..." of a device snapshot, "device:state,..." of a call snapshot;
 * "xref/regid/called/calling/error" of a route message */
static char *route_or_snapshot(const CstaMessage *m)
{
	GString *s = g_string_new(NULL);

	if (m->kind == CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE) {
		for (guint i = 0; m->snapshot_calls[i] != NULL; i++)
			g_string_append_printf(s, "%s%s:%s", i ? "," : "", m->snapshot_calls[i],
			                       m->snapshot_states[i]);
		return g_string_free(s, FALSE);
	}
	if (m->kind == CSTA_MSG_SNAPSHOT_CALL_RESPONSE) {
		for (guint i = 0; m->snapshot_devices[i] != NULL; i++)
			g_string_append_printf(s, "%s%s:%s", i ? "," : "", m->snapshot_devices[i],
			                       m->snapshot_states[i]);
		return g_string_free(s, FALSE);
	}
	g_string_printf(s, "%s/%s/%s/%s/%s", m->route_xref, m->route_register_id,
	                m->called_device ? m->called_device : "-",
	                m->calling_device ? m->calling_device : "-",
	                m->error_value ? m->error_value : "-");
	return g_string_free(s, FALSE);
}

static char *extra_of(const CstaMessage *m)
{
	if (m->kind == CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE ||
	    m->kind == CSTA_MSG_SNAPSHOT_CALL_RESPONSE || m->kind == CSTA_MSG_ROUTE_REQUEST ||
	    m->kind == CSTA_MSG_ROUTE_END)
		return route_or_snapshot(m);
	if (m->kind == CSTA_MSG_ROUTE_REGISTER_RESPONSE)
		return g_strdup(m->route_register_id);
	if (m->kind == CSTA_MSG_START_SESSION_POS || m->kind == CSTA_MSG_SESSION_TERMINATED)
		return g_strdup(m->session_id);
	if (m->kind == CSTA_MSG_START_SESSION_NEG || m->kind == CSTA_MSG_ERROR)
		return g_strdup_printf("%s:%s", m->error_class, m->error_value);
	if (m->kind == CSTA_MSG_SYSTEM_STATUS || m->kind == CSTA_MSG_REQUEST_SYSTEM_STATUS_RESPONSE)
		return g_strdup(m->system_status);
	return g_strdup(m->local_state);
}

static CstaMessage *decode_one(GBytes *frame, int *invoke)
{
	g_autoptr(CstaDecoder) dec = csta_decoder_new();
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;
	CstaMessage *msg;
	gsize len;
	const char *data = g_bytes_get_data(frame, &len);
	const char *xml;

	csta_decoder_feed(dec, data, len);
	ck_assert(csta_decoder_next(dec, invoke, &body, &error));
	ck_assert_uint_eq(csta_decoder_pending(dec), 0);
	xml = g_bytes_get_data(body, &len);
	msg = csta_message_parse(xml, (gssize)len, &error);
	ck_assert_msg(msg != NULL, "%s", error ? error->message : "?");
	return msg;
}

START_TEST(test_decode_golden)
{
	const RxCase *c = &rx_cases[_i];
	g_autoptr(GBytes) frame = golden(c->file);
	int invoke = -1;
	g_autoptr(CstaMessage) m = decode_one(frame, &invoke);
	g_autofree char *extra = extra_of(m);

	ck_assert_int_eq(invoke, c->invoke);
	ck_assert_msg(m->kind == c->kind, "%s: kind %s", c->file, csta_msg_kind_name(m->kind));
	ck_assert_pstr_eq(m->call_id, c->call_id);
	ck_assert_pstr_eq(m->device_id, c->device_id);
	ck_assert_pstr_eq(m->monitor_xref, c->xref);
	ck_assert_pstr_eq(m->subject_device, c->subject);
	ck_assert_pstr_eq(m->cause, c->cause);
	ck_assert_pstr_eq(extra, c->extra);
}
END_TEST

START_TEST(test_decode_session_fields)
{
	g_autoptr(GBytes) frame = golden("rx-start-session-pos");
	int invoke;
	g_autoptr(CstaMessage) m = decode_one(frame, &invoke);

	ck_assert_str_eq(m->protocol_version, ED4);
	ck_assert_int_eq(m->duration, 600);
}
END_TEST

START_TEST(test_decode_session_fields_prefixed)
{
	g_autoptr(GBytes) frame = golden("rx-start-session-pos-prefixed");
	int invoke;
	g_autoptr(CstaMessage) m = decode_one(frame, &invoke);

	ck_assert_str_eq(m->protocol_version, ED4);
	ck_assert_int_eq(m->duration, 120);
}
END_TEST

/* ---- framing ---- */

static GBytes *stream_of(const char *const *files, guint n)
{
	GByteArray *all = g_byte_array_new();

	for (guint i = 0; i < n; i++) {
		g_autoptr(GBytes) f = golden(files[i]);
		gsize len;
		const guint8 *d = g_bytes_get_data(f, &len);

		g_byte_array_append(all, d, (guint)len);
	}
	return g_byte_array_free_to_bytes(all);
}

static const char *const stream_files[] = {"rx-delivered-ed4", "rx-connection-cleared-utf8",
                                           "rx-make-call-response"};

static guint drain(CstaDecoder *dec, GPtrArray *bodies)
{
	guint n = 0;
	int invoke;
	GBytes *body;
	g_autoptr(GError) error = NULL;

	while (csta_decoder_next(dec, &invoke, &body, &error)) {
		g_ptr_array_add(bodies, body);
		n++;
	}
	ck_assert_ptr_null(error);
	return n;
}

static void check_bodies(GPtrArray *bodies)
{
	ck_assert_uint_eq(bodies->len, G_N_ELEMENTS(stream_files));
	for (guint i = 0; i < bodies->len; i++) {
		g_autoptr(GBytes) f = golden(stream_files[i]);
		g_autoptr(GBytes) want = g_bytes_new_from_bytes(f, 8, g_bytes_get_size(f) - 8);

		ck_assert(g_bytes_equal(g_ptr_array_index(bodies, i), want));
	}
}

START_TEST(test_split_every_byte)
{
	g_autoptr(GBytes) stream = stream_of(stream_files, G_N_ELEMENTS(stream_files));
	gsize len;
	const guint8 *d = g_bytes_get_data(stream, &len);

	for (gsize cut = 0; cut <= len; cut++) {
		g_autoptr(CstaDecoder) dec = csta_decoder_new();
		g_autoptr(GPtrArray) bodies =
		    g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);

		csta_decoder_feed(dec, d, cut);
		drain(dec, bodies);
		csta_decoder_feed(dec, d + cut, len - cut);
		drain(dec, bodies);
		check_bodies(bodies);
		ck_assert_uint_eq(csta_decoder_pending(dec), 0);
	}
}
END_TEST

START_TEST(test_byte_by_byte)
{
	g_autoptr(GBytes) stream = stream_of(stream_files, G_N_ELEMENTS(stream_files));
	g_autoptr(CstaDecoder) dec = csta_decoder_new();
	g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	gsize len;
	const guint8 *d = g_bytes_get_data(stream, &len);

	for (gsize i = 0; i < len; i++) {
		csta_decoder_feed(dec, d + i, 1);
		drain(dec, bodies);
	}
	check_bodies(bodies);
}
END_TEST

START_TEST(test_two_frames_one_read)
{
	g_autoptr(GBytes) stream = stream_of(stream_files, 2);
	g_autoptr(CstaDecoder) dec = csta_decoder_new();
	g_autoptr(GPtrArray) bodies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	gsize len;
	const guint8 *d = g_bytes_get_data(stream, &len);

	csta_decoder_feed(dec, d, len);
	ck_assert_uint_eq(drain(dec, bodies), 2);
}
END_TEST

START_TEST(test_non_ascii_length)
{
	const char *xml = "<DeliveredEvent><connection><callID>1</"
	                  "callID><deviceID>\xe2\x98\x8e\xc3\xa9</deviceID>"
	                  "</connection></DeliveredEvent>";
	g_autoptr(GBytes) frame = csta_frame_encode(9999, xml, NULL);
	const guint8 *d = g_bytes_get_data(frame, NULL);
	gsize total = ((gsize)d[2] << 8) | d[3];

	ck_assert_uint_eq(total, strlen(xml) + 8);
	ck_assert_uint_ne(total, (gsize)g_utf8_strlen(xml, -1) + 8);
	ck_assert_uint_eq(g_bytes_get_size(frame), total);
	ck_assert(memcmp(d + 4, "9999", 4) == 0);
	{
		int invoke;
		g_autoptr(CstaMessage) m = decode_one(frame, &invoke);

		ck_assert_str_eq(m->device_id, "\xe2\x98\x8e\xc3\xa9");
	}
}
END_TEST

typedef struct {
	const char *header; /* 8 bytes */
	const char *why;
} BadHeader;

static const BadHeader bad_headers[] = {
    {"\x00\x00\x00\x07"
     "0001",
     "length below the header"},
    {"\x00\x00\x00\x08"
     "0001",
     "length of an empty body"},
    {"\x00\x00\x00\x00"
     "0001",
     "zero length"},
    {"\x01\x00\x00\x20"
     "0001",
     "format byte 0 not zero"},
    {"\x00\x01\x00\x20"
     "0001",
     "format byte 1 not zero"},
    {"\x00\x00\x00\x20"
     "00a1",
     "invoke id not digits"},
    {"\x00\x00\x00\x20"
     " 001",
     "invoke id with a space"},
};

START_TEST(test_bad_header)
{
	g_autoptr(CstaDecoder) dec = csta_decoder_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	int invoke;

	csta_decoder_feed(dec, bad_headers[_i].header, 8);
	ck_assert_msg(!csta_decoder_next(dec, &invoke, &body, &error), "%s accepted",
	              bad_headers[_i].why);
	ck_assert_ptr_null(body);
	ck_assert_msg(g_error_matches(error, CSTA_ERROR, CSTA_ERROR_FRAME), "%s: no frame error",
	              bad_headers[_i].why);
}
END_TEST

START_TEST(test_incomplete_is_not_error)
{
	g_autoptr(CstaDecoder) dec = csta_decoder_new();
	g_autoptr(GError) error = NULL;
	GBytes *body = NULL;
	int invoke;

	csta_decoder_feed(dec,
	                  "\x00\x00\xff\xff"
	                  "0001<a>",
	                  11);
	ck_assert(!csta_decoder_next(dec, &invoke, &body, &error));
	ck_assert_ptr_null(error);
	ck_assert_ptr_null(body);
}
END_TEST

START_TEST(test_encode_limits)
{
	gsize max_body = CSTA_MAX_FRAME - CSTA_HEADER_LEN;
	g_autofree char *big = g_malloc(max_body + 2);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) ok = NULL;
	g_autoptr(GBytes) too_big = NULL;
	const guint8 *d;

	memset(big, 'x', max_body + 1);
	big[max_body + 1] = '\0';
	too_big = csta_frame_encode(1, big, &error);
	ck_assert_ptr_null(too_big);
	ck_assert(g_error_matches(error, CSTA_ERROR, CSTA_ERROR_FRAME));
	big[max_body] = '\0';
	ok = csta_frame_encode(1, big, NULL);
	ck_assert_ptr_nonnull(ok);
	d = g_bytes_get_data(ok, NULL);
	ck_assert(d[2] == 0xff && d[3] == 0xff);
}
END_TEST

/* ---- namespace and shape variants ---- */

typedef struct {
	const char *xml;
	CstaMsgKind kind;
	const char *call_id;
	const char *device_id;
} Variant;

static const Variant variants[] = {
    {"<MakeCallResponse xmlns=\"" ED3
     "\"><callingDevice><callID>7</callID><deviceID>2001</deviceID></callingDevice>"
     "</MakeCallResponse>",
     CSTA_MSG_MAKE_CALL_RESPONSE, "7", "2001"},
    {"<?xml version=\"1.0\"?><MakeCallResponse xmlns=\"" ED4 "\"><callingDevice><callID>7</callID>"
     "<deviceID>2001</deviceID></callingDevice></MakeCallResponse>",
     CSTA_MSG_MAKE_CALL_RESPONSE, "7", "2001"},
    {"<MakeCallResponse><callingDevice><callID>7</callID><deviceID>2001</deviceID></callingDevice>"
     "</MakeCallResponse>",
     CSTA_MSG_MAKE_CALL_RESPONSE, "7", "2001"},
    {"<csta:MakeCallResponse xmlns:csta=\"" ED3
     "\"><csta:callingDevice><csta:callID>7</csta:callID>"
     "<csta:deviceID>2001</csta:deviceID></csta:callingDevice></csta:MakeCallResponse>",
     CSTA_MSG_MAKE_CALL_RESPONSE, "7", "2001"},
    {"<MakeCallResponse xmlns:x=\"" ED3
     "\"><callingDevice><deviceID>2001</deviceID><callID>7</callID>"
     "</callingDevice></MakeCallResponse>",
     CSTA_MSG_MAKE_CALL_RESPONSE, "7", "2001"},
    {"<MakeCallResponse xmlns=\"" ED3 "\">\n  <callingDevice>\n    <callId> 7 </callId>\n"
     "    <deviceId typeOfNumber=\"dialingNumber\">2001</deviceId>\n  "
     "</callingDevice>\n</MakeCallResponse>\n",
     CSTA_MSG_MAKE_CALL_RESPONSE, "7", "2001"},
    {"<ns3:EstablishedEvent xmlns:ns3=\"" ED4 "\"><ns3:monitorCrossRefID>1</ns3:monitorCrossRefID>"
     "<ns3:establishedConnection><ns3:deviceID>0312345678</ns3:deviceID><ns3:callID>9</ns3:callID>"
     "</ns3:establishedConnection><ns3:cause>normal</ns3:cause></ns3:EstablishedEvent>",
     CSTA_MSG_ESTABLISHED, "9", "0312345678"},
    {"<TransferedEvent xmlns=\"" ED3
     "\"><monitorCrossRefID>1</monitorCrossRefID><primaryOldCall><callID>1"
     "</callID><deviceID>2001</deviceID></primaryOldCall><secondaryOldCall><callID>2</callID></"
     "secondaryOldCall>"
     "<transferredToDevice><deviceIdentifier>203</deviceIdentifier></"
     "transferredToDevice><cause>transfer</cause>"
     "</TransferedEvent>",
     CSTA_MSG_TRANSFERRED, "1", "2001"},
    {"<DivertedEvent><monitorCrossRefID>1</"
     "monitorCrossRefID><divertingDevice><deviceIdentifier>2001"
     "</deviceIdentifier></divertingDevice><newDestination><deviceIdentifier>204</deviceIdentifier>"
     "</newDestination><cause>redirected</cause></DivertedEvent>",
     CSTA_MSG_DIVERTED, NULL, NULL},
    {"<SomethingNew xmlns=\"" ED3 "\"><x>1</x></SomethingNew>", CSTA_MSG_UNKNOWN, NULL, NULL},
};

START_TEST(test_variants)
{
	const Variant *v = &variants[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(CstaMessage) m = csta_message_parse(v->xml, -1, &error);

	ck_assert_msg(m != NULL, "variant %d: %s", _i, error ? error->message : "?");
	ck_assert_msg(m->kind == v->kind, "variant %d: kind %s", _i, csta_msg_kind_name(m->kind));
	ck_assert_pstr_eq(m->call_id, v->call_id);
	ck_assert_pstr_eq(m->device_id, v->device_id);
}
END_TEST

START_TEST(test_event_details)
{
	const char *xml =
	    "<ConferencedEvent><monitorCrossRefID>4</monitorCrossRefID><primaryOldCall><callID>1</"
	    "callID>"
	    "<deviceID>2001</deviceID></primaryOldCall><secondaryOldCall><callID>2</callID>"
	    "<deviceID>2001</deviceID></secondaryOldCall><conferencingDevice><deviceIdentifier>2001"
	    "</deviceIdentifier></conferencingDevice><addedParty><deviceIdentifier>205</"
	    "deviceIdentifier>"
	    "</addedParty><cause>conference</cause></ConferencedEvent>";
	g_autoptr(CstaMessage) m = csta_message_parse(xml, -1, NULL);

	ck_assert_ptr_nonnull(m);
	ck_assert(csta_msg_is_event(m->kind));
	ck_assert_int_eq(csta_call_event(m->kind), CSTA_EVENT_CONFERENCED);
	ck_assert_str_eq(m->subject_device, "2001");
	ck_assert_str_eq(m->new_destination, "205");
	ck_assert_str_eq(m->secondary_call_id, "2");
	ck_assert_str_eq(m->cause, "conference");
}
END_TEST

/* every call-control event kind maps to its own CstaCallEvent, every other kind to NONE */
START_TEST(test_call_event_map)
{
	gboolean seen[CSTA_EVENT_DIVERTED + 1] = {FALSE};
	int events = 0;

	for (int k = CSTA_MSG_UNKNOWN; k <= CSTA_MSG_DIVERTED; k++) {
		CstaCallEvent e = csta_call_event((CstaMsgKind)k);

		ck_assert_int_eq(e != CSTA_EVENT_NONE, csta_msg_is_event((CstaMsgKind)k));
		if (e == CSTA_EVENT_NONE)
			continue;
		ck_assert_msg(!seen[e], "two kinds map to event %d", e);
		seen[e] = TRUE;
		events++;
	}
	ck_assert_int_eq(events, CSTA_EVENT_DIVERTED);
	ck_assert_int_eq(csta_call_event(CSTA_MSG_ESTABLISHED), CSTA_EVENT_ESTABLISHED);
	ck_assert_int_eq(csta_call_event(CSTA_MSG_CALL_CLEARED), CSTA_EVENT_CALL_CLEARED);
	ck_assert_int_eq(csta_call_event(CSTA_MSG_ROUTE_REQUEST), CSTA_EVENT_NONE);
	ck_assert_int_eq(csta_call_event(CSTA_MSG_MAKE_CALL_RESPONSE), CSTA_EVENT_NONE);
}
END_TEST

/* ---- CSTAErrorCode ---- */

typedef struct {
	const char *xml;
	const char *klass;
	const char *value;
} ErrCase;

static const ErrCase err_cases[] = {
    {"<CSTAErrorCode xmlns=\"" ED3 "\"><operation>invalidDeviceID</operation></CSTAErrorCode>",
     "operation", "invalidDeviceID"},
    {"<CSTAErrorCode><stateIncompatibility>invalidConnectionState</stateIncompatibility></"
     "CSTAErrorCode>",
     "stateIncompatibility", "invalidConnectionState"},
    {"<CSTAErrorCode><systemResourceAvailibility>networkBusy</systemResourceAvailibility></"
     "CSTAErrorCode>",
     "systemResourceAvailability", "networkBusy"},
    {"<CSTAErrorCode><systemResourceAvailability>networkBusy</systemResourceAvailability></"
     "CSTAErrorCode>",
     "systemResourceAvailability", "networkBusy"},
    {"<CSTAErrorCode><unspecified/></CSTAErrorCode>", "unspecified", "unspecified"},
    {"<CSTAErrorCode/>", "unspecified", "unspecified"},
    {"<CSTAErrorCode><privateErrorCode>URM Denied</privateErrorCode></CSTAErrorCode>",
     "privateErrorCode", "URM Denied"},
    {"<e:CSTAErrorCode xmlns:e=\"" ED4
     "\"><e:operation>invalidCallID</e:operation></e:CSTAErrorCode>",
     "operation", "invalidCallID"},
};

START_TEST(test_error_code)
{
	const ErrCase *c = &err_cases[_i];
	g_autoptr(CstaMessage) m = csta_message_parse(c->xml, -1, NULL);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->kind, CSTA_MSG_ERROR);
	ck_assert_str_eq(m->error_class, c->klass);
	ck_assert_str_eq(m->error_value, c->value);
}
END_TEST

/* ---- malformed input ---- */

static const char *const bad_xml[] = {
    "",
    "not xml",
    "<MakeCallResponse><callingDevice></MakeCallResponse>",
    "<a/><b/>",
    "<MakeCallResponse><callingDevice><deviceID>2001</deviceID></callingDevice></MakeCallResponse>",
    "<MonitorStartResponse/>",
    "<FailedEvent><cause>busy</cause></FailedEvent>",
    "<a>\xff\xfe</a>",
};

START_TEST(test_bad_xml)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CstaMessage) m = csta_message_parse(bad_xml[_i], -1, &error);

	ck_assert_msg(m == NULL, "accepted: %s", bad_xml[_i]);
	ck_assert(error != NULL && error->domain == CSTA_ERROR);
}
END_TEST

START_TEST(test_depth_limit)
{
	GString *s = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(CstaNode) n = NULL;

	for (int i = 0; i < 100; i++)
		g_string_append(s, "<a>");
	for (int i = 0; i < 100; i++)
		g_string_append(s, "</a>");
	n = csta_xml_parse(s->str, -1, &error);
	g_string_free(s, TRUE);
	ck_assert_ptr_null(n);
	ck_assert(g_error_matches(error, CSTA_ERROR, CSTA_ERROR_XML));
}
END_TEST

START_TEST(test_escape_round_trip)
{
	const char *nasty = "<dev>&\"'2001";
	g_autofree char *xml = csta_build_make_call(ED3, nasty, "0312345678");
	g_autoptr(CstaNode) root = csta_xml_parse(xml, -1, NULL);

	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(root->name, "MakeCall");
	ck_assert_str_eq(csta_node_text(root, "callingDevice"), nasty);
	ck_assert_str_eq(csta_node_text(root, "autoOriginate"), "doNotPrompt");
	/* XSD order: callingDevice, calledDirectoryNumber, autoOriginate */
	ck_assert_str_eq(((CstaNode *)g_ptr_array_index(root->children, 1))->name,
	                 "calledDirectoryNumber");
}
END_TEST

/* ---- invoke ids ---- */

START_TEST(test_invoke_wrap)
{
	g_autoptr(CstaInvokeIds) ids = csta_invoke_ids_new();

	ck_assert_int_eq(csta_invoke_alloc(ids), 1);
	ck_assert_int_eq(csta_invoke_alloc(ids), 2);
	for (int i = 3; i <= CSTA_MAX_INVOKE; i++) {
		int id = csta_invoke_alloc(ids);

		ck_assert_int_eq(id, i);
		if (id != 2)
			csta_invoke_release(ids, id);
	}
	csta_invoke_release(ids, 1);
	/* 9998 was the last one; wraps to 1, and skips 2, which is outstanding */
	ck_assert_int_eq(csta_invoke_alloc(ids), 1);
	ck_assert_int_eq(csta_invoke_alloc(ids), 3);
}
END_TEST

START_TEST(test_invoke_exhausted)
{
	g_autoptr(CstaInvokeIds) ids = csta_invoke_ids_new();

	for (int i = 1; i <= CSTA_MAX_INVOKE; i++) {
		int id = csta_invoke_alloc(ids);

		ck_assert(id >= 1 && id <= CSTA_MAX_INVOKE && id != CSTA_EVENT_INVOKE);
	}
	ck_assert_int_eq(csta_invoke_alloc(ids), 0);
	csta_invoke_release(ids, 4711);
	ck_assert_int_eq(csta_invoke_alloc(ids), 4711);
	csta_invoke_release_all(ids);
	ck_assert_int_ne(csta_invoke_alloc(ids), 0);
}
END_TEST

static Suite *csta_suite(void)
{
	Suite *s = suite_create("csta");
	TCase *tc;

	tc = tcase_create("csta_frame_encode");
	tcase_add_loop_test(tc, test_encode_golden, 0, G_N_ELEMENTS(tx_cases));
	tcase_add_test(tc, test_non_ascii_length);
	tcase_add_test(tc, test_encode_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("csta_decoder_next");
	tcase_add_test(tc, test_split_every_byte);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_two_frames_one_read);
	tcase_add_test(tc, test_incomplete_is_not_error);
	tcase_add_loop_test(tc, test_bad_header, 0, G_N_ELEMENTS(bad_headers));
	suite_add_tcase(s, tc);

	tc = tcase_create("csta_message_parse");
	tcase_add_loop_test(tc, test_decode_golden, 0, G_N_ELEMENTS(rx_cases));
	tcase_add_test(tc, test_decode_session_fields);
	tcase_add_test(tc, test_decode_session_fields_prefixed);
	tcase_add_loop_test(tc, test_variants, 0, G_N_ELEMENTS(variants));
	tcase_add_test(tc, test_event_details);
	tcase_add_loop_test(tc, test_error_code, 0, G_N_ELEMENTS(err_cases));
	tcase_add_loop_test(tc, test_bad_xml, 0, G_N_ELEMENTS(bad_xml));
	suite_add_tcase(s, tc);

	tc = tcase_create("csta_xml_parse");
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_escape_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("csta_invoke_alloc");
	tcase_add_test(tc, test_invoke_wrap);
	tcase_add_test(tc, test_invoke_exhausted);
	tcase_add_test(tc, test_call_event_map);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(csta_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
