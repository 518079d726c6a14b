/* check_reply - the one mapping from internal errors to SMTP answers: temporary
 * stays 451 4.3.0 (without leaking details), a bad request is 550 5.6.0 naming
 * the field, ctid's refusal 550 5.7.0, and texts are safe for libmilter. */
#include <check.h>
#include <gio/gio.h>
#include <string.h>

#include "../filter/reply.h"
#include "request.h"

typedef struct {
	const char *what;
	GQuark (*domain)(void);
	int code;
	const char *message;
	ReplyKind kind;
	const char *rcode;
	const char *xcode;
	const char *text;
} ReplyCase;

static const ReplyCase reply_cases[] = {
    {"ctid down", filter_error_quark, FILTER_ERROR_TEMP, "ctid at /run/x.sock: Connection refused",
     REPLY_TEMPFAIL, "451", "4.3.0", "CTI service temporarily unavailable, try again later"},
    {"bad request", filter_error_quark, FILTER_ERROR_REQUEST, "2 request parts in one mail",
     REPLY_REJECT, "550", "5.6.0", "bad CTI request: 2 request parts in one mail"},
    {"request parser", request_error_quark, CTI_REQUEST_ERROR_VALUE,
     "Monitor-Time: 'abc' is not a duration (use 90, 90s, 5m or 1h)", REPLY_REJECT, "550", "5.6.0",
     "bad CTI request: Monitor-Time: 'abc' is not a duration (use 90, 90s, 5m or 1h)"},
    {"missing field", request_error_quark, CTI_REQUEST_ERROR_MISSING, "Source: required",
     REPLY_REJECT, "550", "5.6.0", "bad CTI request: Source: required"},
    {"refused", filter_error_quark, FILTER_ERROR_REFUSED, "Source: 2001 is not yours", REPLY_REJECT,
     "550", "5.7.0", "CTI request refused: Source: 2001 is not yours"},
    {"too big", filter_error_quark, FILTER_ERROR_TOO_BIG, "too big", REPLY_REJECT, "552", "5.3.4",
     "too big"},
    {"unknown domain", g_io_error_quark, G_IO_ERROR_FAILED, "disk on fire", REPLY_TEMPFAIL, "451",
     "4.3.0", "CTI service temporarily unavailable, try again later"},
};

START_TEST(test_reply_from_error)
{
	const ReplyCase *c = &reply_cases[_i];
	g_autoptr(GError) error = g_error_new_literal(c->domain(), c->code, c->message);
	g_autoptr(FilterReply) reply = reply_from_error(error);

	ck_assert_msg(reply->kind == c->kind, "%s", c->what);
	ck_assert_str_eq(reply->rcode, c->rcode);
	ck_assert_str_eq(reply->xcode, c->xcode);
	ck_assert_str_eq(reply->text, c->text);
	ck_assert_str_eq(reply->milter_text, c->text); /* no '%' in these */
	ck_assert_msg(reply->rcode[0] == reply->xcode[0], "%s: code classes differ", c->what);
}
END_TEST

typedef struct {
	const char *in;
	const char *out;
} SanitizeCase;

static const SanitizeCase sanitize_cases[] = {
    {"plain text", "plain text"},
    {"100% sure", "100% sure"},
    {"two\r\nlines\there", "two  lines here"},
    {"bell\a and \xc3\xa9", "bell? and ??"},
    {"", ""},
};

START_TEST(test_reply_sanitize)
{
	g_autofree char *out = reply_sanitize(sanitize_cases[_i].in);

	ck_assert_str_eq(out, sanitize_cases[_i].out);
}
END_TEST

START_TEST(test_reply_percent)
{
	g_autoptr(GError) error =
	    g_error_new_literal(FILTER_ERROR, FILTER_ERROR_REQUEST, "Monitor-Time: '50%' %s%n");
	g_autoptr(FilterReply) reply = reply_from_error(error);

	ck_assert_str_eq(reply->text, "bad CTI request: Monitor-Time: '50%' %s%n");
	ck_assert_str_eq(reply->milter_text, "bad CTI request: Monitor-Time: '50%%' %%s%%n");
}
END_TEST

START_TEST(test_reply_sanitize_bound)
{
	g_autofree char *in = g_strnfill(REPLY_MAX_TEXT + 500, '%');
	g_autofree char *clean = reply_sanitize(in);
	g_autofree char *out = reply_milter_escape(clean);
	g_autofree char *exact = g_strnfill(REPLY_MAX_TEXT, 'x');
	g_autofree char *same = reply_sanitize(exact);

	ck_assert_uint_eq(strlen(clean), REPLY_MAX_TEXT + 3);
	ck_assert_uint_eq(strlen(out), 2 * REPLY_MAX_TEXT + 3);
	ck_assert(g_str_has_suffix(out, "%%..."));
	ck_assert_str_eq(same, exact);
}
END_TEST

static Suite *reply_suite(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("reply_from_error");

	tcase_add_loop_test(tc, test_reply_from_error, 0, G_N_ELEMENTS(reply_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("reply_sanitize");
	tcase_add_loop_test(tc, test_reply_sanitize, 0, G_N_ELEMENTS(sanitize_cases));
	tcase_add_test(tc, test_reply_sanitize_bound);
	tcase_add_test(tc, test_reply_percent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
