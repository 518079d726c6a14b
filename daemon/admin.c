/* admin - the operator verbs of ctid (ctictl jobs/stats/watch).
 *
 * JOBS and JOB read the store; CANCEL and RETRY change a job through the
 * live-job table (jobs-private.h), so the state machine, the log line and
 * the one notification per ending stay in jobs.c.  STATS is computed from
 * the store on demand.  Decisions:
 *   CANCEL  a live job (queued, waiting-user, retry-wait, running) ends as
 *           "cancelled"; a ringing call is cleared on the PBX first and the
 *           running attempt is recorded with outcome "cancelled".
 *   RETRY   re-opens the same job (same Job-Id, attempt history kept): a
 *           failed, timeout or cancelled job goes back to "queued", due now,
 *           for exactly one more attempt; its notified flag is reset, so the
 *           new ending sends one new notification.  Refused, expired and
 *           successful jobs are never retried, nor a job past its Not-After.
 *   Dry-Run  a "Dry-Run: yes" job is explained (lib/explain.c) and the
 *           explanation mail, a reply to the request, is its notification.
 * Every handler returns a reply frame; failures are REJECT (permanent) or
 * TEMPFAIL (store busy) with a Reason.
 */
#include "admin.h"

#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "jobs-private.h"
#include "log.h"
#include "notify.h"

#define ADMIN_DEFAULT_LIMIT 100
#define ADMIN_MAX_LIMIT     100000

static CtiIpcFrame *fail(const GError *error)
{
	gboolean temp = error->domain == CTI_STORE_ERROR && error->code == CTI_STORE_ERROR_TEMP;
	CtiIpcFrame *reply = ipc_frame_new(temp ? "TEMPFAIL" : "REJECT");

	ipc_frame_add(reply, "Reason", error->message);
	return reply;
}

