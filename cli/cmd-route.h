/* cmd-route - what the route and gateway subcommands of ctictl share:
 * opening the routes DB from the configuration, and printing routes and
 * lookup results as text or JSON (route-print.c); the add, del and
 * read-only verb scaffolding both use (cmd-route.c). */
#ifndef MAILCTI_CMD_ROUTE_H
#define MAILCTI_CMD_ROUTE_H

#include "ctictl.h"
#include "route.h"

/* ctl_routes_open - the DB of [routing] db; NULL with *RC set after printing why */
CtiRouteDb *ctl_routes_open(CtlContext *ctx, gboolean writable, int *rc);

/* ctl_routes_read - ctl_verb_args, then the routes DB read-only in *DB; CTL_EXIT_OK or the
 * status to exit with after printing why */
int ctl_routes_read(CtlContext *ctx, const CtlCommand *cmd, const GOptionEntry *entries, int *argc,
                    char ***argv, int want, const char *expected, CtiRouteDb **db);
/* a change naming two words and a note: route_add, route_gateway_add */
typedef gboolean (*CtlRoutesAdd)(CtiRouteDb *db, const char *a, const char *b, const char *note,
                                 GError **error);
/* a change naming one word: route_del, route_gateway_del */
typedef gboolean (*CtlRoutesDel)(CtiRouteDb *db, const char *a, GError **error);
/* ctl_routes_add - "command add A B [--note TEXT]": ADD on the writable routes DB;
 * EXPECTED is the usage text for other words */
int ctl_routes_add(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv,
                   const char *expected, CtlRoutesAdd add);
/* ctl_routes_del - "command del A": DEL on the writable routes DB */
int ctl_routes_del(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv,
                   const char *expected, CtlRoutesDel del);

/* ctl_print_routes_table - one aligned line per route */
void ctl_print_routes_table(CtlContext *ctx, GPtrArray *routes);
/* ctl_print_routes_json - a JSON array of route objects */
void ctl_print_routes_json(CtlContext *ctx, GPtrArray *routes);
/* ctl_print_lookup_text - the winner, why, and every candidate considered */
void ctl_print_lookup_text(CtlContext *ctx, const char *asked, const CtiRouteResult *result);
/* ctl_print_lookup_json - the same as one JSON object */
void ctl_print_lookup_json(CtlContext *ctx, const char *asked, const CtiRouteResult *result);
/* ctl_print_gateways - gateways as text or JSON */
void ctl_print_gateways(CtlContext *ctx, GPtrArray *gateways, gboolean json);

#endif
