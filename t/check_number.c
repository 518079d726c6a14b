/* check_number - number_normalise(): separators, '+', bad characters, length. */
#include <check.h>
#include <string.h>

#include "number.h"

static const struct {
	const char *in;
	const char *out;        /* NULL: an error is expected */
	const char *error_part; /* substring of the error message */
} cases[] = {
    {"0312345678", "0312345678", NULL},
    {"+49 (30) 123-45.67/8", "+493012345678", NULL},
    {"  2001 ", "2001", NULL},
    {"+1", "+1", NULL},
    {"12345678901234567890", "12345678901234567890", NULL},
    {"123456789012345678901", NULL, "21 digits"},
    {"", NULL, "no digits"},
    {"+", NULL, "no digits"},
    {"--", NULL, "no digits"},
    {"12a4", NULL, "'a' at position 3"},
    {"1+2", NULL, "'+' at position 2"},
    {"++12", NULL, "'+' at position 2"},
    {"12&3", NULL, "'&' at position 3"},
    {"12\n3", NULL, "\\n at position 3"},
    {"1\x01", NULL, "\\x01 at position 2"},
    {"1\xc3\xa9", NULL, "\\xc3 at position 2"},
    {"12#", NULL, "'#' at position 3"},
};

START_TEST(test_normalise)
{
	char *out = NULL;
	GError *error = NULL;
	gboolean ok = number_normalise(cases[_i].in, &out, &error);

	if (cases[_i].out) {
		ck_assert_msg(ok, "case %d: %s", _i, error ? error->message : "");
		ck_assert_str_eq(out, cases[_i].out);
		g_free(out);
	} else {
		ck_assert_msg(!ok, "case %d accepted", _i);
		ck_assert_msg(strstr(error->message, cases[_i].error_part) != NULL,
		              "case %d: '%s' lacks '%s'", _i, error->message, cases[_i].error_part);
		ck_assert_ptr_eq(strchr(error->message, '\n'), NULL);
		g_error_free(error);
	}
}
END_TEST

START_TEST(test_is_digits)
{
	ck_assert(number_is_digits("2001", 20));
	ck_assert(!number_is_digits("", 20));
	ck_assert(!number_is_digits("20 01", 20));
	ck_assert(!number_is_digits("+2001", 20));
	ck_assert(!number_is_digits("12345", 4));
	ck_assert(!number_is_digits(NULL, 4));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("number");
	TCase *tc = tcase_create("normalise");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_normalise, 0, G_N_ELEMENTS(cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("is_digits");
	tcase_add_test(tc, test_is_digits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
