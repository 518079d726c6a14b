/* route-admin - what ctictl changes in the routing DB: routes and gateways,
 * and the rules every stored value obeys.
 *
 * Everything written is validated and canonicalised here first, so the
 * lookup side can trust the table: prefixes are normalised numbers, addresses
 * and domains lower-case, gateway names either "local" or a row of gateways
 * (a route may not name an unknown gateway; a gateway in use may not go).
 * Each call is one transaction.  Failures: INVALID, NOT_FOUND, IN_USE,
 * READONLY, and SQLite errors (TEMP or DB).
 */
#include "route-private.h"

#include <string.h>

#include "number.h"

static const char *const route_kind_names[] = {
    [CTI_ROUTE_PREFIX] = "prefix",
    [CTI_ROUTE_ADDRESS] = "address",
    [CTI_ROUTE_DOMAIN] = "domain",
};

/* route_kind_name - see route.h */
const char *route_kind_name(CtiRouteKind kind)
{
	switch (kind) {
	case CTI_ROUTE_PREFIX:
	case CTI_ROUTE_ADDRESS:
	case CTI_ROUTE_DOMAIN:
		return route_kind_names[kind];
	}
	return "?";
}

/* route_kind_from_name - see route-private.h */
int route_kind_from_name(const char *name)
{
	for (guint i = 0; name && i < G_N_ELEMENTS(route_kind_names); i++)
		if (strcmp(name, route_kind_names[i]) == 0)
			return (int)i;
	return -1;
}

/* route_display_key - see route.h */
char *route_display_key(CtiRouteKind kind, const char *key)
{
	return kind == CTI_ROUTE_DOMAIN ? g_strconcat("@", key, NULL) : g_strdup(key);
}

/* route_check_domain - letters, digits, '-' and '.', no empty label, <= 253 */
static gboolean route_check_domain(const char *domain, GError **error)
{
	gsize len = strlen(domain);

	if (len == 0 || len > 253 || domain[0] == '.' || domain[len - 1] == '.' ||
	    strstr(domain, "..")) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID, "bad domain '%s'",
		            domain);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(domain[i]) && domain[i] != '-' && domain[i] != '.') {
			g_autofree char *shown = number_escape_char((unsigned char)domain[i]);
			g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
			            "bad domain: character %s at position %zu", shown, i + 1);
			return FALSE;
		}
	}
	return TRUE;
}

/* route_check_address - see route-private.h */
gboolean route_check_address(const char *address, char **out, GError **error)
{
	const char *at = strrchr(address, '@');
	gsize len = strlen(address);

	if (at == NULL || at == address || len > ROUTE_MAX_ADDRESS) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "bad mail address '%s': local-part@domain expected", address);
		return FALSE;
	}
	for (const char *p = address; p < at; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[],;:\"\\", *p)) {
			g_autofree char *shown = number_escape_char((unsigned char)*p);
			g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
			            "bad mail address: character %s at position %zu", shown,
			            (gsize)(p - address) + 1);
			return FALSE;
		}
	}
	if (!route_check_domain(at + 1, error))
		return FALSE;
	*out = g_ascii_strdown(address, -1);
	return TRUE;
}

/* route_check_gateway_name - see route-private.h */
gboolean route_check_gateway_name(const char *name, char **out, GError **error)
{
	gsize len = strlen(name);
	gboolean ok = len > 0 && len <= ROUTE_MAX_GATEWAY_NAME && g_ascii_isalnum(name[0]);

	for (gsize i = 0; ok && i < len; i++)
		ok = g_ascii_isalnum(name[i]) || name[i] == '.' || name[i] == '_' || name[i] == '-';
	if (!ok) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "bad gateway name '%s': letters, digits, '.', '_', '-', at most %d",
		            name, ROUTE_MAX_GATEWAY_NAME);
		return FALSE;
	}
	*out = g_ascii_strdown(name, -1);
	return TRUE;
}

