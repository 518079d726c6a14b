/* jobs-call - the PBX side of one attempt: monitors, the call of "Action:
 * connect" (with Wait-For-Idle), the shared request/reply plumbing of the
 * actions in action-*.c, and picking a call up again after the link dropped.
 *
 * MonitorStart(source), MonitorStart(destination) (optional: an external
 * number often cannot be monitored), MakeCall source -> destination with
 * autoOriginate doNotPrompt, then the events of that call decide: an
 * EstablishedEvent for a party other than the source is success (the call
 * stays up, the parties talk; only our monitors stop); a FailedEvent or a
 * cleared connection/call before that is a failure with the CSTA cause (and
 * the calling connection, if still there, is cleared); a
 * CSTAErrorCode to a request is a failure with that error; Monitor-Time
 * passing clears the calling connection and is a timeout.  A cause no retry
 * can change (declined, invalid number, do not disturb) sets no_retry.
 * Wait-For-Idle: a busy destination that we monitor is watched; when one of
 * its connections clears, SnapshotDevice tells whether it is idle, and the
 * call is placed again within the same attempt and Monitor-Time.
 * Link loss with a call placed: the attempt is kept (CALL_RESYNC); after the
 * reconnect the monitors are started again and SnapshotDevice of the
 * destination (or source) says whether the call is still ringing, answered or
 * gone, so one attempt never dials twice.
 * Each request carries a CallReq (job id + attempt generation + phase), so a
 * reply that comes after that step ended is recognised as stale; a stale
 * MakeCallResponse still gets its call cleared so no call is left ringing.
 * Whatever ends the attempt calls jobs_attempt_done(), which may free the
 * LiveJob: nothing touches LJ after that call.
 */
#include <string.h>

#include "jobs-private.h"
#include "log.h"

typedef struct {
	const char *cause;
	const char *outcome;
	const char *reason;
	gboolean final; /* a retry cannot change it */
} CauseRow;

static const CauseRow cause_rows[] = {
    {"busy", "busy", "busy", FALSE},
    {"callNotAnswered", "no-answer", "no answer", FALSE},
    {"alertTimeExpired", "no-answer", "no answer", FALSE},
    {"timeout", "no-answer", "no answer", FALSE},
    {"doNotDisturb", "dnd", "do not disturb; not retried: the called party does not want calls",
     TRUE},
    {"callCancelled", "declined", "call declined; not retried: the called party refused it", TRUE},
    {"blocked", "declined", "call blocked; not retried: the called party refused it", TRUE},
    {"destNotObtainable", "invalid", "number not obtainable; not retried: it cannot be reached",
     TRUE},
    {"numberUnallocated", "invalid", "number not allocated; not retried: the number does not exist",
     TRUE},
    {"invalidNumberFormat", "invalid", "invalid number format; not retried: the number is wrong",
     TRUE},
    {"incompatibleDestination", "invalid",
     "incompatible destination; not retried: it cannot take this call", TRUE},
    {"networkCongestion", "congestion", "network congestion", FALSE},
    {"networkNotObtainable", "unreachable", "destination unreachable", FALSE},
    {"networkOutOfOrder", "unreachable", "destination unreachable", FALSE},
    {"destOutOfOrder", "unreachable", "destination unreachable", FALSE},
    {"trunksBusy", "congestion", "network congestion (trunks busy)", FALSE},
    {"selectedTrunkBusy", "congestion", "network congestion (trunk busy)", FALSE},
    {"resourcesNotAvailable", "congestion", "network congestion (no resources)", FALSE},
    {"normalClearing", "cleared", "call cleared before it was answered", FALSE},
    {"normal", "cleared", "call cleared before it was answered", FALSE},
};

static const CauseRow *cause_row(const char *cause)
{
	static const CauseRow unknown = {NULL, "failed", NULL, FALSE};

	for (guint i = 0; cause != NULL && i < G_N_ELEMENTS(cause_rows); i++)
		if (g_ascii_strcasecmp(cause_rows[i].cause, cause) == 0)
			return &cause_rows[i];
	return &unknown;
}

static void resync_snapshot(LiveJob *lj);

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

/* call_req_job - the job R was sent for, or NULL when that step is over */
LiveJob *call_req_job(const CallReq *r)
{
	LiveJob *lj = g_hash_table_lookup(r->jobs->live, r->job_id);

	if (lj == NULL || lj->generation != r->generation || lj->phase != r->phase)
		return NULL;
	return lj;
}

