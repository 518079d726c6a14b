/* store-count - the job store's counting queries: jobs per state and the
 * unconfirmed notifications for ctid's STATUS, and the requests and sent
 * notifications of the last hour from which ctid counts its rate limits and
 * notification budgets again after a restart.  Read only; results go to the
 * caller's variables or callback.
 */
#include "store-private.h"

typedef struct {
	void (*key_fn)(const char *rate_key, const char *auth_authen, const char *sender,
	               gint64 created, gpointer data);
	void (*notice_fn)(const char *request, const char *sender, gint64 finished, gpointer data);
	gpointer data;
} RecentRow;

/* store_each_since - run SQL (one parameter: SINCE) and hand every row to ROW */
static gboolean store_each_since(CtiStore *store, const char *sql, gint64 since,
                                 void (*row)(sqlite3_stmt *st, const RecentRow *r),
                                 const RecentRow *r, const char *what, GError **error)
{
	sqlite3_stmt *st = store_prepare(store, sql, error);
	int rc;

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		row(st, r);
	store_release(store, st);
	return rc == SQLITE_DONE || store_sql_fail(store, rc, what, error);
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void key_row(sqlite3_stmt *st, const RecentRow *r)
{
	r->key_fn(col(st, 0), col(st, 1), col(st, 2), sqlite3_column_int64(st, 3), r->data);
}

static void notice_row(sqlite3_stmt *st, const RecentRow *r)
{
	r->notice_fn(col(st, 0), col(st, 1), sqlite3_column_int64(st, 2), r->data);
}

/* store_recent_keys - see store.h */
gboolean store_recent_keys(CtiStore *store, gint64 since,
                           void (*fn)(const char *rate_key, const char *auth_authen,
                                      const char *sender, gint64 created, gpointer data),
                           gpointer data, GError **error)
{
	RecentRow r = {.key_fn = fn, .data = data};

	return store_each_since(store,
	                        "SELECT rate_key, auth_authen, sender, created FROM jobs "
	                        "WHERE created >= ? ORDER BY created",
	                        since, key_row, &r, "read recent jobs", error);
}

/* store_recent_notices - see store.h */
gboolean store_recent_notices(CtiStore *store, gint64 since,
                              void (*fn)(const char *request, const char *sender, gint64 finished,
                                         gpointer data),
                              gpointer data, GError **error)
{
	RecentRow r = {.notice_fn = fn, .data = data};

	/* sent: confirmed (notified), or handed to sendmail with notify_confirm (a token) */
	return store_each_since(store,
	                        "SELECT request, sender, finished FROM jobs WHERE finished >= ? "
	                        "AND (notified = 1 OR notify_token IS NOT NULL) ORDER BY finished",
	                        since, notice_row, &r, "read recent notifications", error);
}

/* store_count_states - see store.h */
gboolean store_count_states(CtiStore *store, int *counts, GError **error)
{
	sqlite3_stmt *st = store_prepare(store, "SELECT state, count(*) FROM jobs GROUP BY state", error);
	int rc;

	if (!st)
		return FALSE;
	for (int s = 0; s <= CTI_JOB_LAST; s++)
		counts[s] = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = job_state_from_name((const char *)sqlite3_column_text(st, 0));

		if (state >= 0 && state <= CTI_JOB_LAST)
			counts[state] = sqlite3_column_int(st, 1);
	}
	store_release(store, st);
	return rc == SQLITE_DONE || store_sql_fail(store, rc, "count jobs", error);
}

/* store_unconfirmed - see store.h */
gboolean store_unconfirmed(CtiStore *store, int *count, gint64 *oldest_finished, GError **error)
{
	/* a token is stored before the first copy is handed to sendmail; notified = 1 once
	 * cti-milter confirmed one; only a terminal job has its notification sent */
	sqlite3_stmt *st = store_prepare(store,
	                                 "SELECT count(*), coalesce(min(finished), 0) FROM jobs "
	                                 "WHERE notify_token IS NOT NULL AND notified = 0 AND finished > 0",
	                                 error);
	int rc;

	if (!st)
		return FALSE;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int(st, 0);
		*oldest_finished = sqlite3_column_int64(st, 1);
	}
	store_release(store, st);
	return rc == SQLITE_ROW || store_sql_fail(store, rc, "count unconfirmed notifications", error);
}
