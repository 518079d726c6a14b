/* check_parts - parts_list() over a mail as clients send it: multipart/mixed
 * with a body, a request, a WAV with an RFC 2231 file name in base64, an
 * octet-stream PDF with an RFC 2047 file name, a TIFF known by Content-ID, a
 * quoted-printable Latin-1 text attachment with Content-Language, and a
 * forwarded message whose parts must not count. */
#include <check.h>
#include <string.h>

#include <gmime/gmime.h>

#include "parts.h"

static const char mail[] =
    "From: alice@example.org\r\n"
    "To: call@pbx.example\r\n"
    "Subject: call\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n"
    "\r\n"
    "--BOUND\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Please call.\r\n"
    "--BOUND\r\n"
    "Content-Type: application/x-cti\r\n"
    "\r\n"
    "Source: 2001\r\nDestination: 0312345678\r\n"
    "--BOUND\r\n"
    "Content-Type: audio/wav\r\n"
    "Content-Disposition: attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe.wav\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "UklGRiQAAABXQVZF\r\n"
    "--BOUND\r\n"
    "Content-Type: application/octet-stream; name=\"=?utf-8?q?Brief_=C3=A9t=C3=A9.pdf?=\"\r\n"
    "Content-Disposition: attachment; filename=\"=?utf-8?q?Brief_=C3=A9t=C3=A9.pdf?=\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQK\r\n"
    "--BOUND\r\n"
    "Content-Type: image/tiff\r\n"
    "Content-ID: <page@example.org>\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "SUkqAA==\r\n"
    "--BOUND\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Language: de, en\r\n"
    "Content-Disposition: attachment; filename=ansage.txt\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=FC=DF Gott=\r\n"
    ", Welt\r\n"
    "--BOUND\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Content-Type: audio/wav\r\n"
    "\r\n"
    "RIFF\r\n"
    "--BOUND--\r\n";

static GMimeMessage *load(void)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(mail, sizeof mail - 1);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

START_TEST(test_list)
{
	GMimeMessage *msg = load();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) parts = parts_list(msg, &error);
	const CtiPart *p;
	static const CtiPartKind kinds[] = {CTI_PART_OTHER, CTI_PART_REQUEST, CTI_PART_VOICE,
	                                    CTI_PART_FAX,   CTI_PART_FAX,     CTI_PART_TEXT};

	ck_assert_msg(parts != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(parts->len, G_N_ELEMENTS(kinds));
	for (guint i = 0; i < parts->len; i++) {
		p = g_ptr_array_index(parts, i);
		ck_assert_msg(p->kind == kinds[i], "part %u is %s", i, parts_kind_name(p->kind));
		ck_assert_int_eq(p->index, i);
	}
	p = g_ptr_array_index(parts, 2);
	ck_assert_str_eq(p->filename, "Gr\xc3\xbc\xc3\x9f"
	                              "e.wav");
	ck_assert_str_eq(p->content_type, "audio/wav");
	p = g_ptr_array_index(parts, 3);
	ck_assert_str_eq(p->filename, "Brief \xc3\xa9t\xc3\xa9.pdf");
	p = g_ptr_array_index(parts, 4);
	ck_assert_str_eq(p->content_id, "page@example.org");
	p = g_ptr_array_index(parts, 5);
	ck_assert_str_eq(p->language, "de");
	g_object_unref(msg);
}
END_TEST

START_TEST(test_content)
{
	GMimeMessage *msg = load();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) parts = parts_list(msg, &error);
	g_autoptr(GBytes) wav = NULL;
	g_autofree char *text = NULL;
	gsize len;
	const guint8 *d;

	wav = parts_content(g_ptr_array_index(parts, 2), 1024, &error);
	ck_assert(wav != NULL);
	d = g_bytes_get_data(wav, &len);
	ck_assert_int_eq(len, 12);
	ck_assert(memcmp(d, "RIFF$\0\0\0WAVE", 12) == 0);
	text = parts_text(g_ptr_array_index(parts, 5), 1024, &error);
	ck_assert_msg(text != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(text, "Gr\xc3\xbc\xc3\x9f Gott, Welt");
	/* the size bound is a clean, permanent error */
	ck_assert(parts_content(g_ptr_array_index(parts, 2), 4, &error) == NULL);
	ck_assert_int_eq(error->code, CTI_PARTS_ERROR_SIZE);
	ck_assert(strstr(error->message, "Gr\xc3\xbc\xc3\x9f"
	                                 "e.wav") != NULL);
	g_object_unref(msg);
}
END_TEST

START_TEST(test_lookup)
{
	GMimeMessage *msg = load();
	g_autoptr(GPtrArray) parts = parts_list(msg, NULL);
	const CtiPart *p;

	p = parts_lookup(parts, "cid:page@example.org");
	ck_assert(p != NULL && p->index == 4);
	p = parts_lookup(parts, "brief \xc3\xa9t\xc3\xa9.PDF");
	ck_assert(p != NULL && p->index == 3);
	ck_assert(parts_lookup(parts, "other.wav") == NULL);
	ck_assert(parts_lookup(parts, "cid:") == NULL);
	g_object_unref(msg);
}
END_TEST

typedef struct {
	const char *type, *filename;
	gboolean inline_body;
	CtiPartKind kind;
} KindCase;

static const KindCase kind_cases[] = {
    {"application/octet-stream", "msg.WAV", FALSE, CTI_PART_VOICE},
    {"application/octet-stream", "scan.tif", FALSE, CTI_PART_FAX},
    {"application/octet-stream", "x.exe", FALSE, CTI_PART_OTHER},
    {"audio/x-wav", NULL, FALSE, CTI_PART_VOICE},
    {"audio/basic", "a.au", FALSE, CTI_PART_VOICE},
    {"text/plain", NULL, TRUE, CTI_PART_OTHER},
    {"text/plain", "say.txt", FALSE, CTI_PART_TEXT},
    {"application/x-cti-scenario+xml", NULL, FALSE, CTI_PART_SCENARIO},
    {"text/xml", "scenario.xml", FALSE, CTI_PART_SCENARIO},
    {"image/png", "page.tif", FALSE, CTI_PART_OTHER},
    {"application/pdf", NULL, FALSE, CTI_PART_FAX},
    {NULL, "request.cti", FALSE, CTI_PART_REQUEST},
    /* the one request rule: a *.cti name wins over any type, so mutt's text/plain call.cti
     * is the request and never spoken */
    {"text/plain", "call.cti", FALSE, CTI_PART_REQUEST},
    {"text/plain", "call.cti", TRUE, CTI_PART_REQUEST},
    {"application/octet-stream", " CALL.CTI ", FALSE, CTI_PART_REQUEST},
    {"audio/wav", "call.cti", FALSE, CTI_PART_REQUEST},
    {"application/x-cti", NULL, TRUE, CTI_PART_REQUEST},
    {"APPLICATION/X-CTI", "notes.txt", FALSE, CTI_PART_REQUEST},
    {"text/plain", ".cti", FALSE, CTI_PART_TEXT},
    {"text/plain", "call.cti.txt", FALSE, CTI_PART_TEXT},
};

START_TEST(test_kind)
{
	const KindCase *c = &kind_cases[_i];

	ck_assert_msg(parts_kind(c->type, c->filename, c->inline_body) == c->kind, "case %d", _i);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parts");
	TCase *tc = tcase_create("parts");
	SRunner *sr;
	int failed;

	g_mime_init();
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_content);
	tcase_add_test(tc, test_lookup);
	tcase_add_loop_test(tc, test_kind, 0, G_N_ELEMENTS(kind_cases));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
