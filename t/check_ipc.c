/* check_ipc - frame encode/decode: round trip, every split point, several frames per
 * feed, bad version, oversized header, bad Body-Length, escapes; blocking helpers over
 * a socketpair and a real UNIX socket with a timeout. */
#include <check.h>
#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"

static CtiIpcFrame *sample_frame(void)
{
	CtiIpcFrame *f = ipc_frame_new("SUBMIT");
	g_autoptr(GBytes) body = g_bytes_new_static("Subject: x\r\n\r\nbody\n\n\0bin", 25);

	ipc_frame_add(f, "Request", "Action: connect\nSource: 2001\nDestination: 0312345678\n");
	ipc_frame_add(f, "Sender", "");
	ipc_frame_add(f, "Recipient", "call@pbx.example");
	ipc_frame_add(f, "Odd", "back\\slash\ttab\r\ncrlf: colon");
	ipc_frame_addf(f, "Count", "%d", 42);
	ipc_frame_set_body(f, body);
	return f;
}

static void assert_sample(const CtiIpcFrame *f)
{
	gsize len = 0;
	const char *data;

	ck_assert_str_eq(f->verb, "SUBMIT");
	ck_assert_uint_eq(f->names->len, 5);
	ck_assert_str_eq(ipc_frame_get(f, "request"),
	                 "Action: connect\nSource: 2001\nDestination: 0312345678\n");
	ck_assert_str_eq(ipc_frame_get(f, "Sender"), "");
	ck_assert_str_eq(ipc_frame_get(f, "ODD"), "back\\slash\ttab\r\ncrlf: colon");
	ck_assert_str_eq(ipc_frame_get(f, "Count"), "42");
	ck_assert_ptr_null(ipc_frame_get(f, "Body-Length"));
	ck_assert_ptr_nonnull(f->body);
	data = g_bytes_get_data(f->body, &len);
	ck_assert_uint_eq(len, 25);
	ck_assert(memcmp(data, "Subject: x\r\n\r\nbody\n\n\0bin", 25) == 0);
}

START_TEST(test_round_trip)
{
	g_autoptr(CtiIpcFrame) f = sample_frame();
	g_autoptr(GBytes) wire = ipc_frame_encode(f);
	CtiIpcDecoder *dec = ipc_decoder_new(1024);
	g_autoptr(CtiIpcFrame) out = NULL;
	g_autoptr(GError) error = NULL;
	gsize len;
	const char *data = g_bytes_get_data(wire, &len);

	ck_assert(g_str_has_prefix(data, "MCTI/1 SUBMIT\nRequest: Action: connect\\nSource"));
	ck_assert(strstr(data, "\nBody-Length: 25\n\n") != NULL);
	ck_assert(ipc_decoder_feed(dec, data, len, &error));
	ck_assert(ipc_decoder_next(dec, &out, &error));
	ck_assert_ptr_nonnull(out);
	assert_sample(out);
	ipc_decoder_free(dec);
}
END_TEST

START_TEST(test_split_every_byte)
{
	g_autoptr(CtiIpcFrame) f = sample_frame();
	g_autoptr(GBytes) wire = ipc_frame_encode(f);
	gsize len;
	const char *data = g_bytes_get_data(wire, &len);

	for (gsize cut = 0; cut <= len; cut++) {
		CtiIpcDecoder *dec = ipc_decoder_new(1024);
		CtiIpcFrame *out = NULL;
		GError *error = NULL;

		ck_assert(ipc_decoder_feed(dec, data, cut, &error));
		ck_assert(ipc_decoder_next(dec, &out, &error));
		if (cut < len)
			ck_assert_msg(out == NULL, "frame complete after %zu of %zu bytes", cut,
			              len);
		if (!out) {
			ck_assert(ipc_decoder_feed(dec, data + cut, len - cut, &error));
			ck_assert(ipc_decoder_next(dec, &out, &error));
		}
		ck_assert_msg(out != NULL, "cut %zu", cut);
		assert_sample(out);
		ipc_frame_free(out);
		ipc_decoder_free(dec);
	}
	/* and one byte at a time */
	{
		CtiIpcDecoder *dec = ipc_decoder_new(1024);
		CtiIpcFrame *out = NULL;

		for (gsize i = 0; i < len; i++) {
			ck_assert_ptr_null(out);
			ck_assert(ipc_decoder_feed(dec, data + i, 1, NULL));
			ck_assert(ipc_decoder_next(dec, &out, NULL));
		}
		ck_assert_ptr_nonnull(out);
		assert_sample(out);
		ipc_frame_free(out);
		ipc_decoder_free(dec);
	}
}
END_TEST

