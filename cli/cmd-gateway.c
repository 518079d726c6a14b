/* cmd-gateway - "ctictl gateway ...": add, del, list the other gateways
 * this one relays to (name -> CTI mail address) in the routes DB.
 *
 * A gateway must exist before a route names it, and cannot be deleted while
 * a route still does; both rules are the route module's, reported here as
 * one line.  See ctictl.h for the exit statuses.
 */
#include "cmd-route.h"

static int gateway_add_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
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
		return ctl_usage(ctx, cmd, "gateway add: NAME and ADDRESS expected");
	db = ctl_routes_open(ctx, TRUE, &rc);
	if (db == NULL)
		return rc;
	if (!route_gateway_add(db, argv[2], argv[3], note, &error))
		return ctl_fail(ctx, "gateway add: %s", error->message);
	return CTL_EXIT_OK;
}

static int gateway_del_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = CTL_EXIT_OK;

	if (argc != 3)
		return ctl_usage(ctx, cmd, "gateway del: NAME expected");
	db = ctl_routes_open(ctx, TRUE, &rc);
	if (db == NULL)
		return rc;
	if (!route_gateway_del(db, argv[2], &error))
		return ctl_fail(ctx, "gateway del: %s", error->message);
	return CTL_EXIT_OK;
}

static int gateway_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
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
		return ctl_usage(ctx, cmd, "gateway list: unexpected argument '%s'", argv[2]);
	db = ctl_routes_open(ctx, FALSE, &rc);
	if (db == NULL)
		return rc;
	rows = route_gateway_list(db, &error);
	if (rows == NULL)
		return ctl_fail(ctx, "gateway list: %s", error->message);
	ctl_print_gateways(ctx, rows, json);
	return CTL_EXIT_OK;
}

static const CtlVerb gateway_verbs[] = {
    {"add", gateway_add_cmd},
    {"del", gateway_del_cmd},
    {"list", gateway_list_cmd},
};

static int cmd_gateway(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return ctl_dispatch_verb(ctx, cmd, gateway_verbs, G_N_ELEMENTS(gateway_verbs), argc, argv);
}

const CtlCommand cmd_gateway_command = {
    "gateway",
    cmd_gateway,
    "  gateway add NAME ADDRESS [--note TEXT]\n"
    "  gateway del NAME\n"
    "  gateway list [--json]",
};