/* route_check_note - see route-private.h */
gboolean route_check_note(const char *note, GError **error)
{
	if (note && strlen(note) > CTI_ROUTE_MAX_NOTE) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "note longer than %d bytes", CTI_ROUTE_MAX_NOTE);
		return FALSE;
	}
	if (note && !g_utf8_validate(note, -1, NULL)) {
		g_set_error_literal(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		                    "note is not valid UTF-8");
		return FALSE;
	}
	for (const char *p = note; p && *p; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
			            "note holds a control character at position %zu",
			            (gsize)(p - note) + 1);
			return FALSE;
		}
	}
	return TRUE;
}

/* route_parse_number - a canonical number prefix; a lone '+' is a prefix too */
static gboolean route_parse_number(const char *text, const char *intl, char **key, GError **error)
{
	g_autofree char *number = NULL;

	g_autoptr(GError) local = NULL;

	if (strcmp(text, "+") == 0)
		number = g_strdup("+");
	else if (!number_normalise(text, &number, &local)) {
		/* one error domain for every bad destination */
		g_set_error_literal(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		                    local->message);
		return FALSE;
	}
	if (number[0] == '+' && intl && *intl)
		*key = g_strconcat(intl, number + 1, NULL);
	else
		*key = g_steal_pointer(&number);
	return TRUE;
}

/* route_parse_destination - see route.h */
gboolean route_parse_destination(const char *text, const char *intl, CtiRouteKind *kind, char **key,
                                 GError **error)
{
	g_autofree char *trimmed = g_strstrip(g_strdup(text));
	gboolean ok;

	if (trimmed[0] == '@') {
		*kind = CTI_ROUTE_DOMAIN;
		ok = route_check_domain(trimmed + 1, error);
		if (ok)
			*key = g_ascii_strdown(trimmed + 1, -1);
	} else if (strchr(trimmed, '@')) {
		*kind = CTI_ROUTE_ADDRESS;
		ok = route_check_address(trimmed, key, error);
	} else if (trimmed[0] == '\0' || g_ascii_strcasecmp(trimmed, "default") == 0) {
		*kind = CTI_ROUTE_PREFIX;
		*key = g_strdup("");
		ok = TRUE;
	} else {
		*kind = CTI_ROUTE_PREFIX;
		ok = route_parse_number(trimmed, intl, key, error);
	}
	if (!ok)
		g_prefix_error(error, "destination '%s': ", text);
	return ok;
}

/* route_gateway_exists - "local" or a row of gateways */
static gboolean route_gateway_exists(CtiRouteDb *db, const char *name, GError **error)
{
	sqlite3_stmt *stmt;
	int rc;

	if (strcmp(name, CTI_ROUTE_LOCAL) == 0)
		return TRUE;
	stmt = route_stmt(db, ROUTE_STMT_GATEWAY_EXISTS, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc == SQLITE_ROW)
		return TRUE;
	if (rc == SQLITE_DONE)
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND,
		            "unknown gateway '%s': add it first with 'gateway add'", name);
	else
		admindb_sql_error(&db->adb, rc, "routes DB", error);
	return FALSE;
}

/* route_step_once - bind nothing more, run STMT to completion, finalize it */
static gboolean route_step_once(CtiRouteDb *db, sqlite3_stmt *stmt, GError **error)
{
	int rc = sqlite3_step(stmt);

	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "routes DB write", error);
		return FALSE;
	}
	return TRUE;
}

/* route_put - see route-private.h */
gboolean route_put(CtiRouteDb *db, CtiRouteKind kind, const char *key, const char *gateway,
                   const char *note, gint64 changed, GError **error)
{
	sqlite3_stmt *stmt;
	int rc;

	if (!route_gateway_exists(db, gateway, error))
		return FALSE;
	stmt = route_stmt(db, ROUTE_STMT_PUT_ROUTE, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, route_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, gateway, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, note ? note : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, changed);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "routes DB write", error);
		return FALSE;
	}
	return TRUE;
}

