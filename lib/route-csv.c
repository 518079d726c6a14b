/* route-csv - the routing DB as CSV, for bulk import and backup.
 *
 * Format (RFC 4180 fields, one record per line, '#' lines and blank lines
 * ignored, an optional header line "type,key,target,note,changed"):
 *   gateway,<name>,<CTI address>,<note>,<changed>
 *   route,<destination>,<gateway>,<note>,<changed>
 * changed is unix seconds; empty means "now".  route_export_csv() writes
 * gateways first, then routes, so its output imports back unchanged.
 * An import parses and validates every line before it writes anything, then
 * applies all of them in one transaction: a bad line is reported by its
 * number and leaves the DB as it was.
 */
#include "route-private.h"

#include <string.h>

#define ROUTE_CSV_HEADER "type,key,target,note,changed"
#define ROUTE_CSV_FIELDS 5

typedef struct {
	guint line;
	gboolean is_gateway;
	CtiRouteKind kind;
	char *key;    /* canonical destination or gateway name */
	char *target; /* gateway name or CTI address */
	char *note;
	gint64 changed; /* 0: now */
} RouteCsvRow;

static void route_csv_row_free(RouteCsvRow *row)
{
	g_free(row->key);
	g_free(row->target);
	g_free(row->note);
	g_free(row);
}

/* route_csv_split - the fields of one line; quoted fields may hold ',' and "" */
static GPtrArray *route_csv_split(const char *line, GError **error)
{
	g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) cur = g_string_new(NULL);
	const char *p = line;

	for (;;) {
		g_string_truncate(cur, 0);
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0') {
					g_set_error_literal(error, CTI_ROUTE_ERROR,
					                    CTI_ROUTE_ERROR_INVALID,
					                    "unterminated quoted field");
					return NULL;
				}
				if (*p == '"' && p[1] != '"')
					break;
				if (*p == '"')
					p++;
				g_string_append_c(cur, *p);
			}
			p++;
			if (*p != ',' && *p != '\0') {
				g_set_error_literal(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
				                    "text after a closing quote");
				return NULL;
			}
		} else {
			gsize n = strcspn(p, ",");
			g_string_append_len(cur, p, (gssize)n);
			p += n;
		}
		g_ptr_array_add(fields, g_strdup(cur->str));
		if (*p == '\0')
			break;
		p++;
	}
	return g_steal_pointer(&fields);
}

static gboolean route_csv_changed(const char *text, gint64 *out, GError **error)
{
	guint64 v = 0;

	if (*text && !g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT64, &v, error)) {
		g_prefix_error(error, "changed: ");
		return FALSE;
	}
	*out = (gint64)v;
	return TRUE;
}

/* route_csv_row - validate and canonicalise the fields of one record */
static RouteCsvRow *route_csv_row(CtiRouteDb *db, GPtrArray *f, GError **error)
{
	RouteCsvRow *row = g_new0(RouteCsvRow, 1);
	const char *type = f->pdata[0];
	gboolean ok;

	if (f->len < 4 || f->len > ROUTE_CSV_FIELDS) {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "%u fields, 4 or 5 expected (%s)", f->len, ROUTE_CSV_HEADER);
		route_csv_row_free(row);
		return NULL;
	}
	row->note = g_strdup(f->pdata[3]);
	if (strcmp(type, "gateway") == 0) {
		row->is_gateway = TRUE;
		ok = route_check_gateway(f->pdata[1], f->pdata[2], row->note, &row->key,
		                         &row->target, error);
	} else if (strcmp(type, "route") == 0) {
		ok = route_parse_destination(f->pdata[1], db->intl, &row->kind, &row->key, error) &&
		     route_check_gateway_name(f->pdata[2], &row->target, error) &&
		     route_check_note(row->note, error);
	} else {
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "type '%s': 'gateway' or 'route' expected", type);
		ok = FALSE;
	}
	if (ok && f->len == ROUTE_CSV_FIELDS)
		ok = route_csv_changed(f->pdata[4], &row->changed, error);
	if (!ok)
		g_clear_pointer(&row, route_csv_row_free);
	return row;
}

