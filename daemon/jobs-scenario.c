/* jobs-scenario - the media steps of a connect job, run on the answered call.
 *
 * Before the first attempt dials, the request mail (ctid's spool copy) is
 * turned into a media plan (lib/media-plan): voice parts converted, texts
 * synthesised, documents rendered, all into [ctid] media_dir, which the
 * exchange's voice unit (pbx-sim's --media-dir) shares.  When the destination
 * answers, the steps run in order: Play = PlayMessage naming the file over
 * the answering connection, then a timer for its playing time, once per
 * repetition (loop="3": three PlayMessages, each waited out);
 * Pause = a timer; Hangup = ClearConnection.  At the end of the plan the
 * call is cleared, as TwiML does at the end of a document.  Timers run
 * [ctid] time_scale times faster, like pbx-sim's simulated time in tests.
 * Monitor-Time keeps running through the scenario: the whole scenario must
 * finish within it (loop="0" plays until it runs out).  Fax = the converted
 * TIFF Class F named in a PlayMessage over the answering connection: the
 * exchange's fax unit sends it to the fax device that answered (pbx-sim(1),
 * "Fax receiver"); the step waits for the transmission time (file size at
 * 14400 bit/s plus T.30 set-up and per-page handshakes) and is reported
 * "N pages sent" only then; a refusal (no fax receiver, not Class F) fails
 * the job.  Not done: <Dial> inside a scenario has no CSTA service on this
 * link; such a scenario is refused at SMTP time (scenario_check_runnable), and
 * a plan that still holds one fails the job at that step ("not run"), so a
 * step that did not run never ends in success.
 * The LiveJob owns the plan, the step lines and the timer; the media files
 * are removed when the job ends (jobs.c: media_store_cleanup).  Failures: the
 * media cannot be converted (the job fails, no retry), PlayMessage refused,
 * the call ended during the scenario.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "csta.h"
#include "jobs-private.h"
#include "log.h"
#include "media.h"
#include "store.h"

static void run_next(LiveJob *lj);

/* step_line - record "LINE: RESULT" for the notification */
static void step_line(LiveJob *lj, const CtiPlanStep *st, const char *result)
{
	if (lj->step_lines == NULL)
		lj->step_lines = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(lj->step_lines, g_strdup_printf("%s: %s", st->describe, result));
	jobs_log(lj, "step %s: %s", st->describe, result);
}

/* jobs_scenario_prepare - the plan from the spooled mail, once per job */
gboolean jobs_scenario_prepare(LiveJob *lj)
{
	const CtiConfig *c = lj->jobs->config;
	g_autofree char *path = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *reason = NULL;

	if (lj->plan_built || lj->req->action != CTI_ACTION_CONNECT)
		return TRUE;
	path = store_message_path(lj->jobs->store, lj->job->id);
	lj->plan = media_plan_build_file(path, lj->req, c->media_dir, lj->job->id, &error);
	if (lj->plan != NULL) {
		lj->plan_built = TRUE;
		if (lj->plan->steps->len == 0)
			g_clear_pointer(&lj->plan, media_plan_free);
		else
			jobs_log(lj, "media plan: %u steps, %.1f s", lj->plan->steps->len,
			         lj->plan->total_seconds);
		return TRUE;
	}
	reason = g_strdup_printf("media: %s", error->message);
	lj->no_retry = !(error->domain == CTI_MEDIA_ERROR && error->code == CTI_MEDIA_ERROR_STORE);
	jobs_attempt_done(lj, "bad-media", "media", CTI_JOB_FAILED, reason);
	return FALSE;
}

/* scale_ms - SECONDS of simulated time as wall milliseconds */
static guint scale_ms(const LiveJob *lj, double seconds)
{
	int scale = MAX(lj->jobs->config->time_scale, 1);

	return (guint)MAX(1.0, seconds * 1000.0 / scale);
}

static gboolean on_step_timer(gpointer data)
{
	LiveJob *lj = data;

	lj->plan_timer = 0;
	run_next(lj);
	return G_SOURCE_REMOVE;
}

/* scenario_done - the plan ran to its end: clear the call, the attempt succeeded */
static void scenario_done(LiveJob *lj, gboolean hung_up)
{
	g_autofree char *reason = g_strdup_printf("answered by %s; %u scenario steps run",
	                                          lj->answer_device, lj->plan->steps->len);

	if (!hung_up && lj->call_id != NULL)
		call_cleanup(lj->jobs, csta_build_clear_connection(call_ns(lj), lj->call_id,
		                                                   lj->answer_device));
	jobs_attempt_done(lj, "answered", "normalClearing", CTI_JOB_SUCCESS, reason);
}

/* step_refused - the PBX refused the request WHAT of the running step: say LINE
 * about it, clear the call and fail the attempt for good; FALSE if it did not */
