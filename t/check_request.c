/* check_request - request_parse(): every field, folding, line ends, errors that name the
 * field and never carry control characters; request_format() round trip; parse_duration(). */
#include <check.h>
#include <string.h>

#include "request.h"

static CtiRequest *parse(const char *text, GError **error)
{
	return request_parse(text, strlen(text), error);
}

START_TEST(test_full)
{
	const char *text = "Action: Forward-Set\r\n"
	                   "source: 2001\r\n"
	                   "Destination: +49 (30) 1234-56\r\n"
	                   "Forward-To: 0312 345678\r\n"
	                   "Notify: NO\r\n"
	                   "Monitor-Time: 5m\r\n"
	                   "Notify-To: Alice Example <alice@example.org>\r\n"
	                   "Trigger: user\r\n"
	                   "Retry: 3; interval=10m\r\n"
	                   "Wait-For-Idle: yes\r\n"
	                   "Not-Before: 2026-05-01T09:30:00Z\r\n"
	                   "Not-After: Fri, 01 May 2026 12:00:00 +0200\r\n"
	                   "Scenario: cid:scen1@example.org\r\n"
	                   "Mailbox: bob@example.org\r\n"
	                   "Request-Id: ticket 4711 \xc3\xa9t\xc3\xa9\r\n"
	                   "Dry-Run: yes\r\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) r = parse(text, &error);

	ck_assert_msg(r != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(r->action, CTI_ACTION_FORWARD_SET);
	ck_assert_str_eq(r->source, "2001");
	ck_assert_str_eq(r->destination, "+4930123456");
	ck_assert_str_eq(r->forward_to, "0312345678");
	ck_assert(!r->notify);
	ck_assert_int_eq(r->monitor_time, 300);
	ck_assert_str_eq(r->notify_to, "alice@example.org");
	ck_assert_int_eq(r->trigger, CTI_TRIGGER_USER);
	ck_assert_int_eq(r->retry_count, 3);
	ck_assert_int_eq(r->retry_interval, 600);
	ck_assert(r->wait_for_idle);
	ck_assert_int_eq(r->not_before, 1777627800);
	ck_assert_int_eq(r->not_after, 1777629600);
	ck_assert_str_eq(r->scenario, "cid:scen1@example.org");
	ck_assert_str_eq(r->mailbox, "bob@example.org");
	ck_assert_str_eq(r->request_id, "ticket 4711 \xc3\xa9t\xc3\xa9");
	ck_assert(r->dry_run);
}
END_TEST

START_TEST(test_defaults)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) r = parse("Source: 2001\nDestination: 0312345678", &error);

	ck_assert_msg(r != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(r->action, CTI_ACTION_CONNECT);
	ck_assert(r->notify);
	ck_assert_int_eq(r->monitor_time, 0);
	ck_assert_ptr_null(r->notify_to);
	ck_assert_int_eq(r->trigger, CTI_TRIGGER_SYSTEM);
	ck_assert_int_eq(r->retry_count, 1);
	ck_assert_int_eq(r->retry_interval, 60);
	ck_assert(!r->wait_for_idle);
	ck_assert_int_eq(r->not_before, 0);
	ck_assert_int_eq(r->not_after, 0);
	ck_assert_ptr_null(r->scenario);
	ck_assert_ptr_null(r->mailbox);
	ck_assert_ptr_null(r->request_id);
	ck_assert(!r->dry_run);
}
END_TEST

START_TEST(test_folding)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) r =
	    parse("Source: 2001\r\nRequest-Id: part one\r\n  part two\r\n\tthree\r\n"
	          "Destination:\r\n 0312345678\r\n\r\n",
	          &error);

	ck_assert_msg(r != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(r->request_id, "part one  part two three");
	ck_assert_str_eq(r->destination, "0312345678");
}
END_TEST

