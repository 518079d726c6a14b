/* check_authz_step - the milter's authorization step (filter/authz-step.c)
 * and filter.c with it: the abuse cases a user would notice, driven without
 * libmilter or ctid.  A refusal must be 550 5.7.1 with a text that says why;
 * an X-CTI-Hop header from a client that is no trusted relay is removed.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "../filter/authz-step.h"
#include "../filter/filter.h"
#include "../filter/reply.h"
#include "../filter/submit.h"

static CtiConfig *config;
static char *tmp_root;
static char *db_path;

static void setup(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiPolicyDb) db = NULL;

	tmp_root = g_dir_make_tmp("check-authz-XXXXXX", NULL);
	db_path = g_build_filename(tmp_root, "policy.db", NULL);
	config = config_load(NULL, &error);
	ck_assert_ptr_nonnull(config);
	g_free(config->policy_db);
	config->policy_db = g_strdup(db_path);
	g_free(config->tmp_dir);
	config->tmp_dir = g_strdup(tmp_root);
	g_free(config->ctid_socket);
	config->ctid_socket = g_build_filename(tmp_root, "no-ctid.sock", NULL);
	g_free(config->trusted_relays);
	config->trusted_relays = g_strdup("10.9.0.0/16");
	db = policy_open_config(config, TRUE, &error);
	ck_assert_msg(db != NULL, "%s", error ? error->message : "");
	ck_assert(policy_sender_add(db, "alice", NULL, NULL));
	ck_assert(policy_grant(db, "alice", CTI_GRANT_EXTENSION, "2001", NULL));
	ck_assert(policy_grant(db, "alice", CTI_GRANT_MAILBOX, "self", NULL));
	ck_assert(policy_sender_add(db, "bob", NULL, NULL));
	ck_assert(policy_grant(db, "bob", CTI_GRANT_EXTENSION, "2002", NULL));
}

static void teardown(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *f = g_strconcat(db_path, suffixes[i], NULL);
		g_unlink(f);
	}
	g_rmdir(tmp_root);
	g_clear_pointer(&tmp_root, g_free);
	g_clear_pointer(&db_path, g_free);
	g_clear_pointer(&config, config_free);
}

typedef struct {
	const char *request; /* request text */
	const char *sender, *auth, *from, *auto_submitted;
	const char *want_identity; /* NULL: refused */
	const char *want_text;     /* part of the refusal */
} AuthzCase;

#define REQ_OK "Source: 2001\nDestination: 0312345678\n"

