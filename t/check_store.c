/* check_store - the job store: submit/get/update/list/attempts, reopen keeps jobs,
 * temporary failures (read-only spool dir, locked DB) leave no half job, duplicate
 * ids are refused, and the embedded schema equals schema/jobs-*.sql; a group commit
 * (store_submit_batch) stores every job or, on a disk/DB failure, none; retention
 * (store_purge_finished) removes only finished, settled, old enough jobs. */
#define _GNU_SOURCE /* setresuid */
#include <check.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

static char *tmpdir;

static void setup(void)
{
	tmpdir = g_dir_make_tmp("check_store.XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmpdir);
}

static void rm_rf(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	if (d) {
		while ((name = g_dir_read_name(d))) {
			g_autofree char *p = g_build_filename(path, name, NULL);
			rm_rf(p);
		}
		g_dir_close(d);
		chmod(path, 0700);
		g_rmdir(path);
	} else {
		g_unlink(path);
	}
}

static void teardown(void)
{
	rm_rf(tmpdir);
	g_clear_pointer(&tmpdir, g_free);
}

static CtiStore *open_store(void)
{
	g_autofree char *db = g_build_filename(tmpdir, "db", "jobs.db", NULL);
	g_autofree char *spool = g_build_filename(tmpdir, "spool", NULL);
	GError *error = NULL;
	CtiStore *s = store_open(db, spool, &error);

	ck_assert_msg(s != NULL, "%s", error ? error->message : "");
	return s;
}

static CtiJob *new_job(const char *sender, gint64 created)
{
	CtiJob *j = g_new0(CtiJob, 1);

	j->state = CTI_JOB_QUEUED;
	j->request = g_strdup("Action: connect\nSource: 2001\nDestination: 0312345678\n");
	j->sender = g_strdup(sender);
	j->recipient = g_strdup("call@pbx.example");
	j->created = created;
	j->due_at = created;
	return j;
}

static const char msg[] = "From: alice@example.org\r\nSubject: call\r\n\r\nbody\r\n";

START_TEST(test_submit_get)
{
	CtiStore *s = open_store();
	g_autoptr(CtiJob) j = new_job("alice@example.org", 1000);
	g_autoptr(CtiJob) got = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *contents = NULL;
	gsize len = 0;

	j->auth_authen = g_strdup("alice");
	j->client_addr = g_strdup("127.0.0.1");
	j->queue_id = g_strdup("4XyZ1");
	j->message_id = g_strdup("<m1@example.org>");
	j->mailbox = g_strdup("bob@example.org");
	j->deadline = 1120;
	ck_assert_msg(store_submit(s, j, msg, sizeof(msg) - 1, &error), "%s",
	              error ? error->message : "");
	ck_assert(store_job_id_valid(j->id));
	got = store_get(s, j->id, &error);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got->id, j->id);
	ck_assert_int_eq(got->state, CTI_JOB_QUEUED);
	ck_assert_str_eq(got->request, j->request);
	ck_assert_str_eq(got->sender, "alice@example.org");
	ck_assert_str_eq(got->recipient, "call@pbx.example");
	ck_assert_str_eq(got->auth_authen, "alice");
	ck_assert_str_eq(got->client_addr, "127.0.0.1");
	ck_assert_str_eq(got->queue_id, "4XyZ1");
	ck_assert_str_eq(got->message_id, "<m1@example.org>");
	ck_assert_str_eq(got->mailbox, "bob@example.org");
	ck_assert_int_eq(got->created, 1000);
	ck_assert_int_eq(got->due_at, 1000);
	ck_assert_int_eq(got->deadline, 1120);
	ck_assert_int_eq(got->attempts, 0);
	ck_assert_ptr_null(got->reason);
	ck_assert(!got->notified);
	path = store_message_path(s, j->id);
	ck_assert(g_file_get_contents(path, &contents, &len, NULL));
	ck_assert_uint_eq(len, sizeof(msg) - 1);
	ck_assert(memcmp(contents, msg, len) == 0);

	ck_assert_ptr_null(store_get(s, "00000000000000000000000000000000", &error));
	ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND));
	ck_assert_ptr_null(store_message_path(s, "../../etc/passwd"));
	store_close(s);
}
END_TEST

