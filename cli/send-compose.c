/* send-compose - the request mail of cti-send, built with GMime.
 *
 * multipart/mixed: a text/plain body for people, the application/x-cti
 * part ("request.cti"), the scenario (application/x-cti-scenario+xml), and
 * one attachment per --play, --say and --fax, in that order.  Attachments
 * carry their base name as an RFC 2231 filename (GMime encodes non-ASCII
 * names) and a content type from the file's name and content (GIO);
 * binary content is base64.  Each --say text is a text/plain UTF-8
 * attachment "say-N.txt" so the gateway speaks it.  Errors: an attachment
 * that cannot be read.
 */
#include "cti-send.h"

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentType, g_object_unref)

static void add_field(GString *out, const char *name, const char *value)
{
	if (value != NULL && value[0] != '\0')
		g_string_append_printf(out, "%s: %s\n", name, value);
}

/* send_request_text - see cti-send.h */
char *send_request_text(const SendOptions *o)
{
	GString *out = g_string_new(NULL);
	g_autofree char *scenario = o->scenario ? g_path_get_basename(o->scenario) : NULL;

	add_field(out, "Action", o->action);
	add_field(out, "Source", o->source);
	add_field(out, "Destination", o->to);
	add_field(out, "Forward-To", o->forward_to);
	add_field(out, "Notify", o->notify);
	add_field(out, "Notify-To", o->notify_to);
	add_field(out, "Monitor-Time", o->monitor_time);
	add_field(out, "Trigger", o->trigger);
	add_field(out, "Retry", o->retry);
	add_field(out, "Not-Before", o->not_before);
	add_field(out, "Not-After", o->not_after);
	add_field(out, "Scenario", scenario);
	add_field(out, "Mailbox", o->mailbox);
	add_field(out, "Request-Id", o->request_id);
	if (o->dry_run)
		add_field(out, "Dry-Run", "yes");
	return g_string_free(out, FALSE);
}

/* text_part - a text/SUBTYPE part holding TEXT (UTF-8) as it is: charset utf-8,
 * quoted-printable when it is not plain ASCII */
static GMimePart *text_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeDataWrapper *content =
	    g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	gboolean ascii = TRUE;

	for (const char *p = text; *p; p++)
		ascii = ascii && (unsigned char)*p < 0x80;
	g_mime_part_set_content(GMIME_PART(part), content);
	g_object_unref(content);
	g_object_unref(stream);
	g_mime_text_part_set_charset(part, ascii ? "us-ascii" : "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part),
	                                 ascii ? GMIME_CONTENT_ENCODING_7BIT
	                                       : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_PART(part);
}

static void attach(GMimeMultipart *mixed, GMimePart *part, const char *filename)
{
	g_mime_part_set_filename(part, filename);
	g_mime_object_set_disposition(GMIME_OBJECT(part), GMIME_DISPOSITION_ATTACHMENT);
	g_mime_multipart_add(mixed, GMIME_OBJECT(part));
	g_object_unref(part);
}

/* mime_type_of - the content type of PATH from its name and first bytes (transfer full) */
static char *mime_type_of(const char *path, const guchar *data, gsize len)
{
	g_autofree char *ct = g_content_type_guess(path, data, MIN(len, 4096), NULL);
	char *mime = g_content_type_get_mime_type(ct);

	return mime ? mime : g_strdup("application/octet-stream");
}

static gboolean attach_file(GMimeMultipart *mixed, const char *path, const char *force_type,
                            GError **error)
{
	g_autofree char *data = NULL;
	g_autofree char *mime = NULL;
	g_autofree char *name = g_path_get_basename(path);
	g_autoptr(GMimeContentType) type = NULL;
	GMimeStream *stream;
	GMimeDataWrapper *content;
	GMimePart *part;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, error)) {
		g_prefix_error(error, "attachment: ");
		return FALSE;
	}
	mime = force_type ? g_strdup(force_type) : mime_type_of(path, (guchar *)data, len);
	type = g_mime_content_type_parse(NULL, mime);
	part = g_mime_part_new_with_type(g_mime_content_type_get_media_type(type),
	                                 g_mime_content_type_get_media_subtype(type));
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(stream);
	g_mime_part_set_content(part, content);
	g_object_unref(content);
	if (g_str_has_prefix(mime, "text/") || g_str_has_suffix(mime, "+xml"))
		g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	else
		g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	attach(mixed, part, name);
	return TRUE;
}

