/* action-conference - "Action: conference" (add Destination to the call in
 * progress at Source) and "Action: intrude" (break into Source's call: the
 * other party is held while Source talks with Destination, and is retrieved
 * when that leg ends).
 *
 * Both start after MonitorStart(source) with SnapshotDevice(source): the
 * connected call found there is the held_call_id.  Two methods ([pbx] method):
 *  - native: ConsultationCall(held call, Destination) holds the call and dials;
 *    when Destination answers, conference sends ConferenceCall(held, active)
 *    and succeeds; intrude stays in CALL_INTRUDED until the consultation leg
 *    clears, then RetrieveCall(held call) gives Source its party back.
 *  - server-lines: the gateway's first line joins Source's call
 *    (SingleStepConferenceCall, the line answers because ctid owns it), the
 *    second line dials Destination (MakeCall from the line); the PBX's line
 *    board connects the two lines, so Source's call hears Destination.
 *    Intrude first asks SnapshotCall(held call) who the other party is and
 *    puts that party on hold (HoldCall of its connection), so only Source
 *    hears the lines: Source <-> line 1 <-> line 2 <-> Destination.  When that
 *    leg ends, line 1 leaves and RetrieveCall gives Source the party back.
 * What can fail: no call at Source, a CSTAErrorCode to any step, the leg to
 * Destination failing (then conf_release gives back what was taken: the held
 * call is retrieved, a line leaves the call).  The attempt ends through
 * jobs_attempt_done, which may free LJ.
 */
#include <string.h>

#include "jobs-private.h"
#include "log.h"

static gboolean use_lines(const LiveJob *lj)
{
	return g_strcmp0(lj->jobs->config->call_method, "server-lines") == 0;
}

/* conf_release - the attempt ends without success: give back what was taken */
void conf_release(LiveJob *lj)
{
	g_auto(GStrv) lines = NULL;

	if (lj->held_call_id == NULL)
		return;
	if (lj->line_call_id != NULL) {
		lines = call_lines(lj->jobs->config);
		if (lines[0] != NULL)
			call_cleanup(lj->jobs, csta_build_clear_connection(
			                           call_ns(lj), lj->line_call_id, lines[0]));
	} else if (!use_lines(lj)) {
		call_cleanup(lj->jobs, csta_build_retrieve_call(call_ns(lj), lj->held_call_id,
		                                                lj->req->source));
	}
	if (lj->held_party != NULL)
		call_cleanup(lj->jobs, csta_build_retrieve_call(call_ns(lj), lj->held_call_id,
		                                                lj->held_party));
	g_clear_pointer(&lj->held_call_id, g_free);
	g_clear_pointer(&lj->line_call_id, g_free);
	g_clear_pointer(&lj->held_party, g_free);
}

static void on_consultation(const CstaMessage *reply, const GError *error, gpointer data)
{
	CallReq *r = data;
	LiveJob *lj = call_req_job(r);

	if (lj == NULL) {
		if (reply != NULL && reply->call_id != NULL &&
		    (reply->kind == CSTA_MSG_CONSULTATION_CALL_RESPONSE ||
		     reply->kind == CSTA_MSG_MAKE_CALL_RESPONSE))
			call_cleanup(r->jobs,
			             csta_build_clear_connection(link_namespace(r->jobs->link),
			                                         reply->call_id, reply->device_id));
		return;
	}
	if (reply == NULL || (reply->kind != CSTA_MSG_CONSULTATION_CALL_RESPONSE &&
	                      reply->kind != CSTA_MSG_MAKE_CALL_RESPONSE)) {
		g_autofree char *what =
		    g_strdup_printf("the PBX refused the call to %s", lj->req->destination);

		call_fail_reply(lj, what, reply, error);
		return;
	}
	call_ringing(lj, r, reply->call_id, reply->device_id);
}

static void dial_from_line(LiveJob *lj)
{
	g_auto(GStrv) lines = call_lines(lj->jobs->config);

	call_send(lj, CALL_CONSULTING,
	          csta_build_make_call(call_ns(lj), lines[1], lj->req->destination),
	          on_consultation);
}

static void on_line_joined(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_auto(GStrv) lines = NULL;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_SS_CONFERENCE_RESPONSE) {
		lines = call_lines(lj->jobs->config);
		g_autofree char *what = g_strdup_printf(
		    "server line %s could not join the call of %s", lines[0], lj->req->source);

		call_fail_reply(lj, what, reply, error);
		return;
	}
	lj->line_call_id = g_strdup(reply->call_id);
	jobs_log(lj, "server line joined call %s of %s", lj->line_call_id, lj->req->source);
	dial_from_line(lj);
}