START_TEST(test_ids)
{
	g_autofree char *a = store_new_job_id();
	g_autofree char *b = store_new_job_id();

	ck_assert(store_job_id_valid(a));
	ck_assert_uint_eq(strlen(a), CTI_JOB_ID_LEN);
	ck_assert_str_ne(a, b);
	ck_assert(!store_job_id_valid("ABCDEF00000000000000000000000000"));
	ck_assert(!store_job_id_valid("abc"));
	ck_assert(!store_job_id_valid(NULL));
}
END_TEST

START_TEST(test_update_and_lists)
{
	CtiStore *s = open_store();
	g_autoptr(GError) error = NULL;
	CtiJob *jobs[4];
	g_autoptr(GPtrArray) live = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(CtiJob) got = NULL;

	for (int i = 0; i < 4; i++) {
		jobs[i] = new_job(i % 2 ? "bob@example.org" : "", 100 + i);
		ck_assert(store_submit(s, jobs[i], msg, sizeof(msg) - 1, &error));
	}
	jobs[1]->state = CTI_JOB_SUCCESS;
	jobs[1]->reason = g_strdup("answered");
	jobs[1]->finished = 200;
	jobs[1]->notified = TRUE;
	jobs[1]->attempts = 2;
	ck_assert(store_update(s, jobs[1], &error));
	jobs[2]->state = CTI_JOB_RETRY_WAIT;
	jobs[2]->due_at = 500;
	ck_assert(store_update(s, jobs[2], &error));

	got = store_get(s, jobs[1]->id, &error);
	ck_assert_int_eq(got->state, CTI_JOB_SUCCESS);
	ck_assert_str_eq(got->reason, "answered");
	ck_assert_int_eq(got->finished, 200);
	ck_assert(got->notified);
	ck_assert_int_eq(got->attempts, 2);

	live = store_list_live(s, &error);
	ck_assert_uint_eq(live->len, 3);
	ck_assert_str_eq(((CtiJob *)live->pdata[0])->id, jobs[0]->id);
	ck_assert_str_eq(((CtiJob *)live->pdata[1])->id, jobs[2]->id);
	ck_assert_int_eq(((CtiJob *)live->pdata[1])->due_at, 500);
	ck_assert_str_eq(((CtiJob *)live->pdata[2])->id, jobs[3]->id);

	list = store_list(s, -1, NULL, 0, 0, &error);
	ck_assert_uint_eq(list->len, 4);
	ck_assert_str_eq(((CtiJob *)list->pdata[0])->id, jobs[3]->id); /* newest first */
	g_ptr_array_unref(list);
	list = store_list(s, -1, "bob@example.org", 0, 0, &error);
	ck_assert_uint_eq(list->len, 2);
	g_ptr_array_unref(list);
	list = store_list(s, CTI_JOB_SUCCESS, NULL, 0, 0, &error);
	ck_assert_uint_eq(list->len, 1);
	g_ptr_array_unref(list);
	list = store_list(s, -1, NULL, 102, 0, &error);
	ck_assert_uint_eq(list->len, 2);
	g_ptr_array_unref(list);
	list = store_list(s, -1, NULL, 0, 1, &error);
	ck_assert_uint_eq(list->len, 1);

	g_free(jobs[0]->id);
	jobs[0]->id = g_strdup("0123456789abcdef0123456789abcdef");
	ck_assert(!store_update(s, jobs[0], &error));
	ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND));
	for (int i = 0; i < 4; i++)
		job_free(jobs[i]);
	store_close(s);
}
END_TEST

static void collect_key(const char *rate_key, const char *auth_authen, const char *sender,
                        gint64 created, gpointer data)
{
	g_string_append_printf(data, "%s/%s/%s/%" G_GINT64_FORMAT ";", rate_key ? rate_key : "-",
	                       auth_authen ? auth_authen : "-", sender, created);
}

