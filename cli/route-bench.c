/* route-bench - how long a routing lookup takes over a large prefix table.
 *
 * Creates a temporary routes DB with the route module's schema, fills it with
 * N distinct random number prefixes (default 1,000,000; 4..12 digits, a tenth with a
 * leading '+') in one transaction, then times lookups of random 8..15 digit
 * numbers, one at a time, and prints per method a line
 *   NAME median X us   p99 Y us   cpu median X us   cpu p99 Y us   (...)
 * with the wall time and the thread's CPU time (the machine may be busy with
 * other work), for these methods:
 *   lookup    route_lookup() as the milter calls it (cache off): one indexed
 *             exact match per prefix length, longest first, first hit wins
 *   explain   route_explain() as ctictl calls it: every length, every match
 *   in-list-sql  the alternative: one statement with every prefix of the number
 *             in an IN list on the key, longest match picked by ORDER BY
 *   cached    route_lookup() with its result cache on, numbers repeating
 *   memory    an in-memory hash of every prefix (what a trie rebuilt on each
 *             data_version change would cost), with its build time
 * No pass/fail: it prints numbers.  The temporary directory is removed.
 */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route.h"

static gint64 bench_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static gint64 bench_now_ns(void)
{
	return bench_clock_ns(CLOCK_MONOTONIC);
}

/* one timed operation: wall and CPU start, then bench_timer_stop */
typedef struct {
	gint64 *wall;
	gint64 *cpu;
	guint n;
	gint64 wall0, cpu0;
} BenchTimer;

static void bench_timer_init(BenchTimer *t, guint n)
{
	t->wall = g_new(gint64, n);
	t->cpu = g_new(gint64, n);
	t->n = 0;
}

static void bench_timer_start(BenchTimer *t)
{
	t->cpu0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	t->wall0 = bench_now_ns();
}

static void bench_timer_stop(BenchTimer *t)
{
	t->wall[t->n] = bench_now_ns() - t->wall0;
	t->cpu[t->n] = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t->cpu0;
	t->n++;
}

static char *bench_digits(GRand *rand, int min, int max, gboolean plus)
{
	int n = g_rand_int_range(rand, min, max + 1);
	GString *s = g_string_new(plus ? "+" : NULL);

	for (int i = 0; i < n; i++)
		g_string_append_c(s, (char)('0' + g_rand_int_range(rand, 0, 10)));
	return g_string_free(s, FALSE);
}

/* bench_fill - N random prefix rows, straight into the table in one transaction */
static void bench_fill(const char *path, guint n, GRand *rand)
{
	sqlite3 *sql = NULL;
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_open(path, &sql) != SQLITE_OK)
		g_error("open %s: %s", path, sqlite3_errmsg(sql));
	/* throw-away data: no syncs, and a cache that holds the whole B-tree */
	sqlite3_exec(sql,
	             "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN; "
	             "INSERT INTO gateways VALUES ('gw-b', 'call@gw-b.example', '', 0)",
	             NULL, NULL, NULL);
	sqlite3_prepare_v2(sql,
	                   "INSERT OR IGNORE INTO routes (kind, key, gateway, note, changed) "
	                   "VALUES ('prefix', ?1, ?2, '', 0)",
	                   -1, &stmt, NULL);
	for (guint i = 0; i < n;) {
		g_autofree char *key =
		    bench_digits(rand, 4, 12, g_rand_int_range(rand, 0, 10) == 0);

		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, i % 2 ? "gw-b" : "local", -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			g_error("insert: %s", sqlite3_errmsg(sql));
		sqlite3_reset(stmt);
		i += sqlite3_changes(sql) > 0; /* count distinct prefixes only */
	}
	sqlite3_finalize(stmt);
	if (sqlite3_exec(sql, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) !=
	    SQLITE_OK)
		g_error("commit: %s", sqlite3_errmsg(sql));
	sqlite3_close(sql);
}

static int bench_cmp(const void *a, const void *b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return x < y ? -1 : x > y;
}

static void bench_report(const char *name, BenchTimer *t, guint hits)
{
	guint n = t->n;

	qsort(t->wall, n, sizeof *t->wall, bench_cmp);
	qsort(t->cpu, n, sizeof *t->cpu, bench_cmp);
	printf("%-11s median %7.2f us   p99 %8.2f us   cpu median %7.2f us   cpu p99 %8.2f us   "
	       "(%u lookups, %u routed)\n",
	       name, t->wall[n / 2] / 1000.0, t->wall[(gsize)n * 99 / 100] / 1000.0,
	       t->cpu[n / 2] / 1000.0, t->cpu[(gsize)n * 99 / 100] / 1000.0, n, hits);
	g_free(t->wall);
	g_free(t->cpu);
}

typedef CtiRouteResult *(*BenchLookup)(CtiRouteDb *db, const char *destination, GError **error);

static void bench_lookup(const char *name, BenchLookup fn, CtiRouteDb *db, char **numbers, guint n)
{
	BenchTimer t;
	guint hits = 0;

	bench_timer_init(&t, n);
	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CtiRouteResult) r = NULL;

		bench_timer_start(&t);
		r = fn(db, numbers[i], &error);
		bench_timer_stop(&t);
		if (r == NULL)
			g_error("lookup %s: %s", numbers[i], error->message);
		hits += r->winner != NULL;
	}
	bench_report(name, &t, hits);
}

