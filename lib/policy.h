/* policy - who may make calls: registered senders, their grants, and the
 * destination rules.  A SQLite DB of its own ([policy] db, schema/policy-*.sql).
 *
 *   senders  identity (lower-cased login or mail address, see identity.h), note
 *   grants   identity -> extension it may use as Source, or a mailbox pattern
 *            it may name for Trigger: user ("self" = its own address or login,
 *            else a glob with '*' and '?', e.g. "*@sales.example")
 *   rules    ordered (position 1..n): allow|deny, number prefix ("" matches
 *            everything), note.  The first rule whose prefix starts the
 *            destination decides; no matching rule denies.
 *
 * A new DB is seeded by its first migration with rules that deny international
 * ("00", "+") and premium-rate ("0900", "0137", "118") prefixes and allow the
 * rest; policy_open() replaces them by [policy] default_rules when that differs.
 * Destinations must already be normalised (number_normalise(): digits, one
 * leading '+'), at most max_number_length digits.  Errors are in
 * CTI_POLICY_ERROR; DENIED and NOT_GRANTED are permanent refusals whose text
 * names the rule or the extension, TEMP is a busy or failing DB.
 */
#ifndef MAILCTI_POLICY_H
#define MAILCTI_POLICY_H

#include <glib.h>

#include "config.h"

#define CTI_POLICY_DEFAULT_RULES "deny:00,deny:+,deny:0900,deny:0137,deny:118,allow:"
#define CTI_POLICY_MAX_NOTE      1024
#define CTI_POLICY_MAX_PATTERN   254
#define CTI_POLICY_MAX_EXTENSION 20
#define CTI_POLICY_MAX_RULES     10000

#define CTI_POLICY_ERROR (policy_error_quark())
typedef enum {
	CTI_POLICY_ERROR_INVALID,     /* bad identity, extension, prefix, number, note */
	CTI_POLICY_ERROR_NOT_FOUND,   /* no such sender, grant or rule */
	CTI_POLICY_ERROR_EXISTS,      /* sender or grant already there */
	CTI_POLICY_ERROR_UNKNOWN,     /* check: the sender is not registered */
	CTI_POLICY_ERROR_NOT_GRANTED, /* check: the extension or mailbox is not granted */
	CTI_POLICY_ERROR_DENIED,      /* check: a rule (or no rule) denies the destination */
	CTI_POLICY_ERROR_READONLY,    /* a write on a read-only handle */
	CTI_POLICY_ERROR_TEMP,        /* busy, locked, I/O: retry later */
	CTI_POLICY_ERROR_DB,          /* other SQLite failure, schema too new */
} CtiPolicyErrorCode;
GQuark policy_error_quark(void);

typedef enum {
	CTI_GRANT_EXTENSION,
	CTI_GRANT_MAILBOX,
} CtiGrantKind;

typedef struct {
	int position; /* 1-based */
	gboolean allow;
	char *prefix; /* canonical; "" matches every number */
	char *note;
	gint64 changed;
} CtiPolicyRule;

typedef struct {
	char *identity;
	char *note;
	gint64 changed;
	GPtrArray *extensions; /* char*, sorted */
	GPtrArray *mailboxes;  /* char*, sorted */
} CtiSender;

typedef struct {
	gboolean allowed;
	CtiPolicyRule *rule; /* the deciding rule, NULL when none matched or the number is bad */
	char *number;        /* what was checked (after the international prefix rewrite) */
	char *why;           /* one line: which rule matched, or why none did */
} CtiPolicyVerdict;

typedef struct CtiPolicyDb CtiPolicyDb;

/* policy_open - open PATH; WRITABLE creates and migrates it, seeding DEFAULT_RULES
 * (NULL: the built-in set) into a new DB; read-only needs a migrated DB (transfer full) */
CtiPolicyDb *policy_open(const char *path, gboolean writable, const char *default_rules,
                         GError **error);
/* policy_open_config - policy_open with [policy] db, default_rules, max_number_length
 * and [routing] international_prefix from CONFIG */
CtiPolicyDb *policy_open_config(const CtiConfig *config, gboolean writable, GError **error);
/* policy_close - close; NULL is a no-op */
void policy_close(CtiPolicyDb *db);
/* policy_set_limits - longest destination in digits (default 15) and the digits a leading
 * '+' stands for (NULL or "": keep '+') */
