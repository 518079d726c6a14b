/* route - open the routing DB and answer "which gateway serves this
 * destination", fast enough to run on every CTI mail.
 *
 * A number lookup probes the (kind, key) primary key with the number's
 * prefixes, longest first, one prepared exact-match statement per length,
 * and stops at the first hit: at most ROUTE_MAX_CANDIDATES index probes and
 * no scan, whatever the table size (route-bench measured this against one
 * IN-list query over all prefixes: about half the CPU time, because the IN
 * list builds a temporary B-tree per lookup).  route_explain() goes on past
 * the winner to show every matching row.  The version check and the probes
 * run in one read transaction.  Results are cached per canonical query; the
 * cache is dropped whenever PRAGMA data_version says another connection has
 * committed, which is how a running milter sees ctictl's changes at once.
 * The CtiRouteDb owns its statements and cache; results are copies the caller
 * frees.  Failures: bad destination (INVALID), SQLite errors (TEMP or DB).
 */
#include "route-private.h"

#include <string.h>

#include "number.h"

/* route_error_quark - see route.h */
GQuark route_error_quark(void)
{
	return g_quark_from_static_string("mailcti-route-error");
}

#define ROUTE_SELECT                                                                               \
	"SELECT r.kind, r.key, r.gateway, g.address, r.note, r.changed "                           \
	"FROM routes r LEFT JOIN gateways g ON g.name = r.gateway "

/* for admindb: the label, error domain and codes (temp, DB, read-only), migrations */
static const AdmindbKind route_admindb = {
    "routes DB",        route_error_quark,        CTI_ROUTE_ERROR_TEMP,
    CTI_ROUTE_ERROR_DB, CTI_ROUTE_ERROR_READONLY, route_schema,
    &route_schema_count};

/* route_commit - see route-private.h */
gboolean route_commit(CtiRouteDb *db, GError **error)
{
	gboolean ok = admindb_commit(&db->adb, error);

	route_cache_drop(db);
	return ok;
}

/* route_rollback - see route-private.h */
void route_rollback(CtiRouteDb *db)
{
	admindb_rollback(&db->adb);
	route_cache_drop(db);
}

/* route_schema_version - see route.h */
int route_schema_version(CtiRouteDb *db)
{
	return admindb_user_version(&db->adb);
}

/* route_prepare - a statement kept for the life of the connection */
static gboolean route_prepare(CtiRouteDb *db, const char *sql, sqlite3_stmt **stmt, GError **error)
{
	*stmt = admindb_prepare_kept(&db->adb, sql, error);
	return *stmt != NULL;
}

/* route_stmt - see route-private.h */
sqlite3_stmt *route_stmt(CtiRouteDb *db, RouteStmt which, GError **error)
{
	static const char *const sql[ROUTE_STMT_COUNT] = {
	    [ROUTE_STMT_GATEWAY_EXISTS] = "SELECT 1 FROM gateways WHERE name = ?1",
	    [ROUTE_STMT_PUT_ROUTE] = "INSERT OR REPLACE INTO routes (kind, key, gateway, note, "
	                             "changed) VALUES (?1, ?2, ?3, ?4, ?5)",
	};

	if (db->stmts[which] == NULL && !route_prepare(db, sql[which], &db->stmts[which], error))
		return NULL;
	return db->stmts[which];
}

/* route_prepare_lookups - the statements every lookup reuses */
static gboolean route_prepare_lookups(CtiRouteDb *db, GError **error)
{
	return route_prepare(db, "PRAGMA data_version", &db->data_version, error) &&
	       route_prepare(db, "BEGIN DEFERRED", &db->read_begin, error) &&
	       route_prepare(db, "COMMIT", &db->read_end, error) &&
	       route_prepare(db, ROUTE_SELECT "WHERE r.kind = 'prefix' AND r.key = ?1",
	                     &db->by_prefix, error) &&
	       route_prepare(db,
	                     ROUTE_SELECT "WHERE (r.kind = 'address' AND r.key = ?1) "
	                                  "OR (r.kind = 'domain' AND r.key = ?2) "
	                                  "OR (r.kind = 'prefix' AND r.key = '') "
	                                  "ORDER BY CASE r.kind WHEN 'address' THEN 0 "
	                                  "WHEN 'domain' THEN 1 ELSE 2 END",
	                     &db->by_address, error);
}

