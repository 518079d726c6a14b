-- jobs-005: the terminal state 'dry-run' (daemon/jobs.c): a Dry-Run: yes request
-- or a mail to an explain address ends there, not in 'success', so that
-- "ctictl stats" and "ctictl jobs list" never count an explanation as a call
-- that was made.  SQLite cannot change a CHECK constraint in place: the jobs
-- table is rebuilt with the same columns and indexes.  The attempts are kept
-- aside first, because dropping the old table deletes them (ON DELETE CASCADE).
-- Earlier dry runs stay 'success': the store never recorded which they were.
-- Applied once; PRAGMA user_version = 5 after.
CREATE TEMP TABLE attempts_kept AS SELECT * FROM attempts;
CREATE TABLE jobs_new (
	id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
	state        TEXT NOT NULL CHECK (state IN ('queued', 'waiting-user', 'running', 'retry-wait',
	                                            'success', 'failed', 'timeout', 'cancelled', 'refused', 'expired',
	                                            'dry-run')),
	request      TEXT NOT NULL,
	sender       TEXT NOT NULL,
	recipient    TEXT NOT NULL,
	auth_authen  TEXT,
	client_addr  TEXT,
	queue_id     TEXT,
	message_id   TEXT,
	mailbox      TEXT,
	created      INTEGER NOT NULL,
	due_at       INTEGER NOT NULL DEFAULT 0,
	deadline     INTEGER NOT NULL DEFAULT 0,
	attempts     INTEGER NOT NULL DEFAULT 0,
	reason       TEXT,
	finished     INTEGER NOT NULL DEFAULT 0,
	notified     INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1)),
	notify_token TEXT,
	notify_copy  TEXT,
	rate_key     TEXT
);
INSERT INTO jobs_new (id, state, request, sender, recipient, auth_authen, client_addr, queue_id,
                      message_id, mailbox, created, due_at, deadline, attempts, reason, finished,
                      notified, notify_token, notify_copy, rate_key)
	SELECT id, state, request, sender, recipient, auth_authen, client_addr, queue_id,
	       message_id, mailbox, created, due_at, deadline, attempts, reason, finished,
	       notified, notify_token, notify_copy, rate_key FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_state_due ON jobs (state, due_at);
CREATE INDEX jobs_created ON jobs (created);
CREATE INDEX jobs_sender ON jobs (sender, created);
INSERT INTO attempts SELECT * FROM attempts_kept;
DROP TABLE attempts_kept;