static const AuthzCase authz_cases[] = {
    {REQ_OK, "alice@test.example", "alice", NULL, NULL, "alice", NULL},
    {REQ_OK, "alice@test.example", "alice", NULL, "no", "alice", NULL},
    {REQ_OK, "alice@test.example", "alice", NULL, "No (manual)", "alice", NULL},
    /* unauthenticated */
    {REQ_OK, "alice@test.example", NULL, NULL, NULL, NULL, "log in with SMTP AUTH"},
    /* authenticated, not granted */
    {REQ_OK, "bob@test.example", "bob", NULL, NULL, NULL,
     "sender bob may not use extension 2001 as Source (granted: 2002)"},
    /* unknown sender */
    {REQ_OK, "carol@test.example", "carol", NULL, NULL, NULL, "carol is not registered"},
    /* spoofed From: alice with bob's login */
    {REQ_OK, "bob@test.example", "bob", "Alice <alice@test.example>", NULL, NULL,
     "sender bob may not use extension 2001"},
    /* international and premium destinations under the default rules */
    {"Source: 2001\nDestination: 0044 20 7946 0000\n", "alice@t.example", "alice", NULL, NULL, NULL,
     "Destination: destination 00442079460000 refused by policy rule 1 (deny 00"},
    {"Source: 2001\nDestination: +44 20 7946 0000\n", "alice@t.example", "alice", NULL, NULL, NULL,
     "refused by policy rule 2 (deny +"},
    {"Source: 2001\nDestination: 0900 123456\n", "alice@t.example", "alice", NULL, NULL, NULL,
     "rule 3 (deny 0900"},
    {"Action: forward-set\nSource: 2001\nDestination: 2001\nForward-To: 0900123456\n",
     "alice@t.example", "alice", NULL, NULL, NULL, "Forward-To: destination 0900123456 refused"},
    /* overlong (16 digits; the request parser allows 20) */
    {"Source: 2001\nDestination: 0312345678901234\n", "alice@t.example", "alice", NULL, NULL, NULL,
     "16 digits, at most 15"},
    /* the null sender and automatic mail */
    {REQ_OK, "", "alice", NULL, NULL, NULL, "null sender <> are never executed"},
    {REQ_OK, "alice@test.example", "alice", NULL, "auto-replied", NULL,
     "Auto-Submitted other than no"},
    {REQ_OK, "alice@test.example", "alice", NULL, "auto-generated", NULL, "never executed"},
    /* results go only to the identity's own addresses */
    {REQ_OK, "bob@test.example", "alice", NULL, NULL, NULL,
     "envelope sender <bob@test.example> does not belong to the authenticated sender alice"},
    {REQ_OK "Notify-To: bob@test.example\n", "alice@test.example", "alice", NULL, NULL, NULL,
     "Notify-To <bob@test.example> does not belong"},
    /* forward-set of another sender's extension */
    {"Action: forward-set\nSource: 2001\nDestination: 2002\nForward-To: 2001\n",
     "alice@test.example", "alice", NULL, NULL, NULL,
     "sender alice may not forward-set the diversion of extension 2002"},
    /* Trigger: user: own mailbox only */
    {"Source: 2001\nDestination: 0312345678\nTrigger: user\nMailbox: alice@test.example\n",
     "alice@test.example", "alice", NULL, NULL, "alice", NULL},
    {"Source: 2001\nDestination: 0312345678\nTrigger: user\nMailbox: bob@test.example\n",
     "alice@test.example", "alice", NULL, NULL, NULL, "may not name mailbox bob@test.example"},
};

START_TEST(test_authz_run)
{
	const AuthzCase *c = &authz_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) req = request_parse(c->request, strlen(c->request), &error);
	g_autoptr(AuthzStep) as = NULL;
	g_autofree char *id = NULL;
	AuthzInput in = {req,         c->sender, "call@test.example", c->auth,
	                 "192.0.2.1", c->from,   c->auto_submitted,   NULL};

	ck_assert_msg(req != NULL, "%s", error ? error->message : "");
	as = authz_step_new(config, &error);
	ck_assert_ptr_nonnull(as);
	id = authz_step_check(as, &in, &error);
	if (c->want_identity) {
		ck_assert_msg(id != NULL, "case %d refused: %s", _i, error->message);
		ck_assert_str_eq(id, c->want_identity);
	} else {
		g_autoptr(FilterReply) reply = NULL;
		ck_assert_msg(id == NULL, "case %d accepted as %s", _i, id);
		reply = reply_from_error(error);
		ck_assert_str_eq(reply->rcode, "550");
		ck_assert_str_eq(reply->xcode, "5.7.1");
		ck_assert_msg(strstr(reply->text, c->want_text), "case %d: '%s' lacks '%s'", _i,
		              reply->text, c->want_text);
	}
}
END_TEST

/* without a policy DB nobody is registered */
START_TEST(test_no_db)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) req = request_parse(REQ_OK, strlen(REQ_OK), &error);
	g_autoptr(AuthzStep) as = NULL;
	AuthzInput in = {req, "alice@test.example", "call@test.example", "alice", NULL, NULL, NULL,
	                 NULL};

	g_free(config->policy_db);
	config->policy_db = g_build_filename(tmp_root, "missing.db", NULL);
	as = authz_step_new(config, &error);
	ck_assert_ptr_null(authz_step_check(as, &in, &error));
	ck_assert_int_eq(error->code, FILTER_ERROR_UNAUTHORIZED);
}
END_TEST