START_TEST(test_rate_keys)
{
	CtiStore *s = open_store();
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) seen = g_string_new(NULL);
	CtiJob *jobs[3];

	for (int i = 0; i < 3; i++) {
		jobs[i] = new_job("alice@example.org", 300 - 100 * i);
		jobs[i]->rate_key = i == 2 ? NULL : g_strdup_printf("key%d", i);
		jobs[i]->auth_authen = i == 1 ? g_strdup("alice") : NULL;
		ck_assert(store_submit(s, jobs[i], msg, sizeof(msg) - 1, &error));
	}
	{
		g_autoptr(CtiJob) got = store_get(s, jobs[0]->id, &error);

		ck_assert_str_eq(got->rate_key, "key0");
	}
	/* created 300, 200, 100: since 150 gives the two newest, oldest first */
	ck_assert(store_recent_keys(s, 150, collect_key, seen, &error));
	ck_assert_str_eq(seen->str, "key1/alice/alice@example.org/200;key0/-/alice@example.org/300;");
	g_string_truncate(seen, 0);
	ck_assert(store_recent_keys(s, 0, collect_key, seen, &error));
	ck_assert(g_str_has_prefix(seen->str, "-/-/alice@example.org/100;"));
	for (int i = 0; i < 3; i++)
		job_free(jobs[i]);
	store_close(s);
}
END_TEST

static void collect_notice(const char *request, const char *sender, gint64 finished, gpointer data)
{
	ck_assert(g_str_has_prefix(request, "Action: connect"));
	g_string_append_printf(data, "%s/%" G_GINT64_FORMAT ";", sender, finished);
}

START_TEST(test_counts_and_unconfirmed)
{
	CtiStore *s = open_store();
	g_autoptr(GError) error = NULL;
	int counts[CTI_JOB_LAST + 1];
	CtiJob *jobs[4];
	int unconfirmed = -1;
	gint64 oldest = -1;
	g_autoptr(GString) seen = g_string_new(NULL);

	ck_assert(store_unconfirmed(s, &unconfirmed, &oldest, &error));
	ck_assert_int_eq(unconfirmed, 0);
	ck_assert_int_eq(oldest, 0);
	for (int i = 0; i < 4; i++) {
		jobs[i] = new_job("alice@example.org", 100 + i);
		ck_assert(store_submit(s, jobs[i], msg, sizeof(msg) - 1, &error));
	}
	/* 1: failed, sent, not confirmed; 2: success, sent, not confirmed (finished earlier);
	 * 3: success, confirmed; 0 stays queued */
	for (int i = 1; i < 4; i++) {
		jobs[i]->state = i == 1 ? CTI_JOB_FAILED : CTI_JOB_SUCCESS;
		jobs[i]->finished = 400 - 100 * i;
		jobs[i]->notify_token = g_strdup("00112233445566778899aabbccddeeff");
		jobs[i]->notified = i == 3;
		ck_assert(store_update(s, jobs[i], &error));
	}
	ck_assert(store_count_states(s, counts, &error));
	ck_assert_int_eq(counts[CTI_JOB_QUEUED], 1);
	ck_assert_int_eq(counts[CTI_JOB_FAILED], 1);
	ck_assert_int_eq(counts[CTI_JOB_SUCCESS], 2);
	ck_assert_int_eq(counts[CTI_JOB_RUNNING], 0);
	ck_assert(store_unconfirmed(s, &unconfirmed, &oldest, &error));
	ck_assert_int_eq(unconfirmed, 2);
	ck_assert_int_eq(oldest, 200);
	/* sent (token or notified), finished at or after 150, oldest first: jobs 2 and 1 */
	ck_assert(store_recent_notices(s, 150, collect_notice, seen, &error));
	ck_assert_str_eq(seen->str, "alice@example.org/200;alice@example.org/300;");
	for (int i = 0; i < 4; i++)
		job_free(jobs[i]);
	store_close(s);
}
END_TEST

static gboolean keep_named(const char *job_id, gpointer data)
{
	return g_strcmp0(job_id, data) == 0;
}

