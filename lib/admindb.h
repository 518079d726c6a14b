/* admindb - the SQLite plumbing the admin DBs share: the routes DB (route.c)
 * and the policy DB (policy.c), which ctictl writes and the programs read.
 * A module embeds an AdminDb in its handle and describes itself with an
 * AdmindbKind: its name in error texts, its error domain and codes, and its
 * embedded migrations. */
#ifndef MAILCTI_ADMINDB_H
#define MAILCTI_ADMINDB_H

#include <glib.h>
#include <sqlite3.h>

typedef struct {
	const char *label;         /* "routes DB": how error texts name the DB */
	GQuark (*domain)(void);    /* the owning module's error domain */
	int code_temp;             /* busy, locked, I/O: retry later */
	int code_db;               /* other SQLite failures, unknown schema */
	int code_readonly;         /* a write on a read-only handle */
	const char *const *schema; /* migration i brings user_version to i + 1 */
	const guint *schema_count;
} AdmindbKind;

typedef struct {
	const AdmindbKind *kind;
	sqlite3 *sql;
	gboolean writable;
} AdminDb;

/* a step of a fresh DB's first migration, inside its transaction */
typedef gboolean (*AdmindbSeed)(gpointer data, GError **error);

/* admindb_open - open PATH (read-write and created when WRITABLE) into ADB; the SQLite code */
int admindb_open(AdminDb *adb, const AdmindbKind *kind, const char *path, gboolean writable);
/* admindb_configure - the connection pragmas: WAL, durable commits, a busy timeout */
gboolean admindb_configure(AdminDb *adb, GError **error);
/* admindb_migrate - apply every migration the DB has not seen, one transaction each;
 * SEED (may be NULL) runs inside the first one */
gboolean admindb_migrate(AdminDb *adb, AdmindbSeed seed, gpointer data, GError **error);
/* admindb_user_version - PRAGMA user_version, -1 if it cannot be read */
int admindb_user_version(AdminDb *adb);

/* admindb_sql_error - set ERROR from SQLite code RC with CONTEXT; BUSY, LOCKED, IOERR,
 * FULL and PROTOCOL map to the kind's temporary code, the rest to its DB code */
void admindb_sql_error(const AdminDb *adb, int rc, const char *context, GError **error);
/* admindb_exec - run SQL without parameters or rows */
gboolean admindb_exec(AdminDb *adb, const char *sql, GError **error);
/* admindb_prepare - a one-shot statement (transfer full: sqlite3_finalize) or NULL + error */
sqlite3_stmt *admindb_prepare(AdminDb *adb, const char *sql, GError **error);
/* admindb_prepare_kept - the same for a statement kept and reused for the connection's life */
sqlite3_stmt *admindb_prepare_kept(AdminDb *adb, const char *sql, GError **error);
/* admindb_step_done - step STMT to completion and finalize it; FALSE + error on failure */
gboolean admindb_step_done(AdminDb *adb, sqlite3_stmt *stmt, GError **error);
/* admindb_begin/commit/rollback - write transactions (BEGIN IMMEDIATE); a failed
 * commit rolls back */
gboolean admindb_begin(AdminDb *adb, GError **error);
gboolean admindb_commit(AdminDb *adb, GError **error);
void admindb_rollback(AdminDb *adb);
/* admindb_require_writable - the kind's read-only error unless opened writable */
gboolean admindb_require_writable(const AdminDb *adb, GError **error);
/* admindb_data_version - PRAGMA data_version through the kept statement STMT;
 * *CHANGED when another connection committed since *SEEN, which it updates */
gboolean admindb_data_version(AdminDb *adb, sqlite3_stmt *stmt, gint64 *seen, gboolean *changed,
                              GError **error);

#endif
