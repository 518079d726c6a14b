/* route - the routing DB: which gateway serves a destination.
 *
 * SQLite (WAL) with two tables (schema/routes-*.sql): gateways (name -> CTI
 * mail address) and routes (destination -> gateway, a note, a time of change).
 * A destination is one of
 *   a number prefix   "4930", "+4930", "" or "default" (the default route); longest wins
 *   a mail address    "alice@example.com"   (exact, case-insensitive)
 *   a domain          "@example.com"        (exact domain, case-insensitive)
 * An address beats its domain; both beat the default route.  The gateway
 * "local" means this host; any other name must be in the gateways table.
 *
 * Numbers are canonicalised with number_normalise().  A leading '+' is kept
 * as a character of its own, so "+49" only matches numbers written with '+',
 * unless an international prefix is set (route_set_international_prefix,
 * [routing] international_prefix, e.g. "00"): then a leading '+' is rewritten
 * to it, in stored prefixes and in looked-up numbers alike, and "+4930..."
 * and "004930..." route the same.
 *
 * The milter opens the DB read-only and sees every change at once: each lookup
 * first reads PRAGMA data_version and drops the caches when another connection
 * has written.  A CtiRouteDb is used by one thread.  Errors are GErrors in
 * CTI_ROUTE_ERROR; CTI_ROUTE_ERROR_TEMP (locked, I/O) is temporary.
 */
#ifndef MAILCTI_ROUTE_H
#define MAILCTI_ROUTE_H

#include <glib.h>

#define CTI_ROUTE_LOCAL    "local" /* the gateway name meaning this host */
#define CTI_ROUTE_MAX_NOTE 1024

typedef enum {
	CTI_ROUTE_PREFIX,  /* number prefix, "" = default route */
	CTI_ROUTE_ADDRESS, /* exact mail address */
	CTI_ROUTE_DOMAIN,  /* mail domain */
} CtiRouteKind;

#define CTI_ROUTE_ERROR (route_error_quark())
typedef enum {
	CTI_ROUTE_ERROR_INVALID,   /* bad destination, gateway name, address, CSV line */
	CTI_ROUTE_ERROR_NOT_FOUND, /* no such route or gateway */
	CTI_ROUTE_ERROR_IN_USE,    /* gateway still referenced by routes */
	CTI_ROUTE_ERROR_READONLY,  /* a write on a read-only handle */
	CTI_ROUTE_ERROR_TEMP,      /* locked, busy, I/O: retry later */
	CTI_ROUTE_ERROR_DB,        /* other SQLite failure, schema too new */
} CtiRouteError;
GQuark route_error_quark(void);

typedef struct {
	CtiRouteKind kind;
	char *key;     /* canonical: "+4930", "", "alice@example.com", "example.com" */
	char *gateway; /* "local" or a gateway name */
	char *address; /* the gateway's CTI address; NULL for local or a dangling name */
	char *note;
	gint64 changed; /* unix seconds */
} CtiRoute;

typedef struct {
	char *name;
	char *address; /* CTI mail address, e.g. "call@gw-b.example" */
	char *note;
	gint64 changed;
} CtiGateway;

typedef struct {
	CtiRouteKind kind;      /* what the query was taken for */
	char *query;            /* canonical form of what was asked */
	GPtrArray *tried;       /* char*: display form of every key considered, best first;
	                         * route_lookup stops at the winner, route_explain goes on */
	GPtrArray *matches;     /* CtiRoute*: rows that exist among them, best first */
	const CtiRoute *winner; /* matches[0] or NULL: no route (transfer none) */
	char *why;              /* one line saying why the winner won or that none did */
} CtiRouteResult;

typedef struct CtiRouteDb CtiRouteDb;

/* route_open - open PATH; WRITABLE creates it and applies migrations, read-only
 * requires an existing, migrated DB: CTI_ROUTE_ERROR_NOT_FOUND when there is no
 * file at all (transfer full) */
