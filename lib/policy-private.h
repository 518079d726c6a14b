/* policy-private - internals shared by policy.c, policy-admin.c and
 * policy-schema.c.  Not for use outside the policy module. */
#ifndef MAILCTI_POLICY_PRIVATE_H
#define MAILCTI_POLICY_PRIVATE_H

#include <sqlite3.h>

#include "admindb.h"
#include "policy.h"

struct CtiPolicyDb {
	AdminDb adb; /* the connection, opened writable or not */
	guint max_digits;
	char *intl; /* digits a leading '+' stands for, or NULL */
	sqlite3_stmt *known_stmt;  /* policy.c: kept for the next request, NULL until used */
	sqlite3_stmt *grants_stmt; /* policy.c: likewise */
};

/* policy_schema - the migrations, in order; migration i brings user_version to i + 1 */
extern const char *const policy_schema[];
extern const guint policy_schema_count;

/* policy_check_identity - 1..254 printable bytes without spaces; lower-cased copy */
gboolean policy_check_identity(const char *identity, char **out, GError **error);
/* policy_check_note - at most CTI_POLICY_MAX_NOTE bytes of UTF-8 without controls */
gboolean policy_check_note(const char *note, GError **error);
/* policy_rule_from_stmt - a rule from columns position, verdict, prefix, note, changed */
CtiPolicyRule *policy_rule_from_stmt(sqlite3_stmt *stmt);
/* policy_put_rules - delete every rule and insert RULES renumbered 1..n (no transaction) */
gboolean policy_put_rules(CtiPolicyDb *db, GPtrArray *rules, GError **error);

#endif
