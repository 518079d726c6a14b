/* check_explain - lib/explain.c: the dry run of request mails.
 *
 * Each case is a mail plus the envelope the milter would see, against a
 * policy DB (alice granted 2001) and a routes DB (0399 relayed to gw-b)
 * made in a temporary directory; the verdict and a line of the report are
 * checked, and the reply mail is parsed back with GMime.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <string.h>

#include "config.h"
#include "explain.h"
#include "policy.h"
#include "route.h"

static char *tmpdir;
static CtiConfig *config;

#define MAIL(source, dest, extra)                                                                  \
	"From: alice@pbx.example\r\nTo: call@pbx.example\r\nSubject: t\r\n"                        \
	"Message-ID: <req-1@pbx.example>\r\nMIME-Version: 1.0\r\n"                                 \
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"                                 \
	"Content-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/x-cti\r\n\r\n"  \
	"Source: " source "\r\nDestination: " dest "\r\n" extra "--b--\r\n"

typedef struct {
	const char *name;
	const char *mail;
	const char *auth;
	CtiExplainVerdict verdict;
	const char *needle; /* a text the report must contain */
} Case;

static const Case cases[] = {
    {"valid", MAIL("2001", "0312345678", ""), "alice", CTI_EXPLAIN_EXECUTE,
     "would connect 0312345678 from 2001"},
    {"not granted", MAIL("2002", "0312345678", ""), "alice", CTI_EXPLAIN_REFUSE,
     "may not use extension 2002"},
    {"unknown sender", MAIL("2001", "0312345678", ""), "mallory", CTI_EXPLAIN_REFUSE,
     "not registered"},
    {"unidentified", MAIL("2001", "0312345678", ""), NULL, CTI_EXPLAIN_REFUSE, "not identified"},
    {"premium denied", MAIL("2001", "09001234", ""), "alice", CTI_EXPLAIN_REFUSE,
     "refused by policy rule"},
    /* the same decision as the milter's (lib/authz.c): Forward-To, the diverted device,
     * Notify-To */
    {"forward-to denied", MAIL("2001", "2001", "Action: forward-set\r\nForward-To: 0900123\r\n"),
     "alice", CTI_EXPLAIN_REFUSE, "Forward-To: destination 0900123 refused"},
    {"diverting another's extension", MAIL("2001", "2007", "Action: forward-set\r\nForward-To: 2001\r\n"),
     "alice", CTI_EXPLAIN_REFUSE, "may not forward-set the diversion of extension 2007"},
    {"notify-to another", MAIL("2001", "0312345678", "Notify-To: bob@pbx.example\r\n"), "alice",
     CTI_EXPLAIN_REFUSE, "Notify-To <bob@pbx.example> does not belong"},
    {"relayed", MAIL("2001", "0399123456", ""), "alice", CTI_EXPLAIN_RELAY,
     "relayed to gateway gw-b at <call@gw-b.example>"},
    {"bad field", MAIL("2001", "0312345678", "Colour: red\r\n"), "alice", CTI_EXPLAIN_REFUSE,
     "Colour"},
    {"no request", "From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\n\r\njust text\r\n",
     "alice", CTI_EXPLAIN_NONE, "not a request"},
};

static void setup(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *conf = NULL;
	g_autofree char *text = NULL;
	g_autoptr(CtiPolicyDb) pdb = NULL;
	g_autoptr(CtiRouteDb) rdb = NULL;

	tmpdir = g_dir_make_tmp("check_explain.XXXXXX", &error);
	ck_assert_ptr_nonnull(tmpdir);
	conf = g_build_filename(tmpdir, "mailcti.conf", NULL);
	text = g_strdup_printf("[policy]\ndb=%s/policy.db\n[routing]\ndb=%s/routes.db\n"
	                       "[ctid]\nnotify_from=mailcti@pbx.example\n",
	                       tmpdir, tmpdir);
	ck_assert(g_file_set_contents(conf, text, -1, NULL));
	config = config_load(conf, &error);
	ck_assert_msg(config != NULL, "%s", error ? error->message : "");
	pdb = policy_open_config(config, TRUE, &error);
	ck_assert_msg(pdb != NULL, "%s", error ? error->message : "");
	ck_assert(policy_sender_add(pdb, "alice", NULL, &error));
	ck_assert(policy_grant(pdb, "alice", CTI_GRANT_EXTENSION, "2001", &error));
	rdb = route_open(config->routes_db, TRUE, &error);
	ck_assert_msg(rdb != NULL, "%s", error ? error->message : "");
	ck_assert(route_gateway_add(rdb, "gw-b", "call@gw-b.example", NULL, &error));
	ck_assert(route_add(rdb, "0399", "gw-b", NULL, &error));
}

static void teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

	g_clear_pointer(&config, config_free);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&tmpdir, g_free);
}

START_TEST(test_explain_message)
{
	const Case *c = &cases[_i];
	CtiExplainEnvelope env = {"alice@pbx.example", "call@pbx.example", c->auth, "127.0.0.1"};
	g_autoptr(CtiExplanation) ex = explain_message(config, c->mail, strlen(c->mail), &env);

	ck_assert_msg(ex->verdict == c->verdict, "%s: verdict %s, want %s:\n%s", c->name,
	              explain_verdict_name(ex->verdict), explain_verdict_name(c->verdict),
	              ex->text);
	ck_assert_msg(strstr(ex->text, c->needle) != NULL, "%s: '%s' not in:\n%s", c->name,
	              c->needle, ex->text);
	ck_assert_msg(strstr(ex->text, "nothing was dialled") != NULL, "%s", c->name);
	/* no path of the host in a report that is mailed out */
	ck_assert_msg(strstr(ex->text, tmpdir) == NULL, "%s: a path in:\n%s", c->name, ex->text);
}
END_TEST

START_TEST(test_explain_reply)
{
	const char *mail = cases[0].mail;
	CtiExplainEnvelope env = {"alice@pbx.example", "call@pbx.example", "alice", NULL};
	g_autoptr(CtiExplanation) ex = explain_message(config, mail, strlen(mail), &env);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = explain_compose_reply(config, ex, "alice@pbx.example", &error);
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	g_autofree char *body = NULL;

	ck_assert_msg(reply != NULL, "%s", error ? error->message : "");
	stream = g_mime_stream_mem_new_with_buffer(g_bytes_get_data(reply, NULL),
	                                           g_bytes_get_size(reply));
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"),
	                 "<req-1@pbx.example>");
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted"),
	                 "auto-replied");
	body = g_mime_text_part_get_text(GMIME_TEXT_PART(g_mime_message_get_body(msg)));
	ck_assert_ptr_nonnull(strstr(body, "would connect 0312345678"));
	ck_assert_ptr_null(explain_compose_reply(config, ex, "bad\r\nBcc: x@y", NULL));
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain_message");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_explain_message, 0, G_N_ELEMENTS(cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("explain_compose_reply");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_explain_reply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(explain_suite());
	int failed;

	g_mime_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
