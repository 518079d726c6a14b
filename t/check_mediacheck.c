/* check_mediacheck - the milter's SMTP-time check of scenario and media parts:
 * real-client-style mails (multipart/mixed, base64, RFC 2231 names) with a
 * good scenario pass; an unknown verb, a missing part, a corrupt WAV and a
 * language without a voice each become a 550 whose text names the line or
 * the part. */
#include <check.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <sndfile.h>

#include "../filter/mediacheck.h"
#include "../filter/reply.h"

static char *wav_base64;

/* make_wav_base64 - a short 44.1 kHz stereo WAV, base64 in 76-column lines */
static char *make_wav_base64(void)
{
	g_autofree char *dir = g_dir_make_tmp("check_mediacheck-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "a.wav", NULL);
	SF_INFO info = {
	    .samplerate = 44100, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	float buf[2 * 441] = {0.25f};
	g_autofree char *data = NULL;
	g_autofree char *b64 = NULL;
	GString *out = g_string_new(NULL);
	gsize len;

	g_assert(sf != NULL);
	sf_writef_float(sf, buf, 441);
	sf_close(sf);
	g_assert(g_file_get_contents(path, &data, &len, NULL));
	g_unlink(path);
	g_rmdir(dir);
	b64 = g_base64_encode((const guchar *)data, len);
	for (gsize i = 0; i < strlen(b64); i += 76)
		g_string_append_printf(out, "%.76s\r\n", b64 + i);
	return g_string_free(out, FALSE);
}

/* mail - a multipart/mixed request with SCENARIO (NULL: none) and a WAV named WAV_NAME holding
 * WAV_BODY */
static GMimeMessage *mail(const char *scenario, const char *wav_body)
{
	g_autoptr(GString) m =
	    g_string_new("From: alice@example.org\r\nTo: call@pbx.example\r\nMIME-Version: 1.0\r\n"
	                 "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	                 "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	                 "--b1\r\nContent-Type: application/x-cti\r\n\r\nSource: "
	                 "2001\r\nDestination: 0312345678\r\n");
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	if (scenario != NULL)
		g_string_append_printf(
		    m,
		    "Scenario: scen.xml\r\n"
		    "--b1\r\nContent-Type: application/xml\r\n"
		    "Content-Disposition: attachment; filename=\"scen.xml\"\r\n\r\n%s\r\n",
		    scenario);
	g_string_append_printf(
	    m,
	    "--b1\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment;\r\n "
	    "filename*=utf-8''Ansage%%20f%%C3%%BCr%%20Kunden.wav\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s"
	    "--b1\r\nContent-Type: application/pdf\r\nContent-ID: <doc@x>\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSVFT0YK\r\n--b1--\r\n",
	    wav_body);
	stream = g_mime_stream_mem_new_with_buffer(m->str, m->len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

static const CtiRequest *request(const char *scenario)
{
	static CtiRequest req;

	memset(&req, 0, sizeof req);
	req.scenario = (char *)scenario;
	return &req;
}

typedef struct {
	const char *scenario; /* NULL: no Scenario field */
	gboolean corrupt_wav;
	const char *reply; /* NULL: accepted; else the start of the 550 text */
} CheckCase;

static const CheckCase cases[] = {
    {NULL, FALSE, NULL},
    {"<Response>\n  <Say language=\"de\">Hallo</Say>\n  <Play>Ansage f\xc3\xbcr Kunden.wav</Play>\n"
     "  <Pause length=\"1\"/><Fax>cid:doc@x</Fax><Hangup/>\n</Response>",
     FALSE, NULL},
    {"<Response>\n  <Record/>\n</Response>", FALSE,
     "bad CTI request: scenario: line 2, column 3: unknown verb <Record>"},
    {"<Response>\n<Play>nosuch.wav</Play></Response>", FALSE,
     "bad CTI request: scenario: line 2, column 1: <Play> names part 'nosuch.wav', which is not in "
     "this mail"},
    {NULL, TRUE,
     "bad CTI request: 'Ansage f??r Kunden.wav' (application/octet-stream, part 3): not readable "
     "audio"},
    {"<Response><Play>Ansage f\xc3\xbcr Kunden.wav</Play></Response>", TRUE,
     "bad CTI request: scenario: line 1, column 11: <Play>: 'Ansage f??r Kunden.wav' "
     "(application/octet-stream, part 4): not readable audio"},
    {"<Response>\n\n<Say language=\"tlh\">Qapla</Say></Response>", FALSE,
     "bad CTI request: scenario: line 3, column 1: <Say>: no speech voice for language 'tlh'"},
    {"<Response><Fax>Ansage f\xc3\xbcr Kunden.wav</Fax></Response>", FALSE,
     "bad CTI request: scenario: line 1, column 11: <Fax>: 'Ansage f??r Kunden.wav' "
     "(application/octet-stream, part 4): neither a TIFF nor a PDF"},
};

START_TEST(test_check)
{
	const CheckCase *c = &cases[_i];
	GMimeMessage *msg =
	    mail(c->scenario, c->corrupt_wav ? "bm90IGF1ZGlvIGF0IGFsbAo=\r\n" : wav_base64);
	g_autoptr(GError) error = NULL;
	gboolean ok = mediacheck_message(msg, request(c->scenario ? "scen.xml" : NULL), &error);

	if (c->reply == NULL) {
		ck_assert_msg(ok, "case %d: %s", _i, error ? error->message : "");
	} else {
		g_autoptr(FilterReply) reply = NULL;

		ck_assert_msg(!ok, "case %d accepted", _i);
		reply = reply_from_error(error);
		ck_assert_str_eq(reply->rcode, "550");
		ck_assert_msg(g_str_has_prefix(reply->text, c->reply), "case %d: '%s'", _i,
		              reply->text);
	}
	g_object_unref(msg);
}
END_TEST

START_TEST(test_missing_scenario)
{
	GMimeMessage *msg = mail(NULL, wav_base64);
	g_autoptr(GError) error = NULL;

	ck_assert(!mediacheck_message(msg, request("cid:none@x"), &error));
	ck_assert_int_eq(error->code, FILTER_ERROR_REQUEST);
	ck_assert_str_eq(error->message, "Scenario: part 'cid:none@x' is not in this mail");
	g_object_unref(msg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mediacheck");
	TCase *tc = tcase_create("mediacheck_message");
	SRunner *sr;
	int failed;

	g_mime_init();
	wav_base64 = make_wav_base64();
	tcase_add_loop_test(tc, test_check, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_missing_scenario);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_free(wav_base64);
	return failed == 0 ? 0 : 1;
}
