/* jobs - ctid's live jobs: admission (SUBMIT), user-trigger firing
 * (RETRIEVED), scheduling, the call attempts on the PBX, the one terminal
 * state and the one notification of every job.
 */
#ifndef CTID_JOBS_H
#define CTID_JOBS_H

#include <glib.h>

#include "config.h"
#include "ipc.h"
#include "link.h"
#include "store.h"

typedef struct CtidJobs CtidJobs;

/* The link hooks that drive the jobs; pass the CtidJobs as their data. */
extern const LinkHooks jobs_link_hooks;

/* jobs_new - an empty job table over STORE (borrowed, like CONFIG) */
CtidJobs *jobs_new(const CtiConfig *config, CtiStore *store);
/* jobs_free - forget the in-memory state; the store keeps every live job */
void jobs_free(CtidJobs *jobs);
/* jobs_set_link - the PBX link to use (borrowed) */
void jobs_set_link(CtidJobs *jobs, CtidLink *link);
/* jobs_resume - load every live job from the store and schedule it */
gboolean jobs_resume(CtidJobs *jobs, GError **error);
/* jobs_submit - a SUBMIT frame made durable; TRUE + job id (transfer full), or
 * FALSE + error: CTI_STORE_ERROR_TEMP means "try again later", others reject */
gboolean jobs_submit(CtidJobs *jobs, const CtiIpcFrame *frame, char **job_id_out, GError **error);
/* jobs_submit_prepare - check FRAME, authorize it against the policy DB (jobs-authz.c) and
 * build its job, not yet durable (transfer full).  DIRECT_IDENTITY: the direct channel's
 * identity (direct.c), NULL for the milter's frames, whose identity is established again.
 * NULL with *KNOWN_ID_OUT set (transfer full) when FRAME's Job-Id is stored already
 * (answer OK); NULL + error like jobs_submit otherwise */
CtiJob *jobs_submit_prepare(CtidJobs *jobs, const CtiIpcFrame *frame,
                            const char *direct_identity, char **known_id_out, GError **error);
/* jobs_submit_commit - make ITEMS durable in one group commit (store_submit_batch), then
 * adopt and schedule every stored job (its items[i].job becomes NULL); a job that was not
 * stored keeps its items[i].error and stays the caller's */
void jobs_submit_commit(CtidJobs *jobs, CtiStoreSubmit *items, gsize n);
/* jobs_retrieved - the mailbox owner USER retrieved the mail of JOB_ID; fire
 * it once (TRUE also when it was fired already); FALSE + error otherwise */
gboolean jobs_retrieved(CtidJobs *jobs, const char *user, const char *job_id, const char *trigger,
                        GError **error);
/* What NOTIFIED (cti-milter saw a notification of ours) found. */
typedef enum {
	JOBS_NOTIFIED_FIRST,     /* token matched: this copy is (now durably) the notification */
	JOBS_NOTIFIED_DUPLICATE, /* token matched, another copy was confirmed: discard this one */
	JOBS_NOTIFIED_BAD,       /* unknown job or wrong token: not ours */
	JOBS_NOTIFIED_TEMP,      /* the store failed: try again later */
} JobsNotified;
/* jobs_notified - confirm COPY of the notification of JOB_ID carrying TOKEN; ERROR
 * says why for BAD and TEMP */
JobsNotified jobs_notified(CtidJobs *jobs, const char *job_id, const char *token,
                           const char *copy, GError **error);
/* jobs_status - add Jobs-<state> counts (and Notify-Unconfirmed) to REPLY */
void jobs_status(CtidJobs *jobs, CtiIpcFrame *reply);
/* jobs_purge - remove the finished jobs (and their spool files) that ended more than
 * OLDER_THAN seconds ago, but not those still live or awaiting a confirmation; how
 * many, or -1 + ERROR (jobs-purge.c) */
int jobs_purge(CtidJobs *jobs, gint64 older_than, GError **error);
/* jobs_purge_expired - jobs_purge() by [ctid] keep_finished (0: nothing), logged */
void jobs_purge_expired(CtidJobs *jobs);
/* jobs_stop - drop all timers before shutdown; jobs stay in the store as they are */
void jobs_stop(CtidJobs *jobs);

/* A logged change of JOB (transfer none): TEXT is the log line after "job=<id> ". */
typedef void (*JobsObserver)(const CtiJob *job, const char *text, gpointer data);
/* jobs_set_observer - call OBSERVER on every jobs_log line (one observer; NULL: none) */
void jobs_set_observer(CtidJobs *jobs, JobsObserver observer, gpointer data);

#endif
