/* parts - list and classify the leaf parts of a request mail, decode their content.
 *
 * The message and its GMimeParts belong to the caller; a CtiPart borrows its
 * GMimePart and owns its strings.  Classification starts with the one
 * request rule (parts_is_request(), also used by the milter): a part of type
 * application/x-cti or named "*.cti", whatever its type, is the request and
 * never media.  Then two tables: content types, then file-name extensions
 * for the types that say nothing.  Decoding
 * runs GMime's own transfer-encoding and charset filters and stops at the
 * caller's size bound.  Failures: too many or too deep parts, a part over the
 * bound, text that is not in its declared charset (permanent); a stream read
 * error (temporary, CTI_PARTS_ERROR_READ).
 */
#include "parts.h"

#include <string.h>

G_DEFINE_QUARK(cti - parts - error - quark, parts_error)

typedef struct {
	const char *name;
	CtiPartKind kind;
} KindRow;

/* Content types that name the kind themselves (the request type is
 * parts_is_request()'s, checked before these). */
static const KindRow type_rows[] = {
    {"application/x-cti-scenario+xml", CTI_PART_SCENARIO},
    {"application/pdf", CTI_PART_FAX},
    {"application/x-pdf", CTI_PART_FAX},
    {"image/tiff", CTI_PART_FAX},
    {"image/tiff-fx", CTI_PART_FAX},
    {"image/tif", CTI_PART_FAX},
};

/* Types that say nothing: the file name decides. */
static const char *const generic_types[] = {
    "application/octet-stream", "application/x-download", "application/download",
    "application/binary",       "binary/octet-stream",    "application/force-download",
    "application/unknown",      "application/xml",        "text/xml",
};

/* File-name extensions, for generic types and for parts with no type. */
static const KindRow ext_rows[] = {
    {"xml", CTI_PART_SCENARIO}, {"wav", CTI_PART_VOICE},  {"wave", CTI_PART_VOICE},
    {"au", CTI_PART_VOICE},     {"snd", CTI_PART_VOICE},  {"aif", CTI_PART_VOICE},
    {"aiff", CTI_PART_VOICE},   {"aifc", CTI_PART_VOICE}, {"flac", CTI_PART_VOICE},
    {"ogg", CTI_PART_VOICE},    {"oga", CTI_PART_VOICE},  {"opus", CTI_PART_VOICE},
    {"mp3", CTI_PART_VOICE},    {"ul", CTI_PART_VOICE},   {"ulaw", CTI_PART_VOICE},
    {"mulaw", CTI_PART_VOICE},  {"al", CTI_PART_VOICE},   {"alaw", CTI_PART_VOICE},
    {"gsm", CTI_PART_VOICE},    {"caf", CTI_PART_VOICE},  {"pdf", CTI_PART_FAX},
    {"tif", CTI_PART_FAX},      {"tiff", CTI_PART_FAX},   {"txt", CTI_PART_TEXT},
};

static CtiPartKind kind_by_extension(const char *filename)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;

	if (dot == NULL)
		return CTI_PART_OTHER;
	for (gsize i = 0; i < G_N_ELEMENTS(ext_rows); i++)
		if (g_ascii_strcasecmp(dot + 1, ext_rows[i].name) == 0)
			return ext_rows[i].kind;
	return CTI_PART_OTHER;
}

static gboolean type_is_generic(const char *type)
{
	for (gsize i = 0; i < G_N_ELEMENTS(generic_types); i++)
		if (g_ascii_strcasecmp(type, generic_types[i]) == 0)
			return TRUE;
	return FALSE;
}

/* parts_filename_is_request - "name.cti" in any case, blanks around ignored */
gboolean parts_filename_is_request(const char *filename)
{
	g_autofree char *lower = NULL;

	if (filename == NULL)
		return FALSE;
	lower = g_ascii_strdown(filename, -1);
	g_strstrip(lower);
	return g_str_has_suffix(lower, ".cti") && strlen(lower) > 4;
}

/* parts_is_request - the one request rule: the type, or a *.cti name whatever the type */
gboolean parts_is_request(const char *content_type, const char *filename)
{
	if (content_type != NULL && g_ascii_strcasecmp(content_type, "application/x-cti") == 0)
		return TRUE;
	return parts_filename_is_request(filename);
}

/* parts_kind - the request rule first, then by type, then by extension where the type is
 * generic */
