/* route-step - the milter's routing step: once a request is valid, decide
 * whether it is executed here, relayed by mail to another gateway, or refused.
 *
 * What is looked up, in this order:
 *   1. the request's Destination: a number prefix route (not the default
 *      route) wins;
 *   2. else the envelope recipient the request is for: an address or a
 *      domain route wins;
 *   3. else the default route of the DB ("" / "default"), and without one
 *      [routing] default_route (execute here, or refuse 550 5.4.4).
 * Then relay_decide() checks the received X-CTI-Hop trace (loops, max_hops).
 *
 * A relayed request leaves with its recipient rewritten to the next
 * gateway's CTI address and a new X-CTI-Hop header on top; no job is made
 * here.  A refusal is a FILTER_ERROR GError: FILTER_ERROR_ROUTE_LOOP
 * (550 5.4.6), FILTER_ERROR_NO_ROUTE (550 5.4.4), FILTER_ERROR_ROUTE_TEMP
 * (451 4.3.5, a route naming a gateway without an address), FILTER_ERROR_TEMP
 * (the DB is locked or broken) or FILTER_ERROR_REQUEST (a Destination the DB
 * cannot take).
 *
 * RouteStep is the process-wide router: the config's policy and one routes DB
 * handle shared by libmilter's threads behind a mutex (a CtiRouteDb is
 * single-thread).  The DB is opened on first use; while the file does not
 * exist every request takes the default (logged once), and it is picked up
 * as soon as it appears.  ctictl's changes are seen at the next lookup
 * (the lib checks PRAGMA data_version).
 */
#ifndef MAILCTI_FILTER_ROUTE_STEP_H
#define MAILCTI_FILTER_ROUTE_STEP_H

#include <glib.h>

/* by path: the build tree's autoconf config.h comes first on the include path */
#include "../lib/config.h"
#include "relay.h"
#include "request.h"
#include "route.h"

typedef struct {
	const CtiRequest *request; /* the validated request */
	const char *recipient;     /* the envelope recipient it is for, without <>; "" or NULL */
	const char *const *hops;   /* X-CTI-Hop values received, top first; NULL-ended or NULL */
} RouteStepInput;

typedef struct {
	CtiRelayAction action; /* CTI_RELAY_LOCAL or CTI_RELAY_FORWARD (refusals are errors) */
	char *looked_up;       /* what decided: the destination, the recipient, or "" (no route) */
	char *text;            /* one line for the log */
	char *gateway;         /* FORWARD: the next gateway's name */
	char *del_rcpt;        /* FORWARD: the recipient to delete, "<addr>" */
	char *add_rcpt;        /* FORWARD: the recipient to add, "<addr>" */
	char *hop_header;      /* FORWARD: the X-CTI-Hop value to insert at the top */
} RouteStepResult;

typedef struct RouteStep RouteStep;

/* route_step_new - the router for CONFIG's [routing] settings (borrowed, must
 * outlive it); NULL + a G_KEY_FILE_ERROR on a bad setting (a start-up error) */
RouteStep *route_step_new(const CtiConfig *config, GError **error);
/* route_step_free - close the DB; NULL is a no-op */
void route_step_free(RouteStep *rs);
/* route_step_decide - route IN now (thread-safe); (transfer full) or NULL + FILTER_ERROR */
RouteStepResult *route_step_decide(RouteStep *rs, const RouteStepInput *in, GError **error);

/* route_step_run - the step itself on DB (NULL: no routes DB) with POLICY, whose
 * date must be set; (transfer full) or NULL + FILTER_ERROR */
RouteStepResult *route_step_run(CtiRouteDb *db, const RouteStepInput *in,
                                const CtiRelayPolicy *policy, GError **error);
/* route_step_date - an RFC 5322 date for UNIX_SECONDS (UTC), locale-independent (transfer full) */
char *route_step_date(gint64 unix_seconds);
/* route_step_result_free - free; NULL is a no-op */
void route_step_result_free(RouteStepResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RouteStep, route_step_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RouteStepResult, route_step_result_free)

#endif
