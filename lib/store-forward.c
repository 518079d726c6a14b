/* store-forward - the forwardings table of the job store (jobs-002): which
 * device ctid diverted, to where, for which job, so that a restart can still
 * release them.  The caller owns the CtiForward values returned.
 */
#include "store-private.h"

/* forward_free - free a forwarding; NULL is a no-op */
void forward_free(CtiForward *fwd)
{
	if (fwd == NULL)
		return;
	g_free(fwd->device);
	g_free(fwd->forward_to);
	g_free(fwd->job_id);
	g_free(fwd);
}

/* store_forward_set - insert or replace the forwarding of DEVICE */
gboolean store_forward_set(CtiStore *store, const char *device, const char *forward_to,
                           const char *job_id, GError **error)
{
	sqlite3_stmt *st = store_prepare(store,
	                                 "INSERT OR REPLACE INTO forwardings (device, forward_to, "
	                                 "job_id, created) VALUES (?, ?, ?, ?)",
	                                 error);

	if (!st)
		return FALSE;
	store_bind_text(st, 1, device);
	store_bind_text(st, 2, forward_to);
	store_bind_text(st, 3, job_id);
	sqlite3_bind_int64(st, 4, g_get_real_time() / G_USEC_PER_SEC);
	return store_step_done(store, st, "set forwarding", error);
}

/* store_forward_clear - delete DEVICE's forwarding */
gboolean store_forward_clear(CtiStore *store, const char *device, GError **error)
{
	sqlite3_stmt *st = store_prepare(store, "DELETE FROM forwardings WHERE device = ?", error);

	if (!st)
		return FALSE;
	store_bind_text(st, 1, device);
	if (!store_step_done(store, st, "clear forwarding", error))
		return FALSE;
	if (sqlite3_changes(store->db) == 0) {
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND,
		            "no forwarding for %s", device);
		return FALSE;
	}
	return TRUE;
}

/* store_forwards - every forwarding, by device */
GPtrArray *store_forwards(CtiStore *store, GError **error)
{
	sqlite3_stmt *st = store_prepare(
	    store, "SELECT device, forward_to, job_id, created FROM forwardings ORDER BY device",
	    error);
	GPtrArray *list;
	int rc;

	if (!st)
		return NULL;
	list = g_ptr_array_new_with_free_func((GDestroyNotify)forward_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		CtiForward *f = g_new0(CtiForward, 1);

		f->device = store_col_text(st, 0);
		f->forward_to = store_col_text(st, 1);
		f->job_id = store_col_text(st, 2);
		f->created = sqlite3_column_int64(st, 3);
		g_ptr_array_add(list, f);
	}
	store_release(store, st);
	if (rc != SQLITE_DONE) {
		store_sql_fail(store, rc, "list forwardings", error);
		g_ptr_array_unref(list);
		return NULL;
	}
	return list;
}
