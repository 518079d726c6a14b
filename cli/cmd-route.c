/* cmd-route - "ctictl route ...": add, del, list, lookup, import, export.
 *
 * Each verb is a row of route_verbs; it parses its own options, opens the
 * routes DB named by [routing] db (read-only for list/lookup/export, writable
 * and created on demand otherwise), and prints for a person or, with --json,
 * for a program.  The empty prefix (the default route) is written "" or
 * "default" (see route_parse_destination) and shown as "default".
 * Also holds the add/del/read scaffolding the gateway verbs share
 * (cmd-route.h).  Failures are printed as one line; see ctictl.h for the
 * exit statuses.
 */
#include <string.h>

#include "cmd-route.h"

/* ctl_routes_read - see cmd-route.h */
int ctl_routes_read(CtlContext *ctx, const CtlCommand *cmd, const GOptionEntry *entries, int *argc,
                    char ***argv, int want, const char *expected, CtiRouteDb **db)
{
	int rc = ctl_verb_args(ctx, cmd, entries, argc, argv, want, expected);

	if (rc == CTL_EXIT_OK)
		*db = ctl_routes_open(ctx, FALSE, &rc);
	return *db ? CTL_EXIT_OK : rc;
}

/* ctl_routes_add - see cmd-route.h */
int ctl_routes_add(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv,
                   const char *expected, CtlRoutesAdd add)
{
	g_autofree char *note = NULL;
	const GOptionEntry entries[] = {
	    {"note", 'n', 0, G_OPTION_ARG_STRING, &note, "note", "TEXT"},
	    {NULL},
	};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_verb_args(ctx, cmd, entries, &argc, &argv, 4, expected);

	if (rc != CTL_EXIT_OK || !(db = ctl_routes_open(ctx, TRUE, &rc)))
		return rc;
	if (!add(db, argv[2], argv[3], note, &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

/* ctl_routes_del - see cmd-route.h */
int ctl_routes_del(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv,
                   const char *expected, CtlRoutesDel del)
{
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_verb_args(ctx, cmd, NULL, &argc, &argv, 3, expected);

	if (rc != CTL_EXIT_OK || !(db = ctl_routes_open(ctx, TRUE, &rc)))
		return rc;
	if (!del(db, argv[2], &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

static int route_add_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return ctl_routes_add(ctx, cmd, argc, argv, "DESTINATION and GATEWAY expected", route_add);
}

static int route_del_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return ctl_routes_del(ctx, cmd, argc, argv, "DESTINATION expected", route_del);
}

static int route_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *prefix = NULL;
	g_autofree char *gateway = NULL;
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"prefix", 'p', 0, G_OPTION_ARG_STRING, &prefix, "prefix", "P"},
	    {"gateway", 'g', 0, G_OPTION_ARG_STRING, &gateway, "gateway", "G"},
	    CTL_JSON_OPTION(json),
	    {NULL},
	};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_routes_read(ctx, cmd, entries, &argc, &argv, 2, NULL, &db);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (!(rows = route_list(db, prefix, gateway, &error)))
		return ctl_verb_fail(ctx, argv, error);
	if (json)
		ctl_print_routes_json(ctx, rows);
	else
		ctl_print_routes_table(ctx, rows);
	return CTL_EXIT_OK;
}

static int route_lookup_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {CTL_JSON_OPTION(json), {NULL}};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(CtiRouteResult) result = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_routes_read(ctx, cmd, entries, &argc, &argv, 3,
	                         "one NUMBER or ADDRESS expected", &db);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (!(result = route_explain(db, argv[2], &error)))
		return ctl_verb_fail(ctx, argv, error);
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
	int rc = ctl_verb_args(ctx, cmd, entries, &argc, &argv, 3, "one FILE expected");

	if (rc != CTL_EXIT_OK)
		return rc;
	if (!ctl_read_input(argv[2], &text, &len, &error))
		return ctl_verb_fail(ctx, argv, error);
	if (!(db = ctl_routes_open(ctx, TRUE, &rc)))
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
	if (!(db = ctl_routes_open(ctx, FALSE, &rc)))
		return rc;
	if (!(csv = route_export_csv(db, &error)))
		return ctl_verb_fail(ctx, argv, error);
	if (argc == 2 || strcmp(argv[2], "-") == 0)
		fputs(csv, ctx->out);
	else if (!g_file_set_contents(argv[2], csv, -1, &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

static const CtlVerb route_verbs[] = {
    {"add", route_add_cmd},       {"del", route_del_cmd},       {"list", route_list_cmd},
    {"lookup", route_lookup_cmd}, {"import", route_import_cmd}, {"export", route_export_cmd},
};

const CtlCommand cmd_route_command = {
    "route",
    NULL,
    "  route add DESTINATION GATEWAY [--note TEXT]\n"
    "  route del DESTINATION\n"
    "  route list [--prefix P] [--gateway G] [--json]\n"
    "  route lookup NUMBER|ADDRESS [--json]\n"
    "  route import FILE.csv [--replace]\n"
    "  route export [FILE]\n"
    "    DESTINATION: number prefix (+4930, 030), \"\" or default, user@domain, @domain",
    route_verbs,
    G_N_ELEMENTS(route_verbs),
};