/* bench_in_list - the alternative strategy: all prefixes in one IN list */
static void bench_in_list(const char *path, char **numbers, guint n)
{
	g_autoptr(GString) sql = g_string_new("SELECT r.gateway, g.address FROM routes r LEFT JOIN "
	                                      "gateways g ON g.name = r.gateway WHERE r.kind = "
	                                      "'prefix' AND r.key IN (?1");
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	BenchTimer t;
	guint hits = 0;

	for (int i = 2; i <= 30; i++)
		g_string_append_printf(sql, ", ?%d", i);
	g_string_append(sql, ") ORDER BY length(r.key) DESC LIMIT 1");
	sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, sql->str, -1, &stmt, NULL) != SQLITE_OK)
		g_error("in-list: %s", sqlite3_errmsg(db));
	bench_timer_init(&t, n);
	for (guint i = 0; i < n; i++) {
		int len = (int)strlen(numbers[i]);

		bench_timer_start(&t);
		for (int l = len; l >= 0; l--)
			sqlite3_bind_text(stmt, len - l + 1, numbers[i], l, SQLITE_STATIC);
		hits += sqlite3_step(stmt) == SQLITE_ROW;
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		bench_timer_stop(&t);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	bench_report("in-list-sql", &t, hits);
}

/* bench_memory - load every prefix into a hash table, then probe lengths */
static void bench_memory(const char *path, char **numbers, guint n)
{
	g_autoptr(GHashTable) table =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sqlite3 *sql = NULL;
	sqlite3_stmt *stmt = NULL;
	gint64 t0 = bench_now_ns();
	BenchTimer t;
	guint hits = 0;

	sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL);
	sqlite3_prepare_v2(sql, "SELECT key, gateway FROM routes WHERE kind = 'prefix'", -1, &stmt,
	                   NULL);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		g_hash_table_insert(table, g_strdup((const char *)sqlite3_column_text(stmt, 0)),
		                    g_strdup((const char *)sqlite3_column_text(stmt, 1)));
	sqlite3_finalize(stmt);
	sqlite3_close(sql);
	printf("memory build: %.0f ms for %u prefixes (paid again on every DB change)\n",
	       (bench_now_ns() - t0) / 1e6, g_hash_table_size(table));
	bench_timer_init(&t, n);
	for (guint i = 0; i < n; i++) {
		char key[64];
		gsize len = strlen(numbers[i]);
		gboolean found = FALSE;

		bench_timer_start(&t);
		g_strlcpy(key, numbers[i], sizeof key);
		for (gsize l = len + 1; l-- > 0 && !found;) {
			key[l] = '\0';
			found = g_hash_table_contains(table, key);
		}
		bench_timer_stop(&t);
		hits += found;
	}
	bench_report("memory", &t, hits);
}

/* bench_cleanup - remove the DB, its WAL files and the directory */
static void bench_cleanup(const char *dir, const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *f = g_strconcat(path, suffixes[i], NULL);
		g_unlink(f);
	}
	g_rmdir(dir);
}

/* bench_run - time every strategy against the filled DB at PATH */
static void bench_run(const char *path, char **numbers, guint lookups)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRouteDb) db = route_open(path, FALSE, &error);
	g_autofree char **repeats = g_new0(char *, lookups + 1);

	if (db == NULL)
		g_error("%s", error->message);
	route_set_cache_size(db, 0);
	bench_lookup("lookup", route_lookup, db, numbers, lookups);
	bench_lookup("explain", route_explain, db, numbers, lookups);
	bench_in_list(path, numbers, lookups);
	/* the cached case: the same 1,000 numbers over and over */
	for (guint i = 0; i < lookups; i++)
		repeats[i] = numbers[i % MIN(lookups, 1000)];
	route_set_cache_size(db, 4096);
	bench_lookup("cached", route_lookup, db, repeats, lookups);
	bench_memory(path, numbers, lookups);
}

int main(int argc, char **argv)
{
	guint n = argc > 1 ? (guint)g_ascii_strtoull(argv[1], NULL, 10) : 1000000;
	guint lookups = argc > 2 ? (guint)g_ascii_strtoull(argv[2], NULL, 10) : 100000;
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("route-bench-XXXXXX", &error);
	g_autofree char *path = NULL;
	g_auto(GStrv) numbers = NULL;
	gint64 t0;

	if (dir == NULL || n == 0 || lookups == 0)
		g_error("usage: route-bench [PREFIXES [LOOKUPS]] (%s)",
		        error ? error->message : "zero");
	path = g_build_filename(dir, "routes.db", NULL);
	route_close(route_open(path, TRUE, &error));
	t0 = bench_now_ns();
	bench_fill(path, n, rand);
	printf("fill: %u random prefixes in %.1f s\n", n, (bench_now_ns() - t0) / 1e9);
	numbers = g_new0(char *, lookups + 1);
	for (guint i = 0; i < lookups; i++)
		numbers[i] = bench_digits(rand, 8, 15, g_rand_int_range(rand, 0, 10) == 0);
	bench_run(path, numbers, lookups);
	bench_cleanup(dir, path);
	return 0;
}
