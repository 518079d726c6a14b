/* policy-admin - what ctictl changes in the policy DB: senders, grants and
 * destination rules, and the rules every stored value obeys.
 *
 * Everything written is validated and canonicalised first (identities
 * lower-cased, extensions digits, prefixes normalised numbers, notes without
 * control characters), always with bound parameters, so the check side can
 * trust the tables.  Rule positions stay 1..n without gaps: inserting,
 * deleting and moving renumber inside one transaction.  Failures: INVALID,
 * NOT_FOUND, EXISTS, READONLY, and SQLite errors (TEMP or DB).
 */
#include "policy-private.h"

#include <string.h>

#include "number.h"

/* policy_check_identity - see policy-private.h */
gboolean policy_check_identity(const char *identity, char **out, GError **error)
{
	gsize len = identity ? strlen(identity) : 0;

	if (len == 0 || len > CTI_POLICY_MAX_PATTERN) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
		            "identity must be 1 to %d bytes", CTI_POLICY_MAX_PATTERN);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		unsigned char c = (unsigned char)identity[i];
		if (c <= ' ' || c >= 0x7f || strchr("<>()[],;:\"\\'", c)) {
			g_autofree char *shown = number_escape_char(c);
			g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
			            "identity: character %s at position %" G_GSIZE_FORMAT
			            " is not allowed",
			            shown, i + 1);
			return FALSE;
		}
	}
	*out = g_ascii_strdown(identity, -1);
	return TRUE;
}

/* policy_check_note - see policy-private.h */
gboolean policy_check_note(const char *note, GError **error)
{
	if (!note)
		return TRUE;
	if (strlen(note) > CTI_POLICY_MAX_NOTE || !g_utf8_validate(note, -1, NULL)) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
		            "note must be UTF-8 of at most %d bytes", CTI_POLICY_MAX_NOTE);
		return FALSE;
	}
	for (const char *p = note; *p; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
			            "note holds a control character at position %" G_GSIZE_FORMAT,
			            (gsize)(p - note) + 1);
			return FALSE;
		}
	}
	return TRUE;
}

/* policy_write - run one bound statement in its own transaction; CHANGES_OUT rows changed */
static gboolean policy_write(CtiPolicyDb *db, const char *sql, const char *const *args,
                             guint n_args, int *changes_out, GError **error)
{
	sqlite3_stmt *stmt;

	if (!admindb_require_writable(&db->adb, error) ||
	    !(stmt = admindb_prepare(&db->adb, sql, error)))
		return FALSE;
	for (guint i = 0; i < n_args; i++)
		sqlite3_bind_text(stmt, (int)i + 1, args[i], -1, SQLITE_TRANSIENT);
	if (sqlite3_bind_parameter_count(stmt) > (int)n_args) /* ?N+1 is the time of change */
		sqlite3_bind_int64(stmt, (int)n_args + 1, g_get_real_time() / G_USEC_PER_SEC);
	if (!admindb_step_done(&db->adb, stmt, error))
		return FALSE;
	if (changes_out)
		*changes_out = sqlite3_changes(db->adb.sql);
	return TRUE;
}

/* policy_sender_add - see policy.h */
gboolean policy_sender_add(CtiPolicyDb *db, const char *identity, const char *note, GError **error)
{
	g_autofree char *id = NULL;
	const char *args[2];
	int changes = 0;

	if (!policy_check_identity(identity, &id, error) || !policy_check_note(note, error))
		return FALSE;
	args[0] = id;
	args[1] = note ? note : "";
	if (!policy_write(db,
	                  "INSERT INTO senders (identity, note, changed) VALUES (?1, ?2, ?3) "
	                  "ON CONFLICT (identity) DO NOTHING",
	                  args, 2, &changes, error))
		return FALSE;
	if (changes == 0) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_EXISTS,
		            "sender %s is already registered", id);
		return FALSE;
	}
	return TRUE;
}

/* policy_sender_del - see policy.h */
gboolean policy_sender_del(CtiPolicyDb *db, const char *identity, GError **error)
{
	g_autofree char *id = NULL;
	const char *args[1];
	int changes = 0;

	if (!policy_check_identity(identity, &id, error))
		return FALSE;
	args[0] = id;
	if (!policy_write(db, "DELETE FROM senders WHERE identity = ?1", args, 1, &changes, error))
		return FALSE;
	if (changes == 0) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND, "no sender %s",
		            id);
		return FALSE;
	}
	return TRUE;
}

