/* policy - open the policy DB and decide: may this sender use this Source
 * extension (or name this mailbox), may this destination be dialled.
 *
 * The DB is small and read on every CTI mail, so each check is one or two
 * indexed queries (rules: one ordered scan of a table of tens of rows) with
 * bound parameters; nothing is cached, so ctictl's changes apply at once.
 * Verdicts say which rule decided, so operators and senders can see why.
 * The CtiPolicyDb owns its connection; results are copies the caller frees.
 * Failures: bad input (INVALID), refusals (UNKNOWN, NOT_GRANTED, DENIED),
 * SQLite errors (TEMP for busy/locked/I/O, else DB).
 */
#include "policy-private.h"

#include <string.h>

#include "identity.h"
#include "number.h"

G_DEFINE_QUARK(mailcti - policy - error, policy_error)

/* for admindb: the label, error domain and codes (temp, DB, read-only), migrations */
static const AdmindbKind policy_admindb = {
    "policy DB",         policy_error_quark,        CTI_POLICY_ERROR_TEMP,
    CTI_POLICY_ERROR_DB, CTI_POLICY_ERROR_READONLY, policy_schema,
    &policy_schema_count};

/* policy_schema_version - see policy.h */
int policy_schema_version(CtiPolicyDb *db)
{
	return admindb_user_version(&db->adb);
}

/* policy_rules_equal - same verdicts and prefixes in the same order */
static gboolean policy_rules_equal(GPtrArray *a, GPtrArray *b)
{
	if (a->len != b->len)
		return FALSE;
	for (guint i = 0; i < a->len; i++) {
		const CtiPolicyRule *x = a->pdata[i], *y = b->pdata[i];
		if (x->allow != y->allow || strcmp(x->prefix, y->prefix) != 0)
			return FALSE;
	}
	return TRUE;
}

/* the first migration's seeding step: the DB and the wanted default rules */
typedef struct {
	CtiPolicyDb *db;
	const char *default_rules;
} PolicySeed;

/* policy_seed - a fresh DB: replace the migration's rules by the wanted ones if they differ */
static gboolean policy_seed(gpointer data, GError **error)
{
	const PolicySeed *seed = data;
	g_autoptr(GPtrArray) wanted = policy_rules_parse(seed->default_rules, error);
	g_autoptr(GPtrArray) builtin = policy_rules_parse(CTI_POLICY_DEFAULT_RULES, NULL);

	if (!wanted) {
		g_prefix_error(error, "[policy] default_rules: ");
		return FALSE;
	}
	if (policy_rules_equal(wanted, builtin))
		return TRUE;
	return policy_put_rules(seed->db, wanted, error);
}

/* policy_open - see policy.h */
CtiPolicyDb *policy_open(const char *path, gboolean writable, const char *default_rules,
                         GError **error)
{
	g_autoptr(CtiPolicyDb) db = g_new0(CtiPolicyDb, 1);
	PolicySeed seed = {db, default_rules ? default_rules : CTI_POLICY_DEFAULT_RULES};
	int rc;

	db->max_digits = 15;
	if (!writable && !g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND,
		            "policy DB %s does not exist yet: create it with ctictl sender add",
		            path);
		return NULL;
	}
	rc = admindb_open(&db->adb, &policy_admindb, path, writable);
	if (rc != SQLITE_OK) {
		admindb_sql_error(&db->adb, rc, path, error);
		return NULL;
	}
	if (!admindb_configure(&db->adb, error) ||
	    !admindb_exec(&db->adb, "PRAGMA foreign_keys = ON", error) ||
	    !admindb_migrate(&db->adb, policy_seed, &seed, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	return g_steal_pointer(&db);
}

/* policy_open_config - see policy.h */
CtiPolicyDb *policy_open_config(const CtiConfig *config, gboolean writable, GError **error)
{
	CtiPolicyDb *db = policy_open(config->policy_db, writable, config->default_rules, error);

	if (db)
		policy_set_limits(db, (guint)config->max_number_length,
		                  config->international_prefix);
	return db;
}

/* policy_close - see policy.h */
void policy_close(CtiPolicyDb *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->known_stmt);
	sqlite3_finalize(db->grants_stmt);
	sqlite3_close_v2(db->adb.sql);
	g_free(db->intl);
	g_free(db);
}

