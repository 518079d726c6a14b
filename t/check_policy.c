/* check_policy - unit tests of the policy DB (policy.c, policy-admin.c,
 * policy-schema.c): the seeded default rules, configured default rules, rule
 * order and editing, grants and mailbox patterns, injection strings that must
 * neither match nor be stored, overlong and non-normalised numbers.
 * Every test works on a fresh DB in its own temporary directory.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static char *tmp_dir;
static char *db_path;

static void setup(void)
{
	tmp_dir = g_dir_make_tmp("check-policy-XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmp_dir);
	db_path = g_build_filename(tmp_dir, "policy.db", NULL);
}

static void teardown(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *f = g_strconcat(db_path, suffixes[i], NULL);
		g_unlink(f);
	}
	g_rmdir(tmp_dir);
	g_clear_pointer(&db_path, g_free);
	g_clear_pointer(&tmp_dir, g_free);
}

static CtiPolicyDb *open_rw(const char *rules)
{
	g_autoptr(GError) error = NULL;
	CtiPolicyDb *db = policy_open(db_path, TRUE, rules, &error);

	ck_assert_msg(db != NULL, "policy_open: %s", error ? error->message : "?");
	return db;
}

/* the embedded schema is the text of schema/policy-001.sql */
extern const char *const policy_schema[];

START_TEST(test_schema_matches_file)
{
	g_autofree char *path = g_build_filename(SRCDIR, "..", "schema", "policy-001.sql", NULL);
	g_autofree char *text = NULL;

	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	ck_assert_str_eq(text, policy_schema[0]);
}
END_TEST

/* ---- destinations under the default rules ---- */

typedef struct {
	const char *number;
	gboolean allowed;
	int rule; /* deciding position, 0: none */
} DestCase;

static const DestCase default_cases[] = {
    {"0301234567", TRUE, 6},   {"2001", TRUE, 6},         {"004930123456", FALSE, 1},
    {"+4930123456", FALSE, 2}, {"09001234567", FALSE, 3}, {"0137123456", FALSE, 4},
    {"11833", FALSE, 5},       {"0312345678", TRUE, 6},   {"0", TRUE, 6},
};

START_TEST(test_default_rules)
{
	const DestCase *c = &default_cases[_i];
	g_autoptr(CtiPolicyDb) db = open_rw(NULL);
	g_autoptr(CtiPolicyVerdict) v = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok = policy_check_destination(db, c->number, &v, &error);

	ck_assert_int_eq(ok, c->allowed);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->allowed, c->allowed);
	ck_assert_ptr_nonnull(v->rule);
	ck_assert_int_eq(v->rule->position, c->rule);
	if (!ok) {
		g_autofree char *want = g_strdup_printf("rule %d (deny ", c->rule);
		ck_assert_int_eq(error->code, CTI_POLICY_ERROR_DENIED);
		ck_assert_msg(strstr(error->message, want), "%s", error->message);
		ck_assert_msg(strstr(error->message, c->number), "%s", error->message);
	}
}
END_TEST

/* ---- numbers that are not plain or too long: refused before any rule ---- */

static const char *const bad_numbers[] = {
    "",
    "500&SIP/evil",
    "0301234567' OR '1'='1",
    "030; DROP TABLE rules; --",
    "030 1234", /* separators must have been removed */
    "030-1234",
    "0301234\r\n",
    "abc",
    "++49",
    "0123456789012345", /* 16 digits, default max 15 */
    "012345678901234567890123",
};

START_TEST(test_bad_numbers)
{
	g_autoptr(CtiPolicyDb) db = open_rw(NULL);
	g_autoptr(CtiPolicyVerdict) v = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(!policy_check_destination(db, bad_numbers[_i], &v, &error));
	ck_assert_int_eq(error->code, CTI_POLICY_ERROR_INVALID);
	ck_assert_ptr_null(v);
	for (const char *p = error->message; *p; p++)
		ck_assert_msg((unsigned char)*p >= ' ', "control character in '%s'",
		              error->message);
}
END_TEST

START_TEST(test_max_length)
{
	g_autoptr(CtiPolicyDb) db = open_rw(NULL);
	g_autoptr(GError) e1 = NULL;

	policy_set_limits(db, 6, NULL);
	ck_assert(policy_check_destination(db, "123456", NULL, NULL));
	ck_assert(!policy_check_destination(db, "1234567", NULL, &e1));
	ck_assert_msg(strstr(e1->message, "at most 6"), "%s", e1->message);
}
END_TEST

