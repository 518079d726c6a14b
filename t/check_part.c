/* check_part - the request part finder: an application/x-cti part, a *.cti
 * attachment, base64 and quoted-printable contents, a forwarded message/rfc822
 * request that must be ignored, two request parts, the size bound. */
#include <check.h>
#include <gmime/gmime.h>
#include <string.h>

#include "../filter/filter-private.h"
#include "../filter/part.h"
#include "../filter/reply.h"

#define HEAD                                                                                       \
	"From: alice@test.example\r\nTo: call@test.example\r\nSubject: call\r\nMIME-Version: "     \
	"1.0\r\n"                                                                                  \
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
#define TEXT_PART "--b1\r\nContent-Type: text/plain\r\n\r\nCall my colleague, please.\r\n"
#define REQ       "Source: 2001\nDestination: 0312345678\n"
/* The line break before a boundary belongs to the boundary (RFC 2046). */
#define REQ_IN_MULTIPART "Source: 2001\nDestination: 0312345678"

typedef struct {
	const char *what;
	const char *mail;
	gboolean ok;      /* part_find's result */
	const char *text; /* decoded request text; NULL: no request part */
} PartCase;

static const PartCase part_cases[] = {
    {"x-cti part",
     HEAD TEXT_PART "--b1\r\nContent-Type: application/x-cti\r\n\r\n"
                    "Source: 2001\r\nDestination: 0312345678\r\n--b1--\r\n",
     TRUE, REQ_IN_MULTIPART},
    {".cti attachment",
     HEAD TEXT_PART "--b1\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Disposition: attachment; filename=\"call.cti\"\r\n\r\n"
                    "Source: 2001\r\nDestination: 0312345678\r\n--b1--\r\n",
     TRUE, REQ_IN_MULTIPART},
    {"text/plain .cti attachment (mutt, neomutt)",
     HEAD TEXT_PART "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                    "Content-Disposition: attachment; filename=\"call.cti\"\r\n\r\n"
                    "Source: 2001\r\nDestination: 0312345678\r\n--b1--\r\n",
     TRUE, REQ_IN_MULTIPART},
    {"base64 part",
     HEAD TEXT_PART "--b1\r\nContent-Type: application/x-cti\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n"
                    "U291cmNlOiAyMDAxDQpEZXN0aW5hdGlvbjogMDMx\r\nMjM0NTY3OA0K\r\n--b1--\r\n",
     TRUE, REQ},
    {"RFC 2231 named base64 attachment",
     HEAD TEXT_PART "--b1\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n"
                    " filename*0*=utf-8''r%C3%BCck; filename*1*=ruf%2Ecti\r\n\r\n"
                    "U291cmNlOiAyMDAxDQpEZXN0aW5hdGlvbjogMDMx\r\nMjM0NTY3OA0K\r\n--b1--\r\n",
     TRUE, REQ},
    {"quoted-printable part",
     HEAD "--b1\r\nContent-Type: application/x-cti\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
          "Source: 20=\r\n01\r\nDestination: 0312345678=0A\r\n--b1--\r\n",
     TRUE, REQ},
    {"nested multipart",
     HEAD "--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n"
          "--b2\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
          "--b2\r\nContent-Type: application/x-cti\r\n\r\nSource: 2001\r\n"
          "Destination: 0312345678\r\n--b2--\r\n--b1--\r\n",
     TRUE, REQ_IN_MULTIPART},
    {"single-part mail",
     "From: a@b\r\nContent-Type: application/x-cti\r\n\r\n"
     "Source: 2001\r\nDestination: 0312345678\r\n",
     TRUE, REQ},
    {"forwarded request ignored",
     HEAD TEXT_PART "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
                    "From: bob@test.example\r\nSubject: old\r\n"
                    "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n"
                    "--in\r\nContent-Type: application/x-cti\r\n\r\n"
                    "Source: 2002\r\n--in--\r\n--b1--\r\n",
     TRUE, NULL},
    {"plain multipart",
     HEAD TEXT_PART "--b1\r\nContent-Type: image/png\r\n"
                    "Content-Disposition: attachment; filename=\"cti.png\"\r\n\r\nxx\r\n--b1--\r\n",
     TRUE, NULL},
    {"two request parts",
     HEAD "--b1\r\nContent-Type: application/x-cti\r\n\r\nSource: 2001\r\n"
          "--b1\r\nContent-Type: text/plain; name=\"second.cti\"\r\n\r\nSource: 2002\r\n--b1--\r\n",
     FALSE, NULL},
};