CtiPartKind parts_kind(const char *content_type, const char *filename, gboolean inline_body)
{
	if (parts_is_request(content_type, filename))
		return CTI_PART_REQUEST;
	if (content_type != NULL) {
		for (gsize i = 0; i < G_N_ELEMENTS(type_rows); i++)
			if (g_ascii_strcasecmp(content_type, type_rows[i].name) == 0)
				return type_rows[i].kind;
		if (g_ascii_strncasecmp(content_type, "audio/", 6) == 0)
			return CTI_PART_VOICE;
		if (g_ascii_strcasecmp(content_type, "text/plain") == 0)
			return inline_body ? CTI_PART_OTHER : CTI_PART_TEXT;
		if (!type_is_generic(content_type))
			return CTI_PART_OTHER;
	}
	return kind_by_extension(filename);
}

/* parts_kind_name - the kind as a word */
const char *parts_kind_name(CtiPartKind kind)
{
	switch (kind) {
	case CTI_PART_OTHER:
		return "other";
	case CTI_PART_REQUEST:
		return "request";
	case CTI_PART_SCENARIO:
		return "scenario";
	case CTI_PART_VOICE:
		return "voice";
	case CTI_PART_TEXT:
		return "text";
	case CTI_PART_FAX:
		return "fax";
	}
	return "?";
}

static void part_free(gpointer data)
{
	CtiPart *p = data;

	g_free(p->content_type);
	g_free(p->filename);
	g_free(p->content_id);
	g_free(p->language);
	g_free(p->charset);
	g_free(p);
}

