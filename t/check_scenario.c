/* check_scenario - scenario_parse(): a table of valid documents (steps, kinds,
 * values, resolved parts) and a table of invalid ones with the line, column
 * and error class a sender would see in the 550 reply. */
#include <check.h>
#include <string.h>

#include "scenario.h"

static const CtiScenarioPart parts[] = {
    {"voice1@example.org", "greeting.wav"},
    {NULL, "Brief \xc3\xbc"
           "ber.pdf"},
    {"fax@x", NULL},
};

typedef struct {
	const char *doc;
	const char *kinds; /* one letter per step: D P S W(ait) H F */
	int part_of_first; /* -1: not checked */
} ValidCase;

static const ValidCase valid[] = {
    {"<Response/>", "", -1},
    {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n  "
     "<Play>cid:voice1@example.org</Play>\n</Response>\n",
     "P", 0},
    {"<Response><Play loop=\"3\">greeting.wav</Play><Pause length=\"2\"/><Hangup/></Response>",
     "PWH", 0},
    {"<Response><!-- twilio style --><Say voice=\"alice\" language=\"en-GB\">Hello &amp; "
     "welcome</Say></Response>",
     "S", -1},
    {"<Response><Dial timeout=\"20\">+49301234567</Dial></Response>", "D", -1},
    {"<Response><Fax>Brief \xc3\xbc"
     "ber.pdf</Fax><Fax resolution=\"standard\">cid:fax%40x</Fax></Response>",
     "FF", 1},
    {"<Response><Play>GREETING.WAV</Play></Response>", "P", 0},
    {"<Response><Say><![CDATA[a < b]]></Say><Pause/></Response>", "SW", -1},
    {"<Response>\r\n<Hangup></Hangup>\r\n</Response>", "H", -1},
};

static char kind_letter(CtiStepKind kind)
{
	switch (kind) {
	case CTI_STEP_DIAL:
		return 'D';
	case CTI_STEP_PLAY:
		return 'P';
	case CTI_STEP_SAY:
		return 'S';
	case CTI_STEP_PAUSE:
		return 'W';
	case CTI_STEP_HANGUP:
		return 'H';
	case CTI_STEP_FAX:
		return 'F';
	}
	return '?';
}

START_TEST(test_valid)
{
	const ValidCase *c = &valid[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiScenario) s =
	    scenario_parse(c->doc, strlen(c->doc), parts, G_N_ELEMENTS(parts), &error);
	g_autoptr(GString) kinds = g_string_new(NULL);

	ck_assert_msg(s != NULL, "case %d: %s", _i, error ? error->message : "");
	for (guint i = 0; i < s->steps->len; i++)
		g_string_append_c(kinds,
		                  kind_letter(((CtiStep *)g_ptr_array_index(s->steps, i))->kind));
	ck_assert_str_eq(kinds->str, c->kinds);
	if (c->part_of_first >= 0)
		ck_assert_int_eq(((CtiStep *)g_ptr_array_index(s->steps, 0))->part,
		                 c->part_of_first);
}
END_TEST

START_TEST(test_values)
{
	const char *doc = "<Response>\n"
	                  "<Play loop=\"0\">greeting.wav</Play>\n"
	                  "<Say language=\"de\" voice=\"woman\">  Guten Tag  </Say>\n"
	                  "<Pause length=\"7\"/>\n"
	                  "<Dial>0312345678</Dial>\n"
	                  "<Fax resolution=\"standard\">cid:fax@x</Fax>\n"
	                  "</Response>";
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiScenario) s =
	    scenario_parse(doc, strlen(doc), parts, G_N_ELEMENTS(parts), &error);
	CtiStep *st;
	g_autofree char *line = NULL;

	ck_assert_msg(s != NULL, "%s", error ? error->message : "");
	st = g_ptr_array_index(s->steps, 0);
	ck_assert_int_eq(st->loop, 0);
	ck_assert_int_eq(st->line, 2);
	ck_assert_int_eq(st->column, 1);
	st = g_ptr_array_index(s->steps, 1);
	ck_assert_str_eq(st->text, "Guten Tag");
	ck_assert_str_eq(st->language, "de");
	ck_assert_str_eq(st->voice, "woman");
	ck_assert_int_eq(st->loop, 1);
	st = g_ptr_array_index(s->steps, 2);
	ck_assert_int_eq(st->length, 7);
	line = scenario_step_describe(st, 3);
	ck_assert_str_eq(line, "3 Pause length=7");
	st = g_ptr_array_index(s->steps, 3);
	ck_assert_str_eq(st->text, "0312345678");
	ck_assert_int_eq(st->timeout, 30);
	st = g_ptr_array_index(s->steps, 4);
	ck_assert(!st->fine);
	ck_assert_int_eq(st->part, 2);
}
END_TEST