/* policy_grant_value - canonical grant value: digits for an extension, an identity-like
 * pattern for a mailbox */
static gboolean policy_grant_value(CtiGrantKind kind, const char *value, char **out, GError **error)
{
	switch (kind) {
	case CTI_GRANT_EXTENSION:
		if (!number_is_digits(value, CTI_POLICY_MAX_EXTENSION)) {
			g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID,
			            "extension must be 1 to %d digits", CTI_POLICY_MAX_EXTENSION);
			return FALSE;
		}
		*out = g_strdup(value);
		return TRUE;
	case CTI_GRANT_MAILBOX:
		if (!policy_check_identity(value, out, error)) {
			g_prefix_error(error, "mailbox pattern: ");
			return FALSE;
		}
		return TRUE;
	}
	return FALSE;
}

static const char *policy_grant_kind_name(CtiGrantKind kind)
{
	switch (kind) {
	case CTI_GRANT_EXTENSION:
		return "extension";
	case CTI_GRANT_MAILBOX:
		return "mailbox";
	}
	return "?";
}

/* policy_sender_exists - TRUE if ID (canonical) has a row in senders */
static gboolean policy_sender_exists(CtiPolicyDb *db, const char *id)
{
	sqlite3_stmt *stmt =
	    admindb_prepare(&db->adb, "SELECT 1 FROM senders WHERE identity = ?1", NULL);
	gboolean found;

	if (!stmt)
		return FALSE;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT);
	found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return found;
}

/* policy_grant_write - run SQL (policy_write) on the canonical identity, kind and value
 * of a grant; ID and VAL (transfer full) and CHANGES are for the caller's verdict */
static gboolean policy_grant_write(CtiPolicyDb *db, const char *sql, const char *identity,
                                   CtiGrantKind kind, const char *value, char **id, char **val,
                                   int *changes, GError **error)
{
	const char *args[3];

	if (!policy_check_identity(identity, id, error) ||
	    !policy_grant_value(kind, value, val, error))
		return FALSE;
	args[0] = *id;
	args[1] = policy_grant_kind_name(kind);
	args[2] = *val;
	return policy_write(db, sql, args, 3, changes, error);
}

/* policy_grant - see policy.h */
gboolean policy_grant(CtiPolicyDb *db, const char *identity, CtiGrantKind kind, const char *value,
                      GError **error)
{
	g_autofree char *id = NULL, *val = NULL;
	int changes = 0;

	if (!policy_grant_write(db,
	                        "INSERT INTO grants (identity, kind, value, changed) "
	                        "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM senders WHERE "
	                        "identity = ?1) ON CONFLICT DO NOTHING",
	                        identity, kind, value, &id, &val, &changes, error))
		return FALSE;
	if (changes == 0 && policy_sender_exists(db, id))
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_EXISTS,
		            "%s already has %s %s", id, policy_grant_kind_name(kind), val);
	else if (changes == 0)
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND,
		            "no sender %s (add it first)", id);
	return changes > 0;
}

/* policy_revoke - see policy.h */
gboolean policy_revoke(CtiPolicyDb *db, const char *identity, CtiGrantKind kind, const char *value,
                       GError **error)
{
	g_autofree char *id = NULL, *val = NULL;
	int changes = 0;

	if (!policy_grant_write(
	        db, "DELETE FROM grants WHERE identity = ?1 AND kind = ?2 AND value = ?3", identity,
	        kind, value, &id, &val, &changes, error))
		return FALSE;
	if (changes == 0) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND, "%s has no %s %s",
		            id, policy_grant_kind_name(kind), val);
		return FALSE;
	}
	return TRUE;
}

