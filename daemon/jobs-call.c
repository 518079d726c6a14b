/* jobs-call - the PBX side of one attempt of an "Action: connect" job.
 *
 * MonitorStart(source), MonitorStart(destination) (optional: an external
 * number often cannot be monitored), MakeCall source -> destination with
 * autoOriginate doNotPrompt, then the events of that call decide: an
 * EstablishedEvent for a party other than the source is success (the call
 * stays up, the parties talk; only our monitors stop); a FailedEvent or a
 * cleared connection/call before that is a failure with the CSTA cause (and
 * the calling connection, if still there, is cleared); a
 * CSTAErrorCode to a request is a failure with that error; Monitor-Time
 * passing clears the calling connection and is a timeout.
 * Each request carries a CallReq (job id + attempt generation), so a reply
 * that comes after the attempt ended is recognised as stale; a stale
 * MakeCallResponse still gets its call cleared so no call is left ringing.
 * Whatever ends the attempt calls jobs_attempt_done(), which may free the
 * LiveJob: nothing touches LJ after that call.
 */
#include <string.h>

#include "jobs-private.h"
#include "log.h"

typedef struct {
	CtidJobs *jobs;
	char *job_id;
	guint generation;
	CallPhase phase; /* the phase the request was sent in */
} CallReq;

typedef struct {
	const char *cause;
	const char *outcome;
	const char *reason;
} CauseRow;

static const CauseRow cause_rows[] = {
    {"busy", "busy", "busy"},
    {"callNotAnswered", "no-answer", "no answer"},
    {"alertTimeExpired", "no-answer", "no answer"},
    {"timeout", "no-answer", "no answer"},
    {"doNotDisturb", "dnd", "do not disturb"},
    {"callCancelled", "declined", "call declined"},
    {"blocked", "declined", "call blocked"},
    {"destNotObtainable", "invalid", "number not obtainable"},
    {"numberUnallocated", "invalid", "number not allocated"},
    {"invalidNumberFormat", "invalid", "invalid number format"},
    {"incompatibleDestination", "invalid", "incompatible destination"},
    {"networkCongestion", "unreachable", "destination unreachable"},
    {"networkNotObtainable", "unreachable", "destination unreachable"},
    {"networkOutOfOrder", "unreachable", "destination unreachable"},
    {"destOutOfOrder", "unreachable", "destination unreachable"},
    {"trunksBusy", "unreachable", "destination unreachable"},
    {"selectedTrunkBusy", "unreachable", "destination unreachable"},
    {"resourcesNotAvailable", "unreachable", "destination unreachable"},
    {"normalClearing", "cleared", "call cleared before it was answered"},
    {"normal", "cleared", "call cleared before it was answered"},
};

static const CauseRow *cause_row(const char *cause)
{
	static const CauseRow unknown = {NULL, "failed", NULL};

	for (guint i = 0; cause != NULL && i < G_N_ELEMENTS(cause_rows); i++)
		if (g_ascii_strcasecmp(cause_rows[i].cause, cause) == 0)
			return &cause_rows[i];
	return &unknown;
}

static void call_req_free(gpointer data)
{
	CallReq *r = data;

	g_free(r->job_id);
	g_free(r);
}

static CallReq *call_req_new(LiveJob *lj)
{
	CallReq *r = g_new0(CallReq, 1);

	r->jobs = lj->jobs;
	r->job_id = g_strdup(lj->job->id);
	r->generation = lj->generation;
	r->phase = lj->phase;
	return r;
}

/* the job REQ was sent for, or NULL when the attempt is over */
static LiveJob *call_req_job(const CallReq *r)
{
	LiveJob *lj = g_hash_table_lookup(r->jobs->live, r->job_id);

	if (lj == NULL || lj->generation != r->generation || lj->phase != r->phase)
		return NULL;
	return lj;
}

static void ignore_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	if (reply != NULL && reply->kind == CSTA_MSG_ERROR)
		log_debug("pbx: %s %s to a clean-up request ignored", reply->error_class,
		          reply->error_value);
}