typedef struct {
	const char *doc;
	int code;
	const char *prefix; /* "line L, column C: " plus the start of the reason */
} InvalidCase;

static const InvalidCase invalid[] = {
    {"<Response>\n  <Record/>\n</Response>", CTI_SCENARIO_ERROR_VERB,
     "line 2, column 3: unknown verb <Record>"},
    {"<Response>\n<Play>x.wav</Play>\n</Response>", CTI_SCENARIO_ERROR_PART,
     "line 2, column 1: <Play> names part 'x.wav', which is not in this mail"},
    {"<Response><Pause length=\"abc\"/></Response>", CTI_SCENARIO_ERROR_ATTR,
     "line 1, column 11: <Pause length>: 'abc' is not an integer from 1 to 600"},
    {"<Response>\n\n    <Play digits=\"1\">greeting.wav</Play></Response>", CTI_SCENARIO_ERROR_ATTR,
     "line 3, column 5: <Play> has no attribute 'digits'"},
    {"<Response><Dial><Number>123</Number></Dial></Response>", CTI_SCENARIO_ERROR_VERB,
     "line 1, column 17: <Number> inside <Dial>"},
    {"<Play>greeting.wav</Play>", CTI_SCENARIO_ERROR_SYNTAX,
     "line 1, column 1: the document element must be <Response>"},
    {"<Response><Play>greeting.wav</Response>", CTI_SCENARIO_ERROR_SYNTAX, "line 1, column "},
    {"<Response>hello<Hangup/></Response>", CTI_SCENARIO_ERROR_SYNTAX, "line 1, column "},
    {"<Response><Hangup>now</Hangup></Response>", CTI_SCENARIO_ERROR_VALUE,
     "line 1, column 11: <Hangup> must be empty"},
    {"<Response><Dial>12ab</Dial></Response>", CTI_SCENARIO_ERROR_VALUE,
     "line 1, column 11: <Dial>: '12ab' is not a number"},
    {"<Response><Say></Say></Response>", CTI_SCENARIO_ERROR_VALUE,
     "line 1, column 11: <Say> has no text"},
    {"<Response><Say language=\"english!\">hi</Say></Response>", CTI_SCENARIO_ERROR_ATTR,
     "line 1, column 11: <Say language>"},
    {"<Response><Fax resolution=\"ultra\">cid:fax@x</Fax></Response>", CTI_SCENARIO_ERROR_ATTR,
     "line 1, column 11: <Fax resolution>"},
    {"<Response><Play loop=\"101\">greeting.wav</Play></Response>", CTI_SCENARIO_ERROR_ATTR,
     "line 1, column 11: <Play loop>"},
    {"<Response></Response><Response/>", CTI_SCENARIO_ERROR_SYNTAX, "line 1, column "},
    {"<!DOCTYPE r [<!ENTITY a \"b\">]><Response/>", CTI_SCENARIO_ERROR_SYNTAX, "line 1, column "},
    {"", CTI_SCENARIO_ERROR_SYNTAX, "line 1, column 1: "},
    {"<Response version=\"1\"/>", CTI_SCENARIO_ERROR_ATTR,
     "line 1, column 1: <Response> has no attribute 'version'"},
    {"<Response><Say voice=\"man\" voice=\"woman\">x</Say></Response>", CTI_SCENARIO_ERROR_ATTR,
     "line 1, column 11: <Say> has attribute 'voice' twice"},
    {"<Response>\n<Play>cid:nosuch@x</Play></Response>", CTI_SCENARIO_ERROR_PART,
     "line 2, column 1: <Play> names part 'cid:nosuch@x'"},
    {"<Response>\n  <Say>\xc3\xa9t\xc3\xa9</Say> <Gather/></Response>", CTI_SCENARIO_ERROR_VERB,
     "line 2, column 18: unknown verb <Gather>"},
};