/* with_lines - the server-lines way: line 1 joins, line 2 dials */
static void with_lines(LiveJob *lj)
{
	g_auto(GStrv) lines = call_lines(lj->jobs->config);

	if (g_strv_length(lines) < 2) {
		lj->no_retry = TRUE;
		jobs_attempt_done(
		    lj, "refused", "no server lines", CTI_JOB_FAILED,
		    "[pbx] method=server-lines needs two lines in [pbx] server_lines");
		return;
	}
	call_send(lj, CALL_JOINING,
	          csta_build_single_step_conference(call_ns(lj), lj->held_call_id, lj->req->source,
	                                            lines[0]),
	          on_line_joined);
}

static void on_party_held(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_autofree char *what = NULL;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_HOLD_CALL_RESPONSE) {
		what = g_strdup_printf("%s could not be put on hold", lj->held_party);
		g_clear_pointer(&lj->held_party, g_free); /* nothing to retrieve */
		call_fail_reply(lj, what, reply, error);
		return;
	}
	jobs_log(lj, "%s held in call %s", lj->held_party, lj->held_call_id);
	with_lines(lj);
}

/* the first connected party of the snapshot other than Source, or NULL */
static const char *other_party(const CstaMessage *reply, const char *source)
{
	for (guint i = 0; reply->snapshot_devices && reply->snapshot_devices[i]; i++)
		if (g_strcmp0(reply->snapshot_devices[i], source) != 0 &&
		    g_strcmp0(reply->snapshot_states[i], "connected") == 0)
			return reply->snapshot_devices[i];
	return NULL;
}

static void on_call_snapshot(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	const char *party;
	g_autofree char *what = NULL;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_SNAPSHOT_CALL_RESPONSE) {
		what = g_strdup_printf("SnapshotCall of call %s failed", lj->held_call_id);
		call_fail_reply(lj, what, reply, error);
		return;
	}
	party = other_party(reply, lj->req->source);
	if (party == NULL) {
		what = g_strdup_printf("the PBX names no other connected party in the call of %s",
		                       lj->req->source);
		jobs_attempt_done(lj, "no-call", "no-party", CTI_JOB_FAILED, what);
		return;
	}
	lj->held_party = g_strdup(party);
	/* the phase of the preparation before the line joins */
	call_send(lj, CALL_JOINING, csta_build_hold_call(call_ns(lj), lj->held_call_id, party),
	          on_party_held);
}

/* intrude_with_lines - find and hold the other party, then the lines take over */
static void intrude_with_lines(LiveJob *lj)
{
	call_send(lj, CALL_SNAPSHOT, csta_build_snapshot_call(call_ns(lj), lj->held_call_id),
	          on_call_snapshot);
}

static void on_source_snapshot(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_autofree char *what = NULL;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_SNAPSHOT_DEVICE_RESPONSE) {
		what = g_strdup_printf("SnapshotDevice of %s failed", lj->req->source);
		call_fail_reply(lj, what, reply, error);
		return;
	}
	for (guint i = 0; reply->snapshot_calls && reply->snapshot_calls[i]; i++)
		if (g_strcmp0(reply->snapshot_states[i], "connected") == 0 &&
		    lj->held_call_id == NULL)
			lj->held_call_id = g_strdup(reply->snapshot_calls[i]);
	if (lj->held_call_id == NULL) {
		g_autofree char *reason = g_strdup_printf(
		    "%s has no call in progress to %s", lj->req->source,
		    lj->req->action == CTI_ACTION_INTRUDE ? "break into" : "add to");

		jobs_attempt_done(lj, "no-call", "idle", CTI_JOB_FAILED, reason);
		return;
	}
	jobs_log(lj, "call in progress at %s: %s", lj->req->source, lj->held_call_id);
	if (use_lines(lj) && lj->req->action == CTI_ACTION_INTRUDE) {
		intrude_with_lines(lj);
		return;
	}
	if (use_lines(lj)) {
		with_lines(lj);
		return;
	}
	call_send(lj, CALL_CONSULTING,
	          csta_build_consultation_call(call_ns(lj), lj->held_call_id, lj->req->source,
	                                       lj->req->destination),
	          on_consultation);
}

/* conf_start - after MonitorStart(source): find Source's call and go on */
void conf_start(LiveJob *lj)
{
	call_send(lj, CALL_SNAPSHOT, csta_build_snapshot_device(call_ns(lj), lj->req->source),
	          on_source_snapshot);
}