void policy_set_limits(CtiPolicyDb *db, guint max_digits, const char *international_prefix);

/* policy_rules_parse - "deny:00,allow:" to CtiPolicyRule*s (transfer full) or NULL + error */
GPtrArray *policy_rules_parse(const char *text, GError **error);
/* policy_parse_prefix - canonical rule prefix of TEXT ("" and "+" allowed) (transfer full) */
gboolean policy_parse_prefix(const char *text, char **out, GError **error);

/* ---- senders and grants ---- */
/* policy_sender_add - register IDENTITY with NOTE (may be NULL) */
gboolean policy_sender_add(CtiPolicyDb *db, const char *identity, const char *note, GError **error);
/* policy_sender_del - remove IDENTITY and its grants */
gboolean policy_sender_del(CtiPolicyDb *db, const char *identity, GError **error);
/* policy_sender_list - every sender with its grants, by identity (transfer full) */
GPtrArray *policy_sender_list(CtiPolicyDb *db, GError **error);
/* policy_grant - let IDENTITY use VALUE (an extension or a mailbox pattern) */
gboolean policy_grant(CtiPolicyDb *db, const char *identity, CtiGrantKind kind, const char *value,
                      GError **error);
/* policy_revoke - take a grant back */
gboolean policy_revoke(CtiPolicyDb *db, const char *identity, CtiGrantKind kind, const char *value,
                       GError **error);

/* ---- destination rules ---- */
/* policy_rule_add - insert at POSITION (0: append), shifting the rest down */
gboolean policy_rule_add(CtiPolicyDb *db, int position, gboolean allow, const char *prefix,
                         const char *note, GError **error);
/* policy_rule_del - remove the rule at POSITION, closing the gap */
gboolean policy_rule_del(CtiPolicyDb *db, int position, GError **error);
/* policy_rule_move - move the rule at FROM to position TO */
gboolean policy_rule_move(CtiPolicyDb *db, int from, int to, GError **error);
/* policy_rule_list - every rule in order (transfer full) */
GPtrArray *policy_rule_list(CtiPolicyDb *db, GError **error);
/* policy_rules_replace - replace every rule by RULES (from policy_rules_parse) */
gboolean policy_rules_replace(CtiPolicyDb *db, GPtrArray *rules, GError **error);

/* ---- checks, for the milter ---- */
/* policy_sender_registered - 1 if IDENTITY (exactly, lower case) has a sender row, 0 if not,
 * -1 + error on a DB failure */
int policy_sender_registered(CtiPolicyDb *db, const char *identity, GError **error);
/* policy_check_source - TRUE if IDENTITY is registered and granted EXTENSION; else
 * UNKNOWN or NOT_GRANTED naming the extension and what is granted */
gboolean policy_check_source(CtiPolicyDb *db, const char *identity, const char *extension,
                             GError **error);
/* policy_check_extension - policy_check_source for another device: the refusal reads
 * "sender ID may not VERB extension EXT ROLE (granted: ...)" */
gboolean policy_check_extension(CtiPolicyDb *db, const char *identity, const char *extension,
                                const char *verb, const char *role, GError **error);
/* policy_check_mailbox - TRUE if IDENTITY may name MAILBOX for Trigger: user */
gboolean policy_check_mailbox(CtiPolicyDb *db, const char *identity, const char *mailbox,
                              GError **error);
/* policy_explain - the verdict on NUMBER (transfer full), NULL only on a DB error */
CtiPolicyVerdict *policy_explain(CtiPolicyDb *db, const char *number, GError **error);
/* policy_check_destination - TRUE if NUMBER may be dialled; else DENIED (or INVALID)
 * whose text names the rule; *VERDICT_OUT (may be NULL) gets the verdict (transfer full) */
gboolean policy_check_destination(CtiPolicyDb *db, const char *number,
                                  CtiPolicyVerdict **verdict_out, GError **error);

/* policy_rule_free, policy_sender_free, policy_verdict_free - NULL is a no-op */
void policy_rule_free(CtiPolicyRule *rule);
void policy_sender_free(CtiSender *sender);
void policy_verdict_free(CtiPolicyVerdict *verdict);
/* policy_schema_version - PRAGMA user_version */
int policy_schema_version(CtiPolicyDb *db);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiPolicyDb, policy_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiPolicyRule, policy_rule_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiSender, policy_sender_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiPolicyVerdict, policy_verdict_free)

#endif
