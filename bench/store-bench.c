/* store-bench - store_submit() alone: the durable job commit ctid does for
 * every accepted request, without the milter, ipc or ctid around it.
 *
 * Opens a fresh store (DB + spool dir given), then submits ROUNDS jobs with a
 * message of SIZE bytes each, timing every call.  Prints
 * "store_submit n=<N> p50_us=<..> p99_us=<..> mean_us=<..> per_s=<..>".
 * Owns the store it opens.  Fails (exit 1, the GError on stderr) when the
 * store cannot be opened or a submit fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "store.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static CtiJob *bench_job(gint64 now)
{
	CtiJob *job = g_new0(CtiJob, 1);

	job->state = CTI_JOB_QUEUED;
	job->request =
	    g_strdup("Action: connect\nSource: 2001\nDestination: 0312345678\nNotify: no\n");
	job->sender = g_strdup("alice@bench.example");
	job->recipient = g_strdup("call@bench.example");
	job->queue_id = g_strdup("4XyZ1bench");
	job->message_id = g_strdup("<store-bench@bench.example>");
	job->created = now;
	job->due_at = now + 86400; /* not due: the benchmark measures the commit only */
	job->deadline = now + 86400 + 120;
	return job;
}

static gboolean submit_round(CtiStore *store, const char *msg, gsize size, double *us,
                             GError **error)
{
	g_autoptr(CtiJob) job = bench_job(g_get_real_time() / G_USEC_PER_SEC);
	gint64 t0 = g_get_monotonic_time();

	if (!store_submit(store, job, msg, size, error))
		return FALSE;
	*us = (double)(g_get_monotonic_time() - t0);
	return TRUE;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;

	if (argc != 5) {
		fprintf(stderr, "usage: store-bench DB SPOOL_DIR ROUNDS SIZE\n");
		return 2;
	}
	int n = atoi(argv[3]);
	gsize size = strtoul(argv[4], NULL, 10);
	CtiStore *store = store_open(argv[1], argv[2], &error);

	if (store == NULL || n <= 0) {
		fprintf(stderr, "store-bench: %s\n", error ? error->message : "bad arguments");
		return 1;
	}
	g_autofree char *msg = g_malloc(size);
	g_autofree double *v = g_new0(double, n);
	double sum = 0;

	memset(msg, 'x', size);
	for (int i = 0; i < n; i++) {
		if (!submit_round(store, msg, size, &v[i], &error)) {
			fprintf(stderr, "store-bench: store_submit: %s\n", error->message);
			return 1;
		}
		sum += v[i];
	}
	store_close(store);
	qsort(v, n, sizeof *v, cmp_double);
	printf("store_submit n=%d p50_us=%.1f p99_us=%.1f mean_us=%.1f per_s=%.1f\n", n, v[n / 2],
	       v[(n * 99) / 100], sum / n, n / (sum / 1e6));
	return 0;
}