/* route_configure - the shared pragmas, and a read path tuned for lookups */
static gboolean route_configure(CtiRouteDb *db, GError **error)
{
	/* lookups probe ~20 B-tree paths: map the file rather than read() each page */
	return admindb_configure(&db->adb, error) &&
	       admindb_exec(&db->adb, "PRAGMA mmap_size = 1073741824", error) &&
	       admindb_exec(&db->adb, "PRAGMA cache_size = -16384", error);
}

/* route_open - see route.h */
CtiRouteDb *route_open(const char *path, gboolean writable, GError **error)
{
	g_autoptr(CtiRouteDb) db = g_new0(CtiRouteDb, 1);
	int rc;

	g_return_val_if_fail(path != NULL, NULL);
	db->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                  (GDestroyNotify)route_result_free);
	db->cache_max = 4096;
	db->seen_version = -1;
	if (!writable && !g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND,
		            "%s: routes DB does not exist", path);
		return NULL;
	}
	rc = admindb_open(&db->adb, &route_admindb, path, writable);
	if (rc != SQLITE_OK || !route_configure(db, error) ||
	    !admindb_migrate(&db->adb, NULL, NULL, error) || !route_prepare_lookups(db, error)) {
		if (rc != SQLITE_OK)
			admindb_sql_error(&db->adb, rc, "routes DB", error);
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	return g_steal_pointer(&db);
}

/* route_close - see route.h */
void route_close(CtiRouteDb *db)
{
	if (db == NULL)
		return;
	for (int i = 0; i < ROUTE_STMT_COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	sqlite3_finalize(db->data_version);
	sqlite3_finalize(db->read_begin);
	sqlite3_finalize(db->read_end);
	sqlite3_finalize(db->by_prefix);
	sqlite3_finalize(db->by_address);
	sqlite3_close(db->adb.sql);
	g_clear_pointer(&db->cache, g_hash_table_destroy);
	g_free(db->intl);
	g_free(db);
}

/* route_set_international_prefix - see route.h */
void route_set_international_prefix(CtiRouteDb *db, const char *prefix)
{
	g_return_if_fail(prefix == NULL || *prefix == '\0' ||
	                 number_is_digits(prefix, ROUTE_MAX_INTL));
	g_free(db->intl);
	db->intl = prefix && *prefix ? g_strdup(prefix) : NULL;
	route_cache_drop(db);
}

/* route_set_cache_size - see route.h */
void route_set_cache_size(CtiRouteDb *db, guint entries)
{
	db->cache_max = entries;
	route_cache_drop(db);
}

/* route_cache_drop - see route-private.h */
void route_cache_drop(CtiRouteDb *db)
{
	if (db->cache)
		g_hash_table_remove_all(db->cache);
}

/* route_step_done - run a prepared statement that returns no rows */
static gboolean route_step_done(CtiRouteDb *db, sqlite3_stmt *stmt, GError **error)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "routes DB", error);
		return FALSE;
	}
	return TRUE;
}

/* route_check_version - drop the cache when another connection committed */
static gboolean route_check_version(CtiRouteDb *db, GError **error)
{
	gboolean changed;

	if (!admindb_data_version(&db->adb, db->data_version, &db->seen_version, &changed, error))
		return FALSE;
	if (changed)
		route_cache_drop(db);
	return TRUE;
}

/* route_from_stmt - see route-private.h */
CtiRoute *route_from_stmt(sqlite3_stmt *stmt)
{
	CtiRoute *route = g_new0(CtiRoute, 1);
	const char *address = (const char *)sqlite3_column_text(stmt, 3);

	route->kind =
	    (CtiRouteKind)route_kind_from_name((const char *)sqlite3_column_text(stmt, 0));
	route->key = g_strdup((const char *)sqlite3_column_text(stmt, 1));
	route->gateway = g_strdup((const char *)sqlite3_column_text(stmt, 2));
	route->address = g_strdup(address);
	route->note = g_strdup((const char *)sqlite3_column_text(stmt, 4));
	route->changed = sqlite3_column_int64(stmt, 5);
	return route;
}