/* policy_set_limits - see policy.h */
void policy_set_limits(CtiPolicyDb *db, guint max_digits, const char *international_prefix)
{
	db->max_digits = MIN(max_digits, CTI_NUMBER_MAX_DIGITS);
	g_clear_pointer(&db->intl, g_free);
	if (international_prefix && *international_prefix)
		db->intl = g_strdup(international_prefix);
}

/* policy_parse_prefix - see policy.h */
gboolean policy_parse_prefix(const char *text, char **out, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (strcmp(text, "") == 0 || strcmp(text, "+") == 0) {
		*out = g_strdup(text);
		return TRUE;
	}
	if (!number_normalise(text, out, &local)) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID, "bad prefix: %s",
		            local->message);
		return FALSE;
	}
	return TRUE;
}

/* policy_rules_parse - see policy.h */
GPtrArray *policy_rules_parse(const char *text, GError **error)
{
	g_auto(GStrv) items = identity_split_list(text);
	g_autoptr(GPtrArray) rules =
	    g_ptr_array_new_with_free_func((GDestroyNotify)policy_rule_free);

	for (gsize i = 0; items[i]; i++) {
		const char *colon = strchr(items[i], ':');
		g_autoptr(CtiPolicyRule) rule = g_new0(CtiPolicyRule, 1);
		gsize vlen = colon ? (gsize)(colon - items[i]) : 0;

		if (!colon || !((vlen == 5 && g_ascii_strncasecmp(items[i], "allow", 5) == 0) ||
		                (vlen == 4 && g_ascii_strncasecmp(items[i], "deny", 4) == 0))) {
			g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
			            "rule '%s': allow:PREFIX or deny:PREFIX expected", items[i]);
			return NULL;
		}
		rule->allow = vlen == 5;
		if (!policy_parse_prefix(colon + 1, &rule->prefix, error)) {
			g_prefix_error(error, "rule '%s': ", items[i]);
			return NULL;
		}
		rule->position = (int)rules->len + 1;
		rule->note = g_strdup("");
		g_ptr_array_add(rules, g_steal_pointer(&rule));
	}
	return g_steal_pointer(&rules);
}

/* policy_intl - TEXT with a leading '+' replaced by INTL when set (transfer full) */
static char *policy_intl(const char *intl, const char *text)
{
	if (intl && text[0] == '+')
		return g_strconcat(intl, text + 1, NULL);
	return g_strdup(text);
}

/* policy_check_number - NUMBER is canonical (number_normalise leaves it alone) and short enough */
static gboolean policy_check_number(CtiPolicyDb *db, const char *number, GError **error)
{
	g_autofree char *canonical = NULL;
	g_autoptr(GError) local = NULL;
	gsize digits = 0;

	if (!number_normalise(number, &canonical, &local) || strcmp(canonical, number) != 0) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
		            "destination is not a plain number: %s",
		            local ? local->message : "separators must be removed first");
		return FALSE;
	}
	for (const char *p = number; *p; p++)
		digits += g_ascii_isdigit(*p) ? 1 : 0;
	if (digits > db->max_digits) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
		            "destination has %" G_GSIZE_FORMAT " digits, at most %u allowed",
		            digits, db->max_digits);
		return FALSE;
	}
	return TRUE;
}

/* policy_rule_text - "rule 3 (deny 0900, premium rate)" (transfer full) */
static char *policy_rule_text(const CtiPolicyRule *rule)
{
	return g_strdup_printf(
	    "rule %d (%s %s%s%s)", rule->position, rule->allow ? "allow" : "deny",
	    *rule->prefix ? rule->prefix : "any number", *rule->note ? ": " : "", rule->note);
}

