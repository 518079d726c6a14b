-- jobs-004: the rate key of each accepted request (daemon/jobs-limits.c): the
-- sender key its rate limits counted it under (the milter's Identity, else the
-- AUTH login, else the envelope sender, lower-cased).  At start-up ctid counts
-- the requests of the last hour again from here, so a restart does not reset
-- the rate limits.  NULL for a job stored before this version (ctid then counts
-- it under its AUTH login or envelope sender).
-- Applied once; PRAGMA user_version = 4 after.
ALTER TABLE jobs ADD COLUMN rate_key TEXT;
