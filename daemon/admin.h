/* admin - ctid's operator verbs on the control socket (ctictl): JOBS, JOB,
 * CANCEL, RETRY, STATS, and the frames WATCH streams and a direct-channel
 * caller waits for.  Each handler answers one request frame with one reply.
 */
#ifndef CTID_ADMIN_H
#define CTID_ADMIN_H

#include <glib.h>

#include "ipc.h"
#include "jobs.h"
#include "store.h"

/* admin_jobs - JOBS [State] [Sender] [Age|Since] [Limit]: OK + one record per job in the body */
CtiIpcFrame *admin_jobs(CtidJobs *jobs, const CtiIpcFrame *req);
/* admin_job - JOB Job-Id: OK + the job's fields, its Attempt lines and its Request */
CtiIpcFrame *admin_job(CtidJobs *jobs, const CtiIpcFrame *req);
/* admin_cancel - CANCEL Job-Id [Reason]: a live job ends as cancelled (one notification) */
CtiIpcFrame *admin_cancel(CtidJobs *jobs, const CtiIpcFrame *req);
/* admin_retry - RETRY Job-Id: a failed/timeout/cancelled job is queued again for one more attempt
 */
CtiIpcFrame *admin_retry(CtidJobs *jobs, const CtiIpcFrame *req);
/* admin_stats - STATS [Age|Since]: jobs by outcome, attempts, time to answer (mean, p95) */
CtiIpcFrame *admin_stats(CtidJobs *jobs, const CtiIpcFrame *req);
/* admin_purge - PURGE [Older-Than: seconds]: remove finished jobs (default: keep_finished) */
CtiIpcFrame *admin_purge(CtidJobs *jobs, const CtiIpcFrame *req);
/* admin_status_extra - add Link-Uptime to a STATUS reply that has Link and Link-Since */
void admin_status_extra(CtiIpcFrame *reply);
/* admin_event_frame - the EVENT frame WATCH sends for a change of JOB described by TEXT (transfer
 * full) */
CtiIpcFrame *admin_event_frame(const CtiJob *job, const char *text);
/* admin_result_frame - the RESULT frame for a job that reached its terminal state (transfer full)
 */
CtiIpcFrame *admin_result_frame(const CtiJob *job);

#endif