static CtiIpcFrame *refuse(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static CtiIpcFrame *refuse(const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;
	CtiIpcFrame *reply = ipc_frame_new("REJECT");

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	ipc_frame_add(reply, "Reason", text);
	return reply;
}

static char *iso_time(gint64 unix_seconds)
{
	g_autoptr(GDateTime) dt = NULL;

	if (unix_seconds <= 0)
		return NULL;
	dt = g_date_time_new_from_unix_utc(unix_seconds);
	return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

/* one "Name: value" line of a record; CR/LF in VALUE become spaces */
static void record_line(GString *out, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	g_string_append_printf(out, "%s: ", name);
	for (const char *p = value; *p; p++)
		g_string_append_c(out, (*p == '\n' || *p == '\r') ? ' ' : *p);
	g_string_append_c(out, '\n');
}

typedef void (*FieldSink)(gpointer sink, const char *name, const char *value);

static void sink_record(gpointer sink, const char *name, const char *value)
{
	record_line(sink, name, value);
}

static void sink_frame(gpointer sink, const char *name, const char *value)
{
	if (value != NULL && value[0] != '\0')
		ipc_frame_add(sink, name, value);
}

/* job_fields - the fields of JOB (and of its request) that ctictl shows */
static void job_fields(const CtiJob *job, FieldSink put, gpointer sink)
{
	g_autoptr(CtiRequest) req = request_parse(job->request, strlen(job->request), NULL);
	g_autofree char *created = iso_time(job->created);
	g_autofree char *due = iso_time(job->due_at);
	g_autofree char *finished = iso_time(job->finished);
	g_autofree char *attempts = g_strdup_printf("%d", job->attempts);

	put(sink, "Job-Id", job->id);
	put(sink, "State", job_state_name(job->state));
	put(sink, "Sender", job->sender[0] ? job->sender : "<>");
	put(sink, "Recipient", job->recipient);
	put(sink, "Auth-Authen", job->auth_authen);
	put(sink, "Queue-Id", job->queue_id);
	put(sink, "Message-Id", job->message_id);
	put(sink, "Mailbox", job->mailbox);
	if (req != NULL) {
		put(sink, "Action", request_action_name(req->action));
		put(sink, "Source", req->source);
		put(sink, "Destination", req->destination);
		put(sink, "Request-Id", req->request_id);
	}
	put(sink, "Created", created);
	if (!job_state_is_terminal(job->state))
		put(sink, "Due-At", due);
	put(sink, "Finished", finished);
	put(sink, "Attempts", attempts);
	put(sink, "Reason", job->reason);
	put(sink, "Notified", job->notified ? "yes" : "no");
}

static gint64 since_of(const CtiIpcFrame *req)
{
	const char *since = ipc_frame_get(req, "Since");

	return since ? g_ascii_strtoll(since, NULL, 10) : 0;
}

/* admin_jobs - JOBS: one record per job, newest first, blank-line separated */
CtiIpcFrame *admin_jobs(CtidJobs *jobs, const CtiIpcFrame *req)
{
	const char *state_name = ipc_frame_get(req, "State");
	const char *sender = ipc_frame_get(req, "Sender");
	const char *limit_text = ipc_frame_get(req, "Limit");
	int state = -1;
	int limit = limit_text ? atoi(limit_text) : ADMIN_DEFAULT_LIMIT;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GString) body = g_string_new(NULL);
	g_autoptr(GBytes) bytes = NULL;
	CtiIpcFrame *reply;

	if (state_name != NULL && state_name[0] != '\0' &&
	    (state = job_state_from_name(state_name)) < 0)
		return refuse("unknown job state '%s'", state_name);
	if (limit <= 0 || limit > ADMIN_MAX_LIMIT)
		return refuse("Limit must be 1..%d", ADMIN_MAX_LIMIT);
	list = store_list(jobs->store, state, sender && sender[0] ? sender : NULL, since_of(req),
	                  limit, &error);
	if (list == NULL)
		return fail(error);
	for (guint i = 0; i < list->len; i++) {
		if (i > 0)
			g_string_append_c(body, '\n');
		job_fields(g_ptr_array_index(list, i), sink_record, body);
	}
	reply = ipc_frame_new("OK");
	ipc_frame_addf(reply, "Count", "%u", list->len);
	bytes = g_string_free_to_bytes(g_steal_pointer(&body));
	ipc_frame_set_body(reply, bytes);
	return reply;
}

static char *attempt_text(const CtiAttempt *a)
{
	g_autofree char *start = iso_time(a->started / 1000);
	g_autofree char *end = iso_time(a->ended / 1000);

	return g_strdup_printf("%d %s %s %s %s", a->number, start ? start : "-", end ? end : "-",
	                       a->outcome ? a->outcome : "running", a->cause ? a->cause : "-");
}

/* admin_job - JOB: the job's fields, one Attempt field per attempt, its Request */
CtiIpcFrame *admin_job(CtidJobs *jobs, const CtiIpcFrame *req)
{
	const char *id = ipc_frame_get(req, "Job-Id");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiJob) job = NULL;
	g_autoptr(GPtrArray) attempts = NULL;
	CtiIpcFrame *reply;

	if (id == NULL || !store_job_id_valid(id))
		return refuse("JOB needs a Job-Id of %d lower-case hex digits", CTI_JOB_ID_LEN);
	job = store_get(jobs->store, id, &error);
	if (job == NULL)
		return fail(error);
	attempts = store_attempts(jobs->store, id, &error);
	if (attempts == NULL)
		return fail(error);
	reply = ipc_frame_new("OK");
	job_fields(job, sink_frame, reply);
	for (guint i = 0; i < attempts->len; i++) {
		g_autofree char *text = attempt_text(g_ptr_array_index(attempts, i));

		ipc_frame_add(reply, "Attempt", text);
	}
	ipc_frame_add(reply, "Request", job->request);
	return reply;
}

/* the live job ID (transfer none), or NULL and *REPLY: a REJECT saying why it is not live */
static LiveJob *live_or_reply(CtidJobs *jobs, const char *id, CtiIpcFrame **reply)
{
	LiveJob *lj;
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiJob) job = NULL;

	if (id == NULL || !store_job_id_valid(id)) {
		*reply = refuse("a Job-Id of %d lower-case hex digits is needed", CTI_JOB_ID_LEN);
		return NULL;
	}
	lj = g_hash_table_lookup(jobs->live, id);
	if (lj != NULL && !job_state_is_terminal(lj->job->state))
		return lj;
	job = store_get(jobs->store, id, &error);
	*reply = job ? refuse("job %s is already %s", id, job_state_name(job->state)) : fail(error);
	return NULL;
}

static void ignore_reply(const CstaMessage *reply, const GError *error, gpointer data)
{
	if (reply != NULL && reply->kind == CSTA_MSG_ERROR)
		log_debug("pbx: %s %s to ClearConnection of a cancelled call ignored",
		          reply->error_class, reply->error_value);
}