START_TEST(test_purge)
{
	CtiStore *s = open_store();
	g_autoptr(GError) error = NULL;
	/* 0 queued; 1 failed at 100; 2 success at 200, notification unconfirmed; 3 success at
	 * 300, confirmed; 4 cancelled at 900 (too young); 5 expired at 150, kept by the caller */
	static const CtiJobState states[] = {CTI_JOB_QUEUED,  CTI_JOB_FAILED,    CTI_JOB_SUCCESS,
	                                     CTI_JOB_SUCCESS, CTI_JOB_CANCELLED, CTI_JOB_EXPIRED};
	static const gint64 finished[] = {0, 100, 200, 300, 900, 150};
	static const gboolean gone[] = {FALSE, TRUE, FALSE, TRUE, FALSE, FALSE};
	CtiJob *jobs[G_N_ELEMENTS(states)];
	g_autoptr(CtiJob) kept = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
		jobs[i] = new_job("alice@example.org", 50 + i);
		ck_assert(store_submit(s, jobs[i], msg, sizeof(msg) - 1, &error));
		jobs[i]->state = states[i];
		jobs[i]->finished = finished[i];
		jobs[i]->notify_token = i == 2 || i == 3 ? g_strdup("00112233445566778899aabbccddeeff") : NULL;
		jobs[i]->notified = i == 3;
		ck_assert(store_update(s, jobs[i], &error));
	}
	ck_assert(store_attempt_begin(s, jobs[1]->id, 1, "c1", &error));
	/* at most one a call, oldest first: job 1, then job 3, then none */
	ck_assert_int_eq(store_purge_finished(s, 500, 1, keep_named, jobs[5]->id, &error), 1);
	ck_assert_ptr_null(store_get(s, jobs[1]->id, NULL));
	kept = store_get(s, jobs[3]->id, NULL);
	ck_assert_ptr_nonnull(kept);
	ck_assert_int_eq(store_purge_finished(s, 500, 1, keep_named, jobs[5]->id, &error), 1);
	ck_assert_int_eq(store_purge_finished(s, 500, 100, keep_named, jobs[5]->id, &error), 0);
	for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
		g_autoptr(GError) lookup = NULL;
		g_autoptr(CtiJob) got = store_get(s, jobs[i]->id, &lookup);
		g_autofree char *path = store_message_path(s, jobs[i]->id);

		ck_assert_msg((got == NULL) == gone[i], "job %u", i);
		if (gone[i]) {
			g_autoptr(GPtrArray) attempts = store_attempts(s, jobs[i]->id, NULL);

			ck_assert(g_error_matches(lookup, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND));
			ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
			ck_assert(attempts == NULL || attempts->len == 0);
		} else {
			ck_assert(g_file_test(path, G_FILE_TEST_EXISTS));
		}
	}
	/* without the caller's keep, job 5 goes too */
	ck_assert_int_eq(store_purge_finished(s, 500, 100, NULL, NULL, &error), 1);
	ck_assert_ptr_null(store_get(s, jobs[5]->id, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(states); i++)
		job_free(jobs[i]);
	store_close(s);
}
END_TEST

START_TEST(test_attempts)
{
	CtiStore *s = open_store();
	g_autoptr(CtiJob) j = new_job("a@b.example", 100);
	g_autoptr(CtiJob) got = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	CtiAttempt *a;

	ck_assert(store_submit(s, j, msg, sizeof(msg) - 1, &error));
	ck_assert(store_attempt_begin(s, j->id, 1, "c1", &error));
	ck_assert(store_attempt_end(s, j->id, 1, "busy", "busy", &error));
	ck_assert(store_attempt_begin(s, j->id, 2, NULL, &error));
	ck_assert(!store_attempt_begin(s, j->id, 2, NULL, &error));
	ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM));
	g_clear_error(&error);
	ck_assert(!store_attempt_begin(s, "0123456789abcdef0123456789abcdef", 1, NULL, &error));
	ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND));
	g_clear_error(&error);
	ck_assert(!store_attempt_end(s, j->id, 7, "x", NULL, &error));
	ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND));
	g_clear_error(&error);

	list = store_attempts(s, j->id, &error);
	ck_assert_uint_eq(list->len, 2);
	a = list->pdata[0];
	ck_assert_int_eq(a->number, 1);
	ck_assert_str_eq(a->outcome, "busy");
	ck_assert_str_eq(a->cause, "busy");
	ck_assert_str_eq(a->call_id, "c1");
	ck_assert_int_gt(a->started, G_GINT64_CONSTANT(1600000000000));
	ck_assert_int_ge(a->ended, a->started);
	a = list->pdata[1];
	ck_assert_int_eq(a->number, 2);
	ck_assert_int_eq(a->ended, 0);
	ck_assert_ptr_null(a->outcome);
	got = store_get(s, j->id, &error);
	ck_assert_int_eq(got->attempts, 2);
	store_close(s);
}
END_TEST

