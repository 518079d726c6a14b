/* jobs - the live-job table of ctid: admission, scheduling, terminal states
 * and notifications.
 *
 * The store is the truth; the table holds one LiveJob per live job (plus a
 * terminal job whose notification could not be handed to sendmail yet).
 * State machine (every change is written with store_update and logged):
 *   SUBMIT -> QUEUED (Trigger: system) or WAITING_USER (Trigger: user)
 *   WAITING_USER --RETRIEVED by the owner--> QUEUED;  --expiry--> EXPIRED
 *   QUEUED/RETRY_WAIT --due, link up--> RUNNING (attempt n)
 *   QUEUED/RETRY_WAIT --due, link down for Monitor-Time--> TIMEOUT
 *   RUNNING --answered--> SUCCESS;  --failed/timeout--> RETRY_WAIT while
 *     attempts remain (Retry:), else FAILED / TIMEOUT
 *   any --Not-After passed before an attempt--> EXPIRED
 * A terminal job gets at most one notification (Notify: yes), then its spool
 * file is removed.  With [ctid] notify_confirm = yes the notification carries
 * "X-CTI-Notification: <job> <token> <copy>" (token stored first, copy new per
 * sending); the job counts as notified, and its spool file goes, only when
 * cti-milter confirms a copy (NOTIFIED, jobs_notified): that copy is confirmed
 * again if Postfix offers it again, any other copy is discarded.
 * A job found RUNNING at start-up was interrupted by a restart: that attempt
 * ends as "interrupted" and the retry rules apply.
 * The LiveJob owns its CtiJob and CtiRequest; jobs_finish frees the LiveJob.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "jobs-private.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "notify.h"

#define NOTIFY_RETRY_S 60
#define NOTIFY_RESEND_S 2 /* after a restart: an unconfirmed notification is sent again */
#define UNCONFIRMED_CHECK_S 300 /* how often to look for notifications nobody confirmed */
#define UNCONFIRMED_WARN_S 600  /* unconfirmed this long: cti-milter is not on Postfix's local path */

static void notify_and_forget(LiveJob *lj);

/* jobs_now - unix seconds */
gint64 jobs_now(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static void live_job_free(LiveJob *lj)
{
	jobs_active_sync(lj, TRUE);
	g_clear_handle_id(&lj->due_id, timers_remove);
	g_clear_handle_id(&lj->monitor_id, timers_remove);
	g_free(lj->xref_source);
	g_free(lj->xref_dest);
	g_free(lj->call_id);
	g_free(lj->calling_device);
	g_free(lj->held_call_id);
	g_free(lj->busy_call_id);
	g_free(lj->line_call_id);
	g_free(lj->held_party);
	g_clear_pointer(&lj->early, g_ptr_array_unref);
	jobs_scenario_free(lj);
	job_free(lj->job);
	request_free(lj->req);
	g_free(lj);
}

/* jobs_new - an empty job table over STORE */
CtidJobs *jobs_new(const CtiConfig *config, CtiStore *store)
{
	CtidJobs *jobs = g_new0(CtidJobs, 1);

	jobs->config = config;
	jobs->store = store;
	jobs->live =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)live_job_free);
	jobs->forwards = forwards_new(jobs);
	jobs->rates = ratelimit_log_new();
	jobs->notices = ratelimit_log_new();
	jobs->active = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return jobs;
}

/* jobs_free - forget the in-memory state */
void jobs_free(CtidJobs *jobs)
{
	if (jobs == NULL)
		return;
	g_clear_handle_id(&jobs->unconfirmed_id, g_source_remove);
	g_hash_table_destroy(jobs->live);
	g_hash_table_destroy(jobs->active);
	forwards_free(jobs->forwards);
	ratelimit_log_free(jobs->rates);
	ratelimit_log_free(jobs->notices);
	g_free(jobs);
}

/* jobs_set_link - the PBX link to use */
void jobs_set_link(CtidJobs *jobs, CtidLink *link)
{
	jobs->link = link;
}

/* jobs_stop - forget every in-memory job before shutdown: the store keeps
 * them as they are, and replies or errors still arriving from the PBX link
 * find no job to change */
void jobs_stop(CtidJobs *jobs)
{
	g_hash_table_remove_all(jobs->live);
}