/* call_ns - the namespace for requests on LJ's link */
const char *call_ns(const LiveJob *lj)
{
	return link_namespace(lj->jobs->link);
}

static void ignore_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	if (reply != NULL && reply->kind == CSTA_MSG_ERROR)
		log_debug("pbx: %s %s to a clean-up request ignored", reply->error_class,
		          reply->error_value);
}

/* call_cleanup - send XML (transfer full) whose reply does not matter */
void call_cleanup(CtidJobs *jobs, char *xml)
{
	g_autoptr(GError) error = NULL;

	if (jobs->link != NULL && link_is_up(jobs->link) &&
	    !link_request(jobs->link, xml, ignore_reply, NULL, NULL, &error))
		log_warning("pbx: clean-up request not sent: %s", error->message);
	g_free(xml);
}

/* call_send - send XML as the step PHASE of LJ's attempt */
gboolean call_send(LiveJob *lj, CallPhase phase, char *xml, LinkReplyFunc cb)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *owned = xml;
	g_autofree char *reason = NULL;

	lj->phase = phase;
	if (link_request(lj->jobs->link, owned, cb, call_req_new(lj), call_req_free, &error))
		return TRUE;
	reason = g_strdup_printf("PBX request failed: %s", error->message);
	conf_release(lj);
	jobs_attempt_done(lj, "link-down", error->message, CTI_JOB_FAILED, reason);
	return FALSE;
}

/* call_fail_reply - end LJ's attempt because WHAT got the error REPLY or ERROR */
void call_fail_reply(LiveJob *lj, const char *what, const CstaMessage *reply, const GError *error)
{
	g_autofree char *cause =
	    reply ? g_strdup_printf("%s %s", reply->error_class ? reply->error_class : reply->root,
	                            reply->error_value ? reply->error_value : "")
	          : g_strdup(error->message);
	g_autofree char *reason = g_strdup_printf("%s: %s", what, cause);

	conf_release(lj);
	jobs_attempt_done(lj, reply ? "refused" : "no-response", cause, CTI_JOB_FAILED, reason);
}