START_TEST(test_reopen)
{
	CtiStore *s = open_store();
	g_autoptr(CtiJob) j = new_job("a@b.example", 100);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) live = NULL;
	g_autofree char *db = g_build_filename(tmpdir, "db", "jobs.db", NULL);
	sqlite3 *raw = NULL;
	sqlite3_stmt *st = NULL;

	ck_assert(store_submit(s, j, msg, sizeof(msg) - 1, &error));
	store_close(s);
	s = open_store();
	live = store_list_live(s, &error);
	ck_assert_uint_eq(live->len, 1);
	ck_assert_str_eq(((CtiJob *)live->pdata[0])->id, j->id);
	store_close(s);

	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	{
		gsize n_migrations = 0;

		store_schema_migrations(&n_migrations);
		ck_assert_int_eq(sqlite3_column_int(st, 0), (int)n_migrations);
	}
	sqlite3_finalize(st);
	/* a newer schema than this program knows is refused */
	ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(raw);
	{
		g_autofree char *spool = g_build_filename(tmpdir, "spool", NULL);
		ck_assert_ptr_null(store_open(db, spool, &error));
		ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM));
		ck_assert(strstr(error->message, "newer") != NULL);
	}
}
END_TEST

START_TEST(test_duplicate)
{
	CtiStore *s = open_store();
	g_autoptr(CtiJob) j = new_job("a@b.example", 100);
	g_autoptr(CtiJob) k = new_job("evil@b.example", 100);
	g_autoptr(CtiJob) got = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *contents = NULL;

	ck_assert(store_submit(s, j, msg, sizeof(msg) - 1, &error));
	k->id = g_strdup(j->id);
	ck_assert(!store_submit(s, k, "other", 5, &error));
	ck_assert_msg(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM), "%s",
	              error->message);
	g_clear_error(&error);
	path = store_message_path(s, j->id);
	ck_assert(g_file_get_contents(path, &contents, NULL, NULL));
	ck_assert_str_eq(contents, msg);
	got = store_get(s, j->id, &error);
	ck_assert_str_eq(got->sender, "a@b.example");

	/* spool file already removed (job done): the INSERT fails, the new file goes again */
	ck_assert(store_remove_message(s, j->id, &error));
	ck_assert(store_remove_message(s, j->id, &error)); /* idempotent */
	ck_assert(!store_submit(s, k, "other", 5, &error));
	ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM));
	ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));

	g_free(k->id);
	k->id = g_strdup("not-hex");
	g_clear_error(&error);
	ck_assert(!store_submit(s, k, "other", 5, &error));
	store_close(s);
}
END_TEST

/* a spool file left without its row (a crash between link and INSERT) does not make the
 * MTA's retry of that message fail: the file is replaced and the job stored */
START_TEST(test_orphan_spool)
{
	CtiStore *s = open_store();
	g_autoptr(CtiJob) j = new_job("a@b.example", 100);
	g_autoptr(CtiJob) got = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *contents = NULL;

	j->id = g_strdup("0123456789abcdef0123456789abcdef");
	path = store_message_path(s, j->id);
	ck_assert(g_file_set_contents(path, "half a message", -1, NULL));
	ck_assert_msg(store_submit(s, j, msg, sizeof(msg) - 1, &error), "%s",
	              error ? error->message : "");
	ck_assert(g_file_get_contents(path, &contents, NULL, NULL));
	ck_assert_str_eq(contents, msg);
	got = store_get(s, j->id, &error);
	ck_assert_ptr_nonnull(got);
	store_close(s);
}
END_TEST

/* count_spool - regular files in the spool dir, including temp files */
static guint count_spool(void)
{
	g_autofree char *spool = g_build_filename(tmpdir, "spool", NULL);
	GDir *d = g_dir_open(spool, 0, NULL);
	guint n = 0;

	while (d && g_dir_read_name(d))
		n++;
	if (d)
		g_dir_close(d);
	return n;
}

/* submit_as_nobody - in a child without root (when root), submit one job to the store;
 * exit 0 when that failed with CTI_STORE_ERROR_TEMP */
