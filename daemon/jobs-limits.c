/* jobs-limits - ctid's side of the rate limits and the notification budget.
 *
 * ctid owns the jobs, so it owns the counters: a CtiRateLog of accepted
 * submissions per sender key and globally (the last hour, in memory; each
 * job stores its key, and at start-up the log is filled again from the jobs
 * of the last hour, so a restart does not reset the limits), and the unfinished
 * jobs (queued, running, between retries; not those waiting for their
 * reader) of the live table, counted per key as they change
 * (jobs_active_sync).  The decision itself is ratelimit.c.
 * A sender's key is the milter's Identity field, else the AUTH login, else
 * the envelope sender, lower-cased; a job keeps it (jobs-004), a job stored
 * before that is counted under its AUTH login or envelope sender.
 * Notifications are never sent to the null sender nor in answer to mail
 * that carried Auto-Submitted other than "no", and at most
 * [limits] per_sender_notifications_per_hour go to one address (counted
 * again from the store's sent notifications after a restart, too).
 */
#include <string.h>

#include "jobs-private.h"
#include "log.h"
#include "ratelimit.h"

/* jobs_rate_key - see jobs-private.h */
char *jobs_rate_key(const CtiIpcFrame *frame)
{
	static const char *const fields[] = {"Identity", "Auth-Authen", "Sender"};

	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		const char *v = ipc_frame_get(frame, fields[i]);
		if (v != NULL && *v != '\0')
			return g_ascii_strdown(v, -1);
	}
	return g_strdup("<>");
}

/* limits_login_key - the key of a job by its AUTH login, else its envelope sender (transfer full) */
static char *limits_login_key(const char *auth_authen, const char *sender)
{
	const char *v = auth_authen && *auth_authen ? auth_authen : sender;

	return g_ascii_strdown(v && *v ? v : "<>", -1);
}

/* limits_job_key - the key a live job is counted under (transfer full) */
static char *limits_job_key(const CtiJob *job)
{
	return job->rate_key ? g_strdup(job->rate_key) : limits_login_key(job->auth_authen, job->sender);
}

/* jobs_active_sync - see jobs-private.h.  The counts replace a walk over every live
 * job on every SUBMIT: they cost O(1) however many jobs wait. */
void jobs_active_sync(LiveJob *lj, gboolean gone)
{
	CtidJobs *jobs = lj->jobs;
	/* a Trigger: user job waiting for its reader holds no line: the hourly
	 * limits bound those */
	gboolean active = !gone && !job_state_is_terminal(lj->job->state) &&
	                  lj->job->state != CTI_JOB_WAITING_USER;
	guint n;

	if (active == (lj->active_key != NULL))
		return;
	if (active) {
		lj->active_key = limits_job_key(lj->job);
		n = GPOINTER_TO_UINT(g_hash_table_lookup(jobs->active, lj->active_key));
		g_hash_table_insert(jobs->active, g_strdup(lj->active_key), GUINT_TO_POINTER(n + 1));
		jobs->active_total++;
		return;
	}
	n = GPOINTER_TO_UINT(g_hash_table_lookup(jobs->active, lj->active_key));
	if (n > 1)
		g_hash_table_insert(jobs->active, g_strdup(lj->active_key), GUINT_TO_POINTER(n - 1));
	else
		g_hash_table_remove(jobs->active, lj->active_key);
	jobs->active_total--;
	g_clear_pointer(&lj->active_key, g_free);
}

/* limits_active - unfinished jobs: of KEY, and in all */
static void limits_active(CtidJobs *jobs, const char *key, CtiRateCounts *counts)
{
	counts->global_active = jobs->active_total;
	counts->sender_active = GPOINTER_TO_UINT(g_hash_table_lookup(jobs->active, key));
}

/* jobs_rate_admit - see jobs-private.h */
gboolean jobs_rate_admit(CtidJobs *jobs, const CtiIpcFrame *frame, GError **error)
{
	g_autofree char *key = jobs_rate_key(frame);
	CtiRateCounts counts = {0};
	CtiRateVerdict verdict;
	CtiLimits limits;
	gint64 now = jobs_now();

	ratelimit_limits_from_config(jobs->config, &limits);
	ratelimit_log_prune(jobs->rates, now);
	ratelimit_log_counts(jobs->rates, key, now, &counts);
	limits_active(jobs, key, &counts);
	ratelimit_check(&limits, &counts, &verdict);
	if (!verdict.ok) {
		ratelimit_set_error(&verdict, error);
		ratelimit_verdict_clear(&verdict);
		return FALSE;
	}
	return TRUE;
}

