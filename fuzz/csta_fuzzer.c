/* csta_fuzzer - libFuzzer target for ctid's CSTA codec, both directions.
 *
 * Decode: the input is a byte stream from the switch, fed to the frame
 * decoder in pieces (sizes from the input itself); every complete frame's
 * body goes through csta_message_parse() and csta_xml_parse(), and a parsed
 * message must survive csta_message_copy().  Any outcome but a crash, a leak
 * or a sanitizer report is fine.
 * Encode: the input is also split into three device strings (control bytes
 * replaced, made valid UTF-8) for one of the request builders (picked by the
 * last byte); the XML is framed, decoded again in two pieces, and must give
 * back the same invoke id, the same body, and the device texts
 * (whitespace-trimmed) where that request carries them, or abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_stream(const uint8_t *data, size_t size)
{
	CstaDecoder *dec = csta_decoder_new();
	size_t off = 0;
	int invoke;
	GBytes *body = NULL;
	GError *error = NULL;

	while (off < size) {
		size_t n = MIN(size - off, (size_t)(data[off] % 97) + 1);
		csta_decoder_feed(dec, data + off, n);
		off += n;
		while (csta_decoder_next(dec, &invoke, &body, &error)) {
			gsize len;
			const char *xml = g_bytes_get_data(body, &len);
			CstaMessage *msg = csta_message_parse(xml, (gssize)len, NULL);
			CstaNode *root = csta_xml_parse(xml, (gssize)len, NULL);
			if (invoke < 0 || invoke > 9999)
				abort();
			if (msg) {
				CstaMessage *copy = csta_message_copy(msg);
				if (copy->kind != msg->kind || !csta_msg_kind_name(msg->kind))
					abort();
				csta_message_free(copy);
			}
			csta_message_free(msg);
			csta_node_free(root);
			g_bytes_unref(body);
			body = NULL;
		}
		if (error) {
			g_clear_error(&error);
			break; /* the stream is lost, as ctid would drop the link */
		}
	}
	csta_decoder_free(dec);
}