static int submit_as_nobody(void)
{
	pid_t pid = fork();
	int status = 0;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		g_autoptr(CtiJob) j = new_job("a@b.example", 100);
		g_autoptr(GError) error = NULL;
		g_autofree char *db = g_build_filename(tmpdir, "db", "jobs.db", NULL);
		g_autofree char *spool = g_build_filename(tmpdir, "spool", NULL);
		CtiStore *s;

		if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0)
			_exit(5);
		s = store_open(db, spool, &error);
		if (!s)
			_exit(4);
		if (store_submit(s, j, msg, sizeof(msg) - 1, &error))
			_exit(2);
		_exit(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP) ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_readonly_spool)
{
	g_autofree char *spool = g_build_filename(tmpdir, "spool", NULL);
	g_autofree char *db_dir = g_build_filename(tmpdir, "db", NULL);
	g_autofree char *cmd = g_strdup_printf("chmod -R a+rwX '%s'", db_dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) live = NULL;
	CtiStore *s = open_store();

	store_close(s);
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(chmod(spool, 0555), 0);
	ck_assert_int_eq(submit_as_nobody(), 0);
	/* no half job: neither a row nor a spool file */
	s = open_store();
	live = store_list_live(s, &error);
	ck_assert_uint_eq(live->len, 0);
	ck_assert_uint_eq(count_spool(), 0);
	store_close(s);
}
END_TEST

START_TEST(test_locked_db)
{
	CtiStore *s = open_store();
	g_autofree char *db = g_build_filename(tmpdir, "db", "jobs.db", NULL);
	g_autoptr(CtiJob) j = new_job("a@b.example", 100);
	g_autoptr(GError) error = NULL;
	sqlite3 *raw = NULL;

	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert(!store_submit(s, j, msg, sizeof(msg) - 1, &error));
	ck_assert_msg(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP), "%s",
	              error->message);
	ck_assert_uint_eq(count_spool(), 0);
	sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(raw);
	g_clear_error(&error);
	ck_assert(store_submit(s, j, msg, sizeof(msg) - 1, &error));
	ck_assert_uint_eq(count_spool(), 1);
	store_close(s);
}
END_TEST

START_TEST(test_schema_files)
{
	gsize n = 0;
	const CtiStoreMigration *m = store_schema_migrations(&n);
	g_autofree char *dir = g_build_filename(SRCDIR, "..", "schema", NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	gsize files = 0;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)))
		if (g_str_has_prefix(name, "jobs-") && g_str_has_suffix(name, ".sql"))
			files++;
	g_dir_close(d);
	ck_assert_uint_eq(files, n);
	for (gsize i = 0; i < n; i++) {
		g_autofree char *expect_name = g_strdup_printf("jobs-%03d.sql", m[i].version);
		g_autofree char *path = g_build_filename(dir, m[i].name, NULL);
		g_autofree char *text = NULL;

		ck_assert_str_eq(m[i].name, expect_name);
		ck_assert_int_eq(m[i].version, (int)i + 1);
		ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "%s", path);
		ck_assert_msg(strcmp(text, m[i].sql) == 0,
		              "lib/store-schema.c differs from schema/%s", m[i].name);
	}
}
END_TEST

/* store_forward_set / _clear / store_forwards: replace, durable across reopen, clear once */
START_TEST(test_forwardings)
{
	CtiStore *s = open_store();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	CtiForward *f;

	ck_assert(store_forward_set(s, "2006", "2009", NULL, &error));
	ck_assert(store_forward_set(s, "2005", "2008", NULL, &error));
	ck_assert(store_forward_set(s, "2006", "2007", NULL, &error)); /* replaces */
	store_close(s);
	s = open_store();
	list = store_forwards(s, &error);
	ck_assert_ptr_nonnull(list);
	ck_assert_uint_eq(list->len, 2);
	f = g_ptr_array_index(list, 1);
	ck_assert_str_eq(f->device, "2006");
	ck_assert_str_eq(f->forward_to, "2007");
	ck_assert(f->created > 0);
	ck_assert(store_forward_clear(s, "2006", &error));
	ck_assert(!store_forward_clear(s, "2006", &error));
	ck_assert(g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND));
	g_clear_pointer(&list, g_ptr_array_unref);
	list = store_forwards(s, NULL);
	ck_assert_uint_eq(list->len, 1);
	store_close(s);
}
END_TEST