static gboolean step_refused(LiveJob *lj, const char *what, const char *line,
                             const CstaMessage *reply, const GError *error)
{
	const CtiPlanStep *st = g_ptr_array_index(lj->plan->steps, lj->plan_next - 1);

	if (reply != NULL && reply->kind != CSTA_MSG_ERROR)
		return FALSE;
	step_line(lj, st, line);
	call_cleanup(lj->jobs,
	             csta_build_clear_connection(call_ns(lj), lj->call_id, lj->answer_device));
	lj->no_retry = TRUE;
	call_fail_reply(lj, what, reply, error);
	return TRUE;
}

static void on_play(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	const CtiPlanStep *st;

	if (lj == NULL || step_refused(lj, "PlayMessage", "refused by the PBX", reply, error))
		return;
	st = g_ptr_array_index(lj->plan->steps, lj->plan_next - 1);
	if (st->loop == 0) {
		lj->plan_next--; /* TwiML loop="0": again, until Monitor-Time ends it */
		step_line(lj, st, "played (looping)");
	} else if (++lj->plan_played < (guint)st->loop) {
		lj->plan_next--; /* loop="N": one PlayMessage per repetition, N in all */
	} else {
		g_autofree char *times = g_strdup_printf("played %d times", st->loop);

		step_line(lj, st, st->loop > 1 ? times : "played");
		lj->plan_played = 0;
	}
	lj->plan_timer = timers_add(scale_ms(lj, st->seconds), on_step_timer, lj);
}

#define FAX_SETUP_S  5.0 /* T.30 phase B and D */
#define FAX_PAGE_S   1.5 /* post-page handshake */
#define FAX_BPS      14400.0
#define FAX_MARGIN_S 0.5 /* let the exchange's end of transmission come first */

/* fax_seconds - the transmission time of step ST's TIFF file */
static double fax_seconds(const CtiPlanStep *st)
{
	GStatBuf sb;
	double bytes = g_stat(st->path, &sb) == 0 ? (double)sb.st_size : 0.0;

	return FAX_SETUP_S + FAX_PAGE_S * st->pages + bytes * 8 / FAX_BPS + FAX_MARGIN_S;
}

static gboolean on_fax_timer(gpointer data)
{
	LiveJob *lj = data;
	const CtiPlanStep *st = g_ptr_array_index(lj->plan->steps, lj->plan_next - 1);
	g_autofree char *sent = g_strdup_printf("%u pages sent", st->pages);

	lj->plan_timer = 0;
	step_line(lj, st, sent);
	run_next(lj);
	return G_SOURCE_REMOVE;
}

static void on_fax(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	const CtiPlanStep *st;

	if (lj == NULL ||
	    step_refused(lj, "PlayMessage (fax)", "not sent: refused by the PBX", reply, error))
		return;
	st = g_ptr_array_index(lj->plan->steps, lj->plan_next - 1);
	jobs_log(lj, "fax %s: %u pages transmitting", st->file, st->pages);
	lj->plan_timer = timers_add(scale_ms(lj, fax_seconds(st)), on_fax_timer, lj);
}

/* step_not_run - ST cannot run here: say so, clear the call, fail the job for good */
static void step_not_run(LiveJob *lj, const CtiPlanStep *st)
{
	g_autofree char *reason =
	    g_strdup_printf("scenario step %u of %u (%s) cannot run on this gateway", lj->plan_next,
	                    lj->plan->steps->len, st->describe);

	step_line(lj, st, "not run: no dial-out from a scenario on this gateway");
	call_cleanup(lj->jobs,
	             csta_build_clear_connection(call_ns(lj), lj->call_id, lj->answer_device));
	lj->no_retry = TRUE;
	jobs_attempt_done(lj, "answered", "not-run", CTI_JOB_FAILED, reason);
}

/* play_xml - PlayMessage of FILE over the answering connection */
static char *play_xml(const LiveJob *lj, const char *file)
{
	g_autoptr(CstaNode) root = csta_node_new("PlayMessage", NULL);
	CstaNode *over;

	csta_node_add(root, "messageToBePlayed", file);
	over = csta_node_add(root, "overConnection", NULL);
	csta_node_add(over, "callID", lj->call_id);
	csta_node_add(over, "deviceID", lj->answer_device);
	return csta_node_to_xml(root, call_ns(lj));
}

