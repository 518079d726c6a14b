/* check_authz - the one authorization decision (lib/authz.c): every action,
 * every device it touches, the envelope sender and Notify-To, the login as
 * an account (authz_canonical) and the addresses an identity owns.
 * alice is granted 2001 and 2002, bob 2007; the rules deny 0900.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"

static CtiConfig *config;
static CtiPolicyDb *db;
static char *tmp_root;

static void setup(void)
{
	g_autoptr(GError) error = NULL;

	tmp_root = g_dir_make_tmp("check-authz-lib-XXXXXX", NULL);
	config = config_load(NULL, &error);
	ck_assert_ptr_nonnull(config);
	g_free(config->policy_db);
	config->policy_db = g_build_filename(tmp_root, "policy.db", NULL);
	g_free(config->default_domain);
	config->default_domain = g_strdup("pbx.example");
	db = policy_open_config(config, TRUE, &error);
	ck_assert_msg(db != NULL, "%s", error ? error->message : "");
	ck_assert(policy_sender_add(db, "alice@pbx.example", NULL, NULL));
	ck_assert(policy_grant(db, "alice@pbx.example", CTI_GRANT_EXTENSION, "2001", NULL));
	ck_assert(policy_grant(db, "alice@pbx.example", CTI_GRANT_EXTENSION, "2002", NULL));
	ck_assert(policy_grant(db, "alice@pbx.example", CTI_GRANT_MAILBOX, "self", NULL));
	ck_assert(policy_sender_add(db, "bob", NULL, NULL));
	ck_assert(policy_grant(db, "bob", CTI_GRANT_EXTENSION, "2007", NULL));
}

static void teardown(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

	g_clear_pointer(&db, policy_close);
	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *f = g_strconcat(config->policy_db, suffixes[i], NULL);
		g_unlink(f);
	}
	g_rmdir(tmp_root);
	g_clear_pointer(&tmp_root, g_free);
	g_clear_pointer(&config, config_free);
}

typedef struct {
	const char *request;
	const char *identity, *sender;
	CtiAuthzVerdict want;
	const char *want_text; /* part of the refusal, or of a line when allowed */
} AuthzCase;

#define A   "alice@pbx.example"
#define ALI "alice@pbx.example"

static const AuthzCase cases[] = {
    /* connect: Source granted, Destination by the rules */
    {"Source: 2001\nDestination: 0312345678\n", A, ALI, CTI_AUTHZ_ALLOW, "may use extension 2001 as Source"},
    {"Source: 2007\nDestination: 0312345678\n", A, ALI, CTI_AUTHZ_REFUSE,
     "may not use extension 2007 as Source (granted: 2001, 2002)"},
    {"Source: 2001\nDestination: 0900123456\n", A, ALI, CTI_AUTHZ_REFUSE,
     "Destination: destination 0900123456 refused by policy rule"},
    /* conference and intrude: the device held must be granted, the party added
     * passes the rules */
    {"Action: conference\nSource: 2001\nDestination: 2007\n", A, ALI, CTI_AUTHZ_ALLOW,
     "Destination 2007: allowed"},
    {"Action: conference\nSource: 2007\nDestination: 2002\n", A, ALI, CTI_AUTHZ_REFUSE,
     "may not use extension 2007 as Source"},
    {"Action: conference\nSource: 2001\nDestination: 0900111\n", A, ALI, CTI_AUTHZ_REFUSE,
     "Destination: destination 0900111 refused"},
    {"Action: intrude\nSource: 2002\nDestination: 2007\n", A, ALI, CTI_AUTHZ_ALLOW,
     "may use extension 2002 as Source"},
    {"Action: intrude\nSource: 2007\nDestination: 2001\n", A, ALI, CTI_AUTHZ_REFUSE,
     "may not use extension 2007 as Source"},
    {"Action: intrude\nSource: 2001\nDestination: 0900111\n", A, ALI, CTI_AUTHZ_REFUSE,
     "refused by policy rule"},
    /* forward-set: the diverted device must be the sender's own, Forward-To by the rules */
    {"Action: forward-set\nSource: 2001\nDestination: 2002\nForward-To: 0312345678\n", A, ALI,
     CTI_AUTHZ_ALLOW, "may forward-set the diversion of extension 2002"},
    {"Action: forward-set\nSource: 2001\nDestination: 2007\nForward-To: 2001\n", A, ALI,
     CTI_AUTHZ_REFUSE, "may not forward-set the diversion of extension 2007"},
    {"Action: forward-set\nSource: 2001\nDestination: 2002\nForward-To: 0900123\n", A, ALI,
     CTI_AUTHZ_REFUSE, "Forward-To: destination 0900123 refused"},
    {"Action: forward-set\nSource: 2007\nDestination: 2001\nForward-To: 2002\n", A, ALI,
     CTI_AUTHZ_REFUSE, "may not use extension 2007 as Source"},
    /* forward-clear: the same for the device whose diversion is removed */
    {"Action: forward-clear\nSource: 2001\nDestination: 2001\n", A, ALI, CTI_AUTHZ_ALLOW,
     "may forward-clear the diversion of extension 2001"},
    {"Action: forward-clear\nSource: 2001\nDestination: 2007\n", A, ALI, CTI_AUTHZ_REFUSE,
     "may not forward-clear the diversion of extension 2007"},
    /* the envelope sender and Notify-To belong to the identity */
    {"Source: 2001\nDestination: 2003\n", A, "bob@pbx.example", CTI_AUTHZ_REFUSE,
     "envelope sender <bob@pbx.example> does not belong to the authenticated sender " A},
    {"Source: 2001\nDestination: 2003\nNotify-To: bob@pbx.example\n", A, ALI, CTI_AUTHZ_REFUSE,
     "Notify-To <bob@pbx.example> does not belong"},
    {"Source: 2001\nDestination: 2003\nNotify-To: Alice@PBX.example\n", A, ALI,
     CTI_AUTHZ_ALLOW, "Notify-To <Alice@PBX.example> belongs"},
    /* a bare login owns its address in the default domain only */
    {"Source: 2007\nDestination: 2003\n", "bob", "bob@pbx.example", CTI_AUTHZ_ALLOW,
     "envelope sender <bob@pbx.example> belongs to 'bob'"},
    {"Source: 2007\nDestination: 2003\n", "bob", "bob@evil.example", CTI_AUTHZ_REFUSE,
     "does not belong"},
    /* Trigger: user: the Mailbox, by default the recipient */
    {"Source: 2001\nDestination: 2003\nTrigger: user\n", A, ALI, CTI_AUTHZ_ALLOW,
     "may name mailbox alice@pbx.example (the recipient)"},
    {"Source: 2001\nDestination: 2003\nTrigger: user\nMailbox: bob@pbx.example\n", A, ALI,
     CTI_AUTHZ_REFUSE, "may not name mailbox bob@pbx.example"},
    /* unregistered */
    {"Source: 2001\nDestination: 2003\n", "mallory@pbx.example", "mallory@pbx.example",
     CTI_AUTHZ_REFUSE, "mallory@pbx.example is not registered"},
};