/* jobs_log - one Postfix-style line keyed by queue id and job id: "QUEUEID: job ID: text" */
void jobs_log(const LiveJob *lj, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	log_info("%s: job %s: %s",
	         lj->job->queue_id && lj->job->queue_id[0] ? lj->job->queue_id : "NOQUEUE",
	         lj->job->id, text);
	if (lj->jobs->observer != NULL)
		lj->jobs->observer(lj->job, text, lj->jobs->observer_data);
}

/* jobs_set_observer - call OBSERVER on every jobs_log line */
void jobs_set_observer(CtidJobs *jobs, JobsObserver observer, gpointer data)
{
	jobs->observer = observer;
	jobs->observer_data = data;
}

/* jobs_save - store_update, logging a failure */
gboolean jobs_save(LiveJob *lj)
{
	g_autoptr(GError) error = NULL;

	if (store_update(lj->jobs->store, lj->job, &error))
		return TRUE;
	log_error("%s: job %s: cannot update the job store: %s",
	          lj->job->queue_id ? lj->job->queue_id : "NOQUEUE", lj->job->id, error->message);
	return FALSE;
}

static void forget(LiveJob *lj)
{
	g_hash_table_remove(lj->jobs->live, lj->job->id);
}

/* finish - the one terminal state of LJ; frees LJ */
static void finish(LiveJob *lj, CtiJobState state, const char *reason)
{
	g_assert(job_state_is_terminal(state));
	call_reset(lj);
	g_clear_handle_id(&lj->due_id, timers_remove);
	lj->job->state = state;
	jobs_active_sync(lj, FALSE);
	g_free(lj->job->reason);
	lj->job->reason = g_strdup(reason);
	lj->job->finished = jobs_now();
	jobs_save(lj);
	jobs_log(lj, "state=%s attempts=%d reason=\"%s\"", job_state_name(state), lj->job->attempts,
	         reason ? reason : "");
	if (lj->plan_built && media_store_cleanup(lj->jobs->config->media_dir, lj->job->id, NULL) > 0)
		jobs_log(lj, "media removed");
	notify_and_forget(lj);
}

/* jobs_finish - the one terminal state of LJ (admin.c: CANCEL); frees LJ */
void jobs_finish(LiveJob *lj, CtiJobState state, const char *reason)
{
	finish(lj, state, reason);
}

/* ---- notification ---- */

/* the request mail's header block, read from the spool file (transfer full) */
static char *request_headers(LiveJob *lj)
{
	g_autofree char *path = store_message_path(lj->jobs->store, lj->job->id);
	g_autofree char *data = NULL;
	gsize len;
	char *end;

	if (path == NULL || !g_file_get_contents(path, &data, &len, NULL))
		return NULL;
	end = strstr(data, "\r\n\r\n");
	if (end == NULL)
		end = strstr(data, "\n\n");
	if (end != NULL)
		end[end[0] == '\r' ? 2 : 1] = '\0';
	return g_steal_pointer(&data);
}

/* jobs_confirm_notifications - TRUE when a notification counts once cti-milter confirmed it */
gboolean jobs_confirm_notifications(const CtidJobs *jobs)
{
	return g_strcmp0(jobs->config->notify_confirm, "no") != 0;
}

static gboolean notify_confirmed_by_milter(const LiveJob *lj)
{
	return jobs_confirm_notifications(lj->jobs);
}

/* 128 random bits in hex (transfer full), or NULL + ERROR */
static char *random_hex(GError **error)
{
	guint8 raw[16];
	char *hex;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no random bytes for the token");
		return NULL;
	}
	hex = g_malloc(2 * sizeof raw + 1);
	for (gsize i = 0; i < sizeof raw; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return hex;
}

/* the job's notification token, created and stored once */
static gboolean notify_token(LiveJob *lj, GError **error)
{
	if (lj->job->notify_token != NULL)
		return TRUE;
	lj->job->notify_token = random_hex(error);
	if (lj->job->notify_token == NULL)
		return FALSE;
	if (!store_update(lj->jobs->store, lj->job, error)) {
		g_clear_pointer(&lj->job->notify_token, g_free);
		return FALSE;
	}
	return TRUE;
}

