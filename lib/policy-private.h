/* policy-private - internals shared by policy.c, policy-admin.c and
 * policy-schema.c.  Not for use outside the policy module. */
#ifndef MAILCTI_POLICY_PRIVATE_H
#define MAILCTI_POLICY_PRIVATE_H

#include <sqlite3.h>

#include "policy.h"

struct CtiPolicyDb {
	sqlite3 *sql;
	gboolean writable;
	guint max_digits;
	char *intl; /* digits a leading '+' stands for, or NULL */
};

/* policy_schema - the migrations, in order; migration i brings user_version to i + 1 */
extern const char *const policy_schema[];
extern const guint policy_schema_count;

/* policy_sql_error - set ERROR from SQLite's error RC on SQL with CONTEXT (BUSY etc.: TEMP) */
void policy_sql_error(sqlite3 *sql, int rc, const char *context, GError **error);
/* policy_exec - run SQL without parameters or rows */
gboolean policy_exec(CtiPolicyDb *db, const char *sql, GError **error);
/* policy_prepare - a one-shot statement (transfer full: sqlite3_finalize) */
sqlite3_stmt *policy_prepare(CtiPolicyDb *db, const char *sql, GError **error);
/* policy_step_done - step STMT to completion, finalize it; FALSE + error on failure */
gboolean policy_step_done(CtiPolicyDb *db, sqlite3_stmt *stmt, GError **error);
/* policy_begin/commit/rollback - write transactions (BEGIN IMMEDIATE) */
gboolean policy_begin(CtiPolicyDb *db, GError **error);
gboolean policy_commit(CtiPolicyDb *db, GError **error);
void policy_rollback(CtiPolicyDb *db);
/* policy_require_writable - READONLY unless opened writable */
gboolean policy_require_writable(CtiPolicyDb *db, GError **error);
/* policy_check_identity - 1..254 printable bytes without spaces; lower-cased copy */
gboolean policy_check_identity(const char *identity, char **out, GError **error);
/* policy_check_note - at most CTI_POLICY_MAX_NOTE bytes of UTF-8 without controls */
gboolean policy_check_note(const char *note, GError **error);
/* policy_rule_from_stmt - a rule from columns position, verdict, prefix, note, changed */
CtiPolicyRule *policy_rule_from_stmt(sqlite3_stmt *stmt);
/* policy_put_rules - delete every rule and insert RULES renumbered 1..n (no transaction) */
gboolean policy_put_rules(CtiPolicyDb *db, GPtrArray *rules, GError **error);

#endif