/* policy_explain - see policy.h */
CtiPolicyVerdict *policy_explain(CtiPolicyDb *db, const char *number, GError **error)
{
	g_autoptr(CtiPolicyVerdict) v = g_new0(CtiPolicyVerdict, 1);
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) bad = NULL;

	if (!policy_check_number(db, number, &bad)) {
		v->number = g_strdup("");
		v->why = g_strdup(bad->message);
		return g_steal_pointer(&v);
	}
	rules = policy_rule_list(db, error);
	if (!rules)
		return NULL;
	v->number = policy_intl(db->intl, number);
	for (guint i = 0; i < rules->len; i++) {
		CtiPolicyRule *rule = rules->pdata[i];
		g_autofree char *prefix = policy_intl(db->intl, rule->prefix);
		g_autofree char *text = NULL;

		if (!g_str_has_prefix(v->number, prefix))
			continue;
		text = policy_rule_text(rule);
		v->allowed = rule->allow;
		v->why = g_strdup_printf("%s matches %s: %s", text, number,
		                         rule->allow ? "allowed" : "denied");
		v->rule = g_ptr_array_steal_index(rules, i);
		return g_steal_pointer(&v);
	}
	v->why = g_strdup_printf("no rule matches %s: denied", number);
	return g_steal_pointer(&v);
}

/* policy_check_destination - see policy.h */
gboolean policy_check_destination(CtiPolicyDb *db, const char *number,
                                  CtiPolicyVerdict **verdict_out, GError **error)
{
	g_autoptr(CtiPolicyVerdict) v = NULL;
	g_autoptr(GError) bad = NULL;
	gboolean ok;

	if (!policy_check_number(db, number, &bad)) {
		g_propagate_error(error, g_steal_pointer(&bad));
		return FALSE;
	}
	v = policy_explain(db, number, error);
	if (!v)
		return FALSE;
	ok = v->allowed;
	if (!ok && v->rule) {
		g_autofree char *text = policy_rule_text(v->rule);
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_DENIED,
		            "destination %s refused by policy %s", number, text);
	} else if (!ok) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_DENIED,
		            "destination %s refused by policy: no rule allows it", number);
	}
	if (verdict_out)
		*verdict_out = g_steal_pointer(&v);
	return ok;
}

/* policy_kept - *SLOT, prepared with SQL on first use and kept: the milter asks these on
 * every request, and preparing cost more than running them */
static sqlite3_stmt *policy_kept(CtiPolicyDb *db, sqlite3_stmt **slot, const char *sql,
                                 GError **error)
{
	if (*slot == NULL)
		*slot = admindb_prepare_kept(&db->adb, sql, error);
	return *slot;
}

/* policy_sender_known - 1 registered, 0 not, -1 error */
static int policy_sender_known(CtiPolicyDb *db, const char *identity, GError **error)
{
	sqlite3_stmt *stmt =
	    policy_kept(db, &db->known_stmt, "SELECT 1 FROM senders WHERE identity = ?1", error);
	int rc;

	if (!stmt)
		return -1;
	sqlite3_bind_text(stmt, 1, identity, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "policy DB", error);
		return -1;
	}
	return rc == SQLITE_ROW;
}

/* policy_sender_registered - see policy.h */
int policy_sender_registered(CtiPolicyDb *db, const char *identity, GError **error)
{
	return policy_sender_known(db, identity, error);
}

/* policy_grants_of - the values of IDENTITY's grants of KIND (transfer full) or NULL + error */
static GPtrArray *policy_grants_of(CtiPolicyDb *db, const char *identity, const char *kind,
                                   GError **error)
{
	sqlite3_stmt *stmt = policy_kept(
	    db, &db->grants_stmt,
	    "SELECT value FROM grants WHERE identity = ?1 AND kind = ?2 ORDER BY value", error);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	int rc;

	if (!stmt)
		return NULL;
	sqlite3_bind_text(stmt, 1, identity, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(out, g_strdup((const char *)sqlite3_column_text(stmt, 0)));
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "policy DB", error);
		return NULL;
	}
	return g_steal_pointer(&out);
}

