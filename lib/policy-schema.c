/* policy-schema - the policy DB migrations, embedded so that a program needs
 * no data files at run time.  Each string is the exact text of
 * schema/policy-NNN.sql; t/check_policy.c fails when the two differ, so edit
 * the .sql file first and copy it here.  Applied by policy_open() in order,
 * one transaction each, bumping PRAGMA user_version. */
#include "policy-private.h"

const char *const policy_schema[] = {
    /* schema/policy-001.sql */
    "-- policy-001: who may make calls (policy DB, [policy] db).\n"
    "--\n"
    "-- senders: identities allowed to send requests (lower-cased SMTP AUTH login\n"
    "--          or mail address), with a note.\n"
    "-- grants:  what a sender may use: kind 'extension' (digits) as Source, or\n"
    "--          kind 'mailbox' (a pattern, \"self\" = its own) for Trigger: user.\n"
    "-- rules:   destination rules, tried by position (1..n); the first whose\n"
    "--          prefix starts the number decides; '' matches every number.\n"
    "-- changed: unix seconds of the last change of the row.\n"
    "-- The seeded rules deny international and premium-rate prefixes;\n"
    "-- policy_open() replaces them by [policy] default_rules when that differs.\n"
    "CREATE TABLE senders (\n"
    "\tidentity TEXT PRIMARY KEY NOT NULL,\n"
    "\tnote     TEXT NOT NULL DEFAULT '',\n"
    "\tchanged  INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "CREATE TABLE grants (\n"
    "\tidentity TEXT NOT NULL REFERENCES senders (identity) ON DELETE CASCADE,\n"
    "\tkind     TEXT NOT NULL CHECK (kind IN ('extension', 'mailbox')),\n"
    "\tvalue    TEXT NOT NULL,\n"
    "\tchanged  INTEGER NOT NULL,\n"
    "\tPRIMARY KEY (identity, kind, value)\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "CREATE TABLE rules (\n"
    "\tposition INTEGER PRIMARY KEY NOT NULL CHECK (position <> 0),\n"
    "\tverdict  TEXT NOT NULL CHECK (verdict IN ('allow', 'deny')),\n"
    "\tprefix   TEXT NOT NULL,\n"
    "\tnote     TEXT NOT NULL DEFAULT '',\n"
    "\tchanged  INTEGER NOT NULL\n"
    ");\n"
    "\n"
    "INSERT INTO rules (position, verdict, prefix, note, changed) VALUES\n"
    "\t(1, 'deny', '00', 'international (default)', strftime('%s', 'now')),\n"
    "\t(2, 'deny', '+', 'international (default)', strftime('%s', 'now')),\n"
    "\t(3, 'deny', '0900', 'premium rate (default)', strftime('%s', 'now')),\n"
    "\t(4, 'deny', '0137', 'premium rate, televoting (default)', strftime('%s', 'now')),\n"
    "\t(5, 'deny', '118', 'directory enquiries (default)', strftime('%s', 'now')),\n"
    "\t(6, 'allow', '', 'everything else (default)', strftime('%s', 'now'));\n",
};

const guint policy_schema_count = G_N_ELEMENTS(policy_schema);