/* ---- filter.c with the step: refused before ctid is asked, hop headers ---- */

static const char *const cti_headers[] = {
    "From",      " Alice <alice@test.example>",      "Message-ID",   " <r1@test.example>",
    "X-CTI-Hop", " gw-x; 1 Jan 2026 00:00:00 +0000", "Content-Type", " application/x-cti",
    NULL,
};

static const char *const plain_hop_headers[] = {
    "From", " alice@test.example", "X-CTI-Hop", " forged", "Content-Type", " text/plain", NULL,
};

/* the envelope sender drive() uses */
static const char *drive_sender = "<alice@test.example>";

static gboolean drive(AuthzStep *as, const char *const *headers, const char *body, const char *auth,
                      const char *client, FilterEoh *eoh, FilterOutcome *outcome, GError **error)
{
	g_autoptr(FilterMsg) msg = filter_msg_new(config);

	filter_msg_set_authz(msg, as);
	filter_msg_envelope(msg, drive_sender, auth, client);
	filter_msg_recipient(msg, "<call@test.example>");
	for (const char *const *h = headers; *h; h += 2)
		filter_msg_header(msg, h[0], h[1]);
	*eoh = filter_msg_eoh(msg, error);
	if (*eoh != FILTER_EOH_CONTINUE)
		return FALSE;
	filter_msg_body(msg, body, strlen(body));
	return filter_msg_eom(msg, outcome, error);
}

START_TEST(test_filter_refuses)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AuthzStep) as = authz_step_new(config, &error);
	g_autoptr(FilterReply) reply = NULL;
	FilterOutcome outcome;
	FilterEoh eoh;

	ck_assert(!drive(as, cti_headers, "Source: 2001\r\nDestination: 09001234\r\n", "alice",
	                 "192.0.2.1", &eoh, &outcome, &error));
	filter_outcome_clear(&outcome);
	ck_assert_int_eq(eoh, FILTER_EOH_CONTINUE);
	reply = reply_from_error(error);
	ck_assert_str_eq(reply->rcode, "550");
	ck_assert_str_eq(reply->xcode, "5.7.1");
	ck_assert_msg(strstr(reply->text, "rule 3"), "%s", reply->text);
}
END_TEST

START_TEST(test_filter_hops)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AuthzStep) as = authz_step_new(config, &error);
	FilterOutcome outcome;
	FilterEoh eoh;

	/* a plain mail with a forged hop header is no longer accepted at end of headers */
	ck_assert(
	    drive(as, plain_hop_headers, "hi\r\n", NULL, "192.0.2.1", &eoh, &outcome, &error));
	ck_assert_uint_eq(outcome.remove_hop_headers, 1);
	ck_assert(!outcome.is_request);
	filter_outcome_clear(&outcome);
	/* from a trusted relay it is kept, and the mail takes the fast path */
	ck_assert(
	    !drive(as, plain_hop_headers, "hi\r\n", NULL, "10.9.1.1", &eoh, &outcome, &error));
	ck_assert_int_eq(eoh, FILTER_EOH_ACCEPT);
}
END_TEST

/* DKIM identity through filter.c: the Authentication-Results header of this site's
 * verifier identifies the From: address; a forged one (other authserv-id) does not */
typedef struct {
	const char *auth_results;
	gboolean identified;
} DkimCase;

static const DkimCase dkim_cases[] = {
    {" mx.test.example; dkim=pass header.d=test.example header.s=s1", TRUE},
    {" evil.example; dkim=pass header.d=test.example", FALSE},
    {" mx.test.example; dkim=fail header.d=test.example", FALSE},
    {" mx.test.example; dkim=pass header.d=other.example", FALSE},
};

