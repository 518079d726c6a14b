-- jobs-003: the notification token (daemon/jobs.c, daemon/server.c).  ctid puts
-- "X-CTI-Notification: <job> <token> <copy>" on a job's notification; cti-milter
-- asks ctid (NOTIFIED) when Postfix picks that mail up, and the first copy whose
-- token matches sets notified = 1 and notify_copy: that copy is confirmed again
-- if Postfix offers it again, any other copy (sent again after a restart) is
-- discarded.  NULL until a notification was handed to sendmail / confirmed.
-- Applied once; PRAGMA user_version = 3 after.
ALTER TABLE jobs ADD COLUMN notify_token TEXT;
ALTER TABLE jobs ADD COLUMN notify_copy TEXT;
