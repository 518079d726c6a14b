-- jobs-002: forwardings set by "Action: forward-set" (daemon/action-forward.c).
-- One row per diverted device: ctid registers that device as a route point on
-- every (re)connect and routes each offered call to forward_to, until a
-- forward-clear job removes the row.  Applied once; PRAGMA user_version = 2 after.
CREATE TABLE forwardings (
	device     TEXT PRIMARY KEY NOT NULL,
	forward_to TEXT NOT NULL,
	job_id     TEXT,
	created    INTEGER NOT NULL
);