START_TEST(test_filter_dkim)
{
	const DkimCase *c = &dkim_cases[_i];
	const char *const headers[] = {
	    "Authentication-Results",
	    c->auth_results,
	    "From",
	    " Carol <carol@test.example>",
	    "Message-ID",
	    " <d1@test.example>",
	    "Content-Type",
	    " application/x-cti",
	    NULL,
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(AuthzStep) as = NULL;
	g_autoptr(CtiPolicyDb) db = policy_open_config(config, TRUE, NULL);
	FilterOutcome outcome;
	FilterEoh eoh;

	ck_assert(policy_sender_add(db, "carol@test.example", NULL, NULL));
	ck_assert(policy_grant(db, "carol@test.example", CTI_GRANT_EXTENSION, "2009", NULL));
	g_free(config->identity_methods);
	config->identity_methods = g_strdup("dkim");
	g_free(config->authserv_id);
	config->authserv_id = g_strdup("mx.test.example");
	g_free(config->dkim_domains);
	config->dkim_domains = g_strdup("test.example");
	as = authz_step_new(config, &error);
	ck_assert_msg(as != NULL, "%s", error ? error->message : "");
	drive_sender = "<carol@test.example>"; /* results go to the identity's own address */
	ck_assert(!drive(as, headers, "Source: 2009\r\nDestination: 2003\r\n", NULL, "192.0.2.1",
	                 &eoh, &outcome, &error));
	drive_sender = "<alice@test.example>";
	if (c->identified) {
		/* authorized: the SUBMIT was tried, and failed for want of a ctid */
		ck_assert_msg(error->code == FILTER_ERROR_TEMP, "%s", error->message);
		ck_assert_str_eq(outcome.identity, "carol@test.example");
	} else {
		ck_assert_int_eq(error->code, FILTER_ERROR_UNAUTHORIZED);
		ck_assert_msg(strstr(error->message, "DKIM"), "%s", error->message);
	}
	filter_outcome_clear(&outcome);
}
END_TEST

/* ctid's rate limit answers become 450 4.7.1 / 550 5.7.1 with the limit's text */
typedef struct {
	const char *verb, *status, *rcode, *xcode;
} RateReplyCase;

static const RateReplyCase rate_reply_cases[] = {
    {"TEMPFAIL", "4.7.1", "450", "4.7.1"},
    {"REJECT", "5.7.1", "550", "5.7.1"},
    {"TEMPFAIL", NULL, "451", "4.3.0"}, /* other trouble stays as it was */
    {"REJECT", NULL, "550", "5.7.0"},
};

START_TEST(test_rate_reply)
{
	const RateReplyCase *c = &rate_reply_cases[_i];
	g_autoptr(CtiIpcFrame) frame = ipc_frame_new(c->verb);
	g_autoptr(GError) error = NULL;
	g_autoptr(FilterReply) reply = NULL;

	ipc_frame_add(frame, "Reason", "rate limit: at most 6 requests per minute per sender");
	if (c->status)
		ipc_frame_add(frame, "Enhanced-Status", c->status);
	ck_assert_ptr_null(submit_check_reply(frame, &error));
	reply = reply_from_error(error);
	ck_assert_str_eq(reply->rcode, c->rcode);
	ck_assert_str_eq(reply->xcode, c->xcode);
	if (c->status)
		ck_assert_msg(strstr(reply->text, "at most 6 requests per minute per sender"), "%s",
		              reply->text);
}
END_TEST

static Suite *authz_suite(void)
{
	Suite *s = suite_create("authz_step");
	TCase *tc = tcase_create("authz_step_check");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_authz_run, 0, G_N_ELEMENTS(authz_cases));
	tcase_add_test(tc, test_no_db);
	suite_add_tcase(s, tc);
	tc = tcase_create("filter_msg_eom");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_filter_refuses);
	tcase_add_test(tc, test_filter_hops);
	tcase_add_loop_test(tc, test_rate_reply, 0, G_N_ELEMENTS(rate_reply_cases));
	tcase_add_loop_test(tc, test_filter_dkim, 0, G_N_ELEMENTS(dkim_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(authz_suite());
	int failed;

	g_mime_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