/* end_running_attempt - clear LJ's call on the PBX and record the attempt as cancelled */
static void end_running_attempt(LiveJob *lj)
{
	CtiStore *store = lj->jobs->store;

	if (lj->call_id != NULL && lj->jobs->link != NULL && link_is_up(lj->jobs->link)) {
		g_autofree char *xml = csta_build_clear_connection(link_namespace(lj->jobs->link),
		                                                   lj->call_id, lj->calling_device);

		if (!link_request(lj->jobs->link, xml, ignore_reply, NULL, NULL, NULL))
			jobs_log(lj, "ClearConnection for the cancelled call could not be sent");
	}
	if (!lj->attempt_recorded)
		store_attempt_begin(store, lj->job->id, lj->job->attempts, lj->call_id, NULL);
	lj->attempt_recorded = TRUE;
	store_attempt_end(store, lj->job->id, lj->job->attempts, "cancelled", "operator", NULL);
	jobs_log(lj, "attempt=%d outcome=cancelled cause=operator", lj->job->attempts);
}

/* admin_cancel - CANCEL: the live job ends as cancelled */
CtiIpcFrame *admin_cancel(CtidJobs *jobs, const CtiIpcFrame *req)
{
	const char *id = ipc_frame_get(req, "Job-Id");
	const char *why = ipc_frame_get(req, "Reason");
	g_autofree char *reason = NULL;
	CtiIpcFrame *reply = NULL;
	LiveJob *lj = live_or_reply(jobs, id, &reply);

	if (lj == NULL)
		return reply;
	reason = g_strdup_printf("cancelled by the operator%s%s", why && why[0] ? ": " : "",
	                         why && why[0] ? why : "");
	if (lj->job->state == CTI_JOB_RUNNING)
		end_running_attempt(lj);
	jobs_finish(lj, CTI_JOB_CANCELLED, reason); /* frees LJ */
	reply = ipc_frame_new("OK");
	ipc_frame_add(reply, "Job-Id", id);
	ipc_frame_add(reply, "State", job_state_name(CTI_JOB_CANCELLED));
	return reply;
}

static gboolean retryable(CtiJobState state)
{
	switch (state) {
	case CTI_JOB_FAILED:
	case CTI_JOB_TIMEOUT:
	case CTI_JOB_CANCELLED:
		return TRUE;
	case CTI_JOB_QUEUED:
	case CTI_JOB_WAITING_USER:
	case CTI_JOB_RUNNING:
	case CTI_JOB_RETRY_WAIT:
	case CTI_JOB_SUCCESS:
	case CTI_JOB_REFUSED:
	case CTI_JOB_EXPIRED:
	case CTI_JOB_DRY_RUN:
		return FALSE;
	}
	return FALSE;
}

/* reopen - JOB (transfer full) back to queued and into the live table */
static CtiIpcFrame *reopen(CtidJobs *jobs, CtiJob *job, const CtiRequest *req)
{
	g_autoptr(GError) error = NULL;
	CtiIpcFrame *reply;
	LiveJob *lj;

	job->state = CTI_JOB_QUEUED;
	job->due_at = MAX(jobs_now(), req->not_before);
	job->finished = 0;
	job->notified = FALSE;
	g_clear_pointer(&job->reason, g_free);
	if (!store_update(jobs->store, job, &error)) {
		job_free(job);
		return fail(error);
	}
	reply = ipc_frame_new("OK");
	ipc_frame_add(reply, "Job-Id", job->id);
	ipc_frame_add(reply, "State", job_state_name(CTI_JOB_QUEUED));
	ipc_frame_addf(reply, "Attempt", "%d", job->attempts + 1);
	lj = jobs_adopt(jobs, job);
	if (lj == NULL)
		return reply;
	lj->req->retry_count = lj->job->attempts + 1; /* exactly one more attempt */
	jobs_log(lj, "state=queued retry by the operator, attempt %d next", lj->job->attempts + 1);
	jobs_schedule(lj);
	return reply;
}

