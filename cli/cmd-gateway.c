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
	return ctl_routes_add(ctx, cmd, argc, argv, "NAME and ADDRESS expected", route_gateway_add);
}

static int gateway_del_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return ctl_routes_del(ctx, cmd, argc, argv, "NAME expected", route_gateway_del);
}

static int gateway_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {CTL_JSON_OPTION(json), {NULL}};
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(GPtrArray) gateways = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_routes_read(ctx, cmd, entries, &argc, &argv, 2, NULL, &db);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (!(gateways = route_gateway_list(db, &error)))
		return ctl_verb_fail(ctx, argv, error);
	ctl_print_gateways(ctx, gateways, json);
	return CTL_EXIT_OK;
}

static const CtlVerb gateway_verbs[] = {
    {"add", gateway_add_cmd},
    {"del", gateway_del_cmd},
    {"list", gateway_list_cmd},
};

const CtlCommand cmd_gateway_command = {
    "gateway",
    NULL,
    "  gateway add NAME ADDRESS [--note TEXT]\n"
    "  gateway del NAME\n"
    "  gateway list [--json]",
    gateway_verbs,
    G_N_ELEMENTS(gateway_verbs),
};