START_TEST(test_two_frames)
{
	g_autoptr(CtiIpcFrame) a = sample_frame();
	g_autoptr(CtiIpcFrame) b = ipc_frame_new("PING");
	g_autoptr(GBytes) wa = ipc_frame_encode(a);
	g_autoptr(GBytes) wb = ipc_frame_encode(b);
	g_autoptr(GByteArray) both = g_byte_array_new();
	CtiIpcDecoder *dec = ipc_decoder_new(1024);
	CtiIpcFrame *out = NULL;

	ck_assert_str_eq(g_bytes_get_data(wb, NULL), "MCTI/1 PING\n\n");
	g_byte_array_append(both, g_bytes_get_data(wb, NULL), g_bytes_get_size(wb));
	g_byte_array_append(both, g_bytes_get_data(wa, NULL), g_bytes_get_size(wa));
	g_byte_array_append(both, g_bytes_get_data(wb, NULL), g_bytes_get_size(wb));
	ck_assert(ipc_decoder_feed(dec, both->data, both->len, NULL));
	ck_assert(ipc_decoder_next(dec, &out, NULL));
	ck_assert_str_eq(out->verb, "PING");
	ck_assert_ptr_null(out->body);
	ck_assert_uint_eq(out->names->len, 0);
	ipc_frame_free(out);
	ck_assert(ipc_decoder_next(dec, &out, NULL));
	assert_sample(out);
	ipc_frame_free(out);
	ck_assert(ipc_decoder_next(dec, &out, NULL));
	ck_assert_str_eq(out->verb, "PING");
	ipc_frame_free(out);
	ck_assert(ipc_decoder_next(dec, &out, NULL));
	ck_assert_ptr_null(out);
	ipc_decoder_free(dec);
}
END_TEST

static const struct {
	const char *wire;
	const char *error_part;
} bad[] = {
    {"MCTI/2 PING\n\n", "not an MCTI/1 frame"},
    {"HTTP/1.1 200 OK\r\n", "not an MCTI/1 frame"},
    {"MCTI/1 ping\n\n", "bad verb"},
    {"MCTI/1 \n\n", "bad verb"},
    {"MCTI/1 OK\nno colon here\n\n", "bad field line"},
    {"MCTI/1 OK\nBad Name: x\n\n", "bad field line"},
    {"MCTI/1 OK\nName: bad \\q escape\n\n", "bad escape"},
    {"MCTI/1 OK\nName: trailing\\\n\n", "bad escape"},
    {"MCTI/1 OK\nName: cr\r\n\n", "bad escape or byte"},
    {"MCTI/1 OK\nBody-Length: -1\n\n", "Body-Length"},
    {"MCTI/1 OK\nBody-Length: 12x\n\n", "Body-Length"},
    {"MCTI/1 OK\nBody-Length: +5\n\nhello", "Body-Length"},
    {"MCTI/1 OK\nBody-Length: 2000\n\n", "Body-Length"},
    {"MCTI/1 OK\nBody-Length: 99999999999999999999999\n\n", "Body-Length"},
    {"MCTI/1 OK\nBody-Length: 1\nBody-Length: 1\n\nx", "Body-Length"},
};

