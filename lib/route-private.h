/* route-private - internals shared by route.c, route-admin.c, route-csv.c
 * and route-schema.c.  Not for use outside the route module. */
#ifndef MAILCTI_ROUTE_PRIVATE_H
#define MAILCTI_ROUTE_PRIVATE_H

#include <sqlite3.h>

#include "admindb.h"
#include "route.h"

/* a number has at most 20 digits and a '+' (or an international prefix of up
 * to 8 digits in its place): every prefix length plus the empty one */
#define ROUTE_MAX_INTL         8
#define ROUTE_MAX_KEYLEN       (20 + ROUTE_MAX_INTL)
#define ROUTE_MAX_CANDIDATES   (ROUTE_MAX_KEYLEN + 1)
#define ROUTE_MAX_ADDRESS      254
#define ROUTE_MAX_GATEWAY_NAME 64

/* statements of the write path that bulk imports run once per row */
typedef enum {
	ROUTE_STMT_GATEWAY_EXISTS,
	ROUTE_STMT_PUT_ROUTE,
	ROUTE_STMT_COUNT,
} RouteStmt;

struct CtiRouteDb {
	AdminDb adb; /* the connection, opened writable or not */
	char *intl;  /* international prefix replacing '+', or NULL */
	sqlite3_stmt *data_version;
	sqlite3_stmt *read_begin; /* BEGIN DEFERRED / COMMIT around one lookup */
	sqlite3_stmt *read_end;
	sqlite3_stmt *by_prefix;               /* exact match of one prefix */
	sqlite3_stmt *by_address;              /* address, domain, default route */
	gint64 seen_version;                   /* PRAGMA data_version at the last check */
	sqlite3_stmt *stmts[ROUTE_STMT_COUNT]; /* prepared on first use */
	GHashTable *cache;                     /* canonical query -> CtiRouteResult* */
	guint cache_max;
};

/* route_schema - the migrations, in order; route_schema_count of them.
 * Migration i (0-based) brings the DB to user_version i + 1. */
extern const char *const route_schema[];
extern const guint route_schema_count;

/* route_commit/rollback - end a write transaction (admindb_begin) and drop the cache */
gboolean route_commit(CtiRouteDb *db, GError **error);
void route_rollback(CtiRouteDb *db);
/* route_stmt - statement WHICH, prepared once and kept; the caller resets it (transfer none) */
sqlite3_stmt *route_stmt(CtiRouteDb *db, RouteStmt which, GError **error);
/* route_cache_drop - forget every remembered lookup result */
void route_cache_drop(CtiRouteDb *db);

/* route_kind_from_name - "prefix"... to kind, -1 if unknown */
int route_kind_from_name(const char *name);
/* route_from_stmt - a CtiRoute from columns kind, key, gateway, address, note, changed */
CtiRoute *route_from_stmt(sqlite3_stmt *stmt);
/* route_check_gateway_name - "local" or [A-Za-z0-9][A-Za-z0-9._-]{0,63}; lower-cased copy */
gboolean route_check_gateway_name(const char *name, char **out, GError **error);
/* route_check_address - a plausible addr-spec without spaces or controls; lower-cased copy */
gboolean route_check_address(const char *address, char **out, GError **error);
/* route_check_gateway - a gateway row: valid name other than "local", address, note;
 * canonical NAME_OUT and ADDRESS_OUT (transfer full) */
gboolean route_check_gateway(const char *name, const char *address, const char *note,
                             char **name_out, char **address_out, GError **error);
/* route_check_note - at most CTI_ROUTE_MAX_NOTE bytes, no control characters */
gboolean route_check_note(const char *note, GError **error);

/* route_put - insert or replace one canonical route row (no transaction of its own) */
gboolean route_put(CtiRouteDb *db, CtiRouteKind kind, const char *key, const char *gateway,
                   const char *note, gint64 changed, GError **error);
/* route_gateway_put - insert or replace one gateway row (no transaction of its own) */
gboolean route_gateway_put(CtiRouteDb *db, const char *name, const char *address, const char *note,
                           gint64 changed, GError **error);

#endif
