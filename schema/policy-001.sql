-- policy-001: who may make calls (policy DB, [policy] db).
--
-- senders: identities allowed to send requests (lower-cased SMTP AUTH login
--          or mail address), with a note.
-- grants:  what a sender may use: kind 'extension' (digits) as Source, or
--          kind 'mailbox' (a pattern, "self" = its own) for Trigger: user.
-- rules:   destination rules, tried by position (1..n); the first whose
--          prefix starts the number decides; '' matches every number.
-- changed: unix seconds of the last change of the row.
-- The seeded rules deny international and premium-rate prefixes;
-- policy_open() replaces them by [policy] default_rules when that differs.
CREATE TABLE senders (
	identity TEXT PRIMARY KEY NOT NULL,
	note     TEXT NOT NULL DEFAULT '',
	changed  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE grants (
	identity TEXT NOT NULL REFERENCES senders (identity) ON DELETE CASCADE,
	kind     TEXT NOT NULL CHECK (kind IN ('extension', 'mailbox')),
	value    TEXT NOT NULL,
	changed  INTEGER NOT NULL,
	PRIMARY KEY (identity, kind, value)
) WITHOUT ROWID;

CREATE TABLE rules (
	position INTEGER PRIMARY KEY NOT NULL CHECK (position <> 0),
	verdict  TEXT NOT NULL CHECK (verdict IN ('allow', 'deny')),
	prefix   TEXT NOT NULL,
	note     TEXT NOT NULL DEFAULT '',
	changed  INTEGER NOT NULL
);

INSERT INTO rules (position, verdict, prefix, note, changed) VALUES
	(1, 'deny', '00', 'international (default)', strftime('%s', 'now')),
	(2, 'deny', '+', 'international (default)', strftime('%s', 'now')),
	(3, 'deny', '0900', 'premium rate (default)', strftime('%s', 'now')),
	(4, 'deny', '0137', 'premium rate, televoting (default)', strftime('%s', 'now')),
	(5, 'deny', '118', 'directory enquiries (default)', strftime('%s', 'now')),
	(6, 'allow', '', 'everything else (default)', strftime('%s', 'now'));