static void send_cleanup(CtidJobs *jobs, char *xml)
{
	g_autoptr(GError) error = NULL;

	if (link_is_up(jobs->link) &&
	    !link_request(jobs->link, xml, ignore_reply, NULL, NULL, &error))
		log_warning("pbx: clean-up request not sent: %s", error->message);
	g_free(xml);
}

static gboolean send_step(LiveJob *lj, CallPhase phase, char *xml, LinkReplyFunc cb)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *owned = xml;
	g_autofree char *reason = NULL;

	lj->phase = phase;
	if (link_request(lj->jobs->link, owned, cb, call_req_new(lj), call_req_free, &error))
		return TRUE;
	reason = g_strdup_printf("PBX request failed: %s", error->message);
	jobs_attempt_done(lj, "link-down", error->message, CTI_JOB_FAILED, reason);
	return FALSE;
}

static void fail_on_reply(LiveJob *lj, const char *what, const CstaMessage *reply,
                          const GError *error)
{
	g_autofree char *cause =
	    reply ? g_strdup_printf("%s %s", reply->error_class, reply->error_value)
	          : g_strdup(error->message);
	g_autofree char *reason = g_strdup_printf("%s: %s", what, cause);

	jobs_attempt_done(lj, reply ? "refused" : "no-response", cause, CTI_JOB_FAILED, reason);
}

static void on_make_call(const CstaMessage *reply, const GError *error, gpointer data);

static void make_call(LiveJob *lj)
{
	const char *ns = link_namespace(lj->jobs->link);

	send_step(lj, CALL_DIALING, csta_build_make_call(ns, lj->req->source, lj->req->destination),
	          on_make_call);
}

static void on_monitor_dest(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);

	if (lj == NULL)
		return;
	if (reply != NULL && reply->kind == CSTA_MSG_MONITOR_START_RESPONSE)
		lj->xref_dest = g_strdup(reply->monitor_xref);
	else
		log_info("%s: job=%s destination %s not monitored: %s",
		         lj->job->queue_id ? lj->job->queue_id : "NOQUEUE", lj->job->id,
		         lj->req->destination,
		         reply ? (reply->error_value ? reply->error_value : reply->root)
		               : error->message);
	make_call(lj);
}

static void on_monitor_source(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_autofree char *what = NULL;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_MONITOR_START_RESPONSE) {
		what = g_strdup_printf("source %s cannot be monitored", lj->req->source);
		fail_on_reply(lj, what, reply, error);
		return;
	}
	lj->xref_source = g_strdup(reply->monitor_xref);
	if (g_strcmp0(lj->req->destination, lj->req->source) == 0) {
		make_call(lj);
		return;
	}
	send_step(lj, CALL_MONITOR_DEST,
	          csta_build_monitor_start(link_namespace(lj->jobs->link), lj->req->destination),
	          on_monitor_dest);
}

static void clear_stray_call(CtidJobs *jobs, const CstaMessage *reply, const char *source)
{
	log_info("pbx: MakeCallResponse for an attempt that already ended; clearing call %s",
	         reply->call_id);
	send_cleanup(jobs,
	             csta_build_clear_connection(link_namespace(jobs->link), reply->call_id,
	                                         reply->device_id ? reply->device_id : source));
}