/* route_csv_parse - every record of TEXT, validated; NULL + "line N: ..." */
static GPtrArray *route_csv_parse(CtiRouteDb *db, const char *text, gsize len, GError **error)
{
	g_autoptr(GPtrArray) rows =
	    g_ptr_array_new_with_free_func((GDestroyNotify)route_csv_row_free);
	g_autofree char *copy = g_strndup(text, len);
	g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
	gboolean seen_record = FALSE;

	for (guint i = 0; lines[i]; i++) {
		char *line = lines[i];
		g_autoptr(GPtrArray) fields = NULL;
		RouteCsvRow *row;
		gsize n = strlen(line);

		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (!seen_record && strcmp(line, ROUTE_CSV_HEADER) == 0) {
			seen_record = TRUE;
			continue;
		}
		seen_record = TRUE;
		fields = route_csv_split(line, error);
		row = fields ? route_csv_row(db, fields, error) : NULL;
		if (row == NULL) {
			g_prefix_error(error, "line %u: ", i + 1);
			return NULL;
		}
		row->line = i + 1;
		g_ptr_array_add(rows, row);
	}
	return g_steal_pointer(&rows);
}

/* route_csv_apply - write ROWS, gateways before routes (inside a transaction) */
static gboolean route_csv_apply(CtiRouteDb *db, GPtrArray *rows, gboolean replace, guint *n_routes,
                                guint *n_gateways, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (replace && !admindb_exec(&db->adb, "DELETE FROM routes", error))
		return FALSE;
	for (int pass = 0; pass < 2; pass++) {
		for (guint i = 0; i < rows->len; i++) {
			RouteCsvRow *r = rows->pdata[i];
			gint64 changed = r->changed ? r->changed : now;
			gboolean ok = TRUE;

			if (r->is_gateway && pass == 0)
				ok = route_gateway_put(db, r->key, r->target, r->note, changed,
				                       error) &&
				     ++*n_gateways;
			else if (!r->is_gateway && pass == 1)
				ok = route_put(db, r->kind, r->key, r->target, r->note, changed,
				               error) &&
				     ++*n_routes;
			if (!ok) {
				g_prefix_error(error, "line %u: ", r->line);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* route_import_csv - see route.h */
gboolean route_import_csv(CtiRouteDb *db, const char *text, gsize len, gboolean replace,
                          guint *n_routes, guint *n_gateways, GError **error)
{
	g_autoptr(GPtrArray) rows = NULL;
	guint nr = 0, ng = 0;

	if (!admindb_require_writable(&db->adb, error))
		return FALSE;
	if (memchr(text, '\0', len)) {
		g_set_error_literal(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		                    "the file holds a NUL byte");
		return FALSE;
	}
	rows = route_csv_parse(db, text, len, error);
	if (rows == NULL || !admindb_begin(&db->adb, error))
		return FALSE;
	if (!route_csv_apply(db, rows, replace, &nr, &ng, error)) {
		route_rollback(db);
		return FALSE;
	}
	if (!route_commit(db, error))
		return FALSE;
	if (n_routes)
		*n_routes = nr;
	if (n_gateways)
		*n_gateways = ng;
	return TRUE;
}

/* route_csv_field - append S, quoted when it holds ',', '"', or outer spaces, or is empty */
static void route_csv_field(GString *out, const char *s, gboolean last)
{
	gsize n = strlen(s);
	gboolean quote =
	    n == 0 || strpbrk(s, ",\"") || s[0] == ' ' || s[n - 1] == ' ' || s[0] == '#';

	if (quote) {
		g_string_append_c(out, '"');
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				g_string_append_c(out, '"');
			g_string_append_c(out, *p);
		}
		g_string_append_c(out, '"');
	} else {
		g_string_append(out, s);
	}
	g_string_append_c(out, last ? '\n' : ',');
}

static void route_csv_record(GString *out, const char *type, const char *key, const char *target,
                             const char *note, gint64 changed)
{
	g_autofree char *stamp = g_strdup_printf("%" G_GINT64_FORMAT, changed);

	route_csv_field(out, type, FALSE);
	route_csv_field(out, key, FALSE);
	route_csv_field(out, target, FALSE);
	route_csv_field(out, note, FALSE);
	route_csv_field(out, stamp, TRUE);
}

/* route_export_csv - see route.h */
char *route_export_csv(CtiRouteDb *db, GError **error)
{
	g_autoptr(GPtrArray) gateways = route_gateway_list(db, error);
	g_autoptr(GPtrArray) routes = gateways ? route_list(db, NULL, NULL, error) : NULL;
	g_autoptr(GString) out = g_string_new("# mailcti routes\n" ROUTE_CSV_HEADER "\n");

	if (routes == NULL)
		return NULL;
	for (guint i = 0; i < gateways->len; i++) {
		const CtiGateway *g = gateways->pdata[i];
		route_csv_record(out, "gateway", g->name, g->address, g->note, g->changed);
	}
	for (guint i = 0; i < routes->len; i++) {
		const CtiRoute *r = routes->pdata[i];
		g_autofree char *key = route_display_key(r->kind, r->key);
		route_csv_record(out, "route", key, r->gateway, r->note, r->changed);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}