/* admin_retry - RETRY: re-open a failed/timeout/cancelled job for one more attempt */
CtiIpcFrame *admin_retry(CtidJobs *jobs, const CtiIpcFrame *req)
{
	const char *id = ipc_frame_get(req, "Job-Id");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiJob) job = NULL;
	g_autoptr(CtiRequest) parsed = NULL;

	if (id == NULL || !store_job_id_valid(id))
		return refuse("RETRY needs a Job-Id of %d lower-case hex digits", CTI_JOB_ID_LEN);
	if (g_hash_table_contains(jobs->live, id))
		return refuse("job %s is still live", id);
	job = store_get(jobs->store, id, &error);
	if (job == NULL)
		return fail(error);
	if (!retryable(job->state))
		return refuse("job %s is %s: only failed, timeout or cancelled jobs are retried",
		              id, job_state_name(job->state));
	parsed = request_parse(job->request, strlen(job->request), &error);
	if (parsed == NULL)
		return refuse("job %s: stored request does not parse: %s", id, error->message);
	if (parsed->not_after != 0 && jobs_now() > parsed->not_after)
		return refuse("job %s is past its Not-After time", id);
	return reopen(jobs, g_steal_pointer(&job), parsed);
}

/* ---- statistics ---- */

typedef struct {
	int by_state[CTI_JOB_LAST + 1];
	int attempts;
	GHashTable *outcomes; /* outcome -> count (GINT_TO_POINTER) */
	GArray *answer_ms;    /* gint64: time to answer of answered attempts */
} Stats;

static void stats_add_attempts(Stats *st, GPtrArray *attempts)
{
	for (guint i = 0; i < attempts->len; i++) {
		const CtiAttempt *a = g_ptr_array_index(attempts, i);
		const char *outcome = a->outcome ? a->outcome : "running";
		int n = GPOINTER_TO_INT(g_hash_table_lookup(st->outcomes, outcome));

		st->attempts++;
		g_hash_table_replace(st->outcomes, g_strdup(outcome), GINT_TO_POINTER(n + 1));
		if (a->outcome && strcmp(a->outcome, "answered") == 0 && a->ended >= a->started) {
			gint64 ms = a->ended - a->started;

			g_array_append_val(st->answer_ms, ms);
		}
	}
}

static int cmp_i64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return x < y ? -1 : x > y;
}

static void stats_reply(Stats *st, CtiIpcFrame *reply)
{
	GHashTableIter it;
	gpointer key, value;
	gint64 sum = 0;
	guint n = st->answer_ms->len;

	for (int s = CTI_JOB_QUEUED; s <= CTI_JOB_LAST; s++) {
		g_autofree char *name = g_strdup_printf("Jobs-%s", job_state_name(s));

		ipc_frame_addf(reply, name, "%d", st->by_state[s]);
	}
	ipc_frame_addf(reply, "Attempts", "%d", st->attempts);
	g_hash_table_iter_init(&it, st->outcomes);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		g_autofree char *name = g_strdup_printf("Outcome-%s", (const char *)key);

		ipc_frame_addf(reply, name, "%d", GPOINTER_TO_INT(value));
	}
	ipc_frame_addf(reply, "Answered", "%u", n);
	if (n == 0)
		return;
	g_array_sort(st->answer_ms, cmp_i64);
	for (guint i = 0; i < n; i++)
		sum += g_array_index(st->answer_ms, gint64, i);
	ipc_frame_addf(reply, "Answer-Mean-Ms", "%" G_GINT64_FORMAT, sum / n);
	/* nearest-rank p95: the smallest value with at least 95% at or below it */
	ipc_frame_addf(reply, "Answer-P95-Ms", "%" G_GINT64_FORMAT,
	               g_array_index(st->answer_ms, gint64, (n * 95 + 99) / 100 - 1));
}

/* admin_stats - STATS: jobs by state, attempts by outcome, time to answer */
CtiIpcFrame *admin_stats(CtidJobs *jobs, const CtiIpcFrame *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GHashTable) outcomes =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GArray) answer_ms = g_array_new(FALSE, FALSE, sizeof(gint64));
	Stats st = {.outcomes = outcomes, .answer_ms = answer_ms};
	CtiIpcFrame *reply;

	list = store_list(jobs->store, -1, NULL, since_of(req), G_MAXINT, &error);
	if (list == NULL)
		return fail(error);
	for (guint i = 0; i < list->len; i++) {
		const CtiJob *job = g_ptr_array_index(list, i);
		g_autoptr(GPtrArray) attempts = store_attempts(jobs->store, job->id, &error);

		if (attempts == NULL)
			return fail(error);
		st.by_state[job->state]++;
		stats_add_attempts(&st, attempts);
	}
	reply = ipc_frame_new("OK");
	ipc_frame_addf(reply, "Jobs", "%u", list->len);
	stats_reply(&st, reply);
	return reply;
}