/* call_lines - the configured server lines */
char **call_lines(const CtiConfig *config)
{
	g_auto(GStrv) parts = g_strsplit(config->server_lines ? config->server_lines : "", ",", -1);
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; parts[i] != NULL; i++) {
		g_strstrip(parts[i]);
		if (parts[i][0] != '\0')
			g_ptr_array_add(out, g_strdup(parts[i]));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static void on_make_call(const CstaMessage *reply, const GError *error, gpointer data);

/* the MakeCall carries the job id and attempt number (correlatorData, hexBinary), so
 * the PBX's records show which job and attempt placed each call */
static void make_call(LiveJob *lj)
{
	g_autofree char *tag = g_strdup_printf("%s%04x", lj->job->id, (guint)lj->job->attempts & 0xffff);

	call_send(lj, CALL_DIALING,
	          csta_build_make_call_tagged(call_ns(lj), lj->req->source, lj->req->destination, tag),
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
		log_info("%s: job %s: destination %s not monitored: %s",
		         lj->job->queue_id ? lj->job->queue_id : "NOQUEUE", lj->job->id,
		         lj->req->destination,
		         reply ? (reply->error_value ? reply->error_value : reply->root)
		               : error->message);
	if (lj->resync_from != CALL_IDLE) {
		resync_snapshot(lj);
		return;
	}
	make_call(lj);
}

/* after MonitorStart(source): the action's own way on */
static void after_source_monitor(LiveJob *lj)
{
	switch (lj->req->action) {
	case CTI_ACTION_CONFERENCE:
	case CTI_ACTION_INTRUDE:
		if (lj->resync_from != CALL_IDLE)
			resync_snapshot(lj);
		else
			conf_start(lj);
		return;
	case CTI_ACTION_CONNECT:
	case CTI_ACTION_FORWARD_SET:
	case CTI_ACTION_FORWARD_CLEAR:
		break;
	}
	if (g_strcmp0(lj->req->destination, lj->req->source) == 0) {
		if (lj->resync_from != CALL_IDLE)
			resync_snapshot(lj);
		else
			make_call(lj);
		return;
	}
	call_send(lj, CALL_MONITOR_DEST,
	          csta_build_monitor_start(call_ns(lj), lj->req->destination), on_monitor_dest);
}

static void on_monitor_source(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_autofree char *what = NULL;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_MONITOR_START_RESPONSE) {
		what = g_strdup_printf("source %s cannot be monitored", lj->req->source);
		call_fail_reply(lj, what, reply, error);
		return;
	}
	lj->xref_source = g_strdup(reply->monitor_xref);
	after_source_monitor(lj);
}

static void clear_stray_call(CtidJobs *jobs, const CstaMessage *reply, const char *source)
{
	log_info("pbx: MakeCallResponse for an attempt that already ended; clearing call %s",
	         reply->call_id);
	call_cleanup(jobs,
	             csta_build_clear_connection(link_namespace(jobs->link), reply->call_id,
	                                         reply->device_id ? reply->device_id : source));
}

/* call_ringing - a call CALL_ID was placed from DEVICE: record it, replay early events */
void call_ringing(LiveJob *lj, CallReq *r, const char *call_id, const char *device)
{
	g_autoptr(GPtrArray) early = NULL;
	guint generation;

	g_free(lj->call_id);
	g_free(lj->calling_device);
	lj->call_id = g_strdup(call_id);
	lj->calling_device = g_strdup(device);
	lj->phase = CALL_RINGING;
	if (!lj->attempt_recorded && !store_attempt_begin(lj->jobs->store, lj->job->id,
	                                                  lj->job->attempts, lj->call_id, NULL))
		log_warning("%s: job %s: attempt %d not recorded",
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

static void on_make_call(const CstaMessage *reply, const GError *error, gpointer data)
{
	CallReq *r = data;
	LiveJob *lj = call_req_job(r);

	if (lj == NULL) {
		if (reply != NULL && reply->kind == CSTA_MSG_MAKE_CALL_RESPONSE)
			clear_stray_call(r->jobs, reply, NULL);
		return;
	}
	if (reply == NULL || reply->kind != CSTA_MSG_MAKE_CALL_RESPONSE) {
		call_fail_reply(lj, "the PBX refused the call", reply, error);
		return;
	}
	g_clear_pointer(&lj->busy_call_id, g_free);
	call_ringing(lj, r, reply->call_id, reply->device_id ? reply->device_id : lj->req->source);
}

static gboolean on_monitor_time(gpointer data)
{
	LiveJob *lj = data;
	g_autofree char *reason = NULL;

	lj->monitor_id = 0;
	if (lj->phase == CALL_SCENARIO) {
		jobs_scenario_monitor_time(lj);
		return G_SOURCE_REMOVE;
	}
	if (lj->phase == CALL_WAIT_IDLE || lj->phase == CALL_IDLE_CHECK)
		reason = g_strdup_printf("%s was still busy after %d s", lj->req->destination,
		                         lj->monitor_time);
	else
		reason = g_strdup_printf("no answer within %d s", lj->monitor_time);
	if (lj->call_id != NULL) /* ringing, or being looked for after a lost link */
		call_cleanup(lj->jobs, csta_build_clear_connection(call_ns(lj), lj->call_id,
		                                                   lj->calling_device));
	conf_release(lj);
	jobs_attempt_done(lj, lj->phase == CALL_WAIT_IDLE ? "busy" : "no-answer", "timeout",
	                  CTI_JOB_TIMEOUT, reason);
	return G_SOURCE_REMOVE;
}

/* call_start - begin an attempt for LJ */
void call_start(LiveJob *lj)
{
	lj->generation++;
	lj->answered_ms = 0;
	lj->no_retry = FALSE;
	lj->resync_from = CALL_IDLE;
	switch (lj->req->action) {
	case CTI_ACTION_FORWARD_SET:
	case CTI_ACTION_FORWARD_CLEAR:
		forward_start(lj);
		return;
	case CTI_ACTION_CONNECT:
	case CTI_ACTION_CONFERENCE:
	case CTI_ACTION_INTRUDE:
		break;
	}
	if (!jobs_scenario_prepare(lj))
		return; /* unusable media: the attempt is over */
	lj->monitor_id = timers_add_seconds((guint)lj->monitor_time, on_monitor_time, lj);
	call_send(lj, CALL_MONITOR_SOURCE, csta_build_monitor_start(call_ns(lj), lj->req->source),
	          on_monitor_source);
}

/* an event of our monitors, or of our call seen by another monitor of ours
 * (a server line's, say, when the call was placed from a line) */
static gboolean is_ours(const LiveJob *lj, const CstaMessage *ev)
{
	if (lj->call_id != NULL && g_strcmp0(ev->call_id, lj->call_id) == 0)
		return TRUE;
	if (ev->monitor_xref == NULL)
		return FALSE;
	return g_strcmp0(ev->monitor_xref, lj->xref_source) == 0 ||
	       g_strcmp0(ev->monitor_xref, lj->xref_dest) == 0;
}

/* ---- Wait-For-Idle ---- */

static void on_idle_snapshot(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	guint live = 0;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE) {
		call_fail_reply(lj, "SnapshotDevice of the busy destination failed", reply, error);
		return;
	}
	for (guint i = 0; reply->snapshot_calls && reply->snapshot_calls[i]; i++)
		if (g_strcmp0(reply->snapshot_calls[i], lj->busy_call_id) != 0 &&
		    g_strcmp0(reply->snapshot_states[i], "fail") != 0 &&
		    g_strcmp0(reply->snapshot_states[i], "null") != 0)
			live++;
	if (live > 0) {
		lj->phase = CALL_WAIT_IDLE;
		return;
	}
	jobs_log(lj, "destination %s is idle again; calling", lj->req->destination);
	make_call(lj);
}

/* an event of the busy destination's monitor while waiting for it to be idle */
static gboolean idle_event(LiveJob *lj, const CstaMessage *ev)
{
	if (g_strcmp0(ev->monitor_xref, lj->xref_dest) != 0)
		return g_strcmp0(ev->call_id, lj->busy_call_id) == 0;
	if (g_strcmp0(ev->call_id, lj->busy_call_id) == 0)
		return TRUE;
	/* another call at the destination: not ours, but its end may make it idle */
	if (ev->kind == CSTA_MSG_CONNECTION_CLEARED || ev->kind == CSTA_MSG_CALL_CLEARED)
		call_send(lj, CALL_IDLE_CHECK,
		          csta_build_snapshot_device(call_ns(lj), lj->req->destination),
		          on_idle_snapshot);
	return FALSE;
}

/* wait_for_idle - TRUE when LJ now waits for the busy destination instead of failing */
static gboolean wait_for_idle(LiveJob *lj, const CstaMessage *ev)
{
	if (!lj->req->wait_for_idle || lj->req->action != CTI_ACTION_CONNECT ||
	    lj->xref_dest == NULL || g_ascii_strcasecmp(ev->cause ? ev->cause : "", "busy") != 0)
		return FALSE;
	jobs_log(lj, "destination %s busy; waiting for it to be idle (Wait-For-Idle)",
	         lj->req->destination);
	call_cleanup(lj->jobs,
	             csta_build_clear_connection(call_ns(lj), lj->call_id, lj->calling_device));
	g_free(lj->busy_call_id);
	lj->busy_call_id = g_steal_pointer(&lj->call_id);
	lj->phase = CALL_WAIT_IDLE;
	return TRUE;
}

/* ---- events of the placed call ---- */

static void call_failed(LiveJob *lj, const CstaMessage *ev)
{
	const CauseRow *row = cause_row(ev->cause);
	g_autofree char *reason =
	    row->reason ? g_strdup(row->reason)
	                : g_strdup_printf("call failed: %s", ev->cause ? ev->cause : "no cause");
	gboolean source_gone = ev->kind == CSTA_MSG_CALL_CLEARED ||
	                       (ev->kind == CSTA_MSG_CONNECTION_CLEARED &&
	                        g_strcmp0(ev->device_id, lj->calling_device) == 0);

	if (ev->kind == CSTA_MSG_FAILED && wait_for_idle(lj, ev))
		return;
	/* the source is still in the call (hearing busy tone, say): release it */
	if (!source_gone)
		call_cleanup(lj->jobs, csta_build_clear_connection(call_ns(lj), lj->call_id,
		                                                   lj->calling_device));
	lj->no_retry = row->final;
	conf_release(lj);
	jobs_attempt_done(lj, row->outcome, ev->cause, CTI_JOB_FAILED, reason);
}

static void call_answered(LiveJob *lj, const char *by, const CstaMessage *ev)
{
	g_autofree char *reason = g_strdup_printf("answered by %s", by);

	lj->answered_ms = g_get_real_time() / 1000;
	switch (lj->req->action) {
	case CTI_ACTION_CONFERENCE:
	case CTI_ACTION_INTRUDE:
		conf_answered(lj, by);
		return;
	case CTI_ACTION_CONNECT:
	case CTI_ACTION_FORWARD_SET:
	case CTI_ACTION_FORWARD_CLEAR:
		break;
	}
	if (jobs_scenario_answered(lj, by))
		return; /* the scenario ends the attempt */
	jobs_attempt_done(lj, "answered", ev->cause, CTI_JOB_SUCCESS, reason);
}

/* the party that answered: for connect anyone but the source; for a
 * consultation leg or a server line's call, the destination itself */
static gboolean is_answer(const LiveJob *lj, const char *dev)
{
	if (dev == NULL || g_strcmp0(dev, lj->calling_device) == 0 ||
	    g_strcmp0(dev, lj->req->source) == 0)
		return FALSE;
	return TRUE;
}

static gboolean ringing_event(LiveJob *lj, const CstaMessage *ev)
{
	const char *dev = ev->device_id ? ev->device_id : ev->subject_device;

	if (ev->call_id != NULL && g_strcmp0(ev->call_id, lj->call_id) != 0)
		return FALSE; /* another call of a monitored device */
	switch (csta_call_event(ev->kind)) {
	case CSTA_EVENT_ESTABLISHED:
		if (is_answer(lj, dev))
			call_answered(lj, dev, ev);
		return TRUE;
	case CSTA_EVENT_FAILED:
	case CSTA_EVENT_CONNECTION_CLEARED:
	case CSTA_EVENT_CALL_CLEARED:
		call_failed(lj, ev);
		return TRUE;
	case CSTA_EVENT_DELIVERED:
	case CSTA_EVENT_SERVICE_INITIATED:
	case CSTA_EVENT_ORIGINATED:
	case CSTA_EVENT_HELD:
	case CSTA_EVENT_RETRIEVED:
	case CSTA_EVENT_CONFERENCED:
	case CSTA_EVENT_TRANSFERRED:
	case CSTA_EVENT_DIVERTED:
		log_debug("job=%s %s device=%s cause=%s", lj->job->id, ev->root, dev ? dev : "-",
		          ev->cause ? ev->cause : "-");
		return TRUE;
	case CSTA_EVENT_NONE:
		break;
	}
	return FALSE;
}

/* call_event - offer EVENT to LJ; TRUE when it belonged to LJ's call */
gboolean call_event(LiveJob *lj, const CstaMessage *ev)
{
	if (lj->phase == CALL_IDLE || lj->phase == CALL_RESYNC || !is_ours(lj, ev))
		return FALSE;
	switch (lj->phase) {
	case CALL_WAIT_IDLE:
		return idle_event(lj, ev);
	case CALL_INTRUDED:
		return conf_intruded_event(lj, ev);
	case CALL_RINGING:
		return ringing_event(lj, ev);
	case CALL_SCENARIO:
		return jobs_scenario_event(lj, ev);
	case CALL_IDLE:
	case CALL_RESYNC:
	case CALL_MONITOR_SOURCE:
	case CALL_MONITOR_DEST:
	case CALL_DIALING:
	case CALL_IDLE_CHECK:
	case CALL_SNAPSHOT:
	case CALL_CONSULTING:
	case CALL_JOINING:
	case CALL_CONFERENCING:
	case CALL_RETRIEVING:
	case CALL_REGISTERING:
		break;
	}
	/* before our call id is known any event of a monitored device may be ours: keep a
	 * copy for the replay, but leave it to other jobs too (a shared destination's
	 * monitor reports their calls as well) */
	if (lj->early == NULL)
		lj->early = g_ptr_array_new_with_free_func((GDestroyNotify)csta_message_free);
	g_ptr_array_add(lj->early, csta_message_copy(ev));
	return FALSE;
}

/* ---- link loss and resynchronisation ---- */

/* call_link_lost - the link dropped during LJ's attempt */
void call_link_lost(LiveJob *lj)
{
	if (lj->phase == CALL_IDLE)
		return;
	if (lj->phase == CALL_RINGING && lj->call_id != NULL &&
	    lj->req->action == CTI_ACTION_CONNECT) {
		/* the call may still ring on the PBX: keep the attempt, look after the reconnect */
		jobs_log(lj, "PBX link lost while call %s rings; will check it after reconnecting",
		         lj->call_id);
		g_clear_pointer(&lj->xref_source, g_free); /* monitors die with the session */
		g_clear_pointer(&lj->xref_dest, g_free);
		g_clear_pointer(&lj->early, g_ptr_array_unref);
		lj->resync_from = lj->phase;
		lj->phase = CALL_RESYNC;
		lj->generation++;
		return;
	}
	conf_release(lj);
	jobs_attempt_done(lj, "link-lost", "PBX link lost", CTI_JOB_FAILED,
	                  "the PBX link was lost during the attempt");
}

static void on_resync_snapshot(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	const char *state = NULL;

	if (lj == NULL)
		return;
	lj->resync_from = CALL_IDLE;
	if (reply == NULL || reply->kind != CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE) {
		call_fail_reply(lj, "SnapshotDevice after the reconnect failed", reply, error);
		return;
	}
	for (guint i = 0; reply->snapshot_calls && reply->snapshot_calls[i]; i++)
		if (g_strcmp0(reply->snapshot_calls[i], lj->call_id) == 0)
			state = reply->snapshot_states[i];
	jobs_log(lj, "after the reconnect call %s is %s at %s", lj->call_id, state ? state : "gone",
	         lj->xref_dest ? lj->req->destination : lj->req->source);
	if (state == NULL || g_strcmp0(state, "fail") == 0 || g_strcmp0(state, "null") == 0) {
		jobs_attempt_done(lj, "link-lost", "call gone after the PBX link was lost",
		                  CTI_JOB_FAILED,
		                  "the PBX link was lost during the attempt and the call ended");
		return;
	}
	if (lj->xref_dest != NULL && g_strcmp0(state, "connected") == 0) {
		call_answered(lj, lj->req->destination, &(CstaMessage){.cause = "resync"});
		return;
	}
	{
		g_autofree char *call = g_strdup(lj->call_id);
		g_autofree char *dev = g_strdup(lj->calling_device);

		call_ringing(lj, data, call, dev); /* still ringing: the events take it on */
	}
}

/* resync_snapshot - monitors are back: where is the call now? */
static void resync_snapshot(LiveJob *lj)
{
	const char *dev = lj->xref_dest ? lj->req->destination : lj->req->source;

	call_send(lj, CALL_RESYNC, csta_build_snapshot_device(call_ns(lj), dev),
	          on_resync_snapshot);
}

/* call_resync - the link is up again: pick LJ's call up where it really is */
void call_resync(LiveJob *lj)
{
	if (lj->phase != CALL_RESYNC)
		return;
	call_send(lj, CALL_MONITOR_SOURCE, csta_build_monitor_start(call_ns(lj), lj->req->source),
	          on_monitor_source);
}

/* call_adopt - after a restart: follow the call LJ's attempt placed */
gboolean call_adopt(LiveJob *lj, const char *call_id, gint64 started_ms)
{
	gint64 left = started_ms / 1000 + lj->monitor_time - jobs_now();

	if (call_id == NULL || lj->req->action != CTI_ACTION_CONNECT)
		return FALSE;
	if (!jobs_scenario_prepare(lj))
		return TRUE; /* unusable media: the attempt is over */
	lj->generation++;
	lj->call_id = g_strdup(call_id);
	lj->calling_device = g_strdup(lj->req->source);
	lj->resync_from = CALL_RINGING;
	lj->phase = CALL_RESYNC;
	lj->monitor_id =
	    timers_add_seconds((guint)CLAMP(left, 1, lj->monitor_time), on_monitor_time, lj);
	jobs_log(lj, "attempt %d placed call %s before the restart; checking it on the PBX",
	         lj->job->attempts, call_id);
	return TRUE;
}

/* call_reset - forget the attempt's PBX state, stop monitors if the link is up */
void call_reset(LiveJob *lj)
{
	const char *ns = lj->jobs->link ? link_namespace(lj->jobs->link) : NULL;

	g_clear_handle_id(&lj->monitor_id, timers_remove);
	jobs_scenario_reset(lj);
	if (lj->xref_source != NULL)
		call_cleanup(lj->jobs, csta_build_monitor_stop(ns, lj->xref_source));
	if (lj->xref_dest != NULL)
		call_cleanup(lj->jobs, csta_build_monitor_stop(ns, lj->xref_dest));
	g_clear_pointer(&lj->xref_source, g_free);
	g_clear_pointer(&lj->xref_dest, g_free);
	g_clear_pointer(&lj->call_id, g_free);
	g_clear_pointer(&lj->calling_device, g_free);
	g_clear_pointer(&lj->held_call_id, g_free);
	g_clear_pointer(&lj->busy_call_id, g_free);
	g_clear_pointer(&lj->line_call_id, g_free);
	g_clear_pointer(&lj->held_party, g_free);
	g_clear_pointer(&lj->early, g_ptr_array_unref);
	lj->phase = CALL_IDLE;
	lj->resync_from = CALL_IDLE;
	lj->generation++;
}
