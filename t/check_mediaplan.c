/* check_mediaplan - media_plan_build(): a scenario mail becomes converted
 * files in the media store and an ordered plan (Say, Play, Pause, Hangup,
 * nothing after Hangup) with durations, the total playing time and Step:
 * lines; a mail without a scenario plays its media parts in mail order; the
 * played file is byte-identical to a reference conversion; cleanup empties
 * the store. */
#include <check.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <sndfile.h>

#include "media-plan.h"
#include "media.h"

static char *store;
static GBytes *wav;

static GBytes *make_wav(void)
{
	g_autofree char *path = g_build_filename(store, "src.wav", NULL);
	SF_INFO info = {
	    .samplerate = 44100, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	static float buf[2 * 44100];
	char *data;
	gsize len;

	ck_assert(sf != NULL);
	for (int i = 0; i < 44100; i++)
		buf[2 * i] = buf[2 * i + 1] = 0.3f * (float)sin(2 * G_PI * 300 * i / 44100.0);
	sf_writef_float(sf, buf, 44100);
	sf_close(sf);
	ck_assert(g_file_get_contents(path, &data, &len, NULL));
	g_unlink(path);
	return g_bytes_new_take(data, len);
}

static void setup(void)
{
	store = g_dir_make_tmp("check_mediaplan-XXXXXX", NULL);
	wav = make_wav();
}

static void teardown(void)
{
	ck_assert_int_ge(media_store_cleanup(store, "job1", NULL), 0);
	ck_assert(g_rmdir(store) == 0); /* nothing else was left behind */
	g_clear_pointer(&store, g_free);
	g_clear_pointer(&wav, g_bytes_unref);
}

static GMimeMessage *mail(const char *scenario)
{
	g_autofree char *b64 = g_base64_encode(g_bytes_get_data(wav, NULL), g_bytes_get_size(wav));
	g_autoptr(GString) m =
	    g_string_new("From: a@example.org\r\nMIME-Version: 1.0\r\n"
	                 "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	                 "--b\r\nContent-Type: text/plain\r\n\r\nbody text, not spoken\r\n");
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	if (scenario != NULL)
		g_string_append_printf(m,
		                       "--b\r\nContent-Type: application/x-cti-scenario+xml\r\n"
		                       "Content-ID: <s@x>\r\n\r\n%s\r\n",
		                       scenario);
	g_string_append_printf(
	    m,
	    "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: en\r\n"
	    "Content-Disposition: attachment; filename=\"notice.txt\"\r\n\r\n"
	    "This is a notice.\r\n"
	    "--b\r\nContent-Type: audio/x-wav\r\n"
	    "Content-Disposition: attachment; filename*=utf-8''gr%%C3%%BC%%C3%%9F.wav\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
	    b64);
	stream = g_mime_stream_mem_new_with_buffer(m->str, m->len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

START_TEST(test_scenario)
{
	GMimeMessage *msg =
	    mail("<Response><Say language=\"en\">Hello</Say><Play "
	         "loop=\"2\">gr\xc3\xbc\xc3\x9f.wav</Play>"
	         "<Pause length=\"2\"/><Hangup/><Play>gr\xc3\xbc\xc3\x9f.wav</Play></Response>");
	CtiRequest req = {.scenario = (char *)"cid:s@x"};
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiMediaPlan) plan = media_plan_build(msg, &req, store, "job1", &error);
	g_autoptr(GPtrArray) lines = NULL;
	g_autofree char *ref_path = g_build_filename(store, "job1-99.wav", NULL);
	g_autoptr(CtiMedia) ref = NULL;
	CtiPlanStep *say, *play, *pause;

	ck_assert_msg(plan != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(plan->steps->len, 4);
	say = g_ptr_array_index(plan->steps, 0);
	play = g_ptr_array_index(plan->steps, 1);
	pause = g_ptr_array_index(plan->steps, 2);
	ck_assert_int_eq(say->kind, CTI_PLAN_PLAY);
	ck_assert_str_eq(say->file, "job1-01.wav");
	ck_assert(say->seconds > 0.2);
	ck_assert(g_file_test(say->path, G_FILE_TEST_IS_REGULAR));
	ck_assert_int_eq(play->kind, CTI_PLAN_PLAY);
	ck_assert_str_eq(play->file, "job1-02.wav");
	ck_assert_int_eq(play->loop, 2);
	ck_assert(fabs(play->seconds - 1.0) <= 0.01);
	ck_assert_int_eq(pause->kind, CTI_PLAN_PAUSE);
	ck_assert_int_eq(((CtiPlanStep *)g_ptr_array_index(plan->steps, 3))->kind, CTI_PLAN_HANGUP);
	ck_assert(fabs(plan->total_seconds - (say->seconds + 2 * play->seconds + 2)) < 1e-6);
	lines = media_plan_describe(plan);
	ck_assert_str_eq(g_ptr_array_index(lines, 2), "3 Pause 2 s");
	ck_assert(g_str_has_prefix(g_ptr_array_index(lines, 1),
	                           "2 Play 'gr\xc3\xbc\xc3\x9f.wav' (audio/x-wav, part 4) 1.00 s"));
	/* the file the voice unit plays is the reference conversion, byte for byte */
	ref = media_voice_convert(wav, "audio/x-wav", NULL, ref_path, &error);
	ck_assert(ref != NULL);
	ck_assert_str_eq(ref->checksum, play->checksum);
	g_unlink(ref_path);
	g_object_unref(msg);
}
END_TEST

START_TEST(test_parts_in_order)
{
	GMimeMessage *msg = mail(NULL);
	CtiRequest req = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiMediaPlan) plan = media_plan_build(msg, &req, store, "job1", &error);
	g_autoptr(GPtrArray) lines = NULL;

	ck_assert_msg(plan != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(plan->steps->len, 2);
	lines = media_plan_describe(plan);
	ck_assert(g_str_has_prefix(g_ptr_array_index(lines, 0), "1 Say 'notice.txt'"));
	ck_assert(g_str_has_prefix(g_ptr_array_index(lines, 1), "2 Play 'gr"));
	ck_assert_int_eq(media_store_cleanup(store, "job1", NULL), 2);
	g_object_unref(msg);
}
END_TEST

START_TEST(test_bad_scenario)
{
	GMimeMessage *msg = mail("<Response>\n<Play>none.wav</Play></Response>");
	CtiRequest req = {.scenario = (char *)"cid:s@x"};
	g_autoptr(GError) error = NULL;

	ck_assert(media_plan_build(msg, &req, store, "job1", &error) == NULL);
	ck_assert(strstr(error->message, "line 2, column 1") != NULL);
	g_clear_error(&error);
	req.scenario = (char *)"missing.xml";
	ck_assert(media_plan_build(msg, &req, store, "job1", &error) == NULL);
	ck_assert(strstr(error->message, "missing.xml") != NULL);
	g_object_unref(msg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mediaplan");
	TCase *tc = tcase_create("media_plan_build");
	SRunner *sr;
	int failed;

	g_mime_init();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_scenario);
	tcase_add_test(tc, test_parts_in_order);
	tcase_add_test(tc, test_bad_scenario);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
