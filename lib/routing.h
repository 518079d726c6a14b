/* routing - where a request is executed: the one routing decision of
 * cti-milter's routing step (filter/route-step.c) and of the dry run
 * (lib/explain.c), so that explain routes exactly as the milter does.
 *
 * What is looked up, in this order:
 *   1. the request's Destination: a number prefix route (not the default
 *      route) wins;
 *   2. else the envelope recipient the request is for: an address or a
 *      domain route wins;
 *   3. else the default route of the DB ("" / "default"), and without one
 *      [routing] default_route.
 * Then relay_decide() checks the received X-CTI-Hop trace (loops, max_hops).
 */
#ifndef MAILCTI_ROUTING_H
#define MAILCTI_ROUTING_H

#include <glib.h>

#include "relay.h"
#include "route.h"

/* routing_decide - the decision for DESTINATION (may be NULL) and RECIPIENT (may be NULL)
 * with the HOPS received (NULL-ended or NULL) and POLICY (date set) over DB (NULL: no
 * routes DB) (transfer full); *LOOKED_UP_OUT (transfer full): what decided, "" for no
 * route.  NULL + CTI_ROUTE_ERROR on a lookup failure: INVALID is a Destination the DB
 * cannot take ("... cannot be routed: ..."), anything else the DB ("routes DB lookup of
 * ...") */
CtiRelayDecision *routing_decide(CtiRouteDb *db, const char *destination, const char *recipient,
                                 const char *const *hops, const CtiRelayPolicy *policy,
                                 char **looked_up_out, GError **error);

#endif
