/* check_notify - the composed notification parsed back with GMime: headers, the
 * multipart/report parts and the x-cti-result lines; a CR/LF in Request-Id never
 * becomes a header; no recipient means no mail; notify_send() with a stand-in
 * sendmail (argument list, stdin, exit status and stderr). */
#include <check.h>
#include <gmime/gmime.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

typedef struct {
	CtiJob job;
	CtiRequest req;
	GPtrArray *attempts;
	CtiNotifyInfo info;
} Fixture;

static void fixture_init(Fixture *f)
{
	CtiAttempt *a;

	memset(f, 0, sizeof(*f));
	f->job.id = (char *)"0123456789abcdef0123456789abcdef";
	f->job.sender = (char *)"alice@example.org";
	f->job.message_id = (char *)"<req-1@example.org>";
	f->job.created = 1777627800;
	f->job.finished = 1777627860;
	f->job.attempts = 2;
	f->req.action = CTI_ACTION_CONNECT;
	f->req.source = (char *)"2001";
	f->req.destination = (char *)"0312345678";
	f->req.request_id = (char *)"T-4711";
	f->attempts = g_ptr_array_new_with_free_func((GDestroyNotify)attempt_free);
	a = g_new0(CtiAttempt, 1);
	a->number = 1;
	a->started = G_GINT64_CONSTANT(1777627800250);
	a->outcome = g_strdup("busy");
	a->cause = g_strdup("busy");
	g_ptr_array_add(f->attempts, a);
	a = g_new0(CtiAttempt, 1);
	a->number = 2;
	a->started = G_GINT64_CONSTANT(1777627830000);
	a->outcome = g_strdup("answered");
	a->cause = g_strdup("newCall");
	g_ptr_array_add(f->attempts, a);
	f->info.job = &f->job;
	f->info.request = &f->req;
	f->info.status = "success";
	f->info.reason = "answered after 2 s";
	f->info.attempts = f->attempts;
	f->info.answered_at = G_GINT64_CONSTANT(1777627832500);
	f->info.request_headers =
	    "From: alice@example.org\nTo: call@pbx.example\nSubject: please call\n";
	f->info.from = "mailcti@gw.example";
	f->info.hostname = "gw.example";
}

static GMimeMessage *parse_bytes(GBytes *bytes)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(g_bytes_get_data(bytes, NULL),
	                                                        g_bytes_get_size(bytes));
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	ck_assert_ptr_nonnull(msg);
	return msg;
}

/* part_text - decoded content of a leaf part (transfer full) */
static char *part_text(GMimeObject *obj)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *arr;
	char *text;

	g_mime_data_wrapper_write_to_stream(w, mem);
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	text = g_strndup((const char *)arr->data, arr->len);
	g_object_unref(mem);
	return text;
}

START_TEST(test_compose)
{
	Fixture f;
	g_autoptr(GError) error = NULL;
	g_autofree char *rcpt = NULL;
	g_autoptr(GBytes) bytes = NULL;
	GMimeMessage *msg;
	GMimeObject *body;
	GMimeContentType *ct;
	g_autofree char *human = NULL;
	g_autofree char *result = NULL;
	g_autofree char *headers = NULL;
	const char *raw;

	fixture_init(&f);
	bytes = notify_compose(&f.info, &rcpt, &error);
	ck_assert_msg(bytes != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(rcpt, "alice@example.org");
	raw = g_bytes_get_data(bytes, NULL);
	ck_assert_ptr_null(memchr(raw, '\r', g_bytes_get_size(bytes)));

	msg = parse_bytes(bytes);
	ck_assert_str_eq(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
	                     internet_address_list_get_address(g_mime_message_get_from(msg), 0))),
	                 "mailcti@gw.example");
	ck_assert_str_eq(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
	                     internet_address_list_get_address(g_mime_message_get_to(msg), 0))),
	                 "alice@example.org");
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted"),
	                 "auto-replied");
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"),
	                 "<req-1@example.org>");
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(msg), "References"),
	                 "<req-1@example.org>");
	ck_assert_str_eq(g_mime_message_get_message_id(msg),
	                 "0123456789abcdef0123456789abcdef.1777627860@gw.example");
	ck_assert_ptr_nonnull(g_mime_message_get_date(msg));
	ck_assert_str_eq(g_mime_message_get_subject(msg),
	                 "CTI result: success - connect 0312345678 [T-4711]");

	body = g_mime_message_get_mime_part(msg);
	ct = g_mime_object_get_content_type(body);
	ck_assert(g_mime_content_type_is_type(ct, "multipart", "report"));
	ck_assert_str_eq(g_mime_content_type_get_parameter(ct, "report-type"), "x-cti-result");
	ck_assert_int_eq(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 3);
	ck_assert(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0)),
	    "text", "plain"));
	ck_assert(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1)),
	    "application", "x-cti-result"));
	ck_assert(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(g_mime_multipart_get_part(GMIME_MULTIPART(body), 2)),
	    "text", "rfc822-headers"));
	human = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0));
	ck_assert(strstr(human, "was carried out") != NULL);
	ck_assert(strstr(human, "T-4711") != NULL);
	result = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1));
	ck_assert_str_eq(result, "Request-Id: T-4711\n"
	                         "Job-Id: 0123456789abcdef0123456789abcdef\n"
	                         "Action: connect\n"
	                         "Status: success\n"
	                         "Reason: answered after 2 s\n"
	                         "Attempts: 2\n"
	                         "Answered-At: 2026-05-01T09:30:32.500Z\n"
	                         "Submitted-At: 2026-05-01T09:30:00Z\n"
	                         "Finished-At: 2026-05-01T09:31:00Z\n"
	                         "Attempt: 1 2026-05-01T09:30:00.250Z busy busy\n"
	                         "Attempt: 2 2026-05-01T09:30:30.000Z answered newCall\n");
	headers = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 2));
	ck_assert_str_eq(headers, f.info.request_headers);
	g_object_unref(msg);
	g_ptr_array_unref(f.attempts);
}
END_TEST