/* jobs-005 rebuilds the jobs table for the 'dry-run' state: rows and attempts survive */
START_TEST(test_migration_dry_run)
{
	g_autofree char *dir = g_build_filename(tmpdir, "mig", NULL);
	g_autofree char *db = g_build_filename(dir, "jobs.db", NULL);
	g_autofree char *spool = g_build_filename(dir, "spool", NULL);
	const char *id = "0123456789abcdef0123456789abcdef";
	g_autofree char *insert = g_strdup_printf(
	    "INSERT INTO jobs (id, state, request, sender, recipient, created, rate_key) VALUES "
	    "('%s', 'success', 'Source: 1', 'a@b', 'call@b', 1, 'a'); "
	    "INSERT INTO attempts (job_id, number, started, outcome) VALUES ('%s', 1, 5, "
	    "'answered');",
	    id, id);
	g_autofree char *dry =
	    g_strdup_printf("UPDATE jobs SET state = 'dry-run' WHERE id = '%s'", id);
	g_autoptr(GError) error = NULL;
	gsize n = 0;
	const CtiStoreMigration *m = store_schema_migrations(&n);
	sqlite3 *raw = NULL;
	sqlite3_stmt *st = NULL;
	CtiStore *s;

	ck_assert_int_eq(g_mkdir_with_parents(dir, 0700), 0);
	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
	for (gsize i = 0; i < n && m[i].version <= 4; i++)
		ck_assert_int_eq(sqlite3_exec(raw, m[i].sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, insert, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(raw, dry, NULL, NULL, NULL), SQLITE_OK); /* not yet a state */
	sqlite3_close(raw);

	s = store_open(db, spool, &error);
	ck_assert_msg(s != NULL, "%s", error ? error->message : "");
	store_close(s);
	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, dry, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(raw,
	                       "SELECT count(*) FROM attempts JOIN jobs ON jobs.id = job_id "
	                       "WHERE outcome = 'answered' AND rate_key = 'a'",
	                       -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(raw);
}
END_TEST

START_TEST(test_state_names)
{
	for (int st = CTI_JOB_QUEUED; st <= CTI_JOB_LAST; st++)
		ck_assert_int_eq(job_state_from_name(job_state_name(st)), st);
	ck_assert_str_eq(job_state_name(CTI_JOB_WAITING_USER), "waiting-user");
	ck_assert_int_eq(job_state_from_name("nope"), -1);
	ck_assert(!job_state_is_terminal(CTI_JOB_RETRY_WAIT));
	ck_assert(job_state_is_terminal(CTI_JOB_EXPIRED));
	ck_assert_str_eq(job_state_name(CTI_JOB_DRY_RUN), "dry-run");
	ck_assert(job_state_is_terminal(CTI_JOB_DRY_RUN));
}
END_TEST

/* ---- store_submit_batch ---- */

#define BATCH_N 5

/* batch_items - N new jobs with their own message text in ITEMS; TEXTS keeps the texts */
static void batch_items(CtiStoreSubmit *items, char **texts, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		texts[i] = g_strdup_printf("Subject: job %zu\r\n\r\nbody %zu\r\n", i, i);
		items[i] = (CtiStoreSubmit){new_job("alice@example.org", 1000 + (gint64)i), texts[i],
		                            strlen(texts[i]), NULL};
	}
}

static void batch_clear(CtiStoreSubmit *items, char **texts, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		g_clear_pointer(&items[i].job, job_free);
		g_clear_error(&items[i].error);
		g_clear_pointer(&texts[i], g_free);
	}
}

