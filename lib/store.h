/* store - the durable job store: SQLite (WAL) for jobs and attempts, and one
 * spool file per accepted message.
 *
 * store_submit() is the durability point: the message is written to
 * spool_dir/<job-id>.eml and fsync'd (file and directory), then the job row is
 * committed with synchronous=FULL.  Only after it returns TRUE may the milter
 * answer 250.  Every other call is one short transaction.  A store is used by
 * one thread; ctid owns the only writer, ctictl opens the DB read-mostly.
 * Errors are GErrors in CTI_STORE_ERROR; CTI_STORE_ERROR_TEMP (disk full, DB
 * locked, I/O) is a temporary failure, anything else is permanent.
 */
#ifndef MAILCTI_STORE_H
#define MAILCTI_STORE_H

#include <glib.h>
#include "request.h"

typedef enum {
	/* live states */
	CTI_JOB_QUEUED,        /* due now or at due_at */
	CTI_JOB_WAITING_USER,  /* Trigger: user, waiting for the mailbox owner */
	CTI_JOB_RUNNING,       /* an attempt is in progress on the PBX */
	CTI_JOB_RETRY_WAIT,    /* between attempts, due at due_at */
	/* terminal states: exactly one per job */
	CTI_JOB_SUCCESS,
	CTI_JOB_FAILED,
	CTI_JOB_TIMEOUT,
	CTI_JOB_CANCELLED,
	CTI_JOB_REFUSED,
	CTI_JOB_EXPIRED,
	CTI_JOB_DRY_RUN, /* explained, nothing dialled (Dry-Run: yes, an explain address) */
} CtiJobState;
#define CTI_JOB_LAST CTI_JOB_DRY_RUN /* the last state, for arrays indexed by state */

#define CTI_JOB_ID_LEN 32      /* 128 random bits, lower-case hex */

typedef struct {
	char *id;                  /* CTI_JOB_ID_LEN hex chars */
	CtiJobState state;
	char *request;             /* canonical request text (request_format) */
	char *sender;              /* envelope sender, "" for <> */
	char *recipient;           /* the envelope recipient that carried the request */
	char *auth_authen;         /* SMTP AUTH identity or NULL */
	char *client_addr;         /* SMTP client address or NULL */
	char *queue_id;            /* Postfix queue id or NULL */
	char *message_id;          /* the request's Message-ID or NULL */
	char *mailbox;             /* Trigger: user owner or NULL */
	gint64 created;            /* unix seconds */
	gint64 due_at;             /* next action time, unix seconds */
	gint64 deadline;           /* monitor-time / expiry bound, unix seconds, 0 = none */
	int attempts;              /* attempts started */
	char *reason;              /* terminal reason text or NULL */
	gint64 finished;           /* unix seconds, 0 while live */
	gboolean notified;         /* the notification reached Postfix (confirmed: see notify_token) */
	char *notify_token;        /* token of the notification handed to sendmail, NULL before */
	char *notify_copy;         /* the copy of it cti-milter confirmed, NULL before */
	char *rate_key;            /* the sender key rate limits counted it under, or NULL */
} CtiJob;

typedef struct {
	int number;                /* 1, 2, ... */
	gint64 started;            /* unix milliseconds */
	gint64 ended;              /* unix milliseconds, 0 while running */
	char *outcome;             /* "answered", "busy", "no-answer", "timeout", ... or NULL */
	char *cause;               /* CSTA cause or error text, or NULL */
	char *call_id;             /* PBX call id, for resynchronisation after a restart */
} CtiAttempt;

#define CTI_STORE_ERROR (store_error_quark())
typedef enum {
	CTI_STORE_ERROR_TEMP,      /* retry later: disk full, locked, I/O */
	CTI_STORE_ERROR_PERM,      /* bad data, unknown job, wrong state */
	CTI_STORE_ERROR_NOT_FOUND,
} CtiStoreError;
GQuark store_error_quark(void);
/* store_perm_error - set a CTI_STORE_ERROR_PERM error from FMT; returns FALSE */
gboolean store_perm_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

typedef struct CtiStore CtiStore;

/* store_open - open or create DB_PATH (WAL, migrations applied) and SPOOL_DIR */
CtiStore *store_open(const char *db_path, const char *spool_dir, GError **error);
/* store_close - close; NULL is a no-op */
void store_close(CtiStore *store);

/* store_new_job_id - 128 random bits as CTI_JOB_ID_LEN hex chars (transfer full) */
char *store_new_job_id(void);

/* store_submit - make MESSAGE durable and commit JOB (job->id set by caller or
 * generated if NULL); TRUE only when both are on disk */
gboolean store_submit(CtiStore *store, CtiJob *job, const void *message, gsize len, GError **error);
/* One job of a group commit (store_submit_batch): the caller fills JOB, MESSAGE, LEN;
 * ERROR is set (transfer full, caller frees) when that job was not stored. */
typedef struct {
	CtiJob *job;
	const void *message;
	gsize len;
	GError *error;
} CtiStoreSubmit;

/* store_submit_batch - store_submit() for N jobs sharing one directory fsync and one
 * SQLite transaction; returns how many are durable (those with ERROR NULL).  A job
 * with a bad or duplicate id fails alone (PERM); a disk or DB failure fails them all */