START_TEST(test_injection)
{
	Fixture f;
	g_autoptr(GError) error = NULL;
	g_autofree char *rcpt = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autofree char *text = NULL;
	GMimeMessage *msg;
	GMimeHeaderList *hl;
	char *hdr_end;

	fixture_init(&f);
	f.req.request_id = (char *)"abc\r\nBcc: victim@evil.example";
	f.job.message_id = (char *)"<x@y>\r\nBcc: victim2@evil.example";
	f.info.reason = "bad\nX-Injected: 1";
	bytes = notify_compose(&f.info, &rcpt, &error);
	ck_assert_ptr_nonnull(bytes);
	text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	hdr_end = strstr(text, "\n\n");
	ck_assert_ptr_nonnull(hdr_end);
	*hdr_end = '\0';
	ck_assert_msg(strstr(text, "Bcc") == NULL && strstr(text, "victim") == NULL, "%s", text);
	ck_assert(strstr(hdr_end + 2, "\nBcc:") == NULL);
	ck_assert(strstr(hdr_end + 2, "\nX-Injected:") == NULL);
	ck_assert(strstr(hdr_end + 2, "Request-Id: abc??Bcc: victim@evil.example\n") != NULL);
	msg = parse_bytes(bytes);
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	ck_assert(!g_mime_header_list_contains(hl, "Bcc"));
	ck_assert(!g_mime_header_list_contains(hl, "In-Reply-To"));
	ck_assert_str_eq(g_mime_message_get_subject(msg),
	                 "CTI result: success - connect 0312345678");
	g_object_unref(msg);
	g_ptr_array_unref(f.attempts);
}
END_TEST

START_TEST(test_utf8_subject)
{
	Fixture f;
	g_autoptr(GBytes) bytes = NULL;
	g_autofree char *text = NULL;
	GMimeMessage *msg;

	fixture_init(&f);
	f.req.request_id = (char *)"R\xc3\xa9sum\xc3\xa9 \xe2\x82\xac";
	bytes = notify_compose(&f.info, NULL, NULL);
	text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	*strstr(text, "\n\n") = '\0';
	for (const char *p = text; *p; p++)
		ck_assert_msg((unsigned char)*p < 0x80, "raw 8-bit byte in headers");
	ck_assert(strstr(text, "=?utf-8?") != NULL || strstr(text, "=?UTF-8?") != NULL);
	msg = parse_bytes(bytes);
	ck_assert(strstr(g_mime_message_get_subject(msg), "R\xc3\xa9sum\xc3\xa9 \xe2\x82\xac") !=
	          NULL);
	g_object_unref(msg);
	g_ptr_array_unref(f.attempts);
}
END_TEST

START_TEST(test_recipient)
{
	Fixture f;
	g_autoptr(GError) error = NULL;
	g_autofree char *rcpt = NULL;
	GBytes *bytes;

	fixture_init(&f);
	f.req.notify_to = (char *)"bob@example.org";
	bytes = notify_compose(&f.info, &rcpt, &error);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_str_eq(rcpt, "bob@example.org");
	g_bytes_unref(bytes);
	g_clear_pointer(&rcpt, g_free);

	f.req.notify_to = NULL;
	f.job.sender = (char *)"";
	bytes = notify_compose(&f.info, &rcpt, &error);
	ck_assert_ptr_null(bytes);
	ck_assert_ptr_null(rcpt);
	ck_assert(strstr(error->message, "null sender") != NULL);
	g_clear_error(&error);

	f.job.sender = (char *)"not an address";
	bytes = notify_compose(&f.info, &rcpt, &error);
	ck_assert_ptr_null(bytes);
	ck_assert(strstr(error->message, "invalid notification recipient") != NULL);
	g_clear_error(&error);

	f.job.sender = (char *)"a@b.example\nBcc: c@d.example";
	bytes = notify_compose(&f.info, &rcpt, &error);
	ck_assert_ptr_null(bytes);
	g_ptr_array_unref(f.attempts);
}
END_TEST