static void on_make_call(const CstaMessage *reply, const GError *error, gpointer data)
{
	CallReq *r = data;
	LiveJob *lj = call_req_job(r);
	g_autoptr(GPtrArray) early = NULL;
	guint generation;

	if (lj == NULL) {
		if (reply != NULL && reply->kind == CSTA_MSG_MAKE_CALL_RESPONSE)
			clear_stray_call(r->jobs, reply, NULL);
		return;
	}
	if (reply == NULL || reply->kind != CSTA_MSG_MAKE_CALL_RESPONSE) {
		fail_on_reply(lj, "the PBX refused the call", reply, error);
		return;
	}
	lj->call_id = g_strdup(reply->call_id);
	lj->calling_device = g_strdup(reply->device_id ? reply->device_id : lj->req->source);
	lj->phase = CALL_RINGING;
	if (!store_attempt_begin(lj->jobs->store, lj->job->id, lj->job->attempts, lj->call_id,
	                         NULL))
		log_warning("%s: job=%s attempt %d not recorded",
		            lj->job->queue_id ? lj->job->queue_id : "NOQUEUE", lj->job->id,
		            lj->job->attempts);
	lj->attempt_recorded = TRUE;
	jobs_log(lj, "state=ringing attempt=%d call=%s", lj->job->attempts, lj->call_id);
	/* events that overtook the response: replay them until one ends the attempt */
	early = g_steal_pointer(&lj->early);
	generation = lj->generation;
	for (guint i = 0; early != NULL && i < early->len; i++) {
		if (call_req_job(&(CallReq){r->jobs, r->job_id, generation, CALL_RINGING}) == NULL)
			break;
		call_event(lj, g_ptr_array_index(early, i));
	}
}

static gboolean on_monitor_time(gpointer data)
{
	LiveJob *lj = data;
	g_autofree char *reason = g_strdup_printf("no answer within %d s", lj->monitor_time);

	lj->monitor_id = 0;
	if (lj->phase == CALL_RINGING && lj->call_id != NULL)
		send_cleanup(lj->jobs,
		             csta_build_clear_connection(link_namespace(lj->jobs->link),
		                                         lj->call_id, lj->calling_device));
	jobs_attempt_done(lj, "no-answer", "timeout", CTI_JOB_TIMEOUT, reason);
	return G_SOURCE_REMOVE;
}

/* call_start - begin an attempt for LJ */
void call_start(LiveJob *lj)
{
	lj->generation++;
	lj->answered_ms = 0;
	lj->monitor_id = g_timeout_add_seconds((guint)lj->monitor_time, on_monitor_time, lj);
	send_step(lj, CALL_MONITOR_SOURCE,
	          csta_build_monitor_start(link_namespace(lj->jobs->link), lj->req->source),
	          on_monitor_source);
}

static gboolean is_ours(const LiveJob *lj, const CstaMessage *ev)
{
	if (ev->monitor_xref == NULL)
		return lj->call_id != NULL && g_strcmp0(ev->call_id, lj->call_id) == 0;
	return g_strcmp0(ev->monitor_xref, lj->xref_source) == 0 ||
	       g_strcmp0(ev->monitor_xref, lj->xref_dest) == 0;
}

static void call_failed(LiveJob *lj, const CstaMessage *ev)
{
	const CauseRow *row = cause_row(ev->cause);
	g_autofree char *reason =
	    row->reason ? g_strdup(row->reason)
	                : g_strdup_printf("call failed: %s", ev->cause ? ev->cause : "no cause");
	gboolean source_gone = ev->kind == CSTA_MSG_CALL_CLEARED ||
	                       (ev->kind == CSTA_MSG_CONNECTION_CLEARED &&
	                        g_strcmp0(ev->device_id, lj->calling_device) == 0);

	/* the source is still in the call (hearing busy tone, say): release it */
	if (!source_gone)
		send_cleanup(lj->jobs,
		             csta_build_clear_connection(link_namespace(lj->jobs->link),
		                                         lj->call_id, lj->calling_device));
	jobs_attempt_done(lj, row->outcome, ev->cause, CTI_JOB_FAILED, reason);
}

static void call_answered(LiveJob *lj, const char *by, const CstaMessage *ev)
{
	g_autofree char *reason = g_strdup_printf("answered by %s", by);

	lj->answered_ms = g_get_real_time() / 1000;
	jobs_attempt_done(lj, "answered", ev->cause, CTI_JOB_SUCCESS, reason);
}