static const struct {
	const char *text;
	CtiRequestError code;
	const char *error_part;
} bad[] = {
    {"Destination: 1", CTI_REQUEST_ERROR_MISSING, "Source: required"},
    {"Source: 2001", CTI_REQUEST_ERROR_MISSING, "Destination: required for Action: connect"},
    {"Source: 2001\nAction: forward-clear", CTI_REQUEST_ERROR_MISSING,
     "Destination: required for Action: forward-clear"},
    {"Source: 2001\nDestination: 1\nAction: forward-set", CTI_REQUEST_ERROR_MISSING,
     "Forward-To: required"},
    {"Source: 2001\nDestination: 1\nForward-To: 2", CTI_REQUEST_ERROR_VALUE,
     "Forward-To: only allowed"},
    {"Source: 2001\nDestination: 1\nColour: red", CTI_REQUEST_ERROR_UNKNOWN,
     "unknown field 'Colour'"},
    {"Source: 2001\nSource: 2002\nDestination: 1", CTI_REQUEST_ERROR_DUPLICATE,
     "Source: given more than once"},
    {"Source: 2001\nDestination: 1\nAction: dial", CTI_REQUEST_ERROR_VALUE,
     "Action: 'dial' is not one of"},
    {"Source: 20x1\nDestination: 1", CTI_REQUEST_ERROR_VALUE, "Source: '20x1' is not an extension"},
    {"Source: +2001\nDestination: 1", CTI_REQUEST_ERROR_VALUE, "Source: '+2001'"},
    {"Source: 2001\nDestination: 03a", CTI_REQUEST_ERROR_VALUE,
     "Destination: not a telephone number: invalid character 'a' at position 3"},
    {"Source: 2001\nDestination: 1\nNotify: maybe", CTI_REQUEST_ERROR_VALUE,
     "Notify: 'maybe' is not yes or no"},
    {"Source: 2001\nDestination: 1\nMonitor-Time: abc", CTI_REQUEST_ERROR_VALUE,
     "Monitor-Time: 'abc' is not a duration (use 90, 90s, 5m or 1h)"},
    {"Source: 2001\nDestination: 1\nMonitor-Time: 0", CTI_REQUEST_ERROR_VALUE,
     "Monitor-Time: 0 seconds is out of range"},
    {"Source: 2001\nDestination: 1\nMonitor-Time: 2d", CTI_REQUEST_ERROR_VALUE,
     "Monitor-Time: 172800 seconds"},
    {"Source: 2001\nDestination: 1\nNotify-To: nobody", CTI_REQUEST_ERROR_VALUE,
     "Notify-To: 'nobody' is not one mail address"},
    {"Source: 2001\nDestination: 1\nNotify-To: a@b.c, d@e.f", CTI_REQUEST_ERROR_VALUE,
     "Notify-To:"},
    {"Source: 2001\nDestination: 1\nNotify-To: g: a@b.c;", CTI_REQUEST_ERROR_VALUE, "Notify-To:"},
    {"Source: 2001\nDestination: 1\nTrigger: later", CTI_REQUEST_ERROR_VALUE,
     "Trigger: 'later' is not system or user"},
    {"Source: 2001\nDestination: 1\nRetry: 0", CTI_REQUEST_ERROR_VALUE, "Retry: '0'"},
    {"Source: 2001\nDestination: 1\nRetry: 21", CTI_REQUEST_ERROR_VALUE, "Retry: '21'"},
    {"Source: 2001\nDestination: 1\nRetry: 3; interval=2d", CTI_REQUEST_ERROR_VALUE,
     "Retry: interval must be"},
    {"Source: 2001\nDestination: 1\nRetry: 3; interval=0", CTI_REQUEST_ERROR_VALUE,
     "Retry: interval must be"},
    {"Source: 2001\nDestination: 1\nRetry: 3; gap=5", CTI_REQUEST_ERROR_VALUE,
     "Retry: unknown parameter"},
    {"Source: 2001\nDestination: 1\nWait-For-Idle: 1", CTI_REQUEST_ERROR_VALUE,
     "Wait-For-Idle: '1'"},
    {"Source: 2001\nDestination: 1\nNot-Before: tomorrow", CTI_REQUEST_ERROR_VALUE,
     "Not-Before: 'tomorrow' is not a date-time"},
    {"Source: 2001\nDestination: 1\nNot-Before: 2026-05-02T00:00:00Z\nNot-After: "
     "2026-05-01T00:00:00Z",
     CTI_REQUEST_ERROR_VALUE, "Not-After: must be later"},
    {"Source: 2001\nDestination: 1\nScenario: ../etc/passwd", CTI_REQUEST_ERROR_VALUE, "Scenario:"},
    {"Source: 2001\nDestination: 1\nMailbox: <>", CTI_REQUEST_ERROR_VALUE, "Mailbox:"},
    {"Source: 2001\nDestination: 1\nDry-Run: perhaps", CTI_REQUEST_ERROR_VALUE,
     "Dry-Run: 'perhaps'"},
    {"Source: 2001\nDestination: 1\nRequest-Id: a\x01"
     "b",
     CTI_REQUEST_ERROR_VALUE, "Request-Id: control character \\x01"},
    {"Source: 2001\nDestination: 1\nRequest-Id: \xff\xfe", CTI_REQUEST_ERROR_VALUE,
     "Request-Id: value is not UTF-8"},
    {"Source: 2001\nDestination: 1\nNotify:", CTI_REQUEST_ERROR_VALUE, "Notify: empty value"},
    {"Source: 2001\nthis is not a field\n", CTI_REQUEST_ERROR_SYNTAX,
     "line 2: not a 'Name: value' line"},
    {" Source: 2001\n", CTI_REQUEST_ERROR_SYNTAX, "line 1: continuation line without a field"},
    {"Source: 2001\rDestination: 1\n", CTI_REQUEST_ERROR_SYNTAX, "line 1: stray carriage return"},
    {"Sou\x01rce: 2001\n", CTI_REQUEST_ERROR_SYNTAX, "line 1"},
    {"Source: 2001\nDestination: 1\nColo\x1b[31mur: x", CTI_REQUEST_ERROR_SYNTAX, "line 3"},
    {"Source: 2001\nDestination: 1\nX\xc3\xa4: 1", CTI_REQUEST_ERROR_SYNTAX, "line 3"},
};

