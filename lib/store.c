/* store - durable jobs: SQLite (WAL, synchronous=FULL) plus one spool file per
 * accepted message.
 *
 * The CtiStore owns the sqlite3 handle and the spool directory name; jobs and
 * attempts returned are owned by the caller.  store_submit_batch() (and
 * store_submit(), a batch of one) is the durability point: per job a temp
 * file, write, fsync, link to <id>.eml; then one fsync of the spool directory
 * for the whole batch and one INSERT transaction (synchronous=FULL) for all
 * its rows.  If the directory fsync or the transaction fails, every file of
 * the batch is removed again, so there is never half a job.  Group commit:
 * the directory fsync and the WAL commit are shared by the batch; each file
 * still gets its own fsync.  syncfs() on the spool filesystem once per batch
 * would save those too, but it flushes every dirty page of that filesystem
 * (other programs' writes, the WAL of unrelated DBs) with latency we do not
 * control, and it reports an error of any file, not ours; per-file fsync of a
 * page-cache-hot file is cheap beside the shared journal commit ext4 does
 * anyway.  A bad or duplicate id fails only its own job.  Every failure of the
 * disk or the database that may pass (ENOSPC, EIO, read-only, SQLITE_BUSY,
 * SQLITE_FULL, ...) is CTI_STORE_ERROR_TEMP; bad data, a duplicate id and a
 * wrong schema are CTI_STORE_ERROR_PERM.  All SQL uses bound parameters.
 */
#include "store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_BUSY_TIMEOUT_MS 5000

G_DEFINE_QUARK(mailcti - store - error, store_error)

/* store_perm_error - see store.h */
gboolean store_perm_error(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM, text);
	return FALSE;
}

static const char *const state_names[] = {
    [CTI_JOB_QUEUED] = "queued",   [CTI_JOB_WAITING_USER] = "waiting-user",
    [CTI_JOB_RUNNING] = "running", [CTI_JOB_RETRY_WAIT] = "retry-wait",
    [CTI_JOB_SUCCESS] = "success", [CTI_JOB_FAILED] = "failed",
    [CTI_JOB_TIMEOUT] = "timeout", [CTI_JOB_CANCELLED] = "cancelled",
    [CTI_JOB_REFUSED] = "refused", [CTI_JOB_EXPIRED] = "expired",
    [CTI_JOB_DRY_RUN] = "dry-run",
};

/* job_state_name - the state's name as stored and shown */
const char *job_state_name(CtiJobState state)
{
	if ((guint)state < G_N_ELEMENTS(state_names))
		return state_names[state];
	return "unknown";
}

/* job_state_from_name - the state for NAME, or -1 */
int job_state_from_name(const char *name)
{
	for (gsize i = 0; name && i < G_N_ELEMENTS(state_names); i++)
		if (strcmp(state_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* job_state_is_terminal - TRUE for success .. dry-run */
gboolean job_state_is_terminal(CtiJobState state)
{
	switch (state) {
	case CTI_JOB_QUEUED:
	case CTI_JOB_WAITING_USER:
	case CTI_JOB_RUNNING:
	case CTI_JOB_RETRY_WAIT:
		return FALSE;
	case CTI_JOB_SUCCESS:
	case CTI_JOB_FAILED:
	case CTI_JOB_TIMEOUT:
	case CTI_JOB_CANCELLED:
	case CTI_JOB_REFUSED:
	case CTI_JOB_EXPIRED:
	case CTI_JOB_DRY_RUN:
		return TRUE;
	}
	return FALSE;
}

/* job_free - free a job */
void job_free(CtiJob *job)
{
	if (!job)
		return;
	g_free(job->id);
	g_free(job->request);
	g_free(job->sender);
	g_free(job->recipient);
	g_free(job->auth_authen);
	g_free(job->client_addr);
	g_free(job->queue_id);
	g_free(job->message_id);
	g_free(job->mailbox);
	g_free(job->reason);
	g_free(job->notify_token);
	g_free(job->notify_copy);
	g_free(job->rate_key);
	g_free(job);
}

/* attempt_free - free an attempt */
void attempt_free(CtiAttempt *attempt)
{
	if (!attempt)
		return;
	g_free(attempt->outcome);
	g_free(attempt->cause);
	g_free(attempt->call_id);
	g_free(attempt);
}

/* store_job_id_valid - 32 lower-case hex characters */
gboolean store_job_id_valid(const char *id)
{
	if (!id || strlen(id) != CTI_JOB_ID_LEN)
		return FALSE;
	for (const char *p = id; *p; p++)
		if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
			return FALSE;
	return TRUE;
}

/* store_new_job_id - 128 bits from getrandom() as hex */
char *store_new_job_id(void)
{
	guint8 raw[CTI_JOB_ID_LEN / 2];
	gsize got = 0;
	GString *hex = g_string_sized_new(CTI_JOB_ID_LEN);

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			g_error("getrandom: %s",
			        g_strerror(errno)); /* no entropy source: cannot run safely */
		got += (gsize)n;
	}
	for (gsize i = 0; i < sizeof(raw); i++)
		g_string_append_printf(hex, "%02x", raw[i]);
	return g_string_free(hex, FALSE);
}

/* ---- error mapping ---- */

/* store_sql_code - TEMP for conditions that may pass, PERM for bad data */
static CtiStoreError store_sql_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_ERROR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_SCHEMA:
		return CTI_STORE_ERROR_PERM;
	default:
		return CTI_STORE_ERROR_TEMP;
	}
}

