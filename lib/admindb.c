/* admindb - the SQLite plumbing of the admin DBs (routes DB, policy DB):
 * opening a connection with the pragmas both want, the embedded versioned
 * migrations, write transactions, change detection through PRAGMA
 * data_version, and SQLite errors mapped into the owning module's error
 * domain (temporary for busy/locked/I/O, else permanent).
 *
 * The module owns the AdminDb it embeds and closes its connection; nothing
 * here allocates beyond SQLite statements, which the caller finalizes or
 * which are finalized before returning.  Error texts start with the kind's
 * label ("routes DB ...", "policy DB ...").
 */
#include "admindb.h"

/* admindb_open - see admindb.h */
int admindb_open(AdminDb *adb, const AdmindbKind *kind, const char *path, gboolean writable)
{
	int flags = SQLITE_OPEN_NOMUTEX |
	            (writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);

	adb->kind = kind;
	adb->writable = writable;
	return sqlite3_open_v2(path, &adb->sql, flags, NULL);
}

/* admindb_sql_error - see admindb.h */
void admindb_sql_error(const AdminDb *adb, int rc, const char *context, GError **error)
{
	int code = adb->kind->code_db;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_PROTOCOL:
		code = adb->kind->code_temp;
		break;
	default:
		break;
	}
	g_set_error(error, adb->kind->domain(), code, "%s: %s", context,
	            adb->sql ? sqlite3_errmsg(adb->sql) : sqlite3_errstr(rc));
}

/* admindb_exec - see admindb.h */
gboolean admindb_exec(AdminDb *adb, const char *sql, GError **error)
{
	int rc = sqlite3_exec(adb->sql, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		admindb_sql_error(adb, rc, adb->kind->label, error);
		return FALSE;
	}
	return TRUE;
}

/* admindb_prepare_flags - sqlite3_prepare_v3 with FLAGS; "<label> prepare" on failure */
static sqlite3_stmt *admindb_prepare_flags(AdminDb *adb, const char *sql, unsigned int flags,
                                           GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v3(adb->sql, sql, -1, flags, &stmt, NULL);

	if (rc != SQLITE_OK) {
		g_autofree char *context = g_strconcat(adb->kind->label, " prepare", NULL);

		admindb_sql_error(adb, rc, context, error);
		return NULL;
	}
	return stmt;
}

/* admindb_prepare - see admindb.h */
sqlite3_stmt *admindb_prepare(AdminDb *adb, const char *sql, GError **error)
{
	return admindb_prepare_flags(adb, sql, 0, error);
}

/* admindb_prepare_kept - see admindb.h */
sqlite3_stmt *admindb_prepare_kept(AdminDb *adb, const char *sql, GError **error)
{
	return admindb_prepare_flags(adb, sql, SQLITE_PREPARE_PERSISTENT, error);
}

/* admindb_step_done - see admindb.h */
gboolean admindb_step_done(AdminDb *adb, sqlite3_stmt *stmt, GError **error)
{
	int rc = sqlite3_step(stmt);

	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(adb, rc, adb->kind->label, error);
		return FALSE;
	}
	return TRUE;
}

/* admindb_begin - see admindb.h */
gboolean admindb_begin(AdminDb *adb, GError **error)
{
	return admindb_exec(adb, "BEGIN IMMEDIATE", error);
}

/* admindb_commit - see admindb.h */
gboolean admindb_commit(AdminDb *adb, GError **error)
{
	if (!admindb_exec(adb, "COMMIT", error)) {
		admindb_rollback(adb);
		return FALSE;
	}
	return TRUE;
}

/* admindb_rollback - see admindb.h */
void admindb_rollback(AdminDb *adb)
{
	if (!sqlite3_get_autocommit(adb->sql))
		sqlite3_exec(adb->sql, "ROLLBACK", NULL, NULL, NULL);
}

/* admindb_require_writable - see admindb.h */
gboolean admindb_require_writable(const AdminDb *adb, GError **error)
{
	if (adb->writable)
		return TRUE;
	g_set_error(error, adb->kind->domain(), adb->kind->code_readonly, "%s is open read-only",
	            adb->kind->label);
	return FALSE;
}

/* admindb_configure - see admindb.h */
gboolean admindb_configure(AdminDb *adb, GError **error)
{
	int persist = 1;

	sqlite3_busy_timeout(adb->sql, 2000);
	/* keep -wal and -shm after the last writer closes: a reader that may not
	 * create files in the DB's directory (the milter's user) needs them */
	if (adb->writable)
		sqlite3_file_control(adb->sql, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (adb->writable && !admindb_exec(adb, "PRAGMA journal_mode = WAL", error))
		return FALSE;
	return admindb_exec(adb, "PRAGMA synchronous = FULL", error);
}

/* admindb_user_version - see admindb.h */
int admindb_user_version(AdminDb *adb)
{
	sqlite3_stmt *stmt = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(adb->sql, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return version;
}

/* admindb_check_version - a schema version this program knows, and can reach */
static gboolean admindb_check_version(AdminDb *adb, int have, GError **error)
{
	const AdmindbKind *kind = adb->kind;

	if (have < 0 || (guint)have > *kind->schema_count) {
		g_set_error(error, kind->domain(), kind->code_db,
		            "%s schema version %d is not one this program knows (1..%u)",
		            kind->label, have, *kind->schema_count);
		return FALSE;
	}
	if ((guint)have < *kind->schema_count && !adb->writable) {
		g_set_error(error, kind->domain(), kind->code_db,
		            "%s has schema version %d, %u needed: open it once with ctictl",
		            kind->label, have, *kind->schema_count);
		return FALSE;
	}
	return TRUE;
}

/* admindb_migrate - see admindb.h */
gboolean admindb_migrate(AdminDb *adb, AdmindbSeed seed, gpointer data, GError **error)
{
	int have = admindb_user_version(adb);

	if (!admindb_check_version(adb, have, error))
		return FALSE;
	for (guint i = (guint)have; i < *adb->kind->schema_count; i++) {
		g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %u", i + 1);

		if (!admindb_begin(adb, error))
			return FALSE;
		if (!admindb_exec(adb, adb->kind->schema[i], error) ||
		    (i == 0 && seed && !seed(data, error)) || !admindb_exec(adb, bump, error) ||
		    !admindb_commit(adb, error)) {
			admindb_rollback(adb);
			g_prefix_error(error, "migration %u: ", i + 1);
			return FALSE;
		}
	}
	return TRUE;
}

/* admindb_data_version - see admindb.h */
gboolean admindb_data_version(AdminDb *adb, sqlite3_stmt *stmt, gint64 *seen, gboolean *changed,
                              GError **error)
{
	int rc = sqlite3_step(stmt);
	gint64 version;

	if (rc != SQLITE_ROW) {
		g_autofree char *context = g_strconcat(adb->kind->label, " data_version", NULL);

		admindb_sql_error(adb, rc, context, error);
		sqlite3_reset(stmt);
		return FALSE;
	}
	version = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	*changed = version != *seen;
	*seen = version;
	return TRUE;
}