/* every job of a batch is stored with its own message, like n store_submit() calls */
START_TEST(test_batch_all_stored)
{
	CtiStore *s = open_store();
	CtiStoreSubmit items[BATCH_N];
	char *texts[BATCH_N];

	batch_items(items, texts, BATCH_N);
	ck_assert_uint_eq(store_submit_batch(s, items, BATCH_N), BATCH_N);
	for (gsize i = 0; i < BATCH_N; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CtiJob) got = store_get(s, items[i].job->id, &error);
		g_autofree char *path = store_message_path(s, items[i].job->id);
		g_autofree char *contents = NULL;

		ck_assert_ptr_null(items[i].error);
		ck_assert_msg(got != NULL, "%s", error ? error->message : "");
		ck_assert_int_eq(got->created, 1000 + (gint64)i);
		ck_assert(g_file_get_contents(path, &contents, NULL, NULL));
		ck_assert_str_eq(contents, texts[i]);
	}
	ck_assert_uint_eq(count_spool(), BATCH_N);
	ck_assert_uint_eq(store_submit_batch(s, items, 0), 0);
	batch_clear(items, texts, BATCH_N);
	store_close(s);
}
END_TEST

/* a bad id, an id twice in the batch and an id already stored fail alone (PERM); the
 * stored job's message is not touched and the others are stored */
START_TEST(test_batch_perm_alone)
{
	CtiStore *s = open_store();
	g_autoptr(CtiJob) old = new_job("a@b.example", 100);
	g_autoptr(GError) error = NULL;
	CtiStoreSubmit items[BATCH_N];
	char *texts[BATCH_N];
	g_autofree char *old_path = NULL;
	g_autofree char *contents = NULL;

	ck_assert(store_submit(s, old, msg, sizeof(msg) - 1, &error));
	batch_items(items, texts, BATCH_N);
	items[1].job->id = g_strdup("not-hex");
	items[2].job->id = g_strdup(old->id);
	items[0].job->id = store_new_job_id();
	items[3].job->id = g_strdup(items[0].job->id);
	ck_assert_uint_eq(store_submit_batch(s, items, BATCH_N), 2);
	ck_assert_ptr_null(items[0].error);
	ck_assert_ptr_null(items[4].error);
	for (gsize i = 1; i <= 3; i++)
		ck_assert_msg(g_error_matches(items[i].error, CTI_STORE_ERROR, CTI_STORE_ERROR_PERM),
		              "item %zu: %s", i, items[i].error ? items[i].error->message : "none");
	old_path = store_message_path(s, old->id);
	ck_assert(g_file_get_contents(old_path, &contents, NULL, NULL));
	ck_assert_str_eq(contents, msg);
	ck_assert_uint_eq(count_spool(), 3);
	batch_clear(items, texts, BATCH_N);
	store_close(s);
}
END_TEST

/* the DB locked by another writer: every job of the batch fails TEMP, no file is left,
 * and the same batch goes through once the lock is gone */
START_TEST(test_batch_temp_all)
{
	CtiStore *s = open_store();
	g_autofree char *db = g_build_filename(tmpdir, "db", "jobs.db", NULL);
	CtiStoreSubmit items[BATCH_N];
	char *texts[BATCH_N];
	sqlite3 *raw = NULL;

	batch_items(items, texts, BATCH_N);
	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_uint_eq(store_submit_batch(s, items, BATCH_N), 0);
	for (gsize i = 0; i < BATCH_N; i++) {
		ck_assert_msg(g_error_matches(items[i].error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP),
		              "item %zu: %s", i, items[i].error ? items[i].error->message : "none");
		g_clear_error(&items[i].error);
	}
	ck_assert_uint_eq(count_spool(), 0);
	sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(raw);
	ck_assert_uint_eq(store_submit_batch(s, items, BATCH_N), BATCH_N);
	ck_assert_uint_eq(count_spool(), BATCH_N);
	batch_clear(items, texts, BATCH_N);
	store_close(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_submit_get);
	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_update_and_lists);
	tcase_add_test(tc, test_counts_and_unconfirmed);
	tcase_add_test(tc, test_purge);
	tcase_add_test(tc, test_rate_keys);
	tcase_add_test(tc, test_attempts);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_orphan_spool);
	tcase_add_test(tc, test_readonly_spool);
	tcase_add_test(tc, test_locked_db);
	tcase_add_test(tc, test_schema_files);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_migration_dry_run);
	tcase_add_test(tc, test_forwardings);
	suite_add_tcase(s, tc);
	tc = tcase_create("submit_batch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_batch_all_stored);
	tcase_add_test(tc, test_batch_perm_alone);
	tcase_add_test(tc, test_batch_temp_all);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