/* MESSAGE with "X-CTI-Notification: <job> <token> <copy>" in front (transfer full) */
static GBytes *notify_tagged(const LiveJob *lj, GBytes *message, const char *copy)
{
	gsize len;
	const char *data = g_bytes_get_data(message, &len);
	gboolean crlf = memchr(data, '\r', MIN(len, 1024)) != NULL;
	g_autofree char *head =
	    g_strdup_printf("X-CTI-Notification: %s %s %s%s", lj->job->id, lj->job->notify_token,
	                    copy, crlf ? "\r\n" : "\n");
	GByteArray *out = g_byte_array_sized_new(strlen(head) + len);

	g_byte_array_append(out, (const guint8 *)head, strlen(head));
	g_byte_array_append(out, (const guint8 *)data, len);
	return g_byte_array_free_to_bytes(out);
}

typedef enum {
	NOTIFY_SENT,
	NOTIFY_RETRY, /* sendmail failed: try again later */
	NOTIFY_NEVER, /* no notification can be composed (no valid recipient) */
	NOTIFY_SUPPRESSED, /* jobs-limits.c: null sender, automatic mail, budget spent */
} NotifyResult;

static NotifyResult send_notification(LiveJob *lj, GError **error)
{
	const CtiConfig *c = lj->jobs->config;
	g_autoptr(GPtrArray) attempts = store_attempts(lj->jobs->store, lj->job->id, NULL);
	g_autofree char *headers = request_headers(lj);
	g_autofree char *recipient = NULL;
	g_autoptr(GBytes) message = NULL;
	CtiNotifyInfo info = {
	    .job = lj->job,
	    .request = lj->req,
	    .status = job_state_name(lj->job->state),
	    .reason = lj->job->reason,
	    .attempts = attempts,
	    .answered_at = lj->answered_ms,
	    .request_headers = headers,
	    .from = c->notify_from,
	    .hostname = c->hostname,
	    .steps = lj->step_lines,
	};
	const char *suppressed = jobs_notify_suppressed(lj, headers);

	if (suppressed != NULL) {
		jobs_log(lj, "notification suppressed: %s", suppressed);
		return NOTIFY_SUPPRESSED;
	}

	message = notify_compose(&info, &recipient, error);
	if (message == NULL)
		return NOTIFY_NEVER;
	if (notify_confirmed_by_milter(lj)) {
		g_autofree char *copy = NULL;
		GBytes *tagged;

		if (!notify_token(lj, error) || (copy = random_hex(error)) == NULL)
			return NOTIFY_RETRY;
		tagged = notify_tagged(lj, message, copy);
		g_bytes_unref(message);
		message = tagged;
	}
	if (!notify_send(c->sendmail, recipient, message, error))
		return NOTIFY_RETRY;
	jobs_log(lj, "notified=<%s> status=%s", recipient, info.status);
	jobs_notify_count(lj);
	return NOTIFY_SENT;
}

static gboolean notify_retry_cb(gpointer data)
{
	LiveJob *lj = data;

	lj->due_id = 0;
	if (notify_confirmed_by_milter(lj)) {
		/* cti-milter may have confirmed an earlier copy meanwhile (server.c) */
		g_autoptr(CtiJob) now = store_get(lj->jobs->store, lj->job->id, NULL);

		if (now != NULL)
			lj->job->notified = now->notified;
	}
	notify_and_forget(lj);
	return G_SOURCE_REMOVE;
}

static void remove_message(LiveJob *lj)
{
	g_autoptr(GError) error = NULL;

	if (!store_remove_message(lj->jobs->store, lj->job->id, &error))
		log_warning("job=%s spool file not removed: %s", lj->job->id, error->message);
}

/* notify_and_forget - send the notification if one is due, clean up, free LJ */
static void notify_and_forget(LiveJob *lj)
{
	g_autoptr(GError) error = NULL;

	if (lj->req->notify && !lj->job->notified) {
		switch (send_notification(lj, &error)) {
		case NOTIFY_RETRY:
			log_warning("%s: job %s: notification not sent, retrying in %d s: %s",
			            lj->job->queue_id ? lj->job->queue_id : "NOQUEUE", lj->job->id,
			            NOTIFY_RETRY_S, error ? error->message : "unknown error");
			lj->notify_pending = TRUE;
			lj->due_id = timers_add_seconds(NOTIFY_RETRY_S, notify_retry_cb, lj);
			return;
		case NOTIFY_NEVER:
			log_warning("%s: job %s: no notification possible: %s",
			            lj->job->queue_id ? lj->job->queue_id : "NOQUEUE", lj->job->id,
			            error ? error->message : "unknown error");
			break;
		case NOTIFY_SENT:
			if (notify_confirmed_by_milter(lj)) {
				/* notified and the spool file: once cti-milter confirms */
				forget(lj);
				return;
			}
			lj->job->notified = TRUE;
			jobs_save(lj);
			break;
		case NOTIFY_SUPPRESSED:
			break;
		}
	}
	remove_message(lj);
	forget(lj);
}