/* write_script - an executable stand-in for sendmail in DIR (transfer full path) */
static char *write_script(const char *dir, const char *name, const char *body)
{
	char *path = g_build_filename(dir, name, NULL);
	g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);

	ck_assert(g_file_set_contents(path, text, -1, NULL));
	ck_assert_int_eq(g_chmod(path, 0755), 0);
	return path;
}

START_TEST(test_send)
{
	g_autofree char *dir = g_dir_make_tmp("check_notify.XXXXXX", NULL);
	g_autofree char *args_path = g_build_filename(dir, "args", NULL);
	g_autofree char *msg_path = g_build_filename(dir, "msg", NULL);
	g_autofree char *body =
	    g_strdup_printf("for a in \"$@\"; do printf '[%%s]\\n' \"$a\"; done > '%s'; cat > '%s'",
	                    args_path, msg_path);
	g_autofree char *ok = write_script(dir, "ok.sh", body);
	g_autofree char *bad =
	    write_script(dir, "bad.sh", "cat >/dev/null; echo 'no such user' >&2; exit 67");
	g_autofree char *cmd = g_strdup_printf("'%s' -oi", ok);
	g_autoptr(GBytes) message = g_bytes_new_static("Subject: t\n\nhello\n", 19);
	g_autoptr(GError) error = NULL;
	g_autofree char *args = NULL;
	g_autofree char *got = NULL;

	ck_assert_msg(notify_send(cmd, "bob@example.org", message, &error), "%s",
	              error ? error->message : "");
	ck_assert(g_file_get_contents(args_path, &args, NULL, NULL));
	ck_assert_str_eq(args, "[-oi]\n[-f]\n[]\n[-i]\n[--]\n[bob@example.org]\n");
	ck_assert(g_file_get_contents(msg_path, &got, NULL, NULL));
	ck_assert_str_eq(got, "Subject: t\n\nhello\n");

	ck_assert(!notify_send(bad, "bob@example.org", message, &error));
	ck_assert_msg(strstr(error->message, "status 67") && strstr(error->message, "no such user"),
	              "%s", error->message);
	g_clear_error(&error);
	ck_assert(!notify_send("/nonexistent/sendmail", "bob@example.org", message, &error));
	g_clear_error(&error);
	ck_assert(!notify_send(cmd, "-oQ/tmp/x", message, &error));
	g_clear_error(&error);
	ck_assert(!notify_send(cmd, "", message, &error));
	g_unlink(args_path);
	g_unlink(msg_path);
	g_unlink(ok);
	g_unlink(bad);
	g_rmdir(dir);
}
END_TEST

/* normalise - the composed mail with its Date and MIME boundary made constant (transfer full) */
static char *normalise(GBytes *bytes)
{
	g_autofree char *text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_autoptr(GRegex) date = g_regex_new("^Date: .*$", G_REGEX_MULTILINE, 0, NULL);
	g_autoptr(GRegex) find = g_regex_new("boundary=\"([^\"]+)\"", 0, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;
	g_autofree char *bound = NULL;
	g_autofree char *a = g_regex_replace_literal(date, text, -1, 0, "Date: DATE", 0, NULL);
	g_auto(GStrv) pieces = NULL;

	ck_assert(g_regex_match(find, a, 0, &match));
	bound = g_match_info_fetch(match, 1);
	pieces = g_strsplit(a, bound, -1);
	return g_strjoinv("BOUNDARY", pieces);
}

/* The golden file fixes the wire format that ctid's tests and mail clients read. */
START_TEST(test_golden)
{
	Fixture f;
	g_autoptr(GBytes) bytes = NULL;
	g_autofree char *got = NULL;
	g_autofree char *want = NULL;
	g_autofree char *path = g_build_filename(SRCDIR, "golden", "notify-success.eml", NULL);

	fixture_init(&f);
	bytes = notify_compose(&f.info, NULL, NULL);
	got = normalise(bytes);
	if (g_getenv("UPDATE_GOLDEN"))
		g_file_set_contents(path, got, -1, NULL);
	ck_assert_msg(g_file_get_contents(path, &want, NULL, NULL), "%s", path);
	ck_assert_str_eq(got, want);
	g_ptr_array_unref(f.attempts);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify_compose");
	SRunner *sr;
	int failed;

	g_mime_init();
	tcase_add_test(tc, test_compose);
	tcase_add_test(tc, test_injection);
	tcase_add_test(tc, test_utf8_subject);
	tcase_add_test(tc, test_recipient);
	tcase_add_test(tc, test_golden);
	suite_add_tcase(s, tc);
	tc = tcase_create("notify_send");
	tcase_add_test(tc, test_send);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
