/* route-print - the routes DB as ctictl shows it: opening it from the
 * configuration, and routes, gateways and lookups as aligned text or JSON.
 *
 * Text is for people and may change; JSON field names are an interface:
 * routes {kind, key, destination, gateway, address, note, changed, changed_at},
 * gateways {name, address, note, changed, changed_at}, lookups
 * {query, asked, kind, why, winner, candidates[{key, route}]}.
 * Nothing here fails except opening the DB, which prints why.
 */
#include <string.h>

#include "cmd-route.h"
#include "relay.h"

/* ctl_routes_open - see cmd-route.h */
CtiRouteDb *ctl_routes_open(CtlContext *ctx, gboolean writable, int *rc)
{
	const CtiConfig *config = ctl_config(ctx);
	g_autoptr(GError) error = NULL;
	CtiRouteDb *db;
	CtiRelayPolicy policy;

	*rc = CTL_EXIT_USAGE;
	if (config == NULL)
		return NULL;
	if (!relay_policy_from_config(config, &policy, &error)) {
		ctl_fail(ctx, "%s: %s", config->path ? config->path : "defaults", error->message);
		return NULL;
	}
	*rc = CTL_EXIT_FAIL;
	db = route_open(config->routes_db, writable, &error);
	if (db == NULL && g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND)) {
		ctl_fail(ctx,
		         "routes DB %s does not exist yet: 'route add', 'gateway add' or "
		         "'route import' creates it",
		         config->routes_db);
		return NULL;
	}
	if (db == NULL) {
		ctl_fail(ctx, "%s", error->message);
		return NULL;
	}
	route_set_international_prefix(db, config->international_prefix);
	return db;
}

static const char *route_shown_key(const char *display)
{
	return *display ? display : "default";
}

/* ctl_print_routes_table - see cmd-route.h */
void ctl_print_routes_table(CtlContext *ctx, GPtrArray *routes)
{
	fprintf(ctx->out, "%-24s %-16s %-28s %-20s %s\n", "DESTINATION", "GATEWAY", "ADDRESS",
	        "CHANGED", "NOTE");
	for (guint i = 0; i < routes->len; i++) {
		const CtiRoute *r = routes->pdata[i];
		g_autofree char *key = route_display_key(r->kind, r->key);
		g_autofree char *when = ctl_time_text(r->changed);

		fprintf(ctx->out, "%-24s %-16s %-28s %-20s %s\n", route_shown_key(key), r->gateway,
		        r->address ? r->address : "-", when, r->note);
	}
}

/* ctl_route_json - one route (a CtiRoute) as a JSON object */
static void ctl_route_json(GString *out, gconstpointer row)
{
	const CtiRoute *r = row;
	g_autofree char *key = route_display_key(r->kind, r->key);

	g_string_append_c(out, '{');
	ctl_json_field(out, "kind", route_kind_name(r->kind));
	ctl_json_field(out, "key", r->key);
	ctl_json_field(out, "destination", key);
	ctl_json_field(out, "gateway", r->gateway);
	ctl_json_field(out, "address", r->address);
	ctl_json_field(out, "note", r->note);
	ctl_json_changed_end(out, r->changed);
}

/* ctl_print_routes_json - see cmd-route.h */
void ctl_print_routes_json(CtlContext *ctx, GPtrArray *routes)
{
	ctl_print_json_array(ctx, routes, ctl_route_json);
}

/* ctl_match_of - the row among RESULT's matches whose display key is KEY, or NULL */
static const CtiRoute *ctl_match_of(const CtiRouteResult *result, const char *key)
{
	for (guint i = 0; i < result->matches->len; i++) {
		const CtiRoute *r = result->matches->pdata[i];
		g_autofree char *shown = route_display_key(r->kind, r->key);

		if (strcmp(shown, key) == 0)
			return r;
	}
	return NULL;
}

/* ctl_print_lookup_text - see cmd-route.h */
void ctl_print_lookup_text(CtlContext *ctx, const char *asked, const CtiRouteResult *result)
{
	const CtiRoute *w = result->winner;

	fprintf(ctx->out, "destination: %s (%s %s)\n", asked,
	        result->kind == CTI_ROUTE_PREFIX ? "number" : "address", result->query);
	if (w) {
		g_autofree char *key = route_display_key(w->kind, w->key);
		fprintf(ctx->out, "route:       %s -> %s%s%s%s\n", route_shown_key(key), w->gateway,
		        w->address ? " <" : "", w->address ? w->address : "",
		        w->address ? ">" : "");
	} else {
		fprintf(ctx->out, "route:       none\n");
	}
	fprintf(ctx->out, "why:         %s\ncandidates (best first):\n", result->why);
	for (guint i = 0; i < result->tried->len; i++) {
		const char *key = result->tried->pdata[i];
		const CtiRoute *r = ctl_match_of(result, key);

		if (r && r == w)
			fprintf(ctx->out, "  %-24s %-16s <- wins\n", route_shown_key(key),
			        r->gateway);
		else
			fprintf(ctx->out, "  %-24s %s\n", route_shown_key(key),
			        r ? r->gateway : "-");
	}
}

/* ctl_print_lookup_json - see cmd-route.h */
void ctl_print_lookup_json(CtlContext *ctx, const char *asked, const CtiRouteResult *result)
{
	g_autoptr(GString) out = g_string_new("{");

	ctl_json_field(out, "query", result->query);
	ctl_json_field(out, "asked", asked);
	ctl_json_field(out, "kind", result->kind == CTI_ROUTE_PREFIX ? "number" : "address");
	ctl_json_field(out, "why", result->why);
	g_string_append(out, ",\"winner\":");
	if (result->winner)
		ctl_route_json(out, result->winner);
	else
		g_string_append(out, "null");
	g_string_append(out, ",\"candidates\":[");
	for (guint i = 0; i < result->tried->len; i++) {
		const CtiRoute *r = ctl_match_of(result, result->tried->pdata[i]);

		g_string_append(out, i ? ",{\"key\":" : "{\"key\":");
		ctl_json_string(out, result->tried->pdata[i]);
		g_string_append(out, ",\"route\":");
		if (r)
			ctl_route_json(out, r);
		else
			g_string_append(out, "null");
		g_string_append_c(out, '}');
	}
	g_string_append(out, "]}\n");
	fputs(out->str, ctx->out);
}

/* ctl_gateway_json - one gateway (a CtiGateway) as a JSON object */
static void ctl_gateway_json(GString *out, gconstpointer row)
{
	const CtiGateway *g = row;

	g_string_append_c(out, '{');
	ctl_json_field(out, "name", g->name);
	ctl_json_field(out, "address", g->address);
	ctl_json_field(out, "note", g->note);
	ctl_json_changed_end(out, g->changed);
}

/* ctl_print_gateways - see cmd-route.h */
void ctl_print_gateways(CtlContext *ctx, GPtrArray *gateways, gboolean json)
{
	if (json) {
		ctl_print_json_array(ctx, gateways, ctl_gateway_json);
		return;
	}
	fprintf(ctx->out, "%-16s %-32s %-20s %s\n", "NAME", "ADDRESS", "CHANGED", "NOTE");
	for (guint i = 0; i < gateways->len; i++) {
		const CtiGateway *g = gateways->pdata[i];
		g_autofree char *when = ctl_time_text(g->changed);

		fprintf(ctx->out, "%-16s %-32s %-20s %s\n", g->name, g->address, when, g->note);
	}
}