/* jobs_notified - confirm COPY of the notification of JOB_ID carrying TOKEN */
JobsNotified jobs_notified(CtidJobs *jobs, const char *job_id, const char *token,
                           const char *copy, GError **error)
{
	g_autoptr(CtiJob) job = NULL;
	g_autoptr(GError) local = NULL;

	if (job_id == NULL || token == NULL || copy == NULL ||
	    (job = store_get(jobs->store, job_id, &local)) == NULL) {
		if (local != NULL && g_error_matches(local, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP)) {
			g_propagate_error(error, g_steal_pointer(&local));
			return JOBS_NOTIFIED_TEMP;
		}
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND, "unknown job");
		return JOBS_NOTIFIED_BAD;
	}
	if (job->notify_token == NULL || strcmp(job->notify_token, token) != 0) {
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM, "token does not match");
		return JOBS_NOTIFIED_BAD;
	}
	if (job->notified)
		/* the confirmed copy again: its answer was lost (ctid killed), Postfix retried */
		return g_strcmp0(job->notify_copy, copy) == 0 ? JOBS_NOTIFIED_FIRST
		                                              : JOBS_NOTIFIED_DUPLICATE;
	job->notified = TRUE;
	g_free(job->notify_copy);
	job->notify_copy = g_strdup(copy);
	if (!store_update(jobs->store, job, error))
		return JOBS_NOTIFIED_TEMP;
	log_info("job=%s notification confirmed by cti-milter", job_id);
	if (!g_hash_table_contains(jobs->live, job_id) &&
	    !store_remove_message(jobs->store, job_id, &local))
		log_warning("job=%s spool file not removed: %s", job_id, local->message);
	return JOBS_NOTIFIED_FIRST;
}

/* ---- attempts ---- */

static gboolean retry_allowed(const LiveJob *lj, gint64 next)
{
	return !lj->no_retry && lj->job->attempts < lj->req->retry_count &&
	       (lj->req->not_after == 0 || next <= lj->req->not_after);
}

/* count_answer - the time to answer of LJ's attempt, as stored (ctictl stats reads the same) */
static void count_answer(LiveJob *lj)
{
	g_autoptr(GPtrArray) attempts = store_attempts(lj->jobs->store, lj->job->id, NULL);

	for (guint i = 0; attempts != NULL && i < attempts->len; i++) {
		const CtiAttempt *a = g_ptr_array_index(attempts, i);

		if (a->number == lj->job->attempts && a->ended >= a->started)
			metrics_answered(a->ended - a->started);
	}
}