/* route_add - see route.h */
gboolean route_add(CtiRouteDb *db, const char *destination, const char *gateway, const char *note,
                   GError **error)
{
	g_autofree char *key = NULL;
	g_autofree char *gw = NULL;
	CtiRouteKind kind;

	if (!admindb_require_writable(&db->adb, error) ||
	    !route_parse_destination(destination, db->intl, &kind, &key, error) ||
	    !route_check_gateway_name(gateway, &gw, error) || !route_check_note(note, error))
		return FALSE;
	if (!admindb_begin(&db->adb, error))
		return FALSE;
	if (!route_put(db, kind, key, gw, note, g_get_real_time() / G_USEC_PER_SEC, error)) {
		route_rollback(db);
		return FALSE;
	}
	return route_commit(db, error);
}

/* route_del - see route.h */
gboolean route_del(CtiRouteDb *db, const char *destination, GError **error)
{
	g_autofree char *key = NULL;
	sqlite3_stmt *stmt = NULL;
	CtiRouteKind kind;
	int rc;

	if (!admindb_require_writable(&db->adb, error) ||
	    !route_parse_destination(destination, db->intl, &kind, &key, error))
		return FALSE;
	rc = sqlite3_prepare_v2(db->adb.sql, "DELETE FROM routes WHERE kind = ?1 AND key = ?2", -1,
	                        &stmt, NULL);
	if (rc != SQLITE_OK) {
		admindb_sql_error(&db->adb, rc, "routes DB", error);
		return FALSE;
	}
	sqlite3_bind_text(stmt, 1, route_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
	if (!route_step_once(db, stmt, error))
		return FALSE;
	route_cache_drop(db);
	if (sqlite3_changes(db->adb.sql) == 0) {
		g_autofree char *shown = route_display_key(kind, key);
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND, "no %s route '%s'",
		            route_kind_name(kind), shown);
		return FALSE;
	}
	return TRUE;
}

/* route_list - see route.h */
GPtrArray *route_list(CtiRouteDb *db, const char *prefix, const char *gateway, GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)route_free);
	g_autofree char *canon = NULL;
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (prefix && *prefix && !route_parse_number(prefix, db->intl, &canon, error)) {
		g_prefix_error(error, "prefix '%s': ", prefix);
		return NULL;
	}
	rc = sqlite3_prepare_v2(
	    db->adb.sql,
	    "SELECT r.kind, r.key, r.gateway, g.address, r.note, r.changed "
	    "FROM routes r LEFT JOIN gateways g ON g.name = r.gateway "
	    "WHERE (?1 IS NULL OR (r.kind = 'prefix' AND substr(r.key, 1, length(?1)) = ?1)) "
	    "AND (?2 IS NULL OR r.gateway = ?2) "
	    "ORDER BY CASE r.kind WHEN 'prefix' THEN 0 WHEN 'domain' THEN 1 ELSE 2 END, r.key",
	    -1, &stmt, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, prefix ? (canon ? canon : "") : NULL, -1, SQLITE_STATIC);
		if (gateway)
			sqlite3_bind_text(stmt, 2, g_ascii_strdown(gateway, -1), -1, g_free);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			g_ptr_array_add(rows, route_from_stmt(stmt));
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "routes DB list", error);
		return NULL;
	}
	return g_steal_pointer(&rows);
}

/* route_gateway_put - see route-private.h */
gboolean route_gateway_put(CtiRouteDb *db, const char *name, const char *address, const char *note,
                           gint64 changed, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc =
	    sqlite3_prepare_v2(db->adb.sql,
	                       "INSERT OR REPLACE INTO gateways (name, address, note, changed) "
	                       "VALUES (?1, ?2, ?3, ?4)",
	                       -1, &stmt, NULL);

	if (rc != SQLITE_OK) {
		admindb_sql_error(&db->adb, rc, "routes DB", error);
		return FALSE;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, note ? note : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, changed);
	return route_step_once(db, stmt, error);
}

