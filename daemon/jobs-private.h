/* jobs-private - state shared by jobs.c (table, scheduling, terminal states,
 * notifications) and jobs-call.c (the CSTA side of an attempt). */
#ifndef CTID_JOBS_PRIVATE_H
#define CTID_JOBS_PRIVATE_H

#include "jobs.h"
#include "media-plan.h"
#include "ratelimit.h"
#include "request.h"
#include "timers.h"

/* Where the current attempt of a job is on the PBX. */
typedef enum {
	CALL_IDLE,           /* no attempt in progress */
	CALL_MONITOR_SOURCE, /* MonitorStart(source) sent */
	CALL_MONITOR_DEST,   /* MonitorStart(destination) sent */
	CALL_DIALING,        /* MakeCall sent, no response yet */
	CALL_RINGING,        /* MakeCall/ConsultationCall response in: following events */
	CALL_WAIT_IDLE,      /* Wait-For-Idle: destination busy, watching for its release */
	CALL_IDLE_CHECK,     /* Wait-For-Idle: SnapshotDevice(destination) sent */
	CALL_SNAPSHOT,       /* conference/intrude: SnapshotDevice(source) sent */
	CALL_CONSULTING,     /* ConsultationCall (native) or MakeCall from a line sent */
	CALL_JOINING,        /* SingleStepConferenceCall of a server line sent */
	CALL_CONFERENCING,   /* ConferenceCall sent */
	CALL_INTRUDED,       /* intrude: Source talks with Destination, the other party held */
	CALL_RETRIEVING,     /* intrude: RetrieveCall sent */
	CALL_REGISTERING,    /* forward-set/-clear: RouteRegister(Cancel) sent */
	CALL_RESYNC,         /* the link dropped with a call placed: SnapshotDevice after reconnect */
	CALL_SCENARIO,       /* connect answered: the media plan runs (jobs-scenario.c) */
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
	gboolean no_retry;         /* the attempt ended in a way a retry cannot change */
	char *held_call_id;        /* conference/intrude: Source's call in progress */
	char *busy_call_id;        /* Wait-For-Idle: our call that found the destination busy */
	char *line_call_id;        /* server lines: the first line's connection in Source's call */
	char *held_party;          /* server-lines intrude: the other party, held by HoldCall */
	CallPhase resync_from;     /* CALL_RESYNC: the phase the link dropped in */
	CtiMediaPlan *plan;        /* jobs-scenario.c: converted media and steps, NULL = none */
	gboolean plan_built;       /* the plan was built (it may be NULL: no media) */
	guint plan_next;           /* the next plan step */
	guint plan_played;         /* times the running Play step has been played so far */
	guint plan_timer;          /* timer: the running play or pause */
	char *answer_device;       /* the device that answered (PlayMessage overConnection) */
	GPtrArray *step_lines;     /* "Step:" lines for the notification (char*) */
	char *active_key;          /* jobs-limits.c: the key it is counted under while unfinished */
} LiveJob;

typedef struct CtidForwards CtidForwards;

struct CtidJobs {
	const CtiConfig *config;
	CtiStore *store;
	CtidLink *link;
	GHashTable *live; /* job id -> LiveJob */
	CtidForwards *forwards; /* action-forward.c: route registrations */
	JobsObserver observer; /* admin.c: WATCH streams and direct-channel waiters */
	CtiRateLog *rates;     /* jobs-limits.c: accepted submissions per sender key, last hour */
	CtiRateLog *notices;   /* jobs-limits.c: notifications per address, last hour */
	GHashTable *active;    /* jobs-limits.c: sender or global key -> unfinished live jobs (guint) */
	guint unconfirmed_id;  /* jobs.c: the periodic check for unconfirmed notifications */
	gpointer observer_data;
};

/* jobs.c */
/* jobs_confirm_notifications - TRUE when a notification counts once cti-milter confirmed it */
gboolean jobs_confirm_notifications(const CtidJobs *jobs);