/* first_language - "de" from "de, en"; NULL when absent or odd */
static char *first_language(const char *header)
{
	g_autofree char *copy = NULL;
	char *comma;

	if (header == NULL)
		return NULL;
	copy = g_strdup(header);
	comma = strchr(copy, ',');
	if (comma != NULL)
		*comma = '\0';
	g_strstrip(copy);
	if (*copy == '\0' || strlen(copy) > 35 ||
	    strspn(copy, "abcdefghijklmnopqrstuvwxyz"
	                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(copy))
		return NULL;
	return g_steal_pointer(&copy);
}

static CtiPart *part_new(GMimePart *mime, guint index)
{
	GMimeObject *obj = GMIME_OBJECT(mime);
	GMimeContentType *type = g_mime_object_get_content_type(obj);
	const char *disposition = g_mime_object_get_disposition(obj);
	CtiPart *p = g_new0(CtiPart, 1);
	g_autofree char *mime_type = NULL;
	gboolean inline_body;

	p->part = mime;
	p->index = index;
	mime_type = type ? g_mime_content_type_get_mime_type(type) : NULL; /* transfer full */
	p->content_type = g_ascii_strdown(mime_type ? mime_type : "text/plain", -1);
	p->filename = g_strdup(g_mime_part_get_filename(mime));
	p->content_id = g_strdup(g_mime_object_get_content_id(obj));
	p->language = first_language(g_mime_object_get_header(obj, "Content-Language"));
	p->charset = g_strdup(type ? g_mime_content_type_get_parameter(type, "charset") : NULL);
	inline_body = p->filename == NULL &&
	              (disposition == NULL || g_ascii_strcasecmp(disposition, "inline") == 0);
	p->kind = parts_kind(p->content_type, p->filename, inline_body);
	return p;
}

typedef struct {
	GPtrArray *parts;
	GError *error;
} PartsWalk;

static void parts_walk(GMimeObject *obj, guint depth, PartsWalk *walk)
{
	if (walk->error != NULL)
		return;
	if (depth > CTI_PARTS_MAX_DEPTH) {
		walk->error =
		    g_error_new(CTI_PARTS_ERROR, CTI_PARTS_ERROR_STRUCTURE,
		                "MIME structure nested deeper than %d levels", CTI_PARTS_MAX_DEPTH);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *multi = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(multi);

		for (int i = 0; i < n; i++)
			parts_walk(g_mime_multipart_get_part(multi, i), depth + 1, walk);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return; /* message/rfc822: a forwarded mail is not ours */
	if (walk->parts->len >= CTI_PARTS_MAX) {
		walk->error = g_error_new(CTI_PARTS_ERROR, CTI_PARTS_ERROR_STRUCTURE,
		                          "more than %d parts in one mail", CTI_PARTS_MAX);
		return;
	}
	g_ptr_array_add(walk->parts, part_new(GMIME_PART(obj), walk->parts->len));
}

/* parts_list - every leaf part, classified */
GPtrArray *parts_list(GMimeMessage *message, GError **error)
{
	PartsWalk walk = {g_ptr_array_new_with_free_func(part_free), NULL};
	GMimeObject *root = g_mime_message_get_mime_part(message);

	if (root != NULL)
		parts_walk(root, 0, &walk);
	if (walk.error != NULL) {
		g_propagate_error(error, walk.error);
		g_ptr_array_unref(walk.parts);
		return NULL;
	}
	return walk.parts;
}

/* parts_scenario_refs - the names scenario_parse() matches <Play>/<Fax> against */
CtiScenarioPart *parts_scenario_refs(GPtrArray *parts)
{
	CtiScenarioPart *refs = g_new0(CtiScenarioPart, parts->len + 1);

	for (guint i = 0; i < parts->len; i++) {
		const CtiPart *p = g_ptr_array_index(parts, i);

		refs[i].content_id = p->content_id;
		refs[i].filename = p->filename;
		refs[i].is_request = p->kind == CTI_PART_REQUEST;
	}
	return refs;
}

/* parts_lookup - by cid: or file name, as the scenario parser matches */
const CtiPart *parts_lookup(GPtrArray *parts, const char *ref)
{
	g_autofree CtiScenarioPart *refs = parts_scenario_refs(parts);
	int i = scenario_part_lookup(ref, refs, parts->len);

	return i < 0 ? NULL : g_ptr_array_index(parts, i);
}

/* parts_describe - a part as people recognise it */
char *parts_describe(const CtiPart *part)
{
	if (part->filename != NULL)
		return g_strdup_printf("'%.100s' (%s, part %u)", part->filename, part->content_type,
		                       part->index + 1);
	if (part->content_id != NULL)
		return g_strdup_printf("<%.100s> (%s, part %u)", part->content_id,
		                       part->content_type, part->index + 1);
	return g_strdup_printf("part %u (%s)", part->index + 1, part->content_type);
}

/* read_bounded - all of STREAM, failing past MAX bytes */
static GByteArray *read_bounded(const CtiPart *part, GMimeStream *stream, gsize max, GError **error)
{
	g_autoptr(GByteArray) data = g_byte_array_new();
	char buf[16384];
	gssize n;

	while ((n = g_mime_stream_read(stream, buf, sizeof buf)) > 0) {
		if (data->len + (gsize)n > max) {
			g_autofree char *what = parts_describe(part);

			g_set_error(error, CTI_PARTS_ERROR, CTI_PARTS_ERROR_SIZE,
			            "%s is larger than %" G_GSIZE_FORMAT " bytes", what, max);
			return NULL;
		}
		g_byte_array_append(data, (const guint8 *)buf, (guint)n);
	}
	if (n < 0) {
		g_autofree char *what = parts_describe(part);

		g_set_error(error, CTI_PARTS_ERROR, CTI_PARTS_ERROR_READ, "cannot read %s", what);
		return NULL;
	}
	return g_steal_pointer(&data);
}

/* decoded_stream - PART's content behind its transfer decoder (transfer full) */
static GMimeStream *decoded_stream(GMimeDataWrapper *wrapper)
{
	GMimeStream *raw = g_mime_data_wrapper_get_stream(wrapper);
	GMimeStream *filtered = g_mime_stream_filter_new(raw);
	GMimeFilter *decoder =
	    g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(wrapper), FALSE);

	g_mime_stream_reset(raw);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
	g_object_unref(decoder);
	return filtered;
}

/* parts_content - binary content, transfer encoding undone */
GBytes *parts_content(const CtiPart *part, gsize max, GError **error)
{
	GMimeDataWrapper *wrapper = g_mime_part_get_content(part->part);
	GMimeStream *stream;
	GByteArray *data;

	if (wrapper == NULL)
		return g_bytes_new(NULL, 0);
	stream = decoded_stream(wrapper);
	data = read_bounded(part, stream, max, error);
	g_object_unref(stream);
	return data ? g_byte_array_free_to_bytes(data) : NULL;
}

/* parts_text - content in UTF-8, line ends as LF */
char *parts_text(const CtiPart *part, gsize max, GError **error)
{
	g_autoptr(GBytes) raw = parts_content(part, max, error);
	const char *charset = part->charset ? part->charset : "us-ascii";
	g_autofree char *utf8 = NULL;
	gsize len;
	const char *data;

	if (raw == NULL)
		return NULL;
	data = g_bytes_get_data(raw, &len);
	if (g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	    g_ascii_strcasecmp(charset, "us-ascii") == 0)
		utf8 = memchr(data, '\0', len) ? NULL : g_strndup(data, len);
	else
		utf8 = g_convert(data, (gssize)len, "UTF-8", charset, NULL, NULL, NULL);
	if (utf8 == NULL || !g_utf8_validate(utf8, -1, NULL)) {
		g_autofree char *what = parts_describe(part);

		g_set_error(error, CTI_PARTS_ERROR, CTI_PARTS_ERROR_CONTENT,
		            "%s is not valid text in charset %s", what, charset);
		return NULL;
	}
	for (char *r = utf8, *w = utf8;; r++) {
		if (*r != '\r')
			*w++ = *r;
		if (*r == '\0')
			break;
	}
	return g_steal_pointer(&utf8);
}