/* store_sql_fail - see store-private.h */
gboolean store_sql_fail(CtiStore *store, int rc, const char *what, GError **error)
{
	g_set_error(error, CTI_STORE_ERROR, store_sql_code(rc), "%s: %s (%s)", what,
	            sqlite3_errmsg(store->db), sqlite3_errstr(rc));
	return FALSE;
}

static gboolean store_errno_fail(int err, const char *what, const char *path, GError **error)
{
	g_set_error(error, CTI_STORE_ERROR,
	            err == EEXIST ? CTI_STORE_ERROR_PERM : CTI_STORE_ERROR_TEMP, "%s %s: %s", what,
	            path, g_strerror(err));
	return FALSE;
}

/* ---- small SQL helpers ---- */

static gboolean store_exec(CtiStore *store, const char *sql, GError **error)
{
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sql_fail(store, rc, sql, error);
	return TRUE;
}

/* store_prepare - see store-private.h.  Preparing costs more than running most of
 * these statements; SQLite prepares a kept statement again by itself when the
 * schema changes. */
sqlite3_stmt *store_prepare(CtiStore *store, const char *sql, GError **error)
{
	sqlite3_stmt *st = g_hash_table_lookup(store->stmts, sql);
	gboolean keep = st == NULL;
	int rc;

	if (st != NULL && !g_hash_table_contains(store->lent, st)) {
		g_hash_table_add(store->lent, st);
		return st;
	}
	st = NULL;
	rc = sqlite3_prepare_v3(store->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
	if (rc != SQLITE_OK) {
		store_sql_fail(store, rc, "prepare", error);
		return NULL;
	}
	if (keep) {
		g_hash_table_insert(store->stmts, g_strdup(sql), st);
		g_hash_table_add(store->lent, st);
	}
	return st;
}

/* store_release - see store-private.h */
void store_release(CtiStore *store, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	if (!g_hash_table_remove(store->lent, st)) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* store_bind_text - see store-private.h */
void store_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* store_step_done - see store-private.h */
gboolean store_step_done(CtiStore *store, sqlite3_stmt *st, const char *what, GError **error)
{
	int rc = sqlite3_step(st);

	store_release(store, st);
	if (rc != SQLITE_DONE)
		return store_sql_fail(store, rc, what, error);
	return TRUE;
}

static void store_rollback(CtiStore *store)
{
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- open, migrate, close ---- */

static int store_user_version(CtiStore *store)
{
	sqlite3_stmt *st = store_prepare(store, "PRAGMA user_version", NULL);
	int v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	store_release(store, st);
	return v;
}

/* store_migrate - apply the embedded migrations newer than user_version */
static gboolean store_migrate(CtiStore *store, GError **error)
{
	gsize n = 0;
	const CtiStoreMigration *m = store_schema_migrations(&n);
	int have = store_user_version(store);

	if (have < 0)
		return store_sql_fail(store, sqlite3_errcode(store->db), "read user_version",
		                      error);
	if (have > m[n - 1].version) {
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM,
		            "%s: schema version %d is newer than this program's %d", store->db_path,
		            have, m[n - 1].version);
		return FALSE;
	}
	for (gsize i = 0; i < n; i++) {
		g_autofree char *set = NULL;

		if (m[i].version <= have)
			continue;
		set = g_strdup_printf("PRAGMA user_version = %d", m[i].version);
		if (!store_exec(store, "BEGIN IMMEDIATE", error) ||
		    !store_exec(store, m[i].sql, error) || !store_exec(store, set, error) ||
		    !store_exec(store, "COMMIT", error)) {
			store_rollback(store);
			g_prefix_error(error, "migration %s: ", m[i].name);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean store_configure(CtiStore *store, GError **error)
{
	sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
	return store_exec(store, "PRAGMA journal_mode=WAL", error) &&
	       store_exec(store, "PRAGMA synchronous=FULL", error) &&
	       store_exec(store, "PRAGMA foreign_keys=ON", error);
}

static void store_stmt_free(gpointer st)
{
	sqlite3_finalize(st);
}

/* store_open - open DB_PATH, create directories, apply migrations */
CtiStore *store_open(const char *db_path, const char *spool_dir, GError **error)
{
	CtiStore *store = g_new0(CtiStore, 1);
	g_autofree char *db_dir = g_path_get_dirname(db_path);
	int rc;

	store->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, store_stmt_free);
	store->lent = g_hash_table_new(g_direct_hash, g_direct_equal);
	store->db_path = g_strdup(db_path);
	store->spool_dir = g_strdup(spool_dir);
	if (g_mkdir_with_parents(spool_dir, 0750) < 0 || g_mkdir_with_parents(db_dir, 0750) < 0) {
		store_errno_fail(errno, "create directory for", spool_dir, error);
		store_close(store);
		return NULL;
	}
	rc = sqlite3_open_v2(db_path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK || !store_configure(store, error) || !store_migrate(store, error)) {
		if (rc != SQLITE_OK)
			g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP, "open %s: %s",
			            db_path, sqlite3_errstr(rc));
		else
			g_prefix_error(error, "%s: ", db_path);
		store_close(store);
		return NULL;
	}
	return store;
}

/* store_close - close the database */
void store_close(CtiStore *store)
{
	if (!store)
		return;
	g_clear_pointer(&store->lent, g_hash_table_unref);
	g_clear_pointer(&store->stmts, g_hash_table_unref); /* finalizes the kept statements */
	if (store->db)
		sqlite3_close_v2(store->db);
	g_free(store->db_path);
	g_free(store->spool_dir);
	g_free(store);
}

/* ---- spool files ---- */

/* store_message_path - spool_dir/<id>.eml, NULL for an id that is not a job id */
char *store_message_path(CtiStore *store, const char *job_id)
{
	if (!store_job_id_valid(job_id))
		return NULL;
	return g_strdup_printf("%s/%s.eml", store->spool_dir, job_id);
}

static gboolean store_fsync_dir(const char *dir, GError **error)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return store_errno_fail(errno, "open directory", dir, error);
	if (fsync(fd) < 0) {
		err = errno;
		close(fd);
		return store_errno_fail(err, "fsync directory", dir, error);
	}
	close(fd);
	return TRUE;
}

/* store_write_all - write LEN bytes and fsync FD */
static gboolean store_write_all(int fd, const void *data, gsize len, const char *path,
                                GError **error)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return store_errno_fail(errno, "write", path, error);
		p += n;
		len -= (gsize)n;
	}
	if (fsync(fd) < 0)
		return store_errno_fail(errno, "fsync", path, error);
	return TRUE;
}

