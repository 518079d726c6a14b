/* check_log - log line format: TIME ident[pid]: level: text, control characters escaped,
 * GLib's g_warning() and structured logging routed through the same format, and the
 * syslog datagrams (facility mail) with the fallback to stderr when syslog is gone. */
#include <check.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
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
	g_auto(GStrv) stamped = g_strsplit(text, "\n", -1);
	char *lines[8] = {NULL};

	ck_assert_uint_eq(g_strv_length(stamped), 8); /* 7 lines + trailing empty */
	for (guint i = 0; i < 7; i++) { /* "2026-12-07T18:40:01.123Z " first */
		ck_assert_msg(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ",
		                                   stamped[i], 0, 0),
		              "no timestamp: %s", stamped[i]);
		lines[i] = stamped[i] + strlen("2026-12-07T18:40:01.123Z ");
	}
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

/* syslog_socket - a datagram socket bound at a new path in DIR; its fd */
static int syslog_socket(const char *dir, char **path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	*path = g_build_filename(dir, "log.sock", NULL);
	g_strlcpy(sun.sun_path, *path, sizeof sun.sun_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return fd;
}

static char *receive(int fd)
{
	char buf[9000];
	ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

	ck_assert_int_gt(n, 0);
	return g_strndup(buf, (gsize)n);
}

static char *syslog_dir;
static char *syslog_path;
static int syslog_fd;

static void emit_syslog(void)
{
	log_init("check-log", FALSE);
	log_set_syslog(syslog_path, FALSE);
	log_info("4F2A1B: job %s: state=queued", "0123");
	log_warning("careful\nnow");
}

static void emit_syslog_gone(void)
{
	close(syslog_fd); /* the syslog daemon stopped */
	unlink(syslog_path);
	log_info("no daemon");
	log_set_syslog(NULL, TRUE);
}

START_TEST(test_syslog)
{
	g_autofree char *quiet = NULL, *fallback = NULL, *info = NULL, *warning = NULL;
	g_autofree char *ident = g_strdup_printf(" check-log[%ld]: ", (long)getpid());
	g_autoptr(GError) error = NULL;

	syslog_dir = g_dir_make_tmp("check_log.XXXXXX", &error);
	ck_assert_ptr_nonnull(syslog_dir);
	syslog_fd = syslog_socket(syslog_dir, &syslog_path);
	quiet = capture(emit_syslog);
	ck_assert_str_eq(quiet, ""); /* not in the foreground: syslog only */
	info = receive(syslog_fd);
	warning = receive(syslog_fd);
	/* facility mail (2 << 3) | info 6 = 22; an info line has no level word */
	ck_assert_msg(g_str_has_prefix(info, "<22>") && strstr(info, ident), "%s", info);
	ck_assert_msg(g_str_has_suffix(info, ": 4F2A1B: job 0123: state=queued"), "%s", info);
	ck_assert_msg(g_str_has_prefix(warning, "<20>"), "%s", warning);
	ck_assert_msg(g_str_has_suffix(warning, ": warning: careful\\nnow"), "%s", warning);
	fallback = capture(emit_syslog_gone);
	ck_assert_msg(strstr(fallback, "info: no daemon") != NULL, "%s", fallback);
	g_rmdir(syslog_dir);
	g_clear_pointer(&syslog_path, g_free);
	g_clear_pointer(&syslog_dir, g_free);
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
	tcase_add_test(tc, test_syslog);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