gsize store_submit_batch(CtiStore *store, CtiStoreSubmit *items, gsize n);
/* store_get - one job (transfer full) or NULL + CTI_STORE_ERROR_NOT_FOUND */
CtiJob *store_get(CtiStore *store, const char *id, GError **error);
/* store_update - write every mutable field of JOB (state, due_at, deadline, attempts, reason, finished, notified, notify_token, notify_copy) */
gboolean store_update(CtiStore *store, const CtiJob *job, GError **error);
/* store_list_live - all jobs not in a terminal state, oldest first (transfer full: GPtrArray of CtiJob) */
GPtrArray *store_list_live(CtiStore *store, GError **error);
/* store_list - jobs filtered by STATE (-1 = any), SENDER (NULL = any) and MIN_CREATED (0 = any), newest first, at most LIMIT */
GPtrArray *store_list(CtiStore *store, int state, const char *sender, gint64 min_created, int limit, GError **error);
/* store_recent_keys - for every job created at or after SINCE, oldest first: FN(rate key
 * (NULL for a job stored before jobs-004), AUTH login, envelope sender, created, DATA) */
gboolean store_recent_keys(CtiStore *store, gint64 since,
                           void (*fn)(const char *rate_key, const char *auth_authen,
                                      const char *sender, gint64 created, gpointer data),
                           gpointer data, GError **error);
/* store_recent_notices - for every job whose notification was sent and that finished at or
 * after SINCE, oldest first: FN(canonical request text, envelope sender, finished, DATA) */
gboolean store_recent_notices(CtiStore *store, gint64 since,
                              void (*fn)(const char *request, const char *sender, gint64 finished,
                                         gpointer data),
                              gpointer data, GError **error);
/* store_count_states - COUNTS[state] = how many jobs are in each state (COUNTS has CTI_JOB_LAST + 1 slots) */
gboolean store_count_states(CtiStore *store, int *counts, GError **error);
/* store_unconfirmed - terminal jobs whose notification was sent but never confirmed by
 * cti-milter (notify_confirm): their number, and the finish time of the oldest (0 if none) */
gboolean store_unconfirmed(CtiStore *store, int *count, gint64 *oldest_finished, GError **error);
/* store_attempt_begin - record attempt NUMBER of JOB as started now */
gboolean store_attempt_begin(CtiStore *store, const char *job_id, int number, const char *call_id, GError **error);
/* store_attempt_end - record how attempt NUMBER ended */
gboolean store_attempt_end(CtiStore *store, const char *job_id, int number, const char *outcome, const char *cause, GError **error);
/* store_attempts - the attempt history of a job, in order (transfer full: GPtrArray of CtiAttempt) */
GPtrArray *store_attempts(CtiStore *store, const char *job_id, GError **error);
/* a job store_purge_finished must keep although it could go */
typedef gboolean (*StorePurgeKeep)(const char *job_id, gpointer data);
/* store_purge_finished - remove at most LIMIT finished jobs (rows, attempts, spool files)
 * that ended before BEFORE (unix seconds), except those whose notification awaits its
 * confirmation and those KEEP (may be NULL) names; how many were removed, or -1 + ERROR */
int store_purge_finished(CtiStore *store, gint64 before, int limit, StorePurgeKeep keep,
                         gpointer data, GError **error);
/* store_message_path - spool file path of a job's message (transfer full) */
char *store_message_path(CtiStore *store, const char *job_id);
/* store_remove_message - delete the spool file once the job is terminal and notified */
gboolean store_remove_message(CtiStore *store, const char *job_id, GError **error);

/* A forwarding set by a forward-set job (schema jobs-002). */
typedef struct {
	char *device;              /* the diverted number */
	char *forward_to;          /* where its calls go */
	char *job_id;              /* the job that set it, or NULL */
	gint64 created;            /* unix seconds */
} CtiForward;

/* store_forward_set - record (or replace) the forwarding of DEVICE to FORWARD_TO */
gboolean store_forward_set(CtiStore *store, const char *device, const char *forward_to, const char *job_id, GError **error);
/* store_forward_clear - remove DEVICE's forwarding; FALSE + CTI_STORE_ERROR_NOT_FOUND when none */
gboolean store_forward_clear(CtiStore *store, const char *device, GError **error);
/* store_forwards - every forwarding, by device (transfer full: GPtrArray of CtiForward) */
GPtrArray *store_forwards(CtiStore *store, GError **error);
/* forward_free - free a forwarding; NULL is a no-op */
void forward_free(CtiForward *fwd);

/* job_state_name / job_state_from_name - "queued", "waiting-user", ..., "expired" */
const char *job_state_name(CtiJobState state);
int job_state_from_name(const char *name);
/* job_state_is_terminal */
gboolean job_state_is_terminal(CtiJobState state);

/* store_job_id_valid - TRUE if ID is CTI_JOB_ID_LEN lower-case hex chars (safe in a path) */
gboolean store_job_id_valid(const char *id);

/* One schema migration: schema/jobs-NNN.sql, embedded by store-schema.c. */
typedef struct {
	int version;               /* NNN; PRAGMA user_version after it is applied */
	const char *name;          /* "jobs-001.sql" */
	const char *sql;           /* the file's text */
} CtiStoreMigration;
/* store_schema_migrations - the embedded migrations in version order; *N_OUT their count */
const CtiStoreMigration *store_schema_migrations(gsize *n_out);

/* job_free - free a job; NULL is a no-op */
void job_free(CtiJob *job);
void attempt_free(CtiAttempt *attempt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiJob, job_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiAttempt, attempt_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiForward, forward_free)

#endif