CtiRouteDb *route_open(const char *path, gboolean writable, GError **error);
/* route_close - close; NULL is a no-op */
void route_close(CtiRouteDb *db);
/* route_set_international_prefix - what a leading '+' becomes; NULL/"" keeps '+' */
void route_set_international_prefix(CtiRouteDb *db, const char *prefix);
/* route_set_cache_size - results remembered between lookups, 0 = none (default 4096) */
void route_set_cache_size(CtiRouteDb *db, guint entries);
/* route_schema_version - PRAGMA user_version of the open DB */
int route_schema_version(CtiRouteDb *db);

/* route_parse_destination - classify and canonicalise TEXT as written by an
 * operator ("+49 30 1234", "@Example.COM", "Bob@Example.com", "" or "default");
 * INTL as route_set_international_prefix; KEY is (transfer full) */
gboolean route_parse_destination(const char *text, const char *intl, CtiRouteKind *kind, char **key,
                                 GError **error);
/* route_display_key - the operator's form of a stored key: "@example.com" for domains */
char *route_display_key(CtiRouteKind kind, const char *key);
/* route_kind_name - "prefix", "address", "domain" */
const char *route_kind_name(CtiRouteKind kind);

/* route_lookup - the route for DESTINATION, a number or a mail address (one with '@'):
 * a result also when nothing matched (winner NULL); NULL + error only on a bad
 * destination or a DB failure (transfer full) */
CtiRouteResult *route_lookup(CtiRouteDb *db, const char *destination, GError **error);
/* route_explain - route_lookup that goes on past the winner: MATCHES holds every
 * matching row and TRIED every key considered (for ctictl; never cached) */
CtiRouteResult *route_explain(CtiRouteDb *db, const char *destination, GError **error);
void route_result_free(CtiRouteResult *result);

/* route_add - insert or replace the route for DESTINATION; GATEWAY is "local" or a known gateway */
gboolean route_add(CtiRouteDb *db, const char *destination, const char *gateway, const char *note,
                   GError **error);
/* route_del - delete the route for DESTINATION; CTI_ROUTE_ERROR_NOT_FOUND if none */
gboolean route_del(CtiRouteDb *db, const char *destination, GError **error);
/* route_list - routes whose prefix key starts with PREFIX (NULL: all kinds) and whose
 * gateway is GATEWAY (NULL: any), ordered by kind and key (transfer full: CtiRoute*) */
GPtrArray *route_list(CtiRouteDb *db, const char *prefix, const char *gateway, GError **error);

/* route_gateway_add - insert or replace gateway NAME with its CTI ADDRESS */
gboolean route_gateway_add(CtiRouteDb *db, const char *name, const char *address, const char *note,
                           GError **error);
/* route_gateway_del - delete gateway NAME; CTI_ROUTE_ERROR_IN_USE while routes use it */
gboolean route_gateway_del(CtiRouteDb *db, const char *name, GError **error);
/* route_gateway_list - all gateways by name (transfer full: CtiGateway*) */
GPtrArray *route_gateway_list(CtiRouteDb *db, GError **error);

/* route_import_csv - apply a CSV (route_export_csv format) in one transaction:
 * all lines or none; an error names the line.  REPLACE first deletes every
 * route (gateways are kept and updated).  N_ROUTES/N_GATEWAYS may be NULL. */
gboolean route_import_csv(CtiRouteDb *db, const char *text, gsize len, gboolean replace,
                          guint *n_routes, guint *n_gateways, GError **error);
/* route_export_csv - every gateway then every route as CSV (transfer full) */
char *route_export_csv(CtiRouteDb *db, GError **error);

void route_free(CtiRoute *route);
void route_gateway_free(CtiGateway *gateway);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiRouteDb, route_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiRouteResult, route_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiRoute, route_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiGateway, route_gateway_free)

#endif
