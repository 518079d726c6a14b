/* store-private - what the files of the job store share: the handle and the
 * SQL helpers of store.c, used by store-forward.c and store-count.c.
 */
#ifndef MAILCTI_STORE_PRIVATE_H
#define MAILCTI_STORE_PRIVATE_H

#include <sqlite3.h>

#include "store.h"

struct CtiStore {
	sqlite3 *db;
	char *db_path;
	char *spool_dir;
	GHashTable *stmts; /* SQL text -> its prepared statement, kept for the next call */
	GHashTable *lent;  /* statements of stmts handed out and not yet released */
};

/* store_sql_fail - set ERROR from the SQLite result RC of WHAT (TEMP or PERM); returns FALSE */
gboolean store_sql_fail(CtiStore *store, int rc, const char *what, GError **error);
/* store_prepare - a prepared statement for SQL, or NULL + ERROR; the same SQL gets the
 * statement prepared the first time, unless that one is still in use; give it back
 * with store_release() */
sqlite3_stmt *store_prepare(CtiStore *store, const char *sql, GError **error);
/* store_release - done with ST from store_prepare(): reset and kept, or finalized */
void store_release(CtiStore *store, sqlite3_stmt *st);
/* store_bind_text - bind S (NULL binds NULL) to parameter I of ST */
void store_bind_text(sqlite3_stmt *st, int i, const char *s);
/* store_step_done - run a statement that returns no rows, then finalize it */
gboolean store_step_done(CtiStore *store, sqlite3_stmt *st, const char *what, GError **error);
/* store_col_text - column I of ST's current row as a new string, NULL for NULL */
char *store_col_text(sqlite3_stmt *st, int i);

#endif