START_TEST(test_bad)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) r = parse(bad[_i].text, &error);

	ck_assert_msg(r == NULL, "case %d accepted", _i);
	ck_assert_msg(g_error_matches(error, CTI_REQUEST_ERROR, bad[_i].code),
	              "case %d: code %d: %s", _i, error->code, error->message);
	ck_assert_msg(strstr(error->message, bad[_i].error_part) != NULL,
	              "case %d: '%s' lacks '%s'", _i, error->message, bad[_i].error_part);
	ck_assert_uint_le(strlen(error->message), 200);
	for (const char *p = error->message; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
		              "case %d: raw byte in '%s'", _i, error->message);
}
END_TEST

START_TEST(test_bounds)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) big = g_string_new("Source: 2001\nDestination: 1\n");
	g_autofree char *long_line = g_strnfill(999, 'x');
	g_autofree char *long_id = g_strnfill(201, 'x');
	g_autofree char *long_echo =
	    g_strdup_printf("Source: 2001\nDestination: 1\nAction: %s", long_line);
	CtiRequest *r;

	for (int i = 0; i < 70; i++)
		g_string_append_printf(big, "X-%d: 1\n", i);
	r = parse(big->str, &error);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(error);
	g_clear_error(&error);

	r = request_parse("Source: 2001\0", 13, &error);
	ck_assert_ptr_null(r);
	ck_assert(strstr(error->message, "NUL") != NULL);
	g_clear_error(&error);

	r = request_parse("Source: 2001", CTI_REQUEST_MAX + 1, &error);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(error->code, CTI_REQUEST_ERROR_SYNTAX);
	g_clear_error(&error);

	{
		g_autofree char *t =
		    g_strdup_printf("Source: 2001\nDestination: 1\nRequest-Id: %s", long_line);
		r = parse(t, &error);
		ck_assert_ptr_null(r);
		ck_assert(strstr(error->message, "line 3: longer than 998 bytes") != NULL);
		g_clear_error(&error);
	}
	{
		g_autofree char *t =
		    g_strdup_printf("Source: 2001\nDestination: 1\nRequest-Id: %s", long_id);
		r = parse(t, &error);
		ck_assert_ptr_null(r);
		ck_assert(strstr(error->message, "Request-Id: longer than 200 bytes") != NULL);
		g_clear_error(&error);
	}
	long_echo[strlen(long_echo) - 10] = '\0'; /* keep it below 998 bytes */
	r = parse(long_echo, &error);
	ck_assert_ptr_null(r);
	ck_assert_uint_le(strlen(error->message), 200);
	ck_assert(strstr(error->message, "Action: 'xxx") != NULL);
}
END_TEST

