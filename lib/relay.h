/* relay - the decision the milter takes once the routing DB has answered:
 * execute here, relay by mail to another gateway, or refuse.
 *
 * Hop trace: every gateway that relays a request adds one header
 *   X-CTI-Hop: <gateway-name>; <RFC 5322 date>
 * above the ones it received.  A request that reaches a gateway already named
 * in its trace, that would be relayed to a gateway already named, that
 * arrives with more than max_hops traces or that would leave with more, is
 * refused with 5.4.6 (routing loop), never relayed.
 * relay_decide() is a pure function: no DB, no clock, no I/O.
 */
#ifndef MAILCTI_RELAY_H
#define MAILCTI_RELAY_H

#include <glib.h>
#include "config.h"
#include "route.h"

#define CTI_RELAY_HOP_HEADER       "X-CTI-Hop"
#define CTI_RELAY_DEFAULT_MAX_HOPS 8

typedef enum {
	CTI_RELAY_LOCAL,       /* execute on this gateway */
	CTI_RELAY_FORWARD,     /* rewrite the recipient to address, add hop_value */
	CTI_RELAY_REFUSE_LOOP, /* 550 5.4.6 text */
	CTI_RELAY_NO_ROUTE,    /* 550 5.4.4, or 451 4.3.5 when temporary */
} CtiRelayAction;

typedef enum {
	CTI_RELAY_DEFAULT_LOCAL,  /* no route: execute here */
	CTI_RELAY_DEFAULT_REFUSE, /* no route: refuse */
} CtiRelayDefault;

typedef struct {
	const char *self;         /* this gateway's name ([routing] gateway_name) */
	int max_hops;             /* traces a request may carry; <= 0: CTI_RELAY_DEFAULT_MAX_HOPS */
	CtiRelayDefault no_route; /* what to do when the DB has no route */
	const char *date;         /* RFC 5322 date for the new hop header (caller's clock) */
} CtiRelayPolicy;

typedef struct {
	CtiRelayAction action;
	char *address;      /* FORWARD: the next gateway's CTI address */
	char *gateway;      /* FORWARD: the next gateway's name */
	char *hop_value;    /* FORWARD: value of the X-CTI-Hop header to add */
	char *status;       /* enhanced status code: "2.0.0", "5.4.6", "5.4.4", "4.3.5" */
	char *text;         /* a line for the SMTP reply or the log */
	gboolean temporary; /* refuse with 4xx, not 5xx */
} CtiRelayDecision;

/* relay_hop_gateway - the gateway name of one X-CTI-Hop value, lower-case, or
 * NULL when the value is malformed (transfer full) */
char *relay_hop_gateway(const char *hop_value);
/* relay_decide - what to do with a request for DESTINATION given the lookup
 * RESULT (NULL = no route), the received HOPS (X-CTI-Hop values, NULL-terminated,
 * may be NULL) and POLICY (transfer full) */
CtiRelayDecision *relay_decide(const char *destination, const CtiRouteResult *result,
                               const char *const *hops, const CtiRelayPolicy *policy);
/* relay_policy_from_config - POLICY from CONFIG's [routing] group: self is
 * gateway_name, or [ctid] hostname when that is empty; max_hops; default_route.
 * international_prefix is checked too (1..8 digits or empty).  FALSE + a
 * G_KEY_FILE_ERROR naming the key on a bad value (a start-up error).  POLICY's
 * strings point into CONFIG; date is left NULL for the caller to set per mail. */
gboolean relay_policy_from_config(const CtiConfig *config, CtiRelayPolicy *policy, GError **error);
/* relay_default_from_name - "local" or "refuse" ([routing] default_route); FALSE if neither */
gboolean relay_default_from_name(const char *name, CtiRelayDefault *out);
/* relay_action_name - "local", "forward", "refuse-loop", "no-route" */
const char *relay_action_name(CtiRelayAction action);
void relay_decision_free(CtiRelayDecision *decision);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiRelayDecision, relay_decision_free)

#endif