static void on_conferenced(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_autofree char *reason = NULL;

	if (lj == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_CONFERENCE_CALL_RESPONSE) {
		call_fail_reply(lj, "ConferenceCall refused", reply, error);
		return;
	}
	reason =
	    g_strdup_printf("%s added to the call of %s", lj->req->destination, lj->req->source);
	g_clear_pointer(&lj->held_call_id, g_free); /* it is the conference now */
	jobs_attempt_done(lj, "answered", "conference", CTI_JOB_SUCCESS, reason);
}

/* conf_answered - the added party BY answered on LJ->call_id */
void conf_answered(LiveJob *lj, const char *by)
{
	g_autofree char *reason = NULL;

	if (lj->req->action == CTI_ACTION_INTRUDE) {
		g_clear_handle_id(&lj->monitor_id, timers_remove);
		lj->phase = CALL_INTRUDED;
		jobs_log(lj, "intruded: %s talks with %s, call %s held", lj->req->source, by,
		         lj->held_call_id);
		return;
	}
	if (use_lines(lj)) {
		reason = g_strdup_printf("%s added to the call of %s through server lines",
		                         lj->req->destination, lj->req->source);
		forwards_bridge_add(lj->jobs->forwards, lj->line_call_id, lj->call_id);
		g_clear_pointer(&lj->held_call_id, g_free);
		g_clear_pointer(&lj->line_call_id, g_free);
		jobs_attempt_done(lj, "answered", "server-lines", CTI_JOB_SUCCESS, reason);
		return;
	}
	call_send(
	    lj, CALL_CONFERENCING,
	    csta_build_conference_call(call_ns(lj), lj->held_call_id, lj->call_id, lj->req->source),
	    on_conferenced);
}

static void on_retrieved(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_autofree char *reason = NULL;

	if (lj == NULL)
		return;
	g_clear_pointer(&lj->held_call_id, g_free);
	g_clear_pointer(&lj->held_party, g_free);
	if (reply != NULL && reply->kind == CSTA_MSG_RETRIEVE_CALL_RESPONSE)
		reason = g_strdup_printf("%s talked with %s; the held party was retrieved",
		                         lj->req->source, lj->req->destination);
	else
		reason =
		    g_strdup_printf("%s talked with %s; the held party could not be retrieved "
		                    "(%s)",
		                    lj->req->source, lj->req->destination,
		                    reply ? (reply->error_value ? reply->error_value : reply->root)
		                          : error->message);
	jobs_attempt_done(lj, "answered", "intrude", CTI_JOB_SUCCESS, reason);
}

/* the server-lines intrusion leg ended: both lines leave, the held party comes back */
static void lines_intrusion_ended(LiveJob *lj, const CstaMessage *ev)
{
	g_auto(GStrv) lines = call_lines(lj->jobs->config);

	if (ev->kind == CSTA_MSG_CONNECTION_CLEARED && g_strcmp0(ev->device_id, lines[1]) != 0)
		call_cleanup(lj->jobs,
		             csta_build_clear_connection(call_ns(lj), lj->call_id, lines[1]));
	if (lj->line_call_id != NULL)
		call_cleanup(lj->jobs,
		             csta_build_clear_connection(call_ns(lj), lj->line_call_id, lines[0]));
	g_clear_pointer(&lj->line_call_id, g_free);
	call_send(lj, CALL_RETRIEVING,
	          csta_build_retrieve_call(call_ns(lj), lj->held_call_id, lj->held_party),
	          on_retrieved);
}

/* conf_intruded_event - an event while LJ is CALL_INTRUDED */
gboolean conf_intruded_event(LiveJob *lj, const CstaMessage *ev)
{
	if (g_strcmp0(ev->call_id, lj->call_id) != 0)
		return g_strcmp0(ev->call_id, lj->held_call_id) == 0;
	if (ev->kind != CSTA_MSG_CONNECTION_CLEARED && ev->kind != CSTA_MSG_CALL_CLEARED)
		return TRUE;
	jobs_log(lj, "the intrusion leg %s ended; retrieving call %s", lj->call_id,
	         lj->held_call_id);
	if (lj->held_party != NULL) {
		lines_intrusion_ended(lj, ev);
		return TRUE;
	}
	if (ev->kind == CSTA_MSG_CONNECTION_CLEARED &&
	    g_strcmp0(ev->device_id, lj->req->source) != 0)
		call_cleanup(lj->jobs, csta_build_clear_connection(call_ns(lj), lj->call_id,
		                                                   lj->req->source));
	call_send(lj, CALL_RETRIEVING,
	          csta_build_retrieve_call(call_ns(lj), lj->held_call_id, lj->req->source),
	          on_retrieved);
	return TRUE;
}
