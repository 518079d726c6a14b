/* check_log - log line format: ident[pid]: level: text, control characters escaped,
 * and GLib's g_warning() and structured logging routed through the same format. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

START_TEST(test_format)
{
	g_autofree char *line = NULL;
	g_autofree char *want = NULL;

	log_init("check-log", FALSE);
	line = log_format_line("info", "hello\nworld\x01");
	want = g_strdup_printf("check-log[%ld]: info: hello\\nworld\\x01", (long)getpid());
	ck_assert_str_eq(line, want);
}
END_TEST

/* capture - run FN with stderr redirected to a temp file; the text written (transfer full) */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/check_log.XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(2);
	char *text = NULL;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	unlink(path);
	return text;
}

static void emit_all(void)
{
	log_init("check-log", FALSE);
	log_info("n=%d", 42);
	log_warning("careful");
	log_error("broken: %s", "disk");
	log_debug("hidden");
	log_set_debug(TRUE);
	log_debug("shown");
	log_set_debug(FALSE);
	g_warning("from glib %d", 7);
	g_message("a message");
	g_log_structured("structdom", G_LOG_LEVEL_WARNING, "MESSAGE", "structured %d", 5);
}

START_TEST(test_emit)
{
	g_autofree char *text = capture(emit_all);
	g_autofree char *prefix = g_strdup_printf("check-log[%ld]: ", (long)getpid());
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	ck_assert_uint_eq(g_strv_length(lines), 8); /* 7 lines + trailing empty */
	ck_assert(g_str_has_prefix(lines[0], prefix));
	ck_assert(g_str_has_suffix(lines[0], ": info: n=42"));
	ck_assert(g_str_has_suffix(lines[1], ": warning: careful"));
	ck_assert(g_str_has_suffix(lines[2], ": error: broken: disk"));
	ck_assert(g_str_has_suffix(lines[3], ": debug: shown"));
	ck_assert(g_str_has_prefix(lines[4], prefix));
	ck_assert_msg(strstr(lines[4], "warning: ") && strstr(lines[4], "from glib 7"), "%s",
	              lines[4]);
	ck_assert(g_str_has_suffix(lines[5], ": info: a message"));
	ck_assert_msg(g_str_has_suffix(lines[6], ": warning: structdom: structured 5"), "%s",
	              lines[6]);
	ck_assert(strstr(text, "hidden") == NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_emit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