static char *body_text(const SendOptions *o)
{
	return g_strdup_printf("This mail is a CTI request for the gateway %s:\n"
	                       "%s %s from extension %s.\n"
	                       "The result will be mailed back to the sender.\n",
	                       o->gateway, o->action ? o->action : "connect", o->to ? o->to : "-",
	                       o->source ? o->source : "?");
}

static gboolean add_parts(GMimeMultipart *mixed, const SendOptions *o, GError **error)
{
	g_autofree char *req = send_request_text(o);
	g_autofree char *body = body_text(o);
	GMimePart *part;

	part = text_part("plain", body);
	g_mime_multipart_add(mixed, GMIME_OBJECT(part));
	g_object_unref(part);
	part = g_mime_part_new_with_type("application", "x-cti");
	{
		GMimeStream *s = g_mime_stream_mem_new_with_buffer(req, strlen(req));
		GMimeDataWrapper *w =
		    g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);

		g_mime_part_set_content(part, w);
		g_object_unref(w);
		g_object_unref(s);
	}
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_7BIT);
	g_mime_part_set_filename(part, "request.cti");
	g_mime_object_set_disposition(GMIME_OBJECT(part), GMIME_DISPOSITION_INLINE);
	g_mime_multipart_add(mixed, GMIME_OBJECT(part));
	g_object_unref(part);
	if (o->scenario &&
	    !attach_file(mixed, o->scenario, "application/x-cti-scenario+xml", error))
		return FALSE;
	for (guint i = 0; o->play && o->play[i]; i++)
		if (!attach_file(mixed, o->play[i], NULL, error))
			return FALSE;
	for (guint i = 0; o->say && o->say[i]; i++) {
		g_autofree char *name = g_strdup_printf("say-%u.txt", i + 1);

		if (!g_utf8_validate(o->say[i], -1, NULL)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			            "--say: the text is not UTF-8");
			return FALSE;
		}
		part = text_part("plain", o->say[i]);
		attach(mixed, part, name);
	}
	for (guint i = 0; o->fax && o->fax[i]; i++)
		if (!attach_file(mixed, o->fax[i], NULL, error))
			return FALSE;
	return TRUE;
}

static char *new_message_id(const char *from)
{
	const char *at = from ? strrchr(from, '@') : NULL;
	g_autofree char *host = at ? g_strdup(at + 1) : g_strdup(g_get_host_name());
	g_autofree char *rand = g_uuid_string_random();

	return g_strdup_printf("cti-send.%s@%s", rand, host);
}

static void set_headers(GMimeMessage *msg, const SendOptions *o, const char *mid)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *subject =
	    o->subject ? g_strdup(o->subject)
	               : g_strdup_printf("CTI %s %s", o->action ? o->action : "connect",
	                                 o->to ? o->to : "");

	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, NULL, o->from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, o->gateway);
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_mime_message_set_date(msg, now);
	g_mime_message_set_message_id(msg, mid);
}

/* send_compose - see cti-send.h */
GBytes *send_compose(const SendOptions *o, char **message_id_out, GError **error)
{
	GMimeMessage *msg;
	GMimeMultipart *mixed;
	GMimeStream *stream;
	GMimeFormatOptions *fo;
	GByteArray *arr;
	GBytes *bytes = NULL;
	g_autofree char *mid = new_message_id(o->from);

	msg = g_mime_message_new(TRUE);
	set_headers(msg, o, mid);
	mixed = g_mime_multipart_new_with_subtype("mixed");
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
	g_object_unref(mixed);
	if (add_parts(mixed, o, error)) {
		stream = g_mime_stream_mem_new();
		fo = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
		g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, stream);
		g_mime_format_options_free(fo);
		arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
		bytes = g_bytes_new(arr->data, arr->len);
		g_object_unref(stream);
		*message_id_out = g_steal_pointer(&mid);
	}
	g_object_unref(msg);
	return bytes;
}
