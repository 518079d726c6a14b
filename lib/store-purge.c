/* store-purge - retention: remove finished jobs ([ctid] keep_finished,
 * "ctictl jobs purge").
 *
 * A job is removed when it is terminal, ended before a cut-off time, and its
 * notification is not waiting for cti-milter's confirmation (the confirmation
 * would find no job and the spool copy would be lost to a re-send).  The
 * caller may keep more (ctid keeps jobs still in its live table).  Per batch
 * the spool files go first, then the rows in one transaction (attempts
 * follow by ON DELETE CASCADE): a crash between leaves a finished row
 * without its spool copy, which is what a notified job looks like anyway,
 * never a spool file nobody will remove.
 */
#include "store-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static gboolean purge_exec(CtiStore *store, const char *sql, GError **error)
{
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK || store_sql_fail(store, rc, sql, error);
}

/* purge_candidates - ids of at most LIMIT removable jobs that ended before BEFORE, in
 * (finished, id) order after the job *LAST_ID that ended at *LAST_FINISHED, which are
 * advanced to the last row returned */
static GPtrArray *purge_candidates(CtiStore *store, gint64 before, gint64 *last_finished,
                                   char **last_id, int limit, GError **error)
{
	sqlite3_stmt *st = store_prepare(
	    store,
	    "SELECT id, finished FROM jobs WHERE state IN ('success', 'failed', 'timeout', "
	    "'cancelled', 'refused', 'expired', 'dry-run') AND finished > 0 AND finished < ? "
	    "AND NOT (notify_token IS NOT NULL AND notified = 0) "
	    "AND (finished > ? OR (finished = ? AND id > ?)) ORDER BY finished, id LIMIT ?",
	    error);
	GPtrArray *ids;
	int rc;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, *last_finished);
	sqlite3_bind_int64(st, 3, *last_finished);
	store_bind_text(st, 4, *last_id);
	sqlite3_bind_int(st, 5, limit);
	ids = g_ptr_array_new_with_free_func(g_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		g_ptr_array_add(ids, store_col_text(st, 0));
		*last_finished = sqlite3_column_int64(st, 1);
	}
	store_release(store, st);
	if (rc != SQLITE_DONE) {
		g_ptr_array_unref(ids);
		store_sql_fail(store, rc, "list finished jobs", error);
		return NULL;
	}
	if (ids->len > 0) {
		g_free(*last_id);
		*last_id = g_strdup(g_ptr_array_index(ids, ids->len - 1));
	}
	return ids;
}

/* purge_rows - delete the jobs IDS in one transaction */
static gboolean purge_rows(CtiStore *store, GPtrArray *ids, GError **error)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	if (!purge_exec(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	st = store_prepare(store, "DELETE FROM jobs WHERE id = ?", error);
	for (guint i = 0; st != NULL && rc == SQLITE_DONE && i < ids->len; i++) {
		sqlite3_reset(st);
		store_bind_text(st, 1, g_ptr_array_index(ids, i));
		rc = sqlite3_step(st);
	}
	store_release(store, st);
	if (st == NULL || (rc != SQLITE_DONE && !store_sql_fail(store, rc, "delete jobs", error)) ||
	    !purge_exec(store, "COMMIT", error)) {
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}

/* purge_batch - remove IDS but those KEEP names; how many, or -1 + ERROR */
static int purge_batch(CtiStore *store, GPtrArray *ids, StorePurgeKeep keep, gpointer data,
                       GError **error)
{
	for (guint i = ids->len; i-- > 0;)
		if (keep != NULL && keep(g_ptr_array_index(ids, i), data))
			g_ptr_array_remove_index(ids, i);
	for (guint i = 0; i < ids->len; i++)
		if (!store_remove_message(store, g_ptr_array_index(ids, i), error))
			return -1;
	if (ids->len > 0 && !purge_rows(store, ids, error))
		return -1;
	return (int)ids->len;
}

/* store_purge_finished - see store.h */
int store_purge_finished(CtiStore *store, gint64 before, int limit, StorePurgeKeep keep,
                         gpointer data, GError **error)
{
	g_autofree char *last_id = g_strdup("");
	gint64 last_finished = 0;
	int removed = 0;

	g_return_val_if_fail(limit > 0, -1);
	while (removed < limit) {
		g_autoptr(GPtrArray) ids = purge_candidates(store, before, &last_finished, &last_id,
		                                            limit - removed, error);
		guint seen = ids ? ids->len : 0;
		int n = ids ? purge_batch(store, ids, keep, data, error) : -1;

		if (n < 0)
			return -1;
		removed += n;
		if (seen < (guint)(limit - removed + n))
			break; /* no more candidates */
	}
	return removed;
}