/* ---- configured default rules and the international prefix ---- */

START_TEST(test_configured_defaults)
{
	g_autoptr(CtiPolicyDb) db = open_rw("deny:011, deny:1900 deny:1976,allow:");
	g_autoptr(GPtrArray) rules = policy_rule_list(db, NULL);
	g_autoptr(GError) error = NULL;

	ck_assert_uint_eq(rules->len, 4);
	ck_assert_str_eq(((CtiPolicyRule *)rules->pdata[1])->prefix, "1900");
	ck_assert(!policy_check_destination(db, "19005551234", NULL, NULL));
	ck_assert(policy_check_destination(db, "2125551234", NULL, &error));
	/* reopening does not seed again */
	policy_close(g_steal_pointer(&db));
	db = open_rw("deny:");
	g_ptr_array_unref(rules);
	rules = policy_rule_list(db, NULL);
	ck_assert_uint_eq(rules->len, 4);
}
END_TEST

START_TEST(test_intl_prefix)
{
	g_autoptr(CtiPolicyDb) db = open_rw("deny:+,allow:");
	g_autoptr(CtiPolicyVerdict) v = NULL;

	policy_set_limits(db, 15, "00");
	/* "+" stands for "00": both spellings are caught by the same rule */
	ck_assert(!policy_check_destination(db, "004930123", &v, NULL));
	ck_assert_int_eq(v->rule->position, 1);
	ck_assert(!policy_check_destination(db, "+4930123", NULL, NULL));
	ck_assert(policy_check_destination(db, "030123", NULL, NULL));
}
END_TEST

START_TEST(test_no_rules_denies)
{
	g_autoptr(CtiPolicyDb) db = open_rw("");
	g_autoptr(CtiPolicyVerdict) v = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(!policy_check_destination(db, "030123", &v, &error));
	ck_assert_ptr_null(v->rule);
	ck_assert_int_eq(error->code, CTI_POLICY_ERROR_DENIED);
	ck_assert_msg(strstr(v->why, "no rule matches"), "%s", v->why);
}
END_TEST

typedef struct {
	const char *text;
	gboolean ok;
} RulesCase;

static const RulesCase rules_cases[] = {
    {CTI_POLICY_DEFAULT_RULES, TRUE},
    {"", TRUE},
    {"allow:", TRUE},
    {"DENY:00 Allow:", TRUE},
    {"deny:+49 (30)", FALSE}, /* the space splits it */
    {"block:00", FALSE},
    {"deny00", FALSE},
    {"deny:0x", FALSE},
    {"deny:0'--", FALSE},
    {"deny:123456789012345678901", FALSE},
};

START_TEST(test_rules_parse)
{
	const RulesCase *c = &rules_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rules = policy_rules_parse(c->text, &error);

	ck_assert_msg((rules != NULL) == c->ok, "'%s': %s", c->text,
	              error ? error->message : "accepted");
}
END_TEST

/* ---- rule editing: order, insert, delete, move ---- */

static void assert_rules(CtiPolicyDb *db, const char *want)
{
	g_autoptr(GPtrArray) rules = policy_rule_list(db, NULL);
	g_autoptr(GString) got = g_string_new(NULL);

	for (guint i = 0; i < rules->len; i++) {
		const CtiPolicyRule *r = rules->pdata[i];
		ck_assert_int_eq(r->position, (int)i + 1);
		g_string_append_printf(got, "%s%s:%s", i ? "," : "", r->allow ? "allow" : "deny",
		                       r->prefix);
	}
	ck_assert_str_eq(got->str, want);
}

