/* jobs-limits - ctid's side of the rate limits and the notification budget.
 *
 * ctid owns the jobs, so it owns the counters: a CtiRateLog of accepted
 * submissions per sender key and globally (the last hour, in memory; each
 * job stores its key, and at start-up the log is filled again from the jobs
 * of the last hour, so a restart does not reset the limits), and the unfinished
 * jobs (queued, running, between retries; not those waiting for their
 * reader) of the live table, counted per key as they change
 * (jobs_active_sync): each unfinished job counts under its key and under its
 * global key, so a SUBMIT costs O(1) however many jobs wait.  The decision
 * itself is ratelimit.c.
 * A sender's key is the canonical identity ctid established itself
 * (jobs-authz.c, never the frame's Identity field); a job keeps it
 * (jobs-004), a job stored before that is counted under its AUTH login or
 * envelope sender.  Dry runs (explain) spend a budget of their own: key
 * "explain:<identity>" and a global counter "explain:", with the same
 * numbers, so explanations never use up the call budget and calls never
 * block explanations.
 * Notifications are never sent to the null sender nor in answer to mail
 * that carried Auto-Submitted other than "no", and at most
 * [limits] per_sender_notifications_per_hour go to one address (counted
 * again from the store's sent notifications after a restart, too).
 */
#include <string.h>

#include "jobs-private.h"
#include "log.h"
#include "ratelimit.h"

/* the global key of dry runs, and the prefix of their sender keys */
#define LIMITS_EXPLAIN "explain:"

/* jobs_rate_key - see jobs-private.h */
char *jobs_rate_key(const char *identity, gboolean dry_run)
{
	return g_strconcat(dry_run ? LIMITS_EXPLAIN : "", identity, NULL);
}

/* limits_global_key - the global counter KEY counts in: dry runs have their own */
static const char *limits_global_key(const char *key)
{
	return g_str_has_prefix(key, LIMITS_EXPLAIN) ? LIMITS_EXPLAIN : CTI_RATE_GLOBAL;
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

/* limits_active_add - add DELTA to the unfinished jobs counted under KEY in ACTIVE */
static void limits_active_add(GHashTable *active, const char *key, int delta)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(active, key));

	if ((int)n + delta > 0)
		g_hash_table_insert(active, g_strdup(key), GUINT_TO_POINTER((guint)((int)n + delta)));
	else
		g_hash_table_remove(active, key);
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

	if (active == (lj->active_key != NULL))
		return;
	if (active) {
		lj->active_key = limits_job_key(lj->job);
		limits_active_add(jobs->active, lj->active_key, 1);
		limits_active_add(jobs->active, limits_global_key(lj->active_key), 1);
		return;
	}
	limits_active_add(jobs->active, lj->active_key, -1);
	limits_active_add(jobs->active, limits_global_key(lj->active_key), -1);
	g_clear_pointer(&lj->active_key, g_free);
}

/* limits_active - unfinished jobs: of KEY, and in all */
static void limits_active(CtidJobs *jobs, const char *key, CtiRateCounts *counts)
{
	counts->global_active = GPOINTER_TO_UINT(g_hash_table_lookup(jobs->active, limits_global_key(key)));
	counts->sender_active = GPOINTER_TO_UINT(g_hash_table_lookup(jobs->active, key));
}

/* jobs_rate_admit - see jobs-private.h */
gboolean jobs_rate_admit(CtidJobs *jobs, const char *key, GError **error)
{
	CtiRateCounts counts = {0};
	CtiRateVerdict verdict;
	CtiLimits limits;
	gint64 now = jobs_now();

	ratelimit_limits_from_config(jobs->config, &limits);
	ratelimit_log_prune(jobs->rates, now);
	ratelimit_log_counts(jobs->rates, key, now, &counts);
	if (strcmp(limits_global_key(key), CTI_RATE_GLOBAL) != 0) {
		counts.global_minute = ratelimit_log_count(jobs->rates, LIMITS_EXPLAIN, now, 60);
		counts.global_hour = ratelimit_log_count(jobs->rates, LIMITS_EXPLAIN, now, 3600);
	}
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
void jobs_rate_count(CtidJobs *jobs, const char *key)
{
	gint64 now = jobs_now();

	ratelimit_log_add(jobs->rates, key, now);
	ratelimit_log_add(jobs->rates, limits_global_key(key), now);
}

static void limits_resume_one(const char *rate_key, const char *auth_authen, const char *sender,
                              gint64 created, gpointer data)
{
	CtidJobs *jobs = data;
	g_autofree char *key =
	    rate_key ? g_strdup(rate_key) : limits_login_key(auth_authen, sender);

	ratelimit_log_add(jobs->rates, key, created);
	ratelimit_log_add(jobs->rates, limits_global_key(key), created);
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
