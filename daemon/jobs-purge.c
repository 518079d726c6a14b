/* jobs-purge - retention of finished jobs: [ctid] keep_finished at start-up
 * and every hour (ctid.c), and on demand (PURGE, "ctictl jobs purge").
 *
 * The store decides what is finished and settled (store_purge_finished);
 * this adds the one thing only ctid knows: a job still in the live table
 * (its notification is being retried) is kept.  Jobs go in batches, one
 * transaction each, so that a submission waits for at most one batch.
 */
#include "jobs-private.h"
#include "log.h"

#define JOBS_PURGE_BATCH 500

static gboolean keep_live(const char *job_id, gpointer data)
{
	CtidJobs *jobs = data;

	return g_hash_table_contains(jobs->live, job_id);
}

/* jobs_purge - see jobs.h */
int jobs_purge(CtidJobs *jobs, gint64 older_than, GError **error)
{
	gint64 before = jobs_now() - older_than;
	int total = 0, n;

	do {
		n = store_purge_finished(jobs->store, before, JOBS_PURGE_BATCH, keep_live, jobs,
		                         error);
		if (n < 0)
			return -1;
		total += n;
	} while (n == JOBS_PURGE_BATCH);
	return total;
}

/* jobs_purge_expired - see jobs.h */
void jobs_purge_expired(CtidJobs *jobs)
{
	g_autoptr(GError) error = NULL;
	int keep = jobs->config->keep_finished;
	int n;

	if (keep <= 0)
		return;
	n = jobs_purge(jobs, keep, &error);
	if (n < 0)
		log_warning("retention: finished jobs not removed: %s", error->message);
	else if (n > 0)
		log_info("retention: %d finished jobs older than %d s removed", n, keep);
}