START_TEST(test_rule_edit)
{
	g_autoptr(CtiPolicyDb) db = open_rw("deny:0900,allow:");
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;

	ck_assert(policy_rule_add(db, 1, TRUE, "09001234", "hotline we pay for", NULL));
	assert_rules(db, "allow:09001234,deny:0900,allow:");
	ck_assert(policy_check_destination(db, "09001234567", NULL, NULL));
	ck_assert(!policy_check_destination(db, "09009999", NULL, NULL));
	ck_assert(policy_rule_add(db, 0, FALSE, "", NULL, NULL));
	assert_rules(db, "allow:09001234,deny:0900,allow:,deny:");
	ck_assert(policy_rule_move(db, 1, 3, NULL));
	assert_rules(db, "deny:0900,allow:,allow:09001234,deny:");
	/* rule order decides: the exception is now behind the deny */
	ck_assert(!policy_check_destination(db, "09001234567", NULL, NULL));
	ck_assert(policy_rule_del(db, 4, NULL));
	ck_assert(policy_rule_del(db, 1, NULL));
	assert_rules(db, "allow:,allow:09001234");
	ck_assert(!policy_rule_del(db, 3, &e1));
	ck_assert_int_eq(e1->code, CTI_POLICY_ERROR_NOT_FOUND);
	ck_assert(!policy_rule_move(db, 0, 1, &e2));
	ck_assert(!policy_rule_add(db, 1, FALSE, "00'; DROP TABLE rules; --", NULL, &e3));
	ck_assert_int_eq(e3->code, CTI_POLICY_ERROR_INVALID);
	ck_assert(!policy_rule_add(db, 1, FALSE, "00", "bad\nnote", &e4));
	assert_rules(db, "allow:,allow:09001234");
}
END_TEST

/* ---- senders and grants ---- */

START_TEST(test_grants)
{
	g_autoptr(CtiPolicyDb) db = open_rw(NULL);
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL;
	g_autoptr(GPtrArray) senders = NULL;

	ck_assert(!policy_check_source(db, "alice@example.com", "2001", &e1));
	ck_assert_int_eq(e1->code, CTI_POLICY_ERROR_UNKNOWN);
	ck_assert(policy_sender_add(db, "Alice@Example.com", "Alice in sales", NULL));
	ck_assert(!policy_sender_add(db, "alice@example.com", NULL, &e2));
	ck_assert_int_eq(e2->code, CTI_POLICY_ERROR_EXISTS);
	ck_assert(!policy_check_source(db, "alice@example.com", "2001", &e3));
	ck_assert_int_eq(e3->code, CTI_POLICY_ERROR_NOT_GRANTED);
	ck_assert_msg(strstr(e3->message, "extension 2001") &&
	                  strstr(e3->message, "no extension granted"),
	              "%s", e3->message);
	ck_assert(policy_grant(db, "alice@example.com", CTI_GRANT_EXTENSION, "2001", NULL));
	ck_assert(policy_grant(db, "ALICE@example.com", CTI_GRANT_EXTENSION, "2002", NULL));
	ck_assert(policy_check_source(db, "alice@EXAMPLE.com", "2001", NULL));
	ck_assert(!policy_check_source(db, "alice@example.com", "2003", &e4));
	ck_assert_msg(strstr(e4->message, "granted: 2001, 2002"), "%s", e4->message);
	ck_assert(!policy_grant(db, "bob@example.com", CTI_GRANT_EXTENSION, "2001", &e5));
	ck_assert_int_eq(e5->code, CTI_POLICY_ERROR_NOT_FOUND);
	ck_assert(!policy_grant(db, "alice@example.com", CTI_GRANT_EXTENSION, "20'01", &e6));
	ck_assert_int_eq(e6->code, CTI_POLICY_ERROR_INVALID);
	ck_assert(policy_revoke(db, "alice@example.com", CTI_GRANT_EXTENSION, "2001", NULL));
	ck_assert(!policy_check_source(db, "alice@example.com", "2001", NULL));
	senders = policy_sender_list(db, NULL);
	ck_assert_uint_eq(senders->len, 1);
	ck_assert_str_eq(((CtiSender *)senders->pdata[0])->identity, "alice@example.com");
	ck_assert_str_eq(((CtiSender *)senders->pdata[0])->note, "Alice in sales");
	ck_assert_uint_eq(((CtiSender *)senders->pdata[0])->extensions->len, 1);
	/* deleting a sender takes its grants along */
	ck_assert(policy_sender_del(db, "alice@example.com", NULL));
	ck_assert(policy_sender_add(db, "alice@example.com", NULL, NULL));
	ck_assert(!policy_check_source(db, "alice@example.com", "2002", NULL));
}
END_TEST

typedef struct {
	const char *identity, *pattern, *mailbox;
	gboolean ok;
} MailboxCase;

