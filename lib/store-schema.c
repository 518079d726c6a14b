/* store-schema - the job store's schema migrations, embedded in the library.
 *
 * The source of truth is schema/jobs-NNN.sql; each text below mirrors one file
 * byte for byte (t/check_store.c compares them), so a change is made in the .sql
 * file and copied here.  store_open() applies those newer than PRAGMA
 * user_version, each in its own transaction.  Static data only: nothing fails.
 */
#include "store.h"

static const CtiStoreMigration store_migrations[] = {
    {1, "jobs-001.sql",
     "-- jobs-001: the job store of ctid (lib/store.c).  One row per accepted request;\n"
     "-- its message is the spool file <spool_dir>/<id>.eml.  Times are unix seconds,\n"
     "-- attempt times unix milliseconds.  Applied once; PRAGMA user_version = 1 after.\n"
     "CREATE TABLE jobs (\n"
     "\tid          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32 AND id NOT GLOB "
     "'*[^0-9a-f]*'),\n"
     "\tstate       TEXT NOT NULL CHECK (state IN ('queued', 'waiting-user', 'running', "
     "'retry-wait',\n"
     "\t                                           'success', 'failed', 'timeout', 'cancelled', "
     "'refused', 'expired')),\n"
     "\trequest     TEXT NOT NULL,\n"
     "\tsender      TEXT NOT NULL,\n"
     "\trecipient   TEXT NOT NULL,\n"
     "\tauth_authen TEXT,\n"
     "\tclient_addr TEXT,\n"
     "\tqueue_id    TEXT,\n"
     "\tmessage_id  TEXT,\n"
     "\tmailbox     TEXT,\n"
     "\tcreated     INTEGER NOT NULL,\n"
     "\tdue_at      INTEGER NOT NULL DEFAULT 0,\n"
     "\tdeadline    INTEGER NOT NULL DEFAULT 0,\n"
     "\tattempts    INTEGER NOT NULL DEFAULT 0,\n"
     "\treason      TEXT,\n"
     "\tfinished    INTEGER NOT NULL DEFAULT 0,\n"
     "\tnotified    INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1))\n"
     ");\n"
     "\n"
     "CREATE INDEX jobs_state_due ON jobs (state, due_at);\n"
     "CREATE INDEX jobs_created ON jobs (created);\n"
     "CREATE INDEX jobs_sender ON jobs (sender, created);\n"
     "\n"
     "CREATE TABLE attempts (\n"
     "\tjob_id  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,\n"
     "\tnumber  INTEGER NOT NULL CHECK (number >= 1),\n"
     "\tstarted INTEGER NOT NULL,\n"
     "\tended   INTEGER NOT NULL DEFAULT 0,\n"
     "\toutcome TEXT,\n"
     "\tcause   TEXT,\n"
     "\tcall_id TEXT,\n"
     "\tPRIMARY KEY (job_id, number)\n"
     ");\n"},
    {2, "jobs-002.sql",
     "-- jobs-002: forwardings set by \"Action: forward-set\" (daemon/action-forward.c).\n"
     "-- One row per diverted device: ctid registers that device as a route point on\n"
     "-- every (re)connect and routes each offered call to forward_to, until a\n"
     "-- forward-clear job removes the row.  Applied once; PRAGMA user_version = 2 after.\n"
     "CREATE TABLE forwardings (\n"
     "\tdevice     TEXT PRIMARY KEY NOT NULL,\n"
     "\tforward_to TEXT NOT NULL,\n"
     "\tjob_id     TEXT,\n"
     "\tcreated    INTEGER NOT NULL\n"
     ");\n"},
    {3, "jobs-003.sql",
     "-- jobs-003: the notification token (daemon/jobs.c, daemon/server.c).  ctid puts\n"
     "-- \"X-CTI-Notification: <job> <token> <copy>\" on a job's notification; cti-milter\n"
     "-- asks ctid (NOTIFIED) when Postfix picks that mail up, and the first copy whose\n"
     "-- token matches sets notified = 1 and notify_copy: that copy is confirmed again\n"
     "-- if Postfix offers it again, any other copy (sent again after a restart) is\n"
     "-- discarded.  NULL until a notification was handed to sendmail / confirmed.\n"
     "-- Applied once; PRAGMA user_version = 3 after.\n"
     "ALTER TABLE jobs ADD COLUMN notify_token TEXT;\n"
     "ALTER TABLE jobs ADD COLUMN notify_copy TEXT;\n"},
    {4, "jobs-004.sql",
     "-- jobs-004: the rate key of each accepted request (daemon/jobs-limits.c): the\n"
     "-- sender key its rate limits counted it under (the milter's Identity, else the\n"
     "-- AUTH login, else the envelope sender, lower-cased).  At start-up ctid counts\n"
     "-- the requests of the last hour again from here, so a restart does not reset\n"
     "-- the rate limits.  NULL for a job stored before this version (ctid then counts\n"
     "-- it under its AUTH login or envelope sender).\n"
     "-- Applied once; PRAGMA user_version = 4 after.\n"
     "ALTER TABLE jobs ADD COLUMN rate_key TEXT;\n"},
    {5, "jobs-005.sql",
     "-- jobs-005: the terminal state 'dry-run' (daemon/jobs.c): a Dry-Run: yes request\n"
     "-- or a mail to an explain address ends there, not in 'success', so that\n"
     "-- \"ctictl stats\" and \"ctictl jobs list\" never count an explanation as a call\n"
     "-- that was made.  SQLite cannot change a CHECK constraint in place: the jobs\n"
     "-- table is rebuilt with the same columns and indexes.  The attempts are kept\n"
     "-- aside first, because dropping the old table deletes them (ON DELETE CASCADE).\n"
     "-- Earlier dry runs stay 'success': the store never recorded which they were.\n"
     "-- Applied once; PRAGMA user_version = 5 after.\n"
     "CREATE TEMP TABLE attempts_kept AS SELECT * FROM attempts;\n"
     "CREATE TABLE jobs_new (\n"
     "\tid           TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),\n"
     "\tstate        TEXT NOT NULL CHECK (state IN ('queued', 'waiting-user', 'running', 'retry-wait',\n"
     "\t                                            'success', 'failed', 'timeout', 'cancelled', 'refused', 'expired',\n"
     "\t                                            'dry-run')),\n"
     "\trequest      TEXT NOT NULL,\n"
     "\tsender       TEXT NOT NULL,\n"
     "\trecipient    TEXT NOT NULL,\n"
     "\tauth_authen  TEXT,\n"
     "\tclient_addr  TEXT,\n"
     "\tqueue_id     TEXT,\n"
     "\tmessage_id   TEXT,\n"
     "\tmailbox      TEXT,\n"
     "\tcreated      INTEGER NOT NULL,\n"
     "\tdue_at       INTEGER NOT NULL DEFAULT 0,\n"
     "\tdeadline     INTEGER NOT NULL DEFAULT 0,\n"
     "\tattempts     INTEGER NOT NULL DEFAULT 0,\n"
     "\treason       TEXT,\n"
     "\tfinished     INTEGER NOT NULL DEFAULT 0,\n"
     "\tnotified     INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1)),\n"
     "\tnotify_token TEXT,\n"
     "\tnotify_copy  TEXT,\n"
     "\trate_key     TEXT\n"
     ");\n"
     "INSERT INTO jobs_new (id, state, request, sender, recipient, auth_authen, client_addr, queue_id,\n"
     "                      message_id, mailbox, created, due_at, deadline, attempts, reason, finished,\n"
     "                      notified, notify_token, notify_copy, rate_key)\n"
     "\tSELECT id, state, request, sender, recipient, auth_authen, client_addr, queue_id,\n"
     "\t       message_id, mailbox, created, due_at, deadline, attempts, reason, finished,\n"
     "\t       notified, notify_token, notify_copy, rate_key FROM jobs;\n"
     "DROP TABLE jobs;\n"
     "ALTER TABLE jobs_new RENAME TO jobs;\n"
     "CREATE INDEX jobs_state_due ON jobs (state, due_at);\n"
     "CREATE INDEX jobs_created ON jobs (created);\n"
     "CREATE INDEX jobs_sender ON jobs (sender, created);\n"
     "INSERT INTO attempts SELECT * FROM attempts_kept;\n"
     "DROP TABLE attempts_kept;\n"},
};

/* store_schema_migrations - the embedded migrations in version order; *N_OUT their count */
const CtiStoreMigration *store_schema_migrations(gsize *n_out)
{
	*n_out = G_N_ELEMENTS(store_migrations);
	return store_migrations;
}