/* jobs_attempt_done - an attempt ended; success, a retry, or the terminal STATE */
void jobs_attempt_done(LiveJob *lj, const char *outcome, const char *cause, CtiJobState state,
                       const char *reason)
{
	CtiStore *store = lj->jobs->store;
	int scale = MAX(lj->jobs->config->time_scale, 1);
	/* [ctid] time_scale (tests only) shortens the interval, rounding up */
	int interval = (lj->req->retry_interval + scale - 1) / scale;
	/* due_at has whole seconds: round up, so the pause is never shorter than asked */
	gint64 next = (g_get_real_time() + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC + interval;

	if (!lj->attempt_recorded)
		store_attempt_begin(store, lj->job->id, lj->job->attempts, lj->call_id, NULL);
	lj->attempt_recorded = TRUE;
	if (!store_attempt_end(store, lj->job->id, lj->job->attempts, outcome, cause, NULL))
		log_warning("job=%s attempt %d outcome not recorded", lj->job->id,
		            lj->job->attempts);
	jobs_log(lj, "attempt=%d outcome=%s cause=%s", lj->job->attempts, outcome,
	         cause ? cause : "-");
	if (strcmp(outcome, "answered") == 0)
		count_answer(lj);
	call_reset(lj);
	if (state == CTI_JOB_SUCCESS || !retry_allowed(lj, next)) {
		finish(lj, state, reason);
		return;
	}
	lj->job->state = CTI_JOB_RETRY_WAIT;
	lj->job->due_at = next;
	g_free(lj->job->reason);
	lj->job->reason = g_strdup(reason);
	jobs_save(lj);
	jobs_log(lj, "state=retry-wait attempt=%d next=%ds reason=\"%s\"", lj->job->attempts,
	         interval, reason);
	jobs_schedule(lj);
}

static void start_attempt(LiveJob *lj)
{
	g_clear_handle_id(&lj->due_id, timers_remove);
	lj->job->attempts++;
	lj->job->state = CTI_JOB_RUNNING;
	lj->attempt_recorded = FALSE;
	if (!jobs_save(lj)) {
		lj->job->attempts--;
		lj->job->state = CTI_JOB_QUEUED;
		lj->due_id = 0;
		jobs_schedule(lj);
		return;
	}
	jobs_log(lj, "state=running attempt=%d source=%s destination=%s", lj->job->attempts,
	         lj->req->source, lj->req->destination ? lj->req->destination : "-");
	call_start(lj);
}

static gboolean link_wait_cb(gpointer data)
{
	LiveJob *lj = data;
	g_autofree char *reason =
	    g_strdup_printf("the PBX link was down for %d s", lj->monitor_time);

	lj->due_id = 0;
	finish(lj, CTI_JOB_TIMEOUT, reason);
	return G_SOURCE_REMOVE;
}

/* run_due - LJ is due: refuse what cannot run, wait for the link, or start */
static void run_due(LiveJob *lj)
{
	const CtiRequest *req = lj->req;

	if (req->not_after != 0 && jobs_now() > req->not_after) {
		finish(lj, CTI_JOB_EXPIRED, "Not-After passed before the call could be placed");
		return;
	}
	if (req->dry_run) {
		g_autofree char *reason =
		    g_strdup_printf("dry run: would %s %s from %s; nothing was dialled",
		                    request_action_name(req->action), req->destination, req->source);

		if (admin_dry_run(lj))
			lj->job->notified = TRUE; /* the explanation mail is its notification */
		finish(lj, CTI_JOB_DRY_RUN, reason); /* never counted as a call made */
		return;
	}
	if (lj->jobs->link == NULL || !link_is_up(lj->jobs->link)) {
		jobs_log(lj, "state=%s waiting for the PBX link", job_state_name(lj->job->state));
		lj->due_id = timers_add_seconds((guint)lj->monitor_time, link_wait_cb, lj);
		return;
	}
	start_attempt(lj);
}

static gboolean due_cb(gpointer data)
{
	LiveJob *lj = data;

	lj->due_id = 0;
	if (lj->job->state == CTI_JOB_WAITING_USER) {
		g_autofree char *reason =
		    lj->req->not_after != 0 && jobs_now() >= lj->req->not_after
		        ? g_strdup("not retrieved by its mailbox owner before its Not-After")
		        : g_strdup_printf("not retrieved by its mailbox owner within %d s",
		                          lj->jobs->config->user_trigger_expiry);

		finish(lj, CTI_JOB_EXPIRED, reason);
		return G_SOURCE_REMOVE;
	}
	run_due(lj);
	return G_SOURCE_REMOVE;
}

static void arm(LiveJob *lj, gint64 at)
{
	gint64 delay_ms = at * 1000 - g_get_real_time() / 1000;

	lj->due_id = timers_add((guint)CLAMP(delay_ms, 0, G_MAXINT32), due_cb, lj);
}

/* jobs_schedule - set LJ's timer for its state */
void jobs_schedule(LiveJob *lj)
{
	g_clear_handle_id(&lj->due_id, timers_remove);
	switch (lj->job->state) {
	case CTI_JOB_QUEUED:
	case CTI_JOB_RETRY_WAIT:
		arm(lj, lj->job->due_at);
		break;
	case CTI_JOB_WAITING_USER:
		if (lj->job->deadline != 0)
			arm(lj, lj->job->deadline);
		break;
	case CTI_JOB_RUNNING:
	case CTI_JOB_SUCCESS:
	case CTI_JOB_FAILED:
	case CTI_JOB_TIMEOUT:
	case CTI_JOB_CANCELLED:
	case CTI_JOB_REFUSED:
	case CTI_JOB_EXPIRED:
	case CTI_JOB_DRY_RUN:
		break;
	}
}

/* jobs_adopt - put JOB (transfer full) in the table; NULL + log when its request does not parse */
LiveJob *jobs_adopt(CtidJobs *jobs, CtiJob *job)
{
	g_autoptr(GError) error = NULL;
	LiveJob *lj = g_new0(LiveJob, 1);

	lj->jobs = jobs;
	lj->job = job;
	lj->req = request_parse(job->request, strlen(job->request), &error);
	if (lj->req == NULL) {
		log_error("job=%s stored request does not parse: %s", job->id, error->message);
		live_job_free(lj);
		return NULL;
	}
	lj->monitor_time =
	    lj->req->monitor_time > 0 ? lj->req->monitor_time : jobs->config->default_monitor_time;
	g_hash_table_insert(jobs->live, job->id, lj);
	jobs_active_sync(lj, FALSE);
	return lj;
}

/* ---- resume ---- */

static void resume_running(LiveJob *lj)
{
	g_autoptr(GPtrArray) attempts = store_attempts(lj->jobs->store, lj->job->id, NULL);
	g_autofree char *reason =
	    g_strdup_printf("ctid restarted during attempt %d; the outcome of that call is unknown",
	                    lj->job->attempts);

	lj->attempt_recorded = FALSE;
	for (guint i = 0; attempts != NULL && i < attempts->len; i++) {
		const CtiAttempt *a = g_ptr_array_index(attempts, i);

		if (a->number != lj->job->attempts)
			continue;
		lj->attempt_recorded = TRUE;
		/* the call was placed: find it on the PBX once the link is up */
		if (a->ended == 0 && call_adopt(lj, a->call_id, a->started))
			return;
	}
	jobs_attempt_done(lj, "interrupted", "ctid restarted", CTI_JOB_FAILED, reason);
}

/* resume_unnotified - terminal jobs whose notification was never handed to
 * sendmail (ctid stopped first): send it now, as a job would have */
static void resume_unnotified(CtidJobs *jobs)
{
	gint64 since = jobs_now() - jobs->config->user_trigger_expiry - 86400;

	for (int s = CTI_JOB_SUCCESS; s <= CTI_JOB_LAST; s++) {
		g_autoptr(GPtrArray) done = store_list(jobs->store, s, NULL, since, 10000, NULL);

		for (guint i = 0; done != NULL && i < done->len; i++) {
			CtiJob *job = g_ptr_array_index(done, i);
			g_autofree char *path = store_message_path(jobs->store, job->id);
			LiveJob *lj;

			if (job->notified || path == NULL ||
			    !g_file_test(path, G_FILE_TEST_EXISTS) ||
			    g_hash_table_contains(jobs->live, job->id))
				continue;
			g_ptr_array_index(done, i) = NULL;
			lj = jobs_adopt(jobs, job);
			if (lj != NULL) {
				jobs_log(lj, "state=%s notification still due",
				         job_state_name(job->state));
				if (lj->job->notify_token == NULL) {
					notify_and_forget(lj);
					continue;
				}
				/* sent before, unconfirmed: a copy may still be in Postfix */
				lj->notify_pending = TRUE;
				lj->due_id = timers_add_seconds(NOTIFY_RESEND_S, notify_retry_cb, lj);
			}
		}
	}
}

/* a copy goes through Postfix in seconds; one unconfirmed for minutes means that
 * cti-milter does not see Postfix's locally submitted mail (non_smtpd_milters):
 * then every restart sends those notifications again, and their spool files stay */
static gboolean unconfirmed_check_cb(gpointer data)
{
	CtidJobs *jobs = data;
	g_autoptr(GError) error = NULL;
	int count = 0;
	gint64 oldest = 0;

	if (!store_unconfirmed(jobs->store, &count, &oldest, &error))
		log_warning("cannot count unconfirmed notifications: %s", error->message);
	else if (count > 0 && jobs_now() - oldest >= UNCONFIRMED_WARN_S)
		log_warning("%d notification(s) sent but not confirmed by cti-milter, the oldest for %"
		            G_GINT64_FORMAT " s: is cti-milter in Postfix's non_smtpd_milters? "
		            "If it cannot be, set [ctid] notify_confirm = no (ctid(8))",
		            count, jobs_now() - oldest);
	return G_SOURCE_CONTINUE;
}

/* jobs_resume - load every live job from the store and schedule it */
gboolean jobs_resume(CtidJobs *jobs, GError **error)
{
	g_autoptr(GPtrArray) live = store_list_live(jobs->store, error);
	g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func(g_free);

	if (live == NULL)
		return FALSE;
	for (guint i = 0; i < live->len; i++) {
		CtiJob *job = g_ptr_array_index(live, i);
		LiveJob *lj;

		if (g_hash_table_contains(jobs->live, job->id))
			continue;
		g_ptr_array_index(live, i) = NULL;
		lj = jobs_adopt(jobs, job);
		if (lj == NULL)
			continue;
		if (lj->job->state == CTI_JOB_RUNNING)
			g_ptr_array_add(running, g_strdup(lj->job->id));
		else
			jobs_schedule(lj);
	}
	log_info("resumed %u live job(s), %u interrupted by a restart",
	         g_hash_table_size(jobs->live), running->len);
	resume_unnotified(jobs);
	if (!jobs_rate_resume(jobs, error))
		return FALSE;
	if (jobs_confirm_notifications(jobs) && jobs->unconfirmed_id == 0)
		jobs->unconfirmed_id =
		    g_timeout_add_seconds(UNCONFIRMED_CHECK_S, unconfirmed_check_cb, jobs);
	for (guint i = 0; i < running->len; i++) {
		LiveJob *lj = g_hash_table_lookup(jobs->live, g_ptr_array_index(running, i));

		if (lj != NULL)
			resume_running(lj);
	}
	return TRUE;
}

/* ---- link hooks ---- */

static GPtrArray *ids_where(CtidJobs *jobs, gboolean (*pred)(const LiveJob *lj))
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	LiveJob *lj;

	g_hash_table_iter_init(&it, jobs->live);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&lj))
		if (pred(lj))
			g_ptr_array_add(ids, g_strdup(lj->job->id));
	return ids;
}