/* call_event - offer EVENT to LJ; TRUE when it belonged to LJ's call */
gboolean call_event(LiveJob *lj, const CstaMessage *ev)
{
	const char *dev = ev->device_id ? ev->device_id : ev->subject_device;

	if (lj->phase == CALL_IDLE || !is_ours(lj, ev))
		return FALSE;
	if (lj->phase != CALL_RINGING) {
		if (lj->early == NULL)
			lj->early =
			    g_ptr_array_new_with_free_func((GDestroyNotify)csta_message_free);
		g_ptr_array_add(lj->early, csta_message_copy(ev));
		return TRUE;
	}
	if (ev->call_id != NULL && g_strcmp0(ev->call_id, lj->call_id) != 0)
		return FALSE; /* another call of a monitored device */
	switch (ev->kind) {
	case CSTA_MSG_ESTABLISHED:
		if (dev != NULL && g_strcmp0(dev, lj->req->source) != 0)
			call_answered(lj, dev, ev);
		return TRUE;
	case CSTA_MSG_FAILED:
	case CSTA_MSG_CONNECTION_CLEARED:
	case CSTA_MSG_CALL_CLEARED:
		call_failed(lj, ev);
		return TRUE;
	case CSTA_MSG_DELIVERED:
	case CSTA_MSG_SERVICE_INITIATED:
	case CSTA_MSG_ORIGINATED:
	case CSTA_MSG_HELD:
	case CSTA_MSG_RETRIEVED:
	case CSTA_MSG_CONFERENCED:
	case CSTA_MSG_TRANSFERRED:
	case CSTA_MSG_DIVERTED:
		log_debug("job=%s %s device=%s cause=%s", lj->job->id, ev->root, dev ? dev : "-",
		          ev->cause ? ev->cause : "-");
		return TRUE;
	case CSTA_MSG_UNKNOWN:
	case CSTA_MSG_START_SESSION_POS:
	case CSTA_MSG_START_SESSION_NEG:
	case CSTA_MSG_RESET_TIMER_POS:
	case CSTA_MSG_RESET_TIMER_NEG:
	case CSTA_MSG_STOP_SESSION_POS:
	case CSTA_MSG_SESSION_TERMINATED:
	case CSTA_MSG_SYSTEM_STATUS:
	case CSTA_MSG_SYSTEM_STATUS_RESPONSE:
	case CSTA_MSG_SYSTEM_REGISTER_RESPONSE:
	case CSTA_MSG_REQUEST_SYSTEM_STATUS_RESPONSE:
	case CSTA_MSG_MAKE_CALL_RESPONSE:
	case CSTA_MSG_MONITOR_START_RESPONSE:
	case CSTA_MSG_MONITOR_STOP_RESPONSE:
	case CSTA_MSG_CLEAR_CONNECTION_RESPONSE:
	case CSTA_MSG_ERROR:
		break;
	}
	return FALSE;
}

/* call_link_lost - the link dropped during LJ's attempt */
void call_link_lost(LiveJob *lj)
{
	if (lj->phase == CALL_IDLE)
		return;
	jobs_attempt_done(lj, "link-lost", "PBX link lost", CTI_JOB_FAILED,
	                  "the PBX link was lost during the attempt");
}

/* call_reset - forget the attempt's PBX state, stop monitors if the link is up */
void call_reset(LiveJob *lj)
{
	const char *ns = lj->jobs->link ? link_namespace(lj->jobs->link) : NULL;

	g_clear_handle_id(&lj->monitor_id, g_source_remove);
	if (lj->xref_source != NULL)
		send_cleanup(lj->jobs, csta_build_monitor_stop(ns, lj->xref_source));
	if (lj->xref_dest != NULL)
		send_cleanup(lj->jobs, csta_build_monitor_stop(ns, lj->xref_dest));
	g_clear_pointer(&lj->xref_source, g_free);
	g_clear_pointer(&lj->xref_dest, g_free);
	g_clear_pointer(&lj->call_id, g_free);
	g_clear_pointer(&lj->calling_device, g_free);
	g_clear_pointer(&lj->early, g_ptr_array_unref);
	lj->phase = CALL_IDLE;
	lj->generation++;
}