/* CallReq - what a PBX request of an attempt carries, so that a late reply is
 * recognised as stale (owned by the link until its destroy notify) */
typedef struct {
	CtidJobs *jobs;
	char *job_id;
	guint generation;
	CallPhase phase; /* the phase the request was sent in */
} CallReq;

/* jobs-call.c */
/* call_start - begin an attempt for LJ (link is up, job is RUNNING) */
void call_start(LiveJob *lj);
/* call_event - offer EVENT to LJ; TRUE when it belonged to LJ's call */
gboolean call_event(LiveJob *lj, const CstaMessage *event);
/* call_link_lost - the link dropped during LJ's attempt */
void call_link_lost(LiveJob *lj);
/* call_reset - forget the attempt's PBX state, stop monitors if the link is up */
void call_reset(LiveJob *lj);
/* call_resync - the link is up again: pick LJ's call up where it really is */
void call_resync(LiveJob *lj);
/* call_adopt - after a restart: LJ's attempt placed CALL_ID at STARTED_MS (unix ms);
 * follow it from the next link up; FALSE when it cannot be followed (no call id,
 * not a connect) */
gboolean call_adopt(LiveJob *lj, const char *call_id, gint64 started_ms);

/* call_send - send XML (transfer full) as the step PHASE of LJ's attempt; FALSE when
 * it could not be sent (the attempt has then ended and LJ may be freed) */
gboolean call_send(LiveJob *lj, CallPhase phase, char *xml, LinkReplyFunc cb);
/* call_req_job - the job a reply's CallReq names, or NULL when that step is over */
LiveJob *call_req_job(const CallReq *r);
/* call_cleanup - send XML (transfer full) whose reply does not matter */
void call_cleanup(CtidJobs *jobs, char *xml);
/* call_fail_reply - end LJ's attempt because WHAT got the error REPLY or ERROR */
void call_fail_reply(LiveJob *lj, const char *what, const CstaMessage *reply,
                     const GError *error);
/* call_ringing - a call CALL_ID was placed from DEVICE: record it, replay early events */
void call_ringing(LiveJob *lj, CallReq *r, const char *call_id, const char *device);
/* call_lines - the configured server lines (transfer full, NULL-terminated; may be empty) */
char **call_lines(const CtiConfig *config);
/* call_ns - the namespace for requests on LJ's link */
const char *call_ns(const LiveJob *lj);

/* action-conference.c: conference and intrude */
/* conf_start - after MonitorStart(source): find Source's call and go on */
void conf_start(LiveJob *lj);
/* conf_answered - the added party BY answered on LJ->call_id */
void conf_answered(LiveJob *lj, const char *by);
/* conf_intruded_event - an event while LJ is CALL_INTRUDED; TRUE when it was LJ's */
gboolean conf_intruded_event(LiveJob *lj, const CstaMessage *ev);
/* conf_release - the attempt ends without success: give Source its held call back */
void conf_release(LiveJob *lj);

/* action-forward.c: forward-set and forward-clear */
/* forwards_new - the route registrations of JOBS (none yet) */
CtidForwards *forwards_new(CtidJobs *jobs);
/* forwards_free - forget; NULL is a no-op */
void forwards_free(CtidForwards *fw);
/* forwards_link_up - register every stored forwarding again (the link came up) */
void forwards_link_up(CtidForwards *fw);
/* forwards_link_down - every registration is gone with the session */
void forwards_link_down(CtidForwards *fw);
/* forwards_event - a RouteRequest/RouteEnd/RouteUsed or an event of a forwarded call
 * on a server line; TRUE if taken */
gboolean forwards_event(CtidForwards *fw, const CstaMessage *ev);
/* forwards_bridge_add - a server-lines conference is up: LINE_CALL (line 1 in
 * Source's call) and OUT_CALL (line 2 to Destination) end together */