/* policy_known_sender - canonical identity of a registered sender, or NULL + UNKNOWN */
static char *policy_known_sender(CtiPolicyDb *db, const char *identity, GError **error)
{
	g_autofree char *id = NULL;
	int known;

	if (!policy_check_identity(identity, &id, error))
		return NULL;
	known = policy_sender_known(db, id, error);
	if (known < 0)
		return NULL;
	if (known == 0) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_UNKNOWN,
		            "sender %s is not registered for calls", id);
		return NULL;
	}
	return g_steal_pointer(&id);
}

/* policy_check_source - see policy.h */
gboolean policy_check_source(CtiPolicyDb *db, const char *identity, const char *extension,
                             GError **error)
{
	return policy_check_extension(db, identity, extension, "use", " as Source", error);
}

/* policy_check_extension - see policy.h */
gboolean policy_check_extension(CtiPolicyDb *db, const char *identity, const char *extension,
                                const char *verb, const char *role, GError **error)
{
	g_autofree char *id = policy_known_sender(db, identity, error);
	g_autoptr(GPtrArray) exts = NULL;
	g_autofree char *list = NULL;

	if (!id || !(exts = policy_grants_of(db, id, "extension", error)))
		return FALSE;
	for (guint i = 0; i < exts->len; i++)
		if (strcmp(exts->pdata[i], extension) == 0)
			return TRUE;
	g_ptr_array_add(exts, NULL);
	list = g_strjoinv(", ", (char **)exts->pdata);
	g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_GRANTED,
	            "sender %s may not %s extension %s%s (%s%s)", id, verb,
	            number_is_digits(extension, CTI_POLICY_MAX_EXTENSION) ? extension : "given",
	            role, *list ? "granted: " : "no extension granted", list);
	return FALSE;
}

/* policy_mailbox_is_self - MAILBOX is IDENTITY, or the same local part where one is a login */
static gboolean policy_mailbox_is_self(const char *id, const char *mailbox)
{
	const char *at_id = strchr(id, '@'), *at_mb = strchr(mailbox, '@');

	if (strcmp(id, mailbox) == 0)
		return TRUE;
	if (!at_id && at_mb)
		return strlen(id) == (gsize)(at_mb - mailbox) &&
		       strncmp(id, mailbox, strlen(id)) == 0;
	if (at_id && !at_mb)
		return strlen(mailbox) == (gsize)(at_id - id) &&
		       strncmp(id, mailbox, strlen(mailbox)) == 0;
	return FALSE;
}

/* policy_check_mailbox - see policy.h */
gboolean policy_check_mailbox(CtiPolicyDb *db, const char *identity, const char *mailbox,
                              GError **error)
{
	g_autofree char *id = policy_known_sender(db, identity, error);
	g_autofree char *mb = NULL;
	g_autoptr(GPtrArray) pats = NULL;

	if (!id || !policy_check_identity(mailbox, &mb, error) ||
	    !(pats = policy_grants_of(db, id, "mailbox", error)))
		return FALSE;
	for (guint i = 0; i < pats->len; i++) {
		const char *pat = pats->pdata[i];
		if (strcmp(pat, "self") == 0 ? policy_mailbox_is_self(id, mb)
		                             : g_pattern_match_simple(pat, mb))
			return TRUE;
	}
	g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_GRANTED,
	            "sender %s may not name mailbox %s for Trigger: user", id, mb);
	return FALSE;
}

/* policy_rule_free - see policy.h */
void policy_rule_free(CtiPolicyRule *rule)
{
	if (!rule)
		return;
	g_free(rule->prefix);
	g_free(rule->note);
	g_free(rule);
}

/* policy_sender_free - see policy.h */
void policy_sender_free(CtiSender *sender)
{
	if (!sender)
		return;
	g_free(sender->identity);
	g_free(sender->note);
	g_clear_pointer(&sender->extensions, g_ptr_array_unref);
	g_clear_pointer(&sender->mailboxes, g_ptr_array_unref);
	g_free(sender);
}

/* policy_verdict_free - see policy.h */
void policy_verdict_free(CtiPolicyVerdict *verdict)
{
	if (!verdict)
		return;
	policy_rule_free(verdict->rule);
	g_free(verdict->number);
	g_free(verdict->why);
	g_free(verdict);
}