/* jobs_rate_count - see jobs-private.h */
void jobs_rate_count(CtidJobs *jobs, const CtiIpcFrame *frame)
{
	g_autofree char *key = jobs_rate_key(frame);
	gint64 now = jobs_now();

	ratelimit_log_add(jobs->rates, key, now);
	ratelimit_log_add(jobs->rates, CTI_RATE_GLOBAL, now);
}

static void limits_resume_one(const char *rate_key, const char *auth_authen, const char *sender,
                              gint64 created, gpointer data)
{
	CtidJobs *jobs = data;
	g_autofree char *key =
	    rate_key ? g_strdup(rate_key) : limits_login_key(auth_authen, sender);

	ratelimit_log_add(jobs->rates, key, created);
	ratelimit_log_add(jobs->rates, CTI_RATE_GLOBAL, created);
}

/* limits_notice_key - the budget key of a notification: Notify-To, else the sender (transfer full) */
static char *limits_notice_key(const char *notify_to, const char *sender)
{
	const char *to = notify_to ? notify_to : sender;

	return g_ascii_strdown(to ? to : "", -1);
}

static void limits_resume_notice(const char *request, const char *sender, gint64 finished,
                                 gpointer data)
{
	CtidJobs *jobs = data;
	g_autoptr(CtiRequest) req = request ? request_parse(request, strlen(request), NULL) : NULL;
	g_autofree char *key = limits_notice_key(req ? req->notify_to : NULL, sender);

	ratelimit_log_add(jobs->notices, key, finished);
}

/* jobs_rate_resume - see jobs-private.h */
gboolean jobs_rate_resume(CtidJobs *jobs, GError **error)
{
	gint64 now = jobs_now();
	gint64 since = now - 3600 + 1;

	if (!store_recent_keys(jobs->store, since, limits_resume_one, jobs, error) ||
	    !store_recent_notices(jobs->store, since, limits_resume_notice, jobs, error))
		return FALSE;
	ratelimit_log_prune(jobs->rates, now);
	ratelimit_log_prune(jobs->notices, now);
	log_info("rate limits: %u request(s) of the last hour counted again from the store",
	         ratelimit_log_count(jobs->rates, CTI_RATE_GLOBAL, now, 3600));
	return TRUE;
}

/* limits_auto_submitted - HEADERS (a raw header block) has Auto-Submitted other than "no" */
static gboolean limits_auto_submitted(const char *headers)
{
	static const char name[] = "Auto-Submitted:";
	const char *p = headers;

	while (p != NULL && *p) {
		if (g_ascii_strncasecmp(p, name, sizeof name - 1) == 0) {
			const char *v = p + sizeof name - 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (g_ascii_strncasecmp(v, "no", 2) != 0 || g_ascii_isalnum(v[2]) ||
			    v[2] == '-')
				return TRUE;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return FALSE;
}

/* jobs_notify_suppressed - see jobs-private.h */
const char *jobs_notify_suppressed(LiveJob *lj, const char *headers)
{
	const char *to = lj->req->notify_to ? lj->req->notify_to : lj->job->sender;
	g_autofree char *key = NULL;
	CtiLimits limits;

	if (to == NULL || *to == '\0')
		return "the request came from the null sender";
	if (headers != NULL && limits_auto_submitted(headers))
		return "the request mail was automatically submitted";
	ratelimit_limits_from_config(lj->jobs->config, &limits);
	key = limits_notice_key(lj->req->notify_to, lj->job->sender);
	if (!ratelimit_notify_allowed(
	        &limits, ratelimit_log_count(lj->jobs->notices, key, jobs_now(), 3600)))
		return "the notification budget of the address is spent for this hour";
	return NULL;
}

/* jobs_notify_count - see jobs-private.h */
void jobs_notify_count(LiveJob *lj)
{
	g_autofree char *key = limits_notice_key(lj->req->notify_to, lj->job->sender);
	gint64 now = jobs_now();

	ratelimit_log_prune(lj->jobs->notices, now);
	ratelimit_log_add(lj->jobs->notices, key, now);
}