/* policy_sender_grants - fill SENDER's grant lists from one query of all grants */
static gboolean policy_fill_grants(CtiPolicyDb *db, GHashTable *by_id, GError **error)
{
	sqlite3_stmt *stmt = admindb_prepare(
	    &db->adb, "SELECT identity, kind, value FROM grants ORDER BY value", error);
	int rc;

	if (!stmt)
		return FALSE;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		CtiSender *s = g_hash_table_lookup(by_id, sqlite3_column_text(stmt, 0));
		const char *kind = (const char *)sqlite3_column_text(stmt, 1);
		if (s)
			g_ptr_array_add(strcmp(kind, "extension") == 0 ? s->extensions
			                                               : s->mailboxes,
			                g_strdup((const char *)sqlite3_column_text(stmt, 2)));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "policy DB", error);
		return FALSE;
	}
	return TRUE;
}

/* policy_sender_list - see policy.h */
GPtrArray *policy_sender_list(CtiPolicyDb *db, GError **error)
{
	sqlite3_stmt *stmt = admindb_prepare(
	    &db->adb, "SELECT identity, note, changed FROM senders ORDER BY identity", error);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)policy_sender_free);
	g_autoptr(GHashTable) by_id = g_hash_table_new(g_str_hash, g_str_equal);
	int rc;

	if (!stmt)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		CtiSender *s = g_new0(CtiSender, 1);
		s->identity = g_strdup((const char *)sqlite3_column_text(stmt, 0));
		s->note = g_strdup((const char *)sqlite3_column_text(stmt, 1));
		s->changed = sqlite3_column_int64(stmt, 2);
		s->extensions = g_ptr_array_new_with_free_func(g_free);
		s->mailboxes = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(by_id, s->identity, s);
		g_ptr_array_add(out, s);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "policy DB", error);
		return NULL;
	}
	if (!policy_fill_grants(db, by_id, error))
		return NULL;
	return g_steal_pointer(&out);
}

/* policy_rule_from_stmt - see policy-private.h */
CtiPolicyRule *policy_rule_from_stmt(sqlite3_stmt *stmt)
{
	CtiPolicyRule *rule = g_new0(CtiPolicyRule, 1);

	rule->position = sqlite3_column_int(stmt, 0);
	rule->allow = strcmp((const char *)sqlite3_column_text(stmt, 1), "allow") == 0;
	rule->prefix = g_strdup((const char *)sqlite3_column_text(stmt, 2));
	rule->note = g_strdup((const char *)sqlite3_column_text(stmt, 3));
	rule->changed = sqlite3_column_int64(stmt, 4);
	return rule;
}

/* policy_rule_list - see policy.h */
GPtrArray *policy_rule_list(CtiPolicyDb *db, GError **error)
{
	sqlite3_stmt *stmt = admindb_prepare(
	    &db->adb,
	    "SELECT position, verdict, prefix, note, changed FROM rules ORDER BY position", error);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)policy_rule_free);
	int rc;

	if (!stmt)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && out->len < CTI_POLICY_MAX_RULES)
		g_ptr_array_add(out, policy_rule_from_stmt(stmt));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		admindb_sql_error(&db->adb, rc, "policy DB", error);
		return NULL;
	}
	return g_steal_pointer(&out);
}

/* policy_insert_rule - one row at POSITION (no transaction of its own) */
static gboolean policy_insert_rule(CtiPolicyDb *db, int position, const CtiPolicyRule *rule,
                                   GError **error)
{
	sqlite3_stmt *stmt = admindb_prepare(&db->adb,
	                                     "INSERT INTO rules (position, verdict, prefix, note, "
	                                     "changed) VALUES (?1, ?2, ?3, ?4, ?5)",
	                                     error);

	if (!stmt)
		return FALSE;
	sqlite3_bind_int(stmt, 1, position);
	sqlite3_bind_text(stmt, 2, rule->allow ? "allow" : "deny", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, rule->prefix, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, rule->note ? rule->note : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 5,
	                   rule->changed ? rule->changed : g_get_real_time() / G_USEC_PER_SEC);
	return admindb_step_done(&db->adb, stmt, error);
}

/* policy_put_rules - see policy-private.h */
gboolean policy_put_rules(CtiPolicyDb *db, GPtrArray *rules, GError **error)
{
	if (!admindb_exec(&db->adb, "DELETE FROM rules", error))
		return FALSE;
	for (guint i = 0; i < rules->len; i++)
		if (!policy_insert_rule(db, (int)i + 1, rules->pdata[i], error))
			return FALSE;
	return TRUE;
}

