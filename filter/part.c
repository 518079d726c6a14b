/* part - locate the one request part of a parsed mail and decode it.
 *
 * The caller owns the GMimeMessage (parsed from the milter's spool file with
 * a persistent stream, so part contents stay on disk until read here).
 * part_find() walks multiparts only, never into message/rfc822, and bounds
 * the depth.  part_decode() undoes base64/quoted-printable with GMime's
 * filters, turns CRLF into LF, and stops reading at the size bound.
 * Failures: two request parts, too deep a structure, too big a part
 * (FILTER_ERROR_REQUEST); a read error on the spool (FILTER_ERROR_TEMP).
 */
#include "part.h"

#include "filter-private.h"
#include "parts.h"
#include "reply.h"
#include "scan.h"

/* part_is_request - lib's one rule (parts_is_request), so that the milter, explain and
 * ctid's media planner never disagree about which part is the request */
gboolean part_is_request(GMimeObject *object)
{
	GMimeContentType *type;
	g_autofree char *mime_type = NULL;

	if (!GMIME_IS_PART(object))
		return FALSE;
	type = g_mime_object_get_content_type(object);
	mime_type = type ? g_mime_content_type_get_mime_type(type) : NULL;
	return parts_is_request(mime_type, g_mime_part_get_filename(GMIME_PART(object)));
}

typedef struct {
	GMimePart *found;
	guint count;
	gboolean too_deep;
} PartWalk;

static void part_walk(GMimeObject *object, guint depth, PartWalk *walk)
{
	if (depth > PART_MAX_DEPTH) {
		walk->too_deep = TRUE;
		return;
	}
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *multi = GMIME_MULTIPART(object);
		int n = g_mime_multipart_get_count(multi);

		for (int i = 0; i < n && !walk->too_deep; i++)
			part_walk(g_mime_multipart_get_part(multi, i), depth + 1, walk);
		return;
	}
	/* message/rfc822 (GMimeMessagePart) is deliberately not entered. */
	if (part_is_request(object)) {
		if (walk->count++ == 0)
			walk->found = GMIME_PART(object);
	}
}

/* part_find - the single request part among MESSAGE's own parts, or none */
gboolean part_find(GMimeMessage *message, GMimePart **part_out, GError **error)
{
	PartWalk walk = {NULL, 0, FALSE};
	GMimeObject *root = g_mime_message_get_mime_part(message);

	*part_out = NULL;
	if (root != NULL)
		part_walk(root, 0, &walk);
	if (walk.too_deep) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_REQUEST,
		            "MIME structure nested deeper than %d levels", PART_MAX_DEPTH);
		return FALSE;
	}
	if (walk.count > 1) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_REQUEST,
		            "%u request parts (application/x-cti or *.cti) in one mail; send one "
		            "request per mail",
		            walk.count);
		return FALSE;
	}
	*part_out = walk.found;
	return TRUE;
}

/* part_decoded_stream - the part's stream behind a decoder and a CRLF->LF filter (transfer full) */
static GMimeStream *part_decoded_stream(GMimeDataWrapper *wrapper)
{
	GMimeStream *raw = g_mime_data_wrapper_get_stream(wrapper);
	GMimeStream *filtered = g_mime_stream_filter_new(raw);
	GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(wrapper);
	g_autoptr(GMimeFilter) decoder = g_mime_filter_basic_new(encoding, FALSE);
	g_autoptr(GMimeFilter) unix_eol = g_mime_filter_dos2unix_new(FALSE);

	g_mime_stream_reset(raw);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), unix_eol);
	return filtered;
}

/* part_decode - the decoded text of PART, at most MAX bytes */
char *part_decode(GMimePart *part, gsize max, gsize *len_out, GError **error)
{
	GMimeDataWrapper *wrapper = g_mime_part_get_content(part);
	g_autoptr(GMimeStream) stream = NULL;
	g_autoptr(GByteArray) text = g_byte_array_new();
	char buf[4096];
	gssize n;

	*len_out = 0;
	if (wrapper == NULL)
		return g_strdup("");
	stream = part_decoded_stream(wrapper);
	while ((n = g_mime_stream_read(stream, buf, sizeof buf)) > 0) {
		g_byte_array_append(text, (const guint8 *)buf, (guint)n);
		if (text->len > max) {
			g_set_error(error, FILTER_ERROR, FILTER_ERROR_REQUEST,
			            "the request part is larger than %" G_GSIZE_FORMAT " bytes",
			            max);
			return NULL;
		}
	}
	if (n < 0) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "cannot read the spooled request part");
		return NULL;
	}
	*len_out = text->len;
	g_byte_array_append(text, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(g_steal_pointer(&text), FALSE);
}