/* admin_purge - PURGE [Older-Than]: remove finished jobs, by default per keep_finished */
CtiIpcFrame *admin_purge(CtidJobs *jobs, const CtiIpcFrame *req)
{
	const char *text = ipc_frame_get(req, "Older-Than");
	gint64 older_than = jobs->config->keep_finished;
	g_autoptr(GError) error = NULL;
	CtiIpcFrame *reply;
	int n;

	if (text != NULL && !g_ascii_string_to_signed(text, 10, 0, G_MAXINT64, &older_than, NULL))
		return refuse("Older-Than must be seconds, not '%s'", text);
	if (text == NULL && older_than <= 0)
		return refuse("[ctid] keep_finished is 0 (keep forever): give an age");
	n = jobs_purge(jobs, older_than, &error);
	if (n < 0)
		return fail(error);
	log_info("purge: %d finished jobs older than %" G_GINT64_FORMAT " s removed", n, older_than);
	reply = ipc_frame_new("OK");
	ipc_frame_addf(reply, "Removed", "%d", n);
	ipc_frame_addf(reply, "Older-Than", "%" G_GINT64_FORMAT, older_than);
	return reply;
}

/* admin_status_extra - Link-Uptime (seconds the link has been up) from REPLY's Link and Link-Since */
void admin_status_extra(CtiIpcFrame *reply)
{
	const char *since = ipc_frame_get(reply, "Link-Since");
	g_autoptr(GDateTime) t = since ? g_date_time_new_from_iso8601(since, NULL) : NULL;

	if (t != NULL && g_strcmp0(ipc_frame_get(reply, "Link"), "up") == 0)
		ipc_frame_addf(reply, "Link-Uptime", "%" G_GINT64_FORMAT,
		               MAX(0, jobs_now() - g_date_time_to_unix(t)));
}

/* ---- dry run ---- */

/* admin_dry_run - the explanation mail replaces the notification of a dry run */
gboolean admin_dry_run(LiveJob *lj)
{
	const CtiJob *job = lj->job;
	const char *to = lj->req->notify_to ? lj->req->notify_to : job->sender;
	g_autofree char *path = store_message_path(lj->jobs->store, job->id);
	g_autofree char *mail = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiExplanation) ex = NULL;
	g_autoptr(GBytes) reply = NULL;
	CtiExplainEnvelope env = {job->sender, job->recipient, job->auth_authen, job->client_addr};
	gsize len;

	if (!lj->req->notify || to == NULL || to[0] == '\0')
		return FALSE;
	if (path == NULL || !g_file_get_contents(path, &mail, &len, &error)) {
		jobs_log(lj, "dry run: message not readable: %s",
		         error ? error->message : "no path");
		return FALSE;
	}
	ex = explain_message(lj->jobs->config, mail, len, &env);
	reply = explain_compose_reply(lj->jobs->config, ex, to, &error);
	if (reply == NULL || !notify_send(lj->jobs->config->sendmail, to, reply, &error)) {
		jobs_log(lj, "dry run: explanation not sent: %s", error->message);
		return FALSE;
	}
	jobs_log(lj, "dry run: explanation sent to=<%s> verdict=%s", to,
	         explain_verdict_name(ex->verdict));
	return TRUE;
}

/* ---- streamed frames ---- */

/* admin_event_frame - EVENT for WATCH */
CtiIpcFrame *admin_event_frame(const CtiJob *job, const char *text)
{
	CtiIpcFrame *ev = ipc_frame_new("EVENT");
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *iso = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");

	ipc_frame_add(ev, "Time", iso);
	ipc_frame_add(ev, "Job-Id", job->id);
	ipc_frame_add(ev, "Queue-Id",
	              job->queue_id && job->queue_id[0] ? job->queue_id : "NOQUEUE");
	ipc_frame_add(ev, "State", job_state_name(job->state));
	ipc_frame_add(ev, "Text", text);
	return ev;
}

/* admin_result_frame - RESULT for a direct-channel caller that waits */
CtiIpcFrame *admin_result_frame(const CtiJob *job)
{
	CtiIpcFrame *res = ipc_frame_new("RESULT");

	ipc_frame_add(res, "Job-Id", job->id);
	ipc_frame_add(res, "Status", job_state_name(job->state));
	ipc_frame_add(res, "Reason", job->reason ? job->reason : "");
	ipc_frame_addf(res, "Attempts", "%d", job->attempts);
	return res;
}
