/* check_mediasteps - steps_parse() of cti-media: a table of valid Steps texts
 * (kinds, nesting, values) and a table of invalid ones with the message a
 * control client gets in its REJECT. */
#include <check.h>
#include <string.h>

#include "steps.h"

typedef struct {
	const char *text;
	const char
	    *kinds; /* one letter per top-level step: P(lay) S(ay) W(ait) G(ather) R(ecord) F(ax) */
	guint prompts; /* prompts of the first step */
} ValidCase;

static const ValidCase valid[] = {
    {"play /x.wav", "P", 0},
    {"play loop=3 /dir/with space.wav\npause 0.5", "PW", 0},
    {"say Hello, world", "S", 0},
    {"say lang=de Guten Tag", "S", 0},
    {"gather 1 5\n  say Press 1 to confirm.\n  play /p.wav\nrecord 30\nfax /d.pdf", "GRF", 2},
    {"\n\nrecord 0.5\n\n", "R", 0},
    {"gather 4 10\n\tplay /a.wav\ngather 4 10\n  say again", "GG", 1},
};

static char kind_letter(StepKind kind)
{
	switch (kind) {
	case STEP_PLAY:
		return 'P';
	case STEP_SAY:
		return 'S';
	case STEP_PAUSE:
		return 'W';
	case STEP_GATHER:
		return 'G';
	case STEP_RECORD:
		return 'R';
	case STEP_FAX:
		return 'F';
	}
	return '?';
}

START_TEST(test_valid)
{
	const ValidCase *c = &valid[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) steps = steps_parse(c->text, &error);
	g_autoptr(GString) kinds = g_string_new(NULL);
	Step *first;

	ck_assert_msg(steps != NULL, "%s: %s", c->text, error ? error->message : "");
	for (guint i = 0; i < steps->len; i++)
		g_string_append_c(kinds, kind_letter(((Step *)g_ptr_array_index(steps, i))->kind));
	ck_assert_str_eq(kinds->str, c->kinds);
	first = g_ptr_array_index(steps, 0);
	ck_assert_uint_eq(first->prompts ? first->prompts->len : 0, c->prompts);
}
END_TEST

START_TEST(test_values)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) steps = steps_parse(
	    "play loop=2 /a b.wav\nsay lang=fr Bonjour\ngather 3 7.5\n  say x\nrecord 12", &error);
	Step *s;

	ck_assert_ptr_nonnull(steps);
	s = g_ptr_array_index(steps, 0);
	ck_assert_str_eq(s->arg, "/a b.wav");
	ck_assert_uint_eq(s->loop, 2);
	s = g_ptr_array_index(steps, 1);
	ck_assert_str_eq(s->arg, "Bonjour");
	ck_assert_str_eq(s->language, "fr");
	s = g_ptr_array_index(steps, 2);
	ck_assert_uint_eq(s->digits, 3);
	ck_assert(s->seconds == 7.5);
	ck_assert_str_eq(((Step *)g_ptr_array_index(s->prompts, 0))->arg, "x");
	s = g_ptr_array_index(steps, 3);
	ck_assert(s->seconds == 12);
}
END_TEST

typedef struct {
	const char *text;
	const char *message; /* a part of the error message */
} InvalidCase;

static const InvalidCase invalid[] = {
    {"", "no steps"},
    {NULL, "no steps"},
    {"jump 3", "step line 1: unknown step \"jump\""},
    {"pause 1\nplay", "step line 2: play needs a file"},
    {"play relative.wav", "absolute path"},
    {"play loop=0 /a.wav", "loop must be 1 to 20"},
    {"play loop=99 /a.wav", "loop must be 1 to 20"},
    {"say", "say needs a text"},
    {"pause", "pause needs SECONDS"},
    {"pause -1", "pause needs SECONDS"},
    {"pause 1x", "pause needs SECONDS"},
    {"record 4000", "record needs SECONDS"},
    {"gather 0 5", "gather needs DIGITS"},
    {"gather 2", "gather needs DIGITS"},
    {"gather 1.5 5", "gather needs DIGITS"},
    {"  say orphan", "an indented step must be a play or say prompt of a gather"},
    {"record 5\n  say x", "an indented step must be"},
    {"gather 1 5\n  record 3", "an indented step must be"},
    {"gather 1 5\n  say 1\n  say 2\n  say 3\n  say 4\n  say 5\n  say 6\n  say 7\n  say 8\n  "
     "say 9",
     "step line 10: an indented step"},
};

START_TEST(test_invalid)
{
	const InvalidCase *c = &invalid[_i];
	g_autoptr(GError) error = NULL;

	ck_assert_ptr_null(steps_parse(c->text, &error));
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(strstr(error->message, c->message) != NULL, "%s: got \"%s\"",
	              c->text ? c->text : "(null)", error->message);
}
END_TEST

START_TEST(test_limits)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GError) error = NULL;

	for (int i = 0; i <= STEPS_MAX; i++)
		g_string_append(text, "pause 1\n");
	ck_assert_ptr_null(steps_parse(text->str, &error));
	ck_assert(strstr(error->message, "more than 64 steps") != NULL);
}
END_TEST

static Suite *steps_suite(void)
{
	Suite *s = suite_create("mediasteps");
	TCase *tc = tcase_create("steps_parse");

	tcase_add_loop_test(tc, test_valid, 0, G_N_ELEMENTS(valid));
	tcase_add_test(tc, test_values);
	tcase_add_loop_test(tc, test_invalid, 0, G_N_ELEMENTS(invalid));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(steps_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