/* route_check_gateway - see route-private.h */
gboolean route_check_gateway(const char *name, const char *address, const char *note,
                             char **name_out, char **address_out, GError **error)
{
	if (!route_check_gateway_name(name, name_out, error))
		return FALSE;
	if (strcmp(*name_out, CTI_ROUTE_LOCAL) == 0) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "'%s' is reserved for this host and is not a gateway", CTI_ROUTE_LOCAL);
		return FALSE;
	}
	return route_check_address(address, address_out, error) && route_check_note(note, error);
}

/* route_gateway_add - see route.h */
gboolean route_gateway_add(CtiRouteDb *db, const char *name, const char *address, const char *note,
                           GError **error)
{
	g_autofree char *gw = NULL;
	g_autofree char *addr = NULL;

	if (!admindb_require_writable(&db->adb, error) ||
	    !route_check_gateway(name, address, note, &gw, &addr, error) ||
	    !admindb_begin(&db->adb, error))
		return FALSE;
	if (!route_gateway_put(db, gw, addr, note, g_get_real_time() / G_USEC_PER_SEC, error)) {
		route_rollback(db);
		return FALSE;
	}
	return route_commit(db, error);
}

/* route_gateway_in_use - how many routes name gateway NAME, -1 on error */
static int route_gateway_in_use(CtiRouteDb *db, const char *name, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int count = -1;
	int rc = sqlite3_prepare_v2(db->adb.sql, "SELECT count(*) FROM routes WHERE gateway = ?1",
	                            -1, &stmt, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			count = sqlite3_column_int(stmt, 0);
	}
	sqlite3_finalize(stmt);
	if (count < 0)
		admindb_sql_error(&db->adb, rc, "routes DB", error);
	return count;
}

/* route_gateway_remove - delete the row of NAME; NOT_FOUND if there was none */
static gboolean route_gateway_remove(CtiRouteDb *db, const char *name, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db->adb.sql, "DELETE FROM gateways WHERE name = ?1", -1, &stmt,
	                            NULL);

	if (rc != SQLITE_OK) {
		admindb_sql_error(&db->adb, rc, "routes DB", error);
		return FALSE;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (!route_step_once(db, stmt, error))
		return FALSE;
	if (sqlite3_changes(db->adb.sql) == 0) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND, "no gateway '%s'",
		            name);
		return FALSE;
	}
	return TRUE;
}

/* route_gateway_del - see route.h */
gboolean route_gateway_del(CtiRouteDb *db, const char *name, GError **error)
{
	g_autofree char *gw = NULL;
	int used;

	if (!admindb_require_writable(&db->adb, error) ||
	    !route_check_gateway_name(name, &gw, error) || !admindb_begin(&db->adb, error))
		return FALSE;
	used = route_gateway_in_use(db, gw, error);
	if (used > 0)
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_IN_USE,
		            "gateway '%s' is used by %d route(s): delete or move them first", gw,
		            used);
	if (used != 0 || !route_gateway_remove(db, gw, error)) {
		route_rollback(db);
		return FALSE;
	}
	return route_commit(db, error);
}

/* route_gateway_list - see route.h */
GPtrArray *route_gateway_list(CtiRouteDb *db, GError **error)
{
	g_autoptr(GPtrArray) rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)route_gateway_free);
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(
	    db->adb.sql, "SELECT name, address, note, changed FROM gateways ORDER BY name", -1,
	    &stmt, NULL);

	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		CtiGateway *gw = g_new0(CtiGateway, 1);

		gw->name = g_strdup((const char *)sqlite3_column_text(stmt, 0));
		gw->address = g_strdup((const char *)sqlite3_column_text(stmt, 1));
		gw->note = g_strdup((const char *)sqlite3_column_text(stmt, 2));
		gw->changed = sqlite3_column_int64(stmt, 3);
		g_ptr_array_add(rows, gw);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		admindb_sql_error(&db->adb, rc, "routes DB gateways", error);
		return NULL;
	}
	return g_steal_pointer(&rows);
}
