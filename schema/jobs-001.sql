-- jobs-001: the job store of ctid (lib/store.c).  One row per accepted request;
-- its message is the spool file <spool_dir>/<id>.eml.  Times are unix seconds,
-- attempt times unix milliseconds.  Applied once; PRAGMA user_version = 1 after.
CREATE TABLE jobs (
	id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
	state       TEXT NOT NULL CHECK (state IN ('queued', 'waiting-user', 'running', 'retry-wait',
	                                           'success', 'failed', 'timeout', 'cancelled', 'refused', 'expired')),
	request     TEXT NOT NULL,
	sender      TEXT NOT NULL,
	recipient   TEXT NOT NULL,
	auth_authen TEXT,
	client_addr TEXT,
	queue_id    TEXT,
	message_id  TEXT,
	mailbox     TEXT,
	created     INTEGER NOT NULL,
	due_at      INTEGER NOT NULL DEFAULT 0,
	deadline    INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	reason      TEXT,
	finished    INTEGER NOT NULL DEFAULT 0,
	notified    INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1))
);

CREATE INDEX jobs_state_due ON jobs (state, due_at);
CREATE INDEX jobs_created ON jobs (created);
CREATE INDEX jobs_sender ON jobs (sender, created);

CREATE TABLE attempts (
	job_id  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	number  INTEGER NOT NULL CHECK (number >= 1),
	started INTEGER NOT NULL,
	ended   INTEGER NOT NULL DEFAULT 0,
	outcome TEXT,
	cause   TEXT,
	call_id TEXT,
	PRIMARY KEY (job_id, number)
);