static gboolean store_job_exists(CtiStore *store, const char *job_id, GError **error);

/* store_spool_reclaim - link() to FINAL failed with ERR.  A file there without a job row
 * is what a crash between link and INSERT left (ctid killed mid-submit): the MTA's retry
 * of that message must not be refused for it, so TMP replaces it.  With a row it is a
 * duplicate id (PERM) and nothing is touched. */
static gboolean store_spool_reclaim(CtiStore *store, int err, const char *tmp, const char *final,
                                    const char *id, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (err != EEXIST)
		return store_errno_fail(err, "link", final, error);
	if (store_job_exists(store, id, &local))
		return store_errno_fail(err, "link", final, error);
	if (!g_error_matches(local, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	if (rename(tmp, final) < 0)
		return store_errno_fail(errno, "replace orphaned", final, error);
	return TRUE;
}

/* store_spool_file - MESSAGE written and fsync'd at FINAL (the directory entry is not yet
 * durable: the caller fsyncs the directory once for the whole batch); EEXIST (a duplicate
 * id) is PERM and touches nothing, unless the file is an orphan without a job row
 * (store_spool_reclaim) */
static gboolean store_spool_file(CtiStore *store, const char *final, const char *id,
                                 const void *message, gsize len, GError **error)
{
	g_autofree char *tmp = g_strdup_printf("%s/.%s.tmp", store->spool_dir, id);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	gboolean ok;

	if (fd < 0)
		return store_errno_fail(errno, "create", tmp, error);
	ok = store_write_all(fd, message, len, tmp, error);
	if (close(fd) < 0 && ok)
		ok = store_errno_fail(errno, "close", tmp, error);
	/* link() never replaces an existing file, unlike rename() */
	if (ok && link(tmp, final) < 0)
		ok = store_spool_reclaim(store, errno, tmp, final, id, error);
	unlink(tmp);
	return ok;
}

/* ---- jobs ---- */

#define JOB_COLUMNS                                                                                \
	"id, state, request, sender, recipient, auth_authen, client_addr, queue_id, message_id, "  \
	"mailbox, created, "                                                                       \
	"due_at, deadline, attempts, reason, finished, notified, notify_token, notify_copy, "      \
	"rate_key"

/* store_insert_row - bind JOB to the prepared INSERT ST, run it and reset ST */
static gboolean store_insert_row(CtiStore *store, sqlite3_stmt *st, const CtiJob *job,
                                 GError **error)
{
	int rc;

	store_bind_text(st, 1, job->id);
	store_bind_text(st, 2, job_state_name(job->state));
	store_bind_text(st, 3, job->request);
	store_bind_text(st, 4, job->sender);
	store_bind_text(st, 5, job->recipient);
	store_bind_text(st, 6, job->auth_authen);
	store_bind_text(st, 7, job->client_addr);
	store_bind_text(st, 8, job->queue_id);
	store_bind_text(st, 9, job->message_id);
	store_bind_text(st, 10, job->mailbox);
	sqlite3_bind_int64(st, 11, job->created);
	sqlite3_bind_int64(st, 12, job->due_at);
	sqlite3_bind_int64(st, 13, job->deadline);
	sqlite3_bind_int(st, 14, job->attempts);
	store_bind_text(st, 15, job->reason);
	sqlite3_bind_int64(st, 16, job->finished);
	sqlite3_bind_int(st, 17, job->notified ? 1 : 0);
	store_bind_text(st, 18, job->notify_token);
	store_bind_text(st, 19, job->notify_copy);
	store_bind_text(st, 20, job->rate_key);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_sql_fail(store, rc, "insert job", error);
	return TRUE;
}

/* store_insert_batch - the rows of every item still without an error, in one transaction */
static gboolean store_insert_batch(CtiStore *store, CtiStoreSubmit *items, gsize n, GError **error)
{
	sqlite3_stmt *st;
	gboolean ok = TRUE;

	if (!store_exec(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	st = store_prepare(
	    store, "INSERT INTO jobs (" JOB_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    error);
	if (!st) {
		store_rollback(store);
		return FALSE;
	}
	for (gsize i = 0; ok && i < n; i++)
		if (items[i].error == NULL)
			ok = store_insert_row(store, st, items[i].job, error);
	store_release(store, st);
	if (!ok || !store_exec(store, "COMMIT", error)) {
		store_rollback(store);
		return FALSE;
	}
	return TRUE;
}

/* store_batch_check - id and creation time of ITEM's job; PERM for a bad id, an id twice
 * in the batch (SEEN) or an id the store already holds */
static gboolean store_batch_check(CtiStore *store, CtiStoreSubmit *item, GHashTable *seen)
{
	CtiJob *job = item->job;
	g_autoptr(GError) local = NULL;

	if (!job->id)
		job->id = store_new_job_id();
	if (job->created == 0)
		job->created = (gint64)(g_get_real_time() / G_USEC_PER_SEC);
	if (!store_job_id_valid(job->id)) {
		g_set_error(&item->error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM,
		            "bad job id (want %d lower-case hex digits)", CTI_JOB_ID_LEN);
		return FALSE;
	}
	if (!g_hash_table_add(seen, job->id) || store_job_exists(store, job->id, &local)) {
		g_set_error(&item->error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM,
		            "job %s: duplicate job id", job->id);
		return FALSE;
	}
	if (!g_error_matches(local, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND)) {
		g_propagate_prefixed_error(&item->error, g_steal_pointer(&local), "job %s: ", job->id);
		return FALSE;
	}
	return TRUE;
}

/* store_batch_undo - the batch failed with ERROR: remove the files it wrote, every job fails */
static void store_batch_undo(CtiStore *store, CtiStoreSubmit *items, gsize n, const GError *error)
{
	for (gsize i = 0; i < n; i++) {
		g_autofree char *path = NULL;

		if (items[i].error != NULL)
			continue;
		path = store_message_path(store, items[i].job->id);
		unlink(path);
		g_set_error(&items[i].error, error->domain, error->code, "job %s: %s",
		            items[i].job->id, error->message);
	}
	store_fsync_dir(store->spool_dir, NULL);
}

/* store_submit_batch - every file written and fsync'd, one directory fsync, one transaction */
gsize store_submit_batch(CtiStore *store, CtiStoreSubmit *items, gsize n)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	gsize written = 0;

	g_return_val_if_fail(store && (items || n == 0), 0);
	for (gsize i = 0; i < n; i++) {
		CtiJob *job = items[i].job;
		g_autofree char *path = NULL;

		g_return_val_if_fail(job && job->request && job->sender && job->recipient, 0);
		g_return_val_if_fail(items[i].error == NULL, 0);
		if (!store_batch_check(store, &items[i], seen))
			continue;
		path = store_message_path(store, job->id);
		if (store_spool_file(store, path, job->id, items[i].message, items[i].len,
		                     &items[i].error))
			written++;
	}
	if (written == 0)
		return 0;
	if (!store_fsync_dir(store->spool_dir, &error) ||
	    !store_insert_batch(store, items, n, &error)) {
		store_batch_undo(store, items, n, error);
		return 0;
	}
	return written;
}

/* store_submit - a batch of one: spool file first, then the row; either both or neither */
gboolean store_submit(CtiStore *store, CtiJob *job, const void *message, gsize len, GError **error)
{
	CtiStoreSubmit item = {job, message, len, NULL};

	g_return_val_if_fail(store && job && job->request && job->sender && job->recipient, FALSE);
	if (store_submit_batch(store, &item, 1) == 1)
		return TRUE;
	g_propagate_error(error, item.error);
	return FALSE;
}

/* store_col_text - see store-private.h */
char *store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? g_strdup((const char *)t) : NULL;
}

/* store_row_job - the job on the current row of a SELECT JOB_COLUMNS */
static CtiJob *store_row_job(sqlite3_stmt *st)
{
	CtiJob *job = g_new0(CtiJob, 1);
	int state = job_state_from_name((const char *)sqlite3_column_text(st, 1));

	job->id = store_col_text(st, 0);
	job->state = state < 0 ? CTI_JOB_FAILED : (CtiJobState)state;
	job->request = store_col_text(st, 2);
	job->sender = store_col_text(st, 3);
	job->recipient = store_col_text(st, 4);
	job->auth_authen = store_col_text(st, 5);
	job->client_addr = store_col_text(st, 6);
	job->queue_id = store_col_text(st, 7);
	job->message_id = store_col_text(st, 8);
	job->mailbox = store_col_text(st, 9);
	job->created = sqlite3_column_int64(st, 10);
	job->due_at = sqlite3_column_int64(st, 11);
	job->deadline = sqlite3_column_int64(st, 12);
	job->attempts = sqlite3_column_int(st, 13);
	job->reason = store_col_text(st, 14);
	job->finished = sqlite3_column_int64(st, 15);
	job->notified = sqlite3_column_int(st, 16) != 0;
	job->notify_token = store_col_text(st, 17);
	job->notify_copy = store_col_text(st, 18);
	job->rate_key = store_col_text(st, 19);
	return job;
}

/* store_collect_jobs - run ST and collect every row; finalizes ST */
static GPtrArray *store_collect_jobs(CtiStore *store, sqlite3_stmt *st, GError **error)
{
	GPtrArray *jobs = g_ptr_array_new_with_free_func((GDestroyNotify)job_free);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(jobs, store_row_job(st));
	store_release(store, st);
	if (rc != SQLITE_DONE) {
		store_sql_fail(store, rc, "list jobs", error);
		g_ptr_array_unref(jobs);
		return NULL;
	}
	return jobs;
}

static gboolean store_not_found(const char *id, GError **error)
{
	g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND, "no job %s", id);
	return FALSE;
}

/* store_get - one job by id */
CtiJob *store_get(CtiStore *store, const char *id, GError **error)
{
	sqlite3_stmt *st =
	    store_prepare(store, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?", error);
	g_autoptr(GPtrArray) jobs = NULL;

	if (!st)
		return NULL;
	store_bind_text(st, 1, id);
	jobs = store_collect_jobs(store, st, error);
	if (!jobs)
		return NULL;
	if (jobs->len == 0) {
		store_not_found(id, error);
		return NULL;
	}
	return g_ptr_array_steal_index(jobs, 0);
}

/* store_update - the mutable fields of JOB */
gboolean store_update(CtiStore *store, const CtiJob *job, GError **error)
{
	sqlite3_stmt *st = store_prepare(
	    store,
	    "UPDATE jobs SET state = ?, due_at = ?, deadline = ?, attempts = ?, reason = ?, "
	    "finished = ?, notified = ?, notify_token = ?, notify_copy = ? WHERE id = ?",
	    error);

	if (!st)
		return FALSE;
	store_bind_text(st, 1, job_state_name(job->state));
	sqlite3_bind_int64(st, 2, job->due_at);
	sqlite3_bind_int64(st, 3, job->deadline);
	sqlite3_bind_int(st, 4, job->attempts);
	store_bind_text(st, 5, job->reason);
	sqlite3_bind_int64(st, 6, job->finished);
	sqlite3_bind_int(st, 7, job->notified ? 1 : 0);
	store_bind_text(st, 8, job->notify_token);
	store_bind_text(st, 9, job->notify_copy);
	store_bind_text(st, 10, job->id);
	if (!store_step_done(store, st, "update job", error))
		return FALSE;
	if (sqlite3_changes(store->db) == 0)
		return store_not_found(job->id, error);
	return TRUE;
}

/* store_list_live - every job not terminal, oldest first */
GPtrArray *store_list_live(CtiStore *store, GError **error)
{
	sqlite3_stmt *st = store_prepare(
	    store,
	    "SELECT " JOB_COLUMNS " FROM jobs WHERE state IN "
	    "('queued', 'waiting-user', 'running', 'retry-wait') ORDER BY created, rowid",
	    error);

	return st ? store_collect_jobs(store, st, error) : NULL;
}

/* store_list - filtered listing, newest first */
GPtrArray *store_list(CtiStore *store, int state, const char *sender, gint64 min_created, int limit,
                      GError **error)
{
	sqlite3_stmt *st =
	    store_prepare(store,
	                  "SELECT " JOB_COLUMNS " FROM jobs WHERE (?1 IS NULL OR state = ?1) "
	                  "AND (?2 IS NULL OR sender = ?2) AND created >= ?3 "
	                  "ORDER BY created DESC, rowid DESC LIMIT ?4",
	                  error);

	if (!st)
		return NULL;
	store_bind_text(st, 1, state >= 0 ? job_state_name((CtiJobState)state) : NULL);
	store_bind_text(st, 2, sender);
	sqlite3_bind_int64(st, 3, min_created);
	sqlite3_bind_int(st, 4, limit > 0 ? limit : -1);
	return store_collect_jobs(store, st, error);
}

/* ---- attempts ---- */

static gboolean store_job_exists(CtiStore *store, const char *job_id, GError **error)
{
	sqlite3_stmt *st = store_prepare(store, "SELECT 1 FROM jobs WHERE id = ?", error);
	int rc;

	if (!st)
		return FALSE;
	store_bind_text(st, 1, job_id);
	rc = sqlite3_step(st);
	store_release(store, st);
	if (rc == SQLITE_ROW)
		return TRUE;
	if (rc == SQLITE_DONE)
		return store_not_found(job_id, error);
	return store_sql_fail(store, rc, "find job", error);
}

/* store_attempt_begin - insert the attempt row and raise jobs.attempts to NUMBER */
gboolean store_attempt_begin(CtiStore *store, const char *job_id, int number, const char *call_id,
                             GError **error)
{
	sqlite3_stmt *st;

	if (!store_exec(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!store_job_exists(store, job_id, error))
		goto fail;
	st = store_prepare(
	    store, "INSERT INTO attempts (job_id, number, started, call_id) VALUES (?, ?, ?, ?)",
	    error);
	if (!st)
		goto fail;
	store_bind_text(st, 1, job_id);
	sqlite3_bind_int(st, 2, number);
	sqlite3_bind_int64(st, 3, g_get_real_time() / 1000);
	store_bind_text(st, 4, call_id);
	if (!store_step_done(store, st, "insert attempt", error))
		goto fail;
	st =
	    store_prepare(store, "UPDATE jobs SET attempts = max(attempts, ?) WHERE id = ?", error);
	if (!st)
		goto fail;
	sqlite3_bind_int(st, 1, number);
	store_bind_text(st, 2, job_id);
	if (!store_step_done(store, st, "count attempt", error) ||
	    !store_exec(store, "COMMIT", error))
		goto fail;
	return TRUE;
fail:
	store_rollback(store);
	return FALSE;
}

/* store_attempt_end - set ended, outcome and cause of an attempt */
gboolean store_attempt_end(CtiStore *store, const char *job_id, int number, const char *outcome,
                           const char *cause, GError **error)
{
	sqlite3_stmt *st = store_prepare(
	    store,
	    "UPDATE attempts SET ended = ?, outcome = ?, cause = ? WHERE job_id = ? AND number = ?",
	    error);

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, g_get_real_time() / 1000);
	store_bind_text(st, 2, outcome);
	store_bind_text(st, 3, cause);
	store_bind_text(st, 4, job_id);
	sqlite3_bind_int(st, 5, number);
	if (!store_step_done(store, st, "end attempt", error))
		return FALSE;
	if (sqlite3_changes(store->db) == 0) {
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND,
		            "no attempt %d of job %s", number, job_id);
		return FALSE;
	}
	return TRUE;
}

/* store_attempts - attempts of JOB_ID by number */
GPtrArray *store_attempts(CtiStore *store, const char *job_id, GError **error)
{
	sqlite3_stmt *st =
	    store_prepare(store,
	                  "SELECT number, started, ended, outcome, cause, call_id FROM attempts "
	                  "WHERE job_id = ? ORDER BY number",
	                  error);
	GPtrArray *list;
	int rc;

	if (!st)
		return NULL;
	store_bind_text(st, 1, job_id);
	list = g_ptr_array_new_with_free_func((GDestroyNotify)attempt_free);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		CtiAttempt *a = g_new0(CtiAttempt, 1);
		a->number = sqlite3_column_int(st, 0);
		a->started = sqlite3_column_int64(st, 1);
		a->ended = sqlite3_column_int64(st, 2);
		a->outcome = store_col_text(st, 3);
		a->cause = store_col_text(st, 4);
		a->call_id = store_col_text(st, 5);
		g_ptr_array_add(list, a);
	}
	store_release(store, st);
	if (rc != SQLITE_DONE) {
		store_sql_fail(store, rc, "list attempts", error);
		g_ptr_array_unref(list);
		return NULL;
	}
	return list;
}

/* store_remove_message - unlink the spool file; a missing file is fine */
gboolean store_remove_message(CtiStore *store, const char *job_id, GError **error)
{
	g_autofree char *path = store_message_path(store, job_id);

	if (!path) {
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM, "bad job id");
		return FALSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return store_errno_fail(errno, "remove", path, error);
	return TRUE;
}