START_TEST(test_invalid)
{
	const InvalidCase *c = &invalid[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiScenario) s =
	    scenario_parse(c->doc, strlen(c->doc), parts, G_N_ELEMENTS(parts), &error);

	ck_assert_msg(s == NULL, "case %d parsed", _i);
	ck_assert(error != NULL && error->domain == CTI_SCENARIO_ERROR);
	ck_assert_msg(g_str_has_prefix(error->message, c->prefix),
	              "case %d: '%s' does not start '%s'", _i, error->message, c->prefix);
	ck_assert_msg(error->code == c->code, "case %d: code %d, want %d (%s)", _i, error->code,
	              c->code, error->message);
	ck_assert(strchr(error->message, '\n') == NULL);
}
END_TEST

START_TEST(test_limits)
{
	g_autoptr(GString) doc = g_string_new("<Response>");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiScenario) s = NULL;
	g_autofree char *big = NULL;

	for (int i = 0; i <= CTI_SCENARIO_MAX_STEPS; i++)
		g_string_append(doc, "<Pause/>\n");
	g_string_append(doc, "</Response>");
	s = scenario_parse(doc->str, doc->len, NULL, 0, &error);
	ck_assert(s == NULL);
	ck_assert_int_eq(error->code, CTI_SCENARIO_ERROR_LIMIT);
	ck_assert(g_str_has_prefix(error->message, "line 201, column 1: more than 200 steps"));
	g_clear_error(&error);

	big = g_strnfill(CTI_SCENARIO_MAX_BYTES + 1, ' ');
	memcpy(big, "<Response/>", 11);
	ck_assert(scenario_parse(big, strlen(big), NULL, 0, &error) == NULL);
	ck_assert_int_eq(error->code, CTI_SCENARIO_ERROR_LIMIT);
	g_clear_error(&error);

	g_string_assign(doc, "<Response><Say>");
	for (int i = 0; i < CTI_SCENARIO_MAX_TEXT + 1; i++)
		g_string_append_c(doc, 'a');
	g_string_append(doc, "</Say></Response>");
	ck_assert(scenario_parse(doc->str, doc->len, NULL, 0, &error) == NULL);
	ck_assert_int_eq(error->code, CTI_SCENARIO_ERROR_LIMIT);
}
END_TEST

/* scenario_check_runnable: <Dial> refused with its position, the request part never media */
typedef struct {
	const char *doc;
	int code; /* -1: runnable */
	const char *prefix;
} RunnableCase;

static const CtiScenarioPart runnable_parts[] = {
    {NULL, "greeting.wav", FALSE},
    {NULL, "call.cti", TRUE},
};

static const RunnableCase runnable[] = {
    {"<Response><Play loop=\"3\">greeting.wav</Play><Pause/></Response>", -1, NULL},
    {"<Response>\n<Play>greeting.wav</Play>\n  <Dial>0312345678</Dial>\n</Response>",
     CTI_SCENARIO_ERROR_UNSUPPORTED, "line 3, column 3: <Dial> is not supported"},
    {"<Response><Play>call.cti</Play></Response>", CTI_SCENARIO_ERROR_PART,
     "line 1, column 11: <Play> names 'call.cti', the request part, which is never media"},
    {"<Response><Fax>call.cti</Fax></Response>", CTI_SCENARIO_ERROR_PART,
     "line 1, column 11: <Fax> names 'call.cti', the request part"},
};

START_TEST(test_runnable)
{
	const RunnableCase *c = &runnable[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiScenario) s = scenario_parse(c->doc, strlen(c->doc), runnable_parts,
	                                          G_N_ELEMENTS(runnable_parts), &error);
	gboolean ok;

	ck_assert_msg(s != NULL, "case %d: %s", _i, error ? error->message : "");
	ok = scenario_check_runnable(s, runnable_parts, G_N_ELEMENTS(runnable_parts), &error);
	if (c->code < 0) {
		ck_assert_msg(ok, "case %d refused: %s", _i, error ? error->message : "");
		return;
	}
	ck_assert_msg(!ok, "case %d runnable", _i);
	ck_assert_int_eq(error->code, c->code);
	ck_assert_msg(g_str_has_prefix(error->message, c->prefix),
	              "case %d: '%s' does not start '%s'", _i, error->message, c->prefix);
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	TCase *tc = tcase_create("scenario_parse");

	tcase_add_loop_test(tc, test_valid, 0, G_N_ELEMENTS(valid));
	tcase_add_test(tc, test_values);
	tcase_add_loop_test(tc, test_invalid, 0, G_N_ELEMENTS(invalid));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("scenario_check_runnable");
	tcase_add_loop_test(tc, test_runnable, 0, G_N_ELEMENTS(runnable));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scenario_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