START_TEST(test_bad)
{
	CtiIpcDecoder *dec = ipc_decoder_new(1024);
	CtiIpcFrame *out = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok = ipc_decoder_feed(dec, bad[_i].wire, strlen(bad[_i].wire), &error);

	ck_assert_msg(!ok, "case %d accepted", _i);
	ck_assert(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
	ck_assert_msg(strstr(error->message, bad[_i].error_part) != NULL, "case %d: %s", _i,
	              error->message);
	g_clear_error(&error);
	/* the decoder stays failed */
	ck_assert(!ipc_decoder_next(dec, &out, &error));
	ck_assert_ptr_null(out);
	g_clear_error(&error);
	ck_assert(!ipc_decoder_feed(dec, "MCTI/1 PING\n\n", 13, &error));
	ipc_decoder_free(dec);
}
END_TEST

START_TEST(test_limits)
{
	g_autoptr(GError) error = NULL;
	CtiIpcDecoder *dec = ipc_decoder_new(1024);
	g_autofree char *filler = g_strnfill(CTI_IPC_MAX_HEADER, 'a');
	g_autoptr(CtiIpcFrame) many = ipc_frame_new("OK");
	g_autoptr(CtiIpcFrame) big = ipc_frame_new("SUBMIT");
	g_autoptr(GBytes) wire = NULL;
	g_autoptr(GBytes) big_body = NULL;
	CtiIpcFrame *out = NULL;

	/* oversized header, even without its end */
	ck_assert(ipc_decoder_feed(dec, "MCTI/1 OK\nX: ", 13, NULL));
	ck_assert(!ipc_decoder_feed(dec, filler, strlen(filler), &error));
	ck_assert(strstr(error->message, "header part larger") != NULL);
	g_clear_error(&error);
	ipc_decoder_free(dec);

	/* 129 fields */
	for (int i = 0; i <= CTI_IPC_MAX_FIELDS; i++)
		ipc_frame_addf(many, "F", "%d", i);
	wire = ipc_frame_encode(many);
	dec = ipc_decoder_new(1024);
	ck_assert(
	    !ipc_decoder_feed(dec, g_bytes_get_data(wire, NULL), g_bytes_get_size(wire), &error));
	ck_assert(strstr(error->message, "fields") != NULL);
	g_clear_error(&error);
	ipc_decoder_free(dec);

	/* a body far larger than the header limit, fed at once, is fine when the limit allows it */
	big_body =
	    g_bytes_new_take(g_strnfill(3 * CTI_IPC_MAX_HEADER, 'b'), 3 * CTI_IPC_MAX_HEADER);
	ipc_frame_set_body(big, big_body);
	g_clear_pointer(&wire, g_bytes_unref);
	wire = ipc_frame_encode(big);
	dec = ipc_decoder_new(4 * CTI_IPC_MAX_HEADER);
	ck_assert(
	    ipc_decoder_feed(dec, g_bytes_get_data(wire, NULL), g_bytes_get_size(wire), &error));
	ck_assert(ipc_decoder_next(dec, &out, &error));
	ck_assert_ptr_nonnull(out);
	ck_assert(g_bytes_equal(out->body, big_body));
	ipc_frame_free(out);
	ipc_decoder_free(dec);
}
END_TEST

START_TEST(test_socketpair)
{
	int sv[2];
	g_autoptr(CtiIpcFrame) f = sample_frame();
	g_autoptr(CtiIpcFrame) got = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert(ipc_send(sv[0], f, &error));
	got = ipc_recv(sv[1], 1024, &error);
	ck_assert_msg(got != NULL, "%s", error ? error->message : "");
	assert_sample(got);
	close(sv[0]);
	g_clear_pointer(&got, ipc_frame_free);
	got = ipc_recv(sv[1], 1024, &error);
	ck_assert_ptr_null(got);
	ck_assert(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED));
	close(sv[1]);
}
END_TEST

/* a listening UNIX socket in a temp dir; never accepts, so a call must time out */
START_TEST(test_timeout_and_refused)
{
	g_autofree char *dir = g_dir_make_tmp("check_ipc.XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "s.sock", NULL);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	g_autoptr(CtiIpcFrame) ping = ipc_frame_new("PING");
	g_autoptr(GError) error = NULL;
	CtiIpcFrame *reply;
	gint64 t0;

	reply = ipc_call(path, ping, 200, &error);
	ck_assert_ptr_null(reply);
	ck_assert_ptr_nonnull(error);
	g_clear_error(&error);

	strcpy(sa.sun_path, path);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	t0 = g_get_monotonic_time();
	reply = ipc_call(path, ping, 200, &error);
	ck_assert_ptr_null(reply);
	ck_assert_msg(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT), "%s",
	              error->message);
	ck_assert_int_lt(g_get_monotonic_time() - t0, 2 * G_USEC_PER_SEC);
	close(lfd);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("codec");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_split_every_byte);
	tcase_add_test(tc, test_two_frames);
	tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(bad));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("client");
	tcase_add_test(tc, test_socketpair);
	tcase_add_test(tc, test_timeout_and_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
