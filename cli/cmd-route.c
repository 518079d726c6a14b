/* cmd-route - "ctictl route ...": add, del, list, lookup, import, export.
 *
 * Each verb is a row of route_verbs; it parses its own options, opens the
 * routes DB named by [routing] db (read-only for list/lookup/export, writable
 * and created on demand otherwise), and prints for a person or, with --json,
 * for a program.  The empty prefix (the default route) is written "" or
 * "default" (see route_parse_destination) and shown as "default".
 * Failures are printed as one line; see ctictl.h for the exit statuses.
 */
#include <string.h>

#include "cmd-route.h"

static int route_add_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *note = NULL;
	const GOptionEntry entries[] = {
	    {"note", 'n', 0, G_OPTION_ARG_STRING, &note, "note", "TEXT"},
	    {NULL},
	};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 4)
		return ctl_usage(ctx, cmd, "route add: DESTINATION and GATEWAY expected");
	db = ctl_routes_open(ctx, TRUE, &rc);
	if (db == NULL)
		return rc;
	if (!route_add(db, argv[2], argv[3], note, &error))
		return ctl_fail(ctx, "route add: %s", error->message);
	return CTL_EXIT_OK;
}

static int route_del_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = CTL_EXIT_OK;

	if (argc != 3)
		return ctl_usage(ctx, cmd, "route del: DESTINATION expected");
	db = ctl_routes_open(ctx, TRUE, &rc);
	if (db == NULL)
		return rc;
	if (!route_del(db, argv[2], &error))
		return ctl_fail(ctx, "route del: %s", error->message);
	return CTL_EXIT_OK;
}

static int route_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *prefix = NULL;
	g_autofree char *gateway = NULL;
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"prefix", 'p', 0, G_OPTION_ARG_STRING, &prefix, "prefix", "P"},
	    {"gateway", 'g', 0, G_OPTION_ARG_STRING, &gateway, "gateway", "G"},
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
	    {NULL},
	};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 2)
		return ctl_usage(ctx, cmd, "route list: unexpected argument '%s'", argv[2]);
	db = ctl_routes_open(ctx, FALSE, &rc);
	if (db == NULL)
		return rc;
	rows = route_list(db, prefix, gateway, &error);
	if (rows == NULL)
		return ctl_fail(ctx, "route list: %s", error->message);
	if (json)
		ctl_print_routes_json(ctx, rows);
	else
		ctl_print_routes_table(ctx, rows);
	return CTL_EXIT_OK;
}

static int route_lookup_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
	    {NULL},
	};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(CtiRouteResult) result = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 3)
		return ctl_usage(ctx, cmd, "route lookup: one NUMBER or ADDRESS expected");
	db = ctl_routes_open(ctx, FALSE, &rc);
	if (db == NULL)
		return rc;
	result = route_explain(db, argv[2], &error);
	if (result == NULL)
		return ctl_fail(ctx, "route lookup: %s", error->message);
	if (json)
		ctl_print_lookup_json(ctx, argv[2], result);
	else
		ctl_print_lookup_text(ctx, argv[2], result);
	return result->winner ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static int route_import_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean replace = FALSE;
	const GOptionEntry entries[] = {
	    {"replace", 'r', 0, G_OPTION_ARG_NONE, &replace, "replace every route", NULL},
	    {NULL},
	};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	gsize len = 0;
	guint n_routes = 0, n_gateways = 0;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 3)
		return ctl_usage(ctx, cmd, "route import: one FILE expected");
	if (!ctl_read_input(argv[2], &text, &len, &error))
		return ctl_fail(ctx, "route import: %s", error->message);
	db = ctl_routes_open(ctx, TRUE, &rc);
	if (db == NULL)
		return rc;
	if (!route_import_csv(db, text, len, replace, &n_routes, &n_gateways, &error))
		return ctl_fail(ctx, "route import: %s: %s; nothing changed", argv[2],
		                error->message);
	fprintf(ctx->out, "imported %u route(s) and %u gateway(s) from %s\n", n_routes, n_gateways,
	        argv[2]);
	return CTL_EXIT_OK;
}

static int route_export_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *csv = NULL;
	int rc = CTL_EXIT_OK;

	if (argc > 3)
		return ctl_usage(ctx, cmd, "route export: at most one FILE expected");
	db = ctl_routes_open(ctx, FALSE, &rc);
	if (db == NULL)
		return rc;
	csv = route_export_csv(db, &error);
	if (csv == NULL)
		return ctl_fail(ctx, "route export: %s", error->message);
	if (argc == 2 || strcmp(argv[2], "-") == 0)
		fputs(csv, ctx->out);
	else if (!g_file_set_contents(argv[2], csv, -1, &error))
		return ctl_fail(ctx, "route export: %s", error->message);
	return CTL_EXIT_OK;
}

static const CtlVerb route_verbs[] = {
    {"add", route_add_cmd},       {"del", route_del_cmd},       {"list", route_list_cmd},
    {"lookup", route_lookup_cmd}, {"import", route_import_cmd}, {"export", route_export_cmd},
};

static int cmd_route(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return ctl_dispatch_verb(ctx, cmd, route_verbs, G_N_ELEMENTS(route_verbs), argc, argv);
}

const CtlCommand cmd_route_command = {
    "route",
    cmd_route,
    "  route add DESTINATION GATEWAY [--note TEXT]\n"
    "  route del DESTINATION\n"
    "  route list [--prefix P] [--gateway G] [--json]\n"
    "  route lookup NUMBER|ADDRESS [--json]\n"
    "  route import FILE.csv [--replace]\n"
    "  route export [FILE]\n"
    "    DESTINATION: number prefix (+4930, 030), \"\" or default, user@domain, @domain",
};