void forwards_bridge_add(CtidForwards *fw, const char *line_call, const char *out_call);
/* forward_start - run LJ's forward-set / forward-clear attempt */
void forward_start(LiveJob *lj);

/* jobs-scenario.c: the scenario (or the media parts) on an answered connect */
/* jobs_scenario_prepare - build LJ's media plan once; FALSE when the media are unusable
 * (the attempt has then ended and LJ may be freed) */
gboolean jobs_scenario_prepare(LiveJob *lj);
/* jobs_scenario_answered - BY answered LJ's connect: run the plan; FALSE when there is none */
gboolean jobs_scenario_answered(LiveJob *lj, const char *by);
/* jobs_scenario_event - an event while LJ is CALL_SCENARIO; TRUE when it was LJ's */
gboolean jobs_scenario_event(LiveJob *lj, const CstaMessage *ev);
/* jobs_scenario_monitor_time - Monitor-Time ran out during the scenario: end the attempt */
void jobs_scenario_monitor_time(LiveJob *lj);
/* jobs_scenario_reset - stop the running step's timer (the attempt is over) */
void jobs_scenario_reset(LiveJob *lj);
/* jobs_scenario_free - what LiveJob holds for the scenario; the media files go with the job */
void jobs_scenario_free(LiveJob *lj);

/* jobs-limits.c */
/* jobs_rate_admit - may the sender of KEY submit one more? FALSE + CTI_RATELIMIT_ERROR */
gboolean jobs_rate_admit(CtidJobs *jobs, const char *key, GError **error);
/* jobs_rate_count - a submission of KEY was accepted: count it */
void jobs_rate_count(CtidJobs *jobs, const char *key);
/* jobs_active_sync - count LJ among the unfinished jobs of its key, or stop counting it,
 * as its state now says; call after every change between unfinished (queued, running,
 * retry-wait) and not (waiting for its reader, terminal), and with GONE when LJ leaves
 * the live table */
void jobs_active_sync(LiveJob *lj, gboolean gone);
/* jobs_rate_key - the key a submission of the canonical IDENTITY is counted under: the
 * identity, or for a dry run "explain:" and the identity, a budget of its own (transfer full) */
char *jobs_rate_key(const char *identity, gboolean dry_run);

/* jobs-authz.c */
/* jobs_authorize - the canonical identity FRAME's REQ may run for (transfer full), or NULL
 * + CTI_STORE_ERROR_PERM (refused) / _TEMP (policy DB); DIRECT_IDENTITY as
 * jobs_submit_prepare */
char *jobs_authorize(CtidJobs *jobs, const CtiIpcFrame *frame, const CtiRequest *req,
                     const char *direct_identity, GError **error);
/* jobs_reauthorize - LJ, fired by its reader, may still run for the identity it was
 * accepted for; FALSE + error as jobs_authorize */
gboolean jobs_reauthorize(LiveJob *lj, GError **error);
/* jobs_rate_resume - count again the submissions of the last hour the store holds */
gboolean jobs_rate_resume(CtidJobs *jobs, GError **error);
/* jobs_notify_suppressed - why LJ's notification must not go out (HEADERS: the request
 * mail's header block, may be NULL), or NULL to send it */
const char *jobs_notify_suppressed(LiveJob *lj, const char *headers);
/* jobs_notify_count - LJ's notification went out: count it against the budget */
void jobs_notify_count(LiveJob *lj);

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
/* admin.c */
/* admin_dry_run - mail the explanation of the dry-run job LJ (lib/explain.c) to its
 * notification address; TRUE when handed to sendmail (it replaces the notification) */
gboolean admin_dry_run(LiveJob *lj);

/* jobs_finish - the one terminal STATE of LJ with REASON, notification included; frees LJ */
void jobs_finish(LiveJob *lj, CtiJobState state, const char *reason);
/* jobs_now - unix seconds */
gint64 jobs_now(void);
/* jobs_log - one Postfix-style line keyed by queue id and job id */
void jobs_log(const LiveJob *lj, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