static GMimeMessage *parse_mail(const char *mail)
{
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(mail, strlen(mail));
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

	return g_mime_parser_construct_message(parser, NULL);
}

START_TEST(test_part_find)
{
	const PartCase *c = &part_cases[_i];
	g_autoptr(GMimeMessage) message = parse_mail(c->mail);
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	GMimePart *part = NULL;
	gsize len = 0;

	ck_assert_ptr_nonnull(message);
	ck_assert_msg(part_find(message, &part, &error) == c->ok, "%s", c->what);
	if (!c->ok) {
		ck_assert(g_error_matches(error, FILTER_ERROR, FILTER_ERROR_REQUEST));
		ck_assert_msg(strstr(error->message, "2 request parts") != NULL, "%s",
		              error->message);
		return;
	}
	if (c->text == NULL) {
		ck_assert_msg(part == NULL, "%s: found a part", c->what);
		return;
	}
	ck_assert_msg(part != NULL, "%s: no part", c->what);
	text = part_decode(part, 1000, &len, &error);
	ck_assert_msg(text != NULL, "%s: %s", c->what, error ? error->message : "");
	ck_assert_str_eq(text, c->text);
	ck_assert_uint_eq(len, strlen(c->text));
}
END_TEST

START_TEST(test_part_decode_bound)
{
	g_autoptr(GMimeMessage) message = parse_mail(part_cases[0].mail);
	g_autoptr(GError) error = NULL;
	GMimePart *part = NULL;
	gsize len = 0;

	ck_assert(part_find(message, &part, &error));
	ck_assert_ptr_nonnull(part);
	ck_assert_ptr_null(part_decode(part, 10, &len, &error));
	ck_assert(g_error_matches(error, FILTER_ERROR, FILTER_ERROR_REQUEST));
	g_clear_error(&error);
	g_free(part_decode(part, strlen(REQ_IN_MULTIPART), &len, &error));
	ck_assert_uint_eq(len, strlen(REQ_IN_MULTIPART));
}
END_TEST

START_TEST(test_part_too_deep)
{
	g_autoptr(GString) mail =
	    g_string_new("From: a@b\r\nContent-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n");
	g_autoptr(GMimeMessage) message = NULL;
	g_autoptr(GError) error = NULL;
	GMimePart *part = NULL;

	for (int i = 1; i <= PART_MAX_DEPTH + 2; i++)
		g_string_append_printf(
		    mail, "--d%d\r\nContent-Type: multipart/mixed; boundary=\"d%d\"\r\n\r\n", i - 1,
		    i);
	g_string_append_printf(mail,
	                       "--d%d\r\nContent-Type: application/x-cti\r\n\r\nSource: 1\r\n",
	                       PART_MAX_DEPTH + 2);
	message = parse_mail(mail->str);
	ck_assert(!part_find(message, &part, &error));
	ck_assert(g_error_matches(error, FILTER_ERROR, FILTER_ERROR_REQUEST));
}
END_TEST

static Suite *part_suite(void)
{
	Suite *s = suite_create("part");
	TCase *tc = tcase_create("part_find");

	tcase_add_loop_test(tc, test_part_find, 0, G_N_ELEMENTS(part_cases));
	tcase_add_test(tc, test_part_too_deep);
	suite_add_tcase(s, tc);
	tc = tcase_create("part_decode");
	tcase_add_test(tc, test_part_decode_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	g_mime_init();
	sr = srunner_create(part_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
