/* jobs-private - state shared by jobs.c (table, scheduling, terminal states,
 * notifications) and jobs-call.c (the CSTA side of an attempt). */
#ifndef CTID_JOBS_PRIVATE_H
#define CTID_JOBS_PRIVATE_H

#include "jobs.h"
#include "request.h"

/* Where the current attempt of a job is on the PBX. */
typedef enum {
	CALL_IDLE,           /* no attempt in progress */
	CALL_MONITOR_SOURCE, /* MonitorStart(source) sent */
	CALL_MONITOR_DEST,   /* MonitorStart(destination) sent */
	CALL_DIALING,        /* MakeCall sent, no response yet */
	CALL_RINGING,        /* MakeCallResponse in: following events */
} CallPhase;

typedef struct {
	CtidJobs *jobs;   /* back pointer (transfer none) */
	CtiJob *job;      /* the stored job */
	CtiRequest *req;  /* parsed job->request */
	int monitor_time; /* seconds, request or configured default */
	guint due_id;     /* timer: due_at, deadline, link wait or notify retry */
	guint monitor_id; /* timer: Monitor-Time of the running attempt */
	CallPhase phase;
	guint generation;  /* bumped per attempt: stale PBX replies are recognised */
	char *xref_source; /* monitorCrossRefIDs */
	char *xref_dest;
	char *call_id; /* the calling connection */
	char *calling_device;
	GPtrArray *early;          /* CstaMessage* events seen before MakeCallResponse */
	gint64 answered_ms;        /* unix ms, 0 = never */
	gboolean notify_pending;   /* terminal, notification still to send */
	gboolean attempt_recorded; /* store_attempt_begin done for the current attempt */
} LiveJob;

struct CtidJobs {
	const CtiConfig *config;
	CtiStore *store;
	CtidLink *link;
	GHashTable *live; /* job id -> LiveJob */
};

/* jobs-call.c */
/* call_start - begin an attempt for LJ (link is up, job is RUNNING) */
void call_start(LiveJob *lj);
/* call_event - offer EVENT to LJ; TRUE when it belonged to LJ's call */
gboolean call_event(LiveJob *lj, const CstaMessage *event);
/* call_link_lost - the link dropped during LJ's attempt */
void call_link_lost(LiveJob *lj);
/* call_reset - forget the attempt's PBX state, stop monitors if the link is up */
void call_reset(LiveJob *lj);

/* jobs.c */
/* jobs_attempt_done - an attempt ended: OUTCOME/CAUSE go to the store; then
 * success, a retry, or the terminal STATE with REASON */
void jobs_attempt_done(LiveJob *lj, const char *outcome, const char *cause, CtiJobState state,
                       const char *reason);
/* jobs_adopt - put JOB (transfer full) in the table; NULL when its request does not parse */
LiveJob *jobs_adopt(CtidJobs *jobs, CtiJob *job);
/* jobs_schedule - set LJ's timer for its state */
void jobs_schedule(LiveJob *lj);
/* jobs_save - store_update, logging a failure */
gboolean jobs_save(LiveJob *lj);
/* jobs_now - unix seconds */
gint64 jobs_now(void);
/* jobs_log - one Postfix-style line keyed by queue id and job id */
void jobs_log(const LiveJob *lj, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