static const MailboxCase mailbox_cases[] = {
    {"alice@example.com", "self", "alice@example.com", TRUE},
    {"alice@example.com", "self", "Alice@Example.COM", TRUE},
    {"alice@example.com", "self", "alice", TRUE},
    {"alice", "self", "alice@example.com", TRUE},
    {"alice@example.com", "self", "bob@example.com", FALSE},
    {"alice@example.com", "self", "alicex", FALSE},
    {"alice@example.com", "*@sales.example", "carol@sales.example", TRUE},
    {"alice@example.com", "*@sales.example", "carol@example.com", FALSE},
    {"alice@example.com", "team?@example.com", "team1@example.com", TRUE},
};

START_TEST(test_mailbox)
{
	const MailboxCase *c = &mailbox_cases[_i];
	g_autoptr(CtiPolicyDb) db = open_rw(NULL);
	g_autoptr(GError) error = NULL;

	ck_assert(policy_sender_add(db, c->identity, NULL, NULL));
	ck_assert(policy_grant(db, c->identity, CTI_GRANT_MAILBOX, c->pattern, NULL));
	ck_assert_int_eq(policy_check_mailbox(db, c->identity, c->mailbox, &error), c->ok);
	if (!c->ok)
		ck_assert_int_eq(error->code, CTI_POLICY_ERROR_NOT_GRANTED);
}
END_TEST

static const char *const bad_identities[] = {
    "",
    "a b@example.com",
    "alice@example.com\r\nX-Evil: 1",
    "x'); DROP TABLE senders; --",
    "<alice@example.com>",
};

START_TEST(test_bad_identity)
{
	g_autoptr(CtiPolicyDb) db = open_rw(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) senders = NULL;

	ck_assert(!policy_sender_add(db, bad_identities[_i], NULL, &error));
	ck_assert_int_eq(error->code, CTI_POLICY_ERROR_INVALID);
	senders = policy_sender_list(db, NULL);
	ck_assert_uint_eq(senders->len, 0);
}
END_TEST

START_TEST(test_readonly)
{
	g_autoptr(CtiPolicyDb) rw = open_rw(NULL);
	g_autoptr(CtiPolicyDb) ro = NULL;
	g_autoptr(GError) e1 = NULL, e2 = NULL;
	g_autofree char *missing = g_build_filename(tmp_dir, "none.db", NULL);

	ck_assert_ptr_null(policy_open(missing, FALSE, NULL, &e1));
	ck_assert_int_eq(e1->code, CTI_POLICY_ERROR_NOT_FOUND);
	ro = policy_open(db_path, FALSE, NULL, NULL);
	ck_assert_ptr_nonnull(ro);
	ck_assert(!policy_sender_add(ro, "a@b.example", NULL, &e2));
	ck_assert_int_eq(e2->code, CTI_POLICY_ERROR_READONLY);
	/* a change by another connection is seen at once */
	ck_assert(policy_sender_add(rw, "a@b.example", NULL, NULL));
	ck_assert(policy_grant(rw, "a@b.example", CTI_GRANT_EXTENSION, "2001", NULL));
	ck_assert(policy_check_source(ro, "a@b.example", "2001", NULL));
	ck_assert_int_eq(policy_schema_version(ro), 1);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy_open");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema_matches_file);
	tcase_add_test(tc, test_configured_defaults);
	tcase_add_test(tc, test_readonly);
	tcase_add_loop_test(tc, test_rules_parse, 0, G_N_ELEMENTS(rules_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("policy_check_destination");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_default_rules, 0, G_N_ELEMENTS(default_cases));
	tcase_add_loop_test(tc, test_bad_numbers, 0, G_N_ELEMENTS(bad_numbers));
	tcase_add_test(tc, test_max_length);
	tcase_add_test(tc, test_intl_prefix);
	tcase_add_test(tc, test_no_rules_denies);
	suite_add_tcase(s, tc);
	tc = tcase_create("policy_rule_edit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rule_edit);
	suite_add_tcase(s, tc);
	tc = tcase_create("policy_check_source");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_grants);
	tcase_add_loop_test(tc, test_mailbox, 0, G_N_ELEMENTS(mailbox_cases));
	tcase_add_loop_test(tc, test_bad_identity, 0, G_N_ELEMENTS(bad_identities));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
