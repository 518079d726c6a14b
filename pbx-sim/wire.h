/* wire.h - ECMA-323 Annex J.2 framing (CSTA XML without SOAP over TCP). */
#pragma once

#include <glib.h>

#define WIRE_HEADER 8
#define WIRE_MAX 65535
#define WIRE_EVENT_INVOKE "9999"

typedef struct {
	char invoke[5];   /* 4 ASCII digits + NUL */
	const char *body; /* points into the input buffer; valid until it changes */
	gsize body_len;
	gsize frame_len;  /* bytes to drop from the input once handled */
} WireFrame;

typedef enum {
	WIRE_NEED_MORE,
	WIRE_FRAME,
	WIRE_BAD,
} WireResult;

WireResult wire_decode(const guint8 *buf, gsize len, WireFrame *frame, GError **error);
gboolean wire_encode(GByteArray *out, const char *invoke, const char *body, gsize body_len,
		     GError **error);
