/* csta_fuzzer - libFuzzer target for ctid's CSTA codec, both directions.
 *
 * Decode: the input is a byte stream from the switch, fed to the frame
 * decoder in pieces (sizes from the input itself); every complete frame's
 * body goes through csta_message_parse() and csta_xml_parse(), and a parsed
 * message must survive csta_message_copy().  Any outcome but a crash, a leak
 * or a sanitizer report is fine.
 * Encode: the input is also split into two device strings (control bytes
 * replaced, made valid UTF-8) for csta_build_make_call(); the XML is framed,
 * decoded again in two pieces, and must give back the same invoke id, the
 * same body, and the two device texts (whitespace-trimmed), or abort().
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
	char *want = g_strstrip(g_strdup(given));
	const char *got = csta_node_text(root, path);

	if (!got || strcmp(got, want) != 0)
		abort();
	g_free(want);
}

static void round_trip(const uint8_t *data, size_t size)
{
	static const char *const ns[] = {CSTA_NS_ED3, CSTA_NS_ED4, CSTA_NS_ED6};
	size_t cut = size ? data[0] % (size + 1) : 0;
	char *calling = device_text(data, cut), *called = device_text(data + cut, size - cut);
	int invoke = size ? 1 + (data[size - 1] * 41) % 9998 : 1;
	char *xml = csta_build_make_call(ns[size % 3], calling, called);
	GBytes *frame = csta_frame_encode(invoke, xml, NULL);

	if (frame) {
		CstaDecoder *dec = csta_decoder_new();
		gsize len;
		const uint8_t *wire = g_bytes_get_data(frame, &len);
		size_t split = cut % (len + 1);
		int got_invoke = 0;
		GBytes *body = NULL;
		CstaNode *root;

		csta_decoder_feed(dec, wire, split);
		csta_decoder_feed(dec, wire + split, len - split);
		if (!csta_decoder_next(dec, &got_invoke, &body, NULL) || got_invoke != invoke ||
		    g_bytes_get_size(body) != strlen(xml) ||
		    memcmp(g_bytes_get_data(body, NULL), xml, strlen(xml)) != 0 ||
		    csta_decoder_pending(dec) != 0)
			abort();
		root = csta_xml_parse(xml, -1, NULL);
		if (!root || strcmp(root->name, "MakeCall") != 0)
			abort();
		expect_text(root, "callingDevice", calling);
		expect_text(root, "calledDirectoryNumber", called);
		csta_node_free(root);
		g_bytes_unref(body);
		g_bytes_unref(frame);
		csta_decoder_free(dec);
	}
	g_free(xml);
	g_free(calling);
	g_free(called);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_stream(data, size);
	round_trip(data, size);
	return 0;
}
