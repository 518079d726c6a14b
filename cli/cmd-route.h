/* cmd-route - what the route and gateway subcommands of ctictl share:
 * opening the routes DB from the configuration, and printing routes and
 * lookup results as text or JSON (route-print.c). */
#ifndef MAILCTI_CMD_ROUTE_H
#define MAILCTI_CMD_ROUTE_H

#include "ctictl.h"
#include "route.h"

/* ctl_routes_open - the DB of [routing] db; NULL with *RC set after printing why */
CtiRouteDb *ctl_routes_open(CtlContext *ctx, gboolean writable, int *rc);

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