/* device_text - bytes as a valid UTF-8 string without control characters (transfer full) */
static char *device_text(const uint8_t *data, size_t size)
{
	char *raw = g_strndup((const char *)data, size);
	char *valid;

	for (char *p = raw; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = 'x';
	valid = g_utf8_make_valid(raw, -1);
	g_free(raw);
	return valid;
}

static void expect_text(const CstaNode *root, const char *path, const char *given)
{
	char *want;
	const char *got;

	if (!path)
		return;
	want = g_strstrip(g_strdup(given));
	got = csta_node_text(root, path);
	if (!got || strcmp(got, want) != 0)
		abort();
	g_free(want);
}

/* every request builder ctid uses, with up to three free strings A, B, C and where they land */
typedef char *(*BuildFn)(const char *ns, const char *a, const char *b, const char *c);

static char *b_make_call(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_make_call(ns, a, b);
}
static char *b_clear(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_clear_connection(ns, a, b);
}
static char *b_hold(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_hold_call(ns, a, b);
}
static char *b_retrieve(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_retrieve_call(ns, a, b);
}
static char *b_consult(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_consultation_call(ns, a, b, c);
}
static char *b_conference(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_conference_call(ns, a, b, c);
}
static char *b_ss_conf(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_single_step_conference(ns, a, b, c);
}
static char *b_monitor_start(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_monitor_start(ns, a);
}
static char *b_monitor_stop(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_monitor_stop(ns, a);
}
static char *b_snapshot(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_snapshot_device(ns, a);
}
static char *b_route_select(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_route_select(ns, a, b, c);
}
static char *b_forwarding(const char *ns, const char *a, const char *b, const char *c)
{
	return csta_build_set_forwarding(ns, a, TRUE, b);
}

static const struct {
	BuildFn build;
	const char *root, *a, *b, *c;
} builders[] = {
    {b_make_call, "MakeCall", "callingDevice", "calledDirectoryNumber", NULL},
    {b_clear, "ClearConnection", "connectionToBeCleared/callID", "connectionToBeCleared/deviceID",
     NULL},
    {b_hold, "HoldCall", "callToBeHeld/callID", "callToBeHeld/deviceID", NULL},
    {b_retrieve, "RetrieveCall", "callToBeRetrieved/callID", "callToBeRetrieved/deviceID", NULL},
    {b_consult, "ConsultationCall", "existingCall/callID", "existingCall/deviceID",
     "consultedDevice"},
    {b_conference, "ConferenceCall", "heldCall/callID", "activeCall/callID", "heldCall/deviceID"},
    {b_ss_conf, "SingleStepConferenceCall", "activeCall/callID", "activeCall/deviceID",
     "deviceToJoin"},
    {b_monitor_start, "MonitorStart", "monitorObject/deviceObject", NULL, NULL},
    {b_monitor_stop, "MonitorStop", "monitorCrossRefID", NULL, NULL},
    {b_snapshot, "SnapshotDevice", "snapshotObject", NULL, NULL},
    {b_route_select, "RouteSelect", "crossRefIdentifier", "routeRegisterReqID", "routeSelected"},
    {b_forwarding, "SetForwarding", "device", "forwardDN", NULL},
};

/* frame_round_trip - frame XML, decode it in two pieces split at SPLIT; abort unless identical */
static gboolean frame_round_trip(const char *xml, int invoke, size_t split)
{
	GBytes *frame = csta_frame_encode(invoke, xml, NULL);
	CstaDecoder *dec;
	gsize len;
	const uint8_t *wire;
	int got_invoke = 0;
	GBytes *body = NULL;

	if (!frame)
		return FALSE;
	dec = csta_decoder_new();
	wire = g_bytes_get_data(frame, &len);
	split %= len + 1;
	csta_decoder_feed(dec, wire, split);
	csta_decoder_feed(dec, wire + split, len - split);
	if (!csta_decoder_next(dec, &got_invoke, &body, NULL) || got_invoke != invoke ||
	    g_bytes_get_size(body) != strlen(xml) ||
	    memcmp(g_bytes_get_data(body, NULL), xml, strlen(xml)) != 0 ||
	    csta_decoder_pending(dec) != 0)
		abort();
	g_bytes_unref(body);
	g_bytes_unref(frame);
	csta_decoder_free(dec);
	return TRUE;
}

/* round_trip - the input cut into three device strings, through a builder picked by its
 * last byte, framed, decoded and parsed again: the strings must come back */
static void round_trip(const uint8_t *data, size_t size)
{
	static const char *const ns[] = {CSTA_NS_ED3, CSTA_NS_ED4, CSTA_NS_ED6};
	size_t cut1 = size ? data[0] % (size + 1) : 0;
	size_t cut2 = cut1 + (size > 1 ? data[1] % (size - cut1 + 1) : 0);
	char *a = device_text(data, cut1), *b = device_text(data + cut1, cut2 - cut1);
	char *c = device_text(data + cut2, size - cut2);
	int invoke = size ? 1 + (data[size - 1] * 41) % CSTA_MAX_INVOKE : 1;
	guint row = size ? data[size - 1] % G_N_ELEMENTS(builders) : 0;
	char *xml = builders[row].build(ns[size % 3], a, b, c);

	if (frame_round_trip(xml, invoke, cut1)) {
		CstaNode *root = csta_xml_parse(xml, -1, NULL);

		if (!root || strcmp(root->name, builders[row].root) != 0)
			abort();
		expect_text(root, builders[row].a, a);
		expect_text(root, builders[row].b, b);
		expect_text(root, builders[row].c, c);
		csta_node_free(root);
	}
	g_free(xml);
	g_free(a);
	g_free(b);
	g_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_stream(data, size);
	round_trip(data, size);
	return 0;
}