/* route_run_lookup - step STMT (already bound) collecting every row into RESULT */
static gboolean route_run_lookup(CtiRouteDb *db, sqlite3_stmt *stmt, CtiRouteResult *result,
                                 GError **error)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(result->matches, route_from_stmt(stmt));
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "routes DB lookup", error);
		return FALSE;
	}
	result->winner = result->matches->len ? result->matches->pdata[0] : NULL;
	return TRUE;
}

static CtiRouteResult *route_result_new(CtiRouteKind kind, const char *query)
{
	CtiRouteResult *result = g_new0(CtiRouteResult, 1);

	result->kind = kind;
	result->query = g_strdup(query);
	result->tried = g_ptr_array_new_with_free_func(g_free);
	result->matches = g_ptr_array_new_with_free_func((GDestroyNotify)route_free);
	return result;
}

/* route_why_number - the one-line explanation of a number lookup */
static char *route_why_number(const CtiRouteResult *result)
{
	const CtiRoute *w = result->winner;
	gsize len = strlen(result->query);

	if (w == NULL)
		return g_strdup_printf("no route: none of the %u prefixes of %s is in the table, "
		                       "and there is no default route",
		                       result->tried->len, result->query);
	if (*w->key == '\0')
		return g_strdup_printf("default route: no prefix of %s is in the table",
		                       result->query);
	return g_strdup_printf("longest matching prefix %s (%zu of %zu characters)%s", w->key,
	                       strlen(w->key), len,
	                       result->matches->len > 1 ? "; the shorter matches lose" : "");
}

/* route_lookup_number - longest prefix of canonical number KEY; ALL: every matching prefix */
static CtiRouteResult *route_lookup_number(CtiRouteDb *db, const char *key, gboolean all,
                                           GError **error)
{
	g_autoptr(CtiRouteResult) result = route_result_new(CTI_ROUTE_PREFIX, key);
	gsize len = strlen(key);
	int rc = SQLITE_DONE;

	g_assert(len <= ROUTE_MAX_KEYLEN);
	for (gsize n = len + 1; n-- > 0 && (all || result->matches->len == 0);) {
		g_ptr_array_add(result->tried, g_strndup(key, n));
		sqlite3_bind_text(db->by_prefix, 1, key, (int)n, SQLITE_STATIC);
		rc = sqlite3_step(db->by_prefix);
		if (rc == SQLITE_ROW) {
			g_ptr_array_add(result->matches, route_from_stmt(db->by_prefix));
			rc = SQLITE_DONE;
		}
		sqlite3_reset(db->by_prefix);
		if (rc != SQLITE_DONE) {
			admindb_sql_error(&db->adb, rc, "routes DB lookup", error);
			return NULL;
		}
	}
	result->winner = result->matches->len ? result->matches->pdata[0] : NULL;
	result->why = route_why_number(result);
	return g_steal_pointer(&result);
}

/* route_why_address - the one-line explanation of an address lookup */
static char *route_why_address(const CtiRouteResult *result, const char *domain)
{
	const CtiRoute *w = result->winner;

	if (w == NULL)
		return g_strdup_printf("no route: neither %s nor @%s is in the table and there is "
		                       "no default route",
		                       result->query, domain);
	switch (w->kind) {
	case CTI_ROUTE_ADDRESS:
		return g_strdup_printf(
		    "exact address %s%s", w->key,
		    result->matches->len > 1 ? " (beats its domain and the default)" : "");
	case CTI_ROUTE_DOMAIN:
		return g_strdup_printf("domain @%s: no route for the address itself", w->key);
	case CTI_ROUTE_PREFIX:
		break;
	}
	return g_strdup_printf("default route: neither %s nor @%s is in the table", result->query,
	                       domain);
}