static const char *const round_trip[] = {
    "Source: 2001\nDestination: 0312345678\n",
    "Action: conference\nSource: 2001\nDestination: 2002\nNotify: no\nMonitor-Time: 90s\nDry-Run: "
    "yes\n",
    "Action: intrude\nSource: 2001\nDestination: 2003\nRetry: 20; interval=24h\nWait-For-Idle: "
    "yes\n",
    "Action: forward-set\nSource: 2001\nDestination: 2001\nForward-To: +33 1 23\nTrigger: "
    "user\nMailbox: <a@b.example>\n",
    "Action: forward-clear\nSource: 2001\nDestination: 2001\nNot-Before: "
    "2026-01-01T00:00:00+01:00\n"
    "Not-After: Thu, 1 Jan 2026 10:00:00 +0000\nNotify-To: x.y+z@sub.example.org\n",
    "Source: 2001\nDestination: 1\nScenario: tour.xml\nRequest-Id: R-1 \xe2\x82\xac 100\n",
};

START_TEST(test_round_trip)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) a = parse(round_trip[_i], &error);
	g_autoptr(CtiRequest) b = NULL;
	g_autofree char *text_a = NULL;
	g_autofree char *text_b = NULL;

	ck_assert_msg(a != NULL, "case %d: %s", _i, error ? error->message : "");
	text_a = request_format(a);
	b = parse(text_a, &error);
	ck_assert_msg(b != NULL, "case %d: %s\n%s", _i, error ? error->message : "", text_a);
	text_b = request_format(b);
	ck_assert_str_eq(text_a, text_b);
	ck_assert_int_eq(a->action, b->action);
	ck_assert_str_eq(a->source, b->source);
	ck_assert_str_eq(a->destination, b->destination);
	ck_assert_int_eq(a->not_before, b->not_before);
	ck_assert_int_eq(a->not_after, b->not_after);
	ck_assert_int_eq(a->retry_count, b->retry_count);
	ck_assert_int_eq(a->retry_interval, b->retry_interval);
	ck_assert_int_eq(a->monitor_time, b->monitor_time);
	ck_assert_int_eq(a->notify, b->notify);
	ck_assert_int_eq(a->trigger, b->trigger);
	ck_assert_int_eq(a->dry_run, b->dry_run);
	ck_assert_int_eq(a->wait_for_idle, b->wait_for_idle);
}
END_TEST

static const struct {
	const char *text;
	gboolean ok;
	int seconds;
} durations[] = {
    {"90", TRUE, 90},    {"90s", TRUE, 90},        {"5m", TRUE, 300},  {"2h", TRUE, 7200},
    {"1d", TRUE, 86400}, {"5M", TRUE, 300},        {"0", TRUE, 0},     {"", FALSE, 0},
    {"m", FALSE, 0},     {"5mm", FALSE, 0},        {"-5", FALSE, 0},   {"5 m", FALSE, 0},
    {"1w", FALSE, 0},    {"9999999999", FALSE, 0}, {"401d", FALSE, 0},
};

START_TEST(test_duration)
{
	int s = -1;
	gboolean ok = parse_duration(durations[_i].text, &s);

	ck_assert_msg(ok == durations[_i].ok, "case %d '%s'", _i, durations[_i].text);
	if (ok)
		ck_assert_int_eq(s, durations[_i].seconds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("request_parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_folding);
	tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(bad));
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	tc = tcase_create("request_format");
	tcase_add_loop_test(tc, test_round_trip, 0, G_N_ELEMENTS(round_trip));
	suite_add_tcase(s, tc);
	tc = tcase_create("parse_duration");
	tcase_add_loop_test(tc, test_duration, 0, G_N_ELEMENTS(durations));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