static gboolean is_waiting_for_link(const LiveJob *lj)
{
	return (lj->job->state == CTI_JOB_QUEUED || lj->job->state == CTI_JOB_RETRY_WAIT) &&
	       lj->job->due_at <= jobs_now();
}

static gboolean is_calling(const LiveJob *lj)
{
	return lj->phase != CALL_IDLE;
}

static gboolean is_resyncing(const LiveJob *lj)
{
	return lj->phase == CALL_RESYNC;
}

static void on_link_up(gpointer data)
{
	CtidJobs *jobs = data;
	g_autoptr(GPtrArray) resync = ids_where(jobs, is_resyncing);
	g_autoptr(GPtrArray) ids = ids_where(jobs, is_waiting_for_link);

	forwards_link_up(jobs->forwards);
	for (guint i = 0; i < resync->len; i++) {
		LiveJob *lj = g_hash_table_lookup(jobs->live, g_ptr_array_index(resync, i));

		if (lj != NULL)
			call_resync(lj);
	}

	for (guint i = 0; i < ids->len; i++) {
		LiveJob *lj = g_hash_table_lookup(jobs->live, g_ptr_array_index(ids, i));

		if (lj != NULL && is_waiting_for_link(lj) && !lj->notify_pending) {
			g_clear_handle_id(&lj->due_id, timers_remove);
			run_due(lj);
		}
	}
}

static void on_link_down(gpointer data)
{
	CtidJobs *jobs = data;
	g_autoptr(GPtrArray) ids = ids_where(jobs, is_calling);

	forwards_link_down(jobs->forwards);
	for (guint i = 0; i < ids->len; i++) {
		LiveJob *lj = g_hash_table_lookup(jobs->live, g_ptr_array_index(ids, i));

		if (lj != NULL)
			call_link_lost(lj);
	}
}

static void on_event(const CstaMessage *ev, gpointer data)
{
	CtidJobs *jobs = data;
	g_autoptr(GPtrArray) ids = ids_where(jobs, is_calling);

	if (forwards_event(jobs->forwards, ev))
		return;
	for (guint i = 0; i < ids->len; i++) {
		LiveJob *lj = g_hash_table_lookup(jobs->live, g_ptr_array_index(ids, i));

		if (lj != NULL && call_event(lj, ev))
			return;
	}
	log_debug("pbx: %s (monitor %s, call %s) matches no job", ev->root,
	          ev->monitor_xref ? ev->monitor_xref : "-", ev->call_id ? ev->call_id : "-");
}

const LinkHooks jobs_link_hooks = {
    .up = on_link_up,
    .down = on_link_down,
    .event = on_event,
};