static gboolean has_line(const CtiAuthzResult *res, const char *text)
{
	for (guint i = 0; i < res->lines->len; i++)
		if (strstr(res->lines->pdata[i], text))
			return TRUE;
	return FALSE;
}

START_TEST(test_check)
{
	const AuthzCase *c = &cases[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRequest) req = request_parse(c->request, strlen(c->request), &error);
	g_autoptr(CtiAuthzResult) res = NULL;
	CtiAuthzInput in = {c->identity, NULL, "alice@pbx.example", c->sender};

	ck_assert_msg(req != NULL, "%s", error ? error->message : "");
	in.request = req;
	res = authz_check(&in, db, config);
	ck_assert_msg(res->verdict == c->want, "case %d: verdict %d (%s)", _i, res->verdict,
	              res->text ? res->text : "");
	if (c->want == CTI_AUTHZ_ALLOW) {
		ck_assert_ptr_null(res->text);
		ck_assert_msg(has_line(res, c->want_text), "case %d: no line '%s'", _i, c->want_text);
	} else {
		ck_assert_msg(strstr(res->text, c->want_text), "case %d: '%s' lacks '%s'", _i,
		              res->text, c->want_text);
	}
}
END_TEST

/* no policy DB: nobody is registered */
START_TEST(test_no_db)
{
	static const char text[] = "Source: 2001\nDestination: 2003\n";
	g_autoptr(CtiRequest) req = request_parse(text, strlen(text), NULL);
	CtiAuthzInput in = {A, req, NULL, NULL};
	g_autoptr(CtiAuthzResult) res = authz_check(&in, NULL, config);

	ck_assert_int_eq(res->verdict, CTI_AUTHZ_REFUSE);
	ck_assert(strstr(res->text, "not registered"));
}
END_TEST

typedef struct {
	const char *login, *domain, *want;
} CanonCase;

static const CanonCase canon_cases[] = {
    /* the address row wins, whichever spelling logs in */
    {"alice", "pbx.example", "alice@pbx.example"},
    {"Alice@PBX.example", "pbx.example", "alice@pbx.example"},
    /* only the bare login is registered: that is the account */
    {"bob", "pbx.example", "bob"},
    {"bob@pbx.example", "pbx.example", "bob"},
    /* nobody registered: the address */
    {"carol", "pbx.example", "carol@pbx.example"},
    {"carol@pbx.example", "pbx.example", "carol@pbx.example"},
    /* another domain is another account */
    {"bob@other.example", "pbx.example", "bob@other.example"},
    /* no default domain: as typed, lower-cased */
    {"Carol", "", "carol"},
    {"carol@pbx.example", "", "carol@pbx.example"},
};

START_TEST(test_canonical)
{
	const CanonCase *c = &canon_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autofree char *got = NULL;

	g_free(config->default_domain);
	config->default_domain = g_strdup(c->domain);
	got = authz_canonical(db, config, c->login, &error);
	ck_assert_msg(got != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(got, c->want);
}
END_TEST

/* both spellings registered: the address is the account */
START_TEST(test_canonical_both)
{
	g_autofree char *a = NULL, *b = NULL;

	ck_assert(policy_sender_add(db, "alice", NULL, NULL));
	a = authz_canonical(db, config, "alice", NULL);
	b = authz_canonical(db, config, "alice@pbx.example", NULL);
	ck_assert_str_eq(a, "alice@pbx.example");
	ck_assert_str_eq(b, "alice@pbx.example");
}
END_TEST

static Suite *authz_suite(void)
{
	Suite *s = suite_create("authz");
	TCase *tc = tcase_create("authz_check");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_check, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_no_db);
	suite_add_tcase(s, tc);
	tc = tcase_create("authz_canonical");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_canonical, 0, G_N_ELEMENTS(canon_cases));
	tcase_add_test(tc, test_canonical_both);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(authz_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
