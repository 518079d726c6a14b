/* wire.c - framing of CSTA XML over TCP (ECMA-323 Annex J.2).
 *
 * A frame is 0x00 0x00, a big-endian uint16 TOTAL length (header included),
 * four ASCII digits of invoke id, then the XML document.  Lengths count bytes.
 * The decoder never copies: it points into the caller's buffer.  A frame with a
 * non-zero format indicator, a length <= 8 or a non-digit invoke id is WIRE_BAD
 * (the connection cannot be resynchronised after that).
 */
#include "wire.h"

#include <gio/gio.h>
#include <string.h>

/* wire_decode - find the first complete frame in BUF */
WireResult
wire_decode(const guint8 *buf, gsize len, WireFrame *frame, GError **error)
{
	if (len < WIRE_HEADER)
		return WIRE_NEED_MORE;
	if (buf[0] != 0 || buf[1] != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "bad format indicator 0x%02x%02x", buf[0], buf[1]);
		return WIRE_BAD;
	}
	gsize total = ((gsize)buf[2] << 8) | buf[3];
	if (total <= WIRE_HEADER) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad frame length %zu", total);
		return WIRE_BAD;
	}
	for (int i = 4; i < 8; i++) {
		if (!g_ascii_isdigit(buf[i])) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad invoke id");
			return WIRE_BAD;
		}
	}
	if (len < total)
		return WIRE_NEED_MORE;
	memcpy(frame->invoke, buf + 4, 4);
	frame->invoke[4] = '\0';
	frame->body = (const char *)buf + WIRE_HEADER;
	frame->body_len = total - WIRE_HEADER;
	frame->frame_len = total;
	return WIRE_FRAME;
}

/* wire_encode - append one frame carrying BODY with INVOKE (4 digits) to OUT */
gboolean
wire_encode(GByteArray *out, const char *invoke, const char *body, gsize body_len, GError **error)
{
	g_return_val_if_fail(strlen(invoke) == 4, FALSE);
	gsize total = body_len + WIRE_HEADER;
	if (total > WIRE_MAX) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
			    "frame of %zu bytes exceeds %d", total, WIRE_MAX);
		return FALSE;
	}
	guint8 hdr[WIRE_HEADER] = { 0, 0, (guint8)(total >> 8), (guint8)(total & 0xff) };
	memcpy(hdr + 4, invoke, 4);
	g_byte_array_append(out, hdr, WIRE_HEADER);
	g_byte_array_append(out, (const guint8 *)body, body_len);
	return TRUE;
}
