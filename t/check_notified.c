/* check_notified - cti-milter's check of ctid's own notifications
 * (filter/notified.c): the NOTIFIED frame it sends to a stand-in ctid on a
 * real UNIX socket, the verdict for each answer, and the cases in which ctid
 * must not be asked at all (mail from smtpd, a malformed header). */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../filter/notified.h"
#include "ipc.h"

/* ---- a stand-in ctid: accept one connection, read one frame, answer VERB ---- */

typedef struct {
	int listen_fd;
	const char *verb;
	CtiIpcFrame *received;
	GThread *thread;
} StandIn;

static gpointer stand_in_run(gpointer data)
{
	StandIn *s = data;
	int fd = accept(s->listen_fd, NULL, NULL);
	g_autoptr(CtiIpcFrame) reply = NULL;

	if (fd < 0)
		return NULL;
	s->received = ipc_recv(fd, 1024 * 1024, NULL);
	reply = ipc_frame_new(s->verb);
	if (strcmp(s->verb, "OK") != 0 && strcmp(s->verb, "DUPLICATE") != 0)
		ipc_frame_add(reply, "Reason", "token does not match");
	ipc_send(fd, reply, NULL);
	close(fd);
	return NULL;
}

static void stand_in_start(StandIn *s, const char *path, const char *verb)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	s->verb = verb;
	g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
	unlink(path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(s->listen_fd, 0);
	ck_assert_int_eq(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(s->listen_fd, 4), 0);
	s->thread = g_thread_new("stand-in-ctid", stand_in_run, s);
}

/* stand_in_stop - wait for the stand-in (waking accept() if nobody called) */
static void stand_in_stop(StandIn *s, const char *path)
{
	shutdown(s->listen_fd, SHUT_RDWR);
	g_thread_join(g_steal_pointer(&s->thread));
	close(s->listen_fd);
	unlink(path);
}

/* ---- fixtures ---- */

static CtiConfig *config;
static char *tmp_root;

static void setup(void)
{
	GError *error = NULL;

	tmp_root = g_dir_make_tmp("check_notified.XXXXXX", &error);
	ck_assert_ptr_nonnull(tmp_root);
	config = config_load(NULL, &error);
	ck_assert_ptr_nonnull(config);
	g_free(config->ctid_socket);
	config->ctid_socket = g_build_filename(tmp_root, "ctid.sock", NULL);
	config->ctid_timeout_ms = 2000;
}

static void teardown(void)
{
	g_rmdir(tmp_root);
	g_clear_pointer(&tmp_root, g_free);
	g_clear_pointer(&config, config_free);
}

/* ---- the verdict for each answer of ctid ---- */

#define JOB "0123456789abcdef0123456789abcdef"
#define TOKEN "fedcba9876543210fedcba9876543210"
#define COPY "00112233445566778899aabbccddeeff"

typedef struct {
	const char *answer;      /* the stand-in's verb */
	NotifiedVerdict verdict; /* expected */
	gboolean error;          /* an error message expected */
} AnswerCase;

static const AnswerCase answer_cases[] = {
    {"OK", NOTIFIED_CONFIRMED, FALSE},
    {"DUPLICATE", NOTIFIED_DUPLICATE, FALSE},
    {"REJECT", NOTIFIED_FORGED, TRUE},
    {"TEMPFAIL", NOTIFIED_TEMPFAIL, TRUE},
    {"BOGUS", NOTIFIED_TEMPFAIL, TRUE},
};

START_TEST(test_answers)
{
	const AnswerCase *c = &answer_cases[_i];
	StandIn s = {0};
	g_autoptr(GError) error = NULL;
	NotifiedVerdict v;

	stand_in_start(&s, config->ctid_socket, c->answer);
	/* the value as the milter sees it: leading space kept, folded line end */
	v = notified_check(config, TRUE, " " JOB " " TOKEN "\t" COPY "\r\n", &error);
	stand_in_stop(&s, config->ctid_socket);
	ck_assert_msg(v == c->verdict, "%s: got %s", c->answer, notified_verdict_name(v));
	ck_assert_int_eq(error != NULL, c->error);
	if (c->error && strcmp(c->answer, "REJECT") == 0)
		ck_assert_ptr_nonnull(strstr(error->message, "token does not match"));
	ck_assert_ptr_nonnull(s.received);
	ck_assert_str_eq(s.received->verb, "NOTIFIED");
	ck_assert_str_eq(ipc_frame_get(s.received, "Job"), JOB);
	ck_assert_str_eq(ipc_frame_get(s.received, "Token"), TOKEN);
	ck_assert_str_eq(ipc_frame_get(s.received, "Copy"), COPY);
	ipc_frame_free(s.received);
}
END_TEST

/* ---- ctid is not asked ---- */

typedef struct {
	gboolean local;
	const char *value;
} UntrustedCase;

static const UntrustedCase untrusted_cases[] = {
    {FALSE, " " JOB " " TOKEN " " COPY}, /* from smtpd: forged by definition */
    {TRUE, " " JOB},                      /* no token */
    {TRUE, " " JOB " " TOKEN},            /* no copy */
    {TRUE, " " JOB " " TOKEN " " COPY " extra"},
    {TRUE, ""},
    {TRUE, NULL},
};

START_TEST(test_not_asked)
{
	const UntrustedCase *c = &untrusted_cases[_i];
	StandIn s = {0};
	g_autoptr(GError) error = NULL;
	NotifiedVerdict v;

	stand_in_start(&s, config->ctid_socket, "OK");
	v = notified_check(config, c->local, c->value, &error);
	stand_in_stop(&s, config->ctid_socket);
	ck_assert_msg(v == NOTIFIED_FORGED, "case %d: got %s", _i, notified_verdict_name(v));
	ck_assert_ptr_nonnull(error);
	ck_assert_ptr_null(s.received);
}
END_TEST

START_TEST(test_ctid_unreachable)
{
	g_autoptr(GError) error = NULL;

	ck_assert_int_eq(notified_check(config, TRUE, JOB " " TOKEN " " COPY, &error),
	                 NOTIFIED_TEMPFAIL);
	ck_assert_ptr_nonnull(error);
	ck_assert_ptr_nonnull(strstr(error->message, config->ctid_socket));
}
END_TEST

static Suite *notified_suite(void)
{
	Suite *s = suite_create("notified");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_answers, 0, G_N_ELEMENTS(answer_cases));
	tcase_add_loop_test(tc, test_not_asked, 0, G_N_ELEMENTS(untrusted_cases));
	tcase_add_test(tc, test_ctid_unreachable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(notified_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