/* run_next - start the next step, or finish */
static void run_next(LiveJob *lj)
{
	const CtiPlanStep *st;

	if (lj->plan_next >= lj->plan->steps->len) {
		scenario_done(lj, FALSE);
		return;
	}
	st = g_ptr_array_index(lj->plan->steps, lj->plan_next++);
	switch (st->kind) {
	case CTI_PLAN_PLAY:
		call_send(lj, CALL_SCENARIO, play_xml(lj, st->file), on_play);
		return;
	case CTI_PLAN_PAUSE:
		step_line(lj, st, "paused");
		lj->plan_timer = timers_add(scale_ms(lj, st->seconds), on_step_timer, lj);
		return;
	case CTI_PLAN_HANGUP:
		step_line(lj, st, "hung up");
		scenario_done(lj, FALSE);
		return;
	case CTI_PLAN_DIAL:
		/* refused at SMTP time (scenario_check_runnable); a plan that still holds one
		 * fails here rather than report a step that did not run as a success */
		step_not_run(lj, st);
		return;
	case CTI_PLAN_FAX:
		call_send(lj, CALL_SCENARIO, play_xml(lj, st->file), on_fax);
		return;
	}
	run_next(lj);
}

/* jobs_scenario_answered - start the plan on the answered call */
gboolean jobs_scenario_answered(LiveJob *lj, const char *by)
{
	if (lj->plan == NULL)
		return FALSE;
	g_free(lj->answer_device);
	lj->answer_device = g_strdup(by);
	lj->plan_next = 0;
	lj->plan_played = 0;
	g_clear_pointer(&lj->step_lines, g_ptr_array_unref);
	lj->phase = CALL_SCENARIO;
	run_next(lj);
	return TRUE;
}

/* last_is_fax - the last step is a fax: a fax cut short is not sent */
static gboolean last_is_fax(const LiveJob *lj)
{
	const CtiPlanStep *st = g_ptr_array_index(lj->plan->steps, lj->plan->steps->len - 1);

	return st->kind == CTI_PLAN_FAX;
}

/* jobs_scenario_event - the call ending under the scenario */
gboolean jobs_scenario_event(LiveJob *lj, const CstaMessage *ev)
{
	g_autofree char *reason = NULL;

	if (ev->call_id != NULL && g_strcmp0(ev->call_id, lj->call_id) != 0)
		return FALSE;
	if (ev->kind != CSTA_MSG_CONNECTION_CLEARED && ev->kind != CSTA_MSG_CALL_CLEARED)
		return TRUE;
	if (lj->plan_next >= lj->plan->steps->len && lj->plan_timer != 0 && !last_is_fax(lj)) {
		/* hung up during the last step's playing time: the scenario is complete enough */
		g_clear_handle_id(&lj->plan_timer, timers_remove);
		scenario_done(lj, TRUE);
		return TRUE;
	}
	if (lj->plan_timer != 0 && lj->plan_next > 0) {
		const CtiPlanStep *st = g_ptr_array_index(lj->plan->steps, lj->plan_next - 1);

		if (st->kind == CTI_PLAN_FAX)
			step_line(lj, st, "not sent: the call ended during the transmission");
	}
	reason = g_strdup_printf("the call ended during scenario step %u of %u",
	                         MAX(lj->plan_next, 1), lj->plan->steps->len);
	lj->no_retry = TRUE;
	g_clear_handle_id(&lj->plan_timer, timers_remove);
	jobs_attempt_done(lj, "hung-up", ev->cause ? ev->cause : "cleared", CTI_JOB_FAILED, reason);
	return TRUE;
}

/* jobs_scenario_monitor_time - Monitor-Time is up with the scenario still running */
void jobs_scenario_monitor_time(LiveJob *lj)
{
	const CtiPlanStep *st = lj->plan_next < lj->plan->steps->len
	                            ? g_ptr_array_index(lj->plan->steps, lj->plan_next)
	                            : NULL;
	g_autofree char *reason = NULL;

	g_clear_handle_id(&lj->plan_timer, timers_remove);
	if (st != NULL && st->kind == CTI_PLAN_PLAY && st->loop == 0) {
		lj->plan_next = lj->plan->steps->len; /* the endless loop ends here, as meant */
		scenario_done(lj, FALSE);
		return;
	}
	reason = g_strdup_printf(
	    "the scenario did not finish within Monitor-Time %d s (at step %u of %u)",
	    lj->monitor_time, lj->plan_next, lj->plan->steps->len);
	call_cleanup(lj->jobs,
	             csta_build_clear_connection(call_ns(lj), lj->call_id, lj->answer_device));
	lj->no_retry = TRUE;
	jobs_attempt_done(lj, "answered", "timeout", CTI_JOB_TIMEOUT, reason);
}

/* jobs_scenario_reset - no step runs any more */
void jobs_scenario_reset(LiveJob *lj)
{
	g_clear_handle_id(&lj->plan_timer, timers_remove);
}

/* jobs_scenario_free - the plan, lines and timer of LJ */
void jobs_scenario_free(LiveJob *lj)
{
	g_clear_handle_id(&lj->plan_timer, timers_remove);
	g_clear_pointer(&lj->plan, media_plan_free);
	g_clear_pointer(&lj->step_lines, g_ptr_array_unref);
	g_clear_pointer(&lj->answer_device, g_free);
}