/* policy_rules_replace - see policy.h */
gboolean policy_rules_replace(CtiPolicyDb *db, GPtrArray *rules, GError **error)
{
	if (!admindb_require_writable(&db->adb, error) || !admindb_begin(&db->adb, error))
		return FALSE;
	if (!policy_put_rules(db, rules, error) || !admindb_commit(&db->adb, error)) {
		admindb_rollback(&db->adb);
		return FALSE;
	}
	return TRUE;
}

/* policy_edit_rules - load the rules, let EDIT change the array, write them back renumbered */
static gboolean policy_edit_rules(CtiPolicyDb *db,
                                  gboolean (*edit)(GPtrArray *rules, gpointer data, GError **error),
                                  gpointer data, GError **error)
{
	g_autoptr(GPtrArray) rules = NULL;

	if (!admindb_require_writable(&db->adb, error) || !admindb_begin(&db->adb, error))
		return FALSE;
	rules = policy_rule_list(db, error);
	if (!rules || !edit(rules, data, error) || !policy_put_rules(db, rules, error) ||
	    !admindb_commit(&db->adb, error)) {
		admindb_rollback(&db->adb);
		return FALSE;
	}
	return TRUE;
}

static gboolean policy_position_ok(GPtrArray *rules, int position, guint extra, GError **error)
{
	if (position < 1 || (guint)position > rules->len + extra) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND,
		            "no rule position %d (there are %u rules)", position, rules->len);
		return FALSE;
	}
	return TRUE;
}

typedef struct {
	int position;
	CtiPolicyRule *rule;
} PolicyInsert;

static gboolean policy_edit_insert(GPtrArray *rules, gpointer data, GError **error)
{
	PolicyInsert *ins = data;
	int at = ins->position == 0 ? (int)rules->len + 1 : ins->position;

	if (rules->len >= CTI_POLICY_MAX_RULES) {
		g_set_error(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_INVALID, "at most %d rules",
		            CTI_POLICY_MAX_RULES);
		return FALSE;
	}
	if (!policy_position_ok(rules, at, 1, error))
		return FALSE;
	g_ptr_array_insert(rules, at - 1, g_steal_pointer(&ins->rule));
	return TRUE;
}

/* policy_rule_add - see policy.h */
gboolean policy_rule_add(CtiPolicyDb *db, int position, gboolean allow, const char *prefix,
                         const char *note, GError **error)
{
	g_autoptr(CtiPolicyRule) rule = g_new0(CtiPolicyRule, 1);
	PolicyInsert ins = {position, NULL};
	gboolean ok;

	if (!policy_parse_prefix(prefix, &rule->prefix, error) || !policy_check_note(note, error))
		return FALSE;
	rule->allow = allow;
	rule->note = g_strdup(note ? note : "");
	ins.rule = g_steal_pointer(&rule);
	ok = policy_edit_rules(db, policy_edit_insert, &ins, error);
	policy_rule_free(ins.rule);
	return ok;
}

static gboolean policy_edit_delete(GPtrArray *rules, gpointer data, GError **error)
{
	int position = GPOINTER_TO_INT(data);

	if (!policy_position_ok(rules, position, 0, error))
		return FALSE;
	g_ptr_array_remove_index(rules, position - 1);
	return TRUE;
}

/* policy_rule_del - see policy.h */
gboolean policy_rule_del(CtiPolicyDb *db, int position, GError **error)
{
	return policy_edit_rules(db, policy_edit_delete, GINT_TO_POINTER(position), error);
}

static gboolean policy_edit_move(GPtrArray *rules, gpointer data, GError **error)
{
	const int *from_to = data;
	gpointer rule;

	if (!policy_position_ok(rules, from_to[0], 0, error) ||
	    !policy_position_ok(rules, from_to[1], 0, error))
		return FALSE;
	rule = g_ptr_array_steal_index(rules, from_to[0] - 1);
	g_ptr_array_insert(rules, from_to[1] - 1, rule);
	return TRUE;
}

/* policy_rule_move - see policy.h */
gboolean policy_rule_move(CtiPolicyDb *db, int from, int to, GError **error)
{
	int from_to[2] = {from, to};

	return policy_edit_rules(db, policy_edit_move, from_to, error);
}