/* route_lookup_address - exact address, then its domain, then the default route */
static CtiRouteResult *route_lookup_address(CtiRouteDb *db, const char *key, GError **error)
{
	g_autoptr(CtiRouteResult) result = route_result_new(CTI_ROUTE_ADDRESS, key);
	const char *domain = strrchr(key, '@') + 1;

	g_ptr_array_add(result->tried, g_strdup(key));
	g_ptr_array_add(result->tried, g_strconcat("@", domain, NULL));
	g_ptr_array_add(result->tried, g_strdup(""));
	sqlite3_bind_text(db->by_address, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(db->by_address, 2, domain, -1, SQLITE_STATIC);
	if (!route_run_lookup(db, db->by_address, result, error))
		return NULL;
	result->why = route_why_address(result, domain);
	return g_steal_pointer(&result);
}

/* route_result_copy - a deep copy, for handing out cached results */
static CtiRouteResult *route_result_copy(const CtiRouteResult *src)
{
	CtiRouteResult *result = route_result_new(src->kind, src->query);

	for (guint i = 0; i < src->tried->len; i++)
		g_ptr_array_add(result->tried, g_strdup(src->tried->pdata[i]));
	for (guint i = 0; i < src->matches->len; i++) {
		const CtiRoute *r = src->matches->pdata[i];
		CtiRoute *c = g_new0(CtiRoute, 1);

		*c = (CtiRoute){
		    r->kind,           g_strdup(r->key), g_strdup(r->gateway), g_strdup(r->address),
		    g_strdup(r->note), r->changed};
		g_ptr_array_add(result->matches, c);
	}
	result->winner = result->matches->len ? result->matches->pdata[0] : NULL;
	result->why = g_strdup(src->why);
	return result;
}

/* route_cache_put - remember RESULT (a copy); a full cache starts over */
static void route_cache_put(CtiRouteDb *db, const char *query, const CtiRouteResult *result)
{
	if (db->cache_max == 0)
		return;
	if (g_hash_table_size(db->cache) >= db->cache_max)
		route_cache_drop(db);
	g_hash_table_replace(db->cache, g_strdup(query), route_result_copy(result));
}

/* route_lookup_any - route_lookup (ALL false, cached) or route_explain (ALL true) */
static CtiRouteResult *route_lookup_any(CtiRouteDb *db, const char *destination, gboolean all,
                                        GError **error)
{
	g_autofree char *key = NULL;
	CtiRouteKind kind;
	CtiRouteResult *result;
	const CtiRouteResult *cached;

	g_return_val_if_fail(db != NULL && destination != NULL, NULL);
	if (!route_parse_destination(destination, db->intl, &kind, &key, error))
		return NULL;
	if (kind == CTI_ROUTE_PREFIX && *key == '\0') {
		g_set_error_literal(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		                    "empty destination: a number or an address is needed");
		return NULL;
	}
	if (kind == CTI_ROUTE_DOMAIN) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "look up an address or a number, not a domain (@%s)", key);
		return NULL;
	}
	/* one read transaction for the version check and the query: every
	 * transaction costs a lock round trip on the WAL index */
	if (!route_step_done(db, db->read_begin, error))
		return NULL;
	if (!route_check_version(db, error)) {
		route_step_done(db, db->read_end, NULL);
		return NULL;
	}
	cached = all ? NULL : g_hash_table_lookup(db->cache, key);
	if (cached)
		result = route_result_copy(cached);
	else if (kind == CTI_ROUTE_PREFIX)
		result = route_lookup_number(db, key, all, error);
	else
		result = route_lookup_address(db, key, error);
	route_step_done(db, db->read_end, NULL);
	if (result && !cached && !all)
		route_cache_put(db, key, result);
	return result;
}

/* route_lookup - see route.h */
CtiRouteResult *route_lookup(CtiRouteDb *db, const char *destination, GError **error)
{
	return route_lookup_any(db, destination, FALSE, error);
}

/* route_explain - see route.h */
CtiRouteResult *route_explain(CtiRouteDb *db, const char *destination, GError **error)
{
	return route_lookup_any(db, destination, TRUE, error);
}

/* route_result_free - see route.h */
void route_result_free(CtiRouteResult *result)
{
	if (result == NULL)
		return;
	g_free(result->query);
	g_ptr_array_unref(result->tried);
	g_ptr_array_unref(result->matches);
	g_free(result->why);
	g_free(result);
}

/* route_free - see route.h */
void route_free(CtiRoute *route)
{
	if (route == NULL)
		return;
	g_free(route->key);
	g_free(route->gateway);
	g_free(route->address);
	g_free(route->note);
	g_free(route);
}

/* route_gateway_free - see route.h */
void route_gateway_free(CtiGateway *gateway)
{
	if (gateway == NULL)
		return;
	g_free(gateway->name);
	g_free(gateway->address);
	g_free(gateway->note);
	g_free(gateway);
}
