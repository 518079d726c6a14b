/* relay - decide between executing a request here, relaying it to another
 * gateway by mail, and refusing it (loop, too many hops, no route).
 *
 * Pure: everything it needs comes in as arguments (the lookup result, the
 * received X-CTI-Hop values, this gateway's policy with the date to stamp),
 * so the milter calls it and Check tests it without a DB or a clock.  The
 * checks run in this order: this gateway already in the trace (loop), the
 * trace already over max_hops, then the route; a relay target already in the
 * trace is a loop too, and so is a relay that would make more than max_hops
 * traces.  The returned decision is owned by the caller.
 */
#include "relay.h"

#include <string.h>

#include "number.h"

/* relay_action_name - see relay.h */
const char *relay_action_name(CtiRelayAction action)
{
	switch (action) {
	case CTI_RELAY_LOCAL:
		return "local";
	case CTI_RELAY_FORWARD:
		return "forward";
	case CTI_RELAY_REFUSE_LOOP:
		return "refuse-loop";
	case CTI_RELAY_NO_ROUTE:
		return "no-route";
	}
	return "?";
}

/* relay_default_from_name - see relay.h */
gboolean relay_default_from_name(const char *name, CtiRelayDefault *out)
{
	if (g_strcmp0(name, "local") == 0)
		*out = CTI_RELAY_DEFAULT_LOCAL;
	else if (g_strcmp0(name, "refuse") == 0)
		*out = CTI_RELAY_DEFAULT_REFUSE;
	else
		return FALSE;
	return TRUE;
}

/* relay_check_self - a name that can appear in X-CTI-Hop and is not "local" */
static gboolean relay_check_self(const char *name)
{
	gsize len = strlen(name);

	if (len == 0 || len > 64 || !g_ascii_isalnum(name[0]) ||
	    g_ascii_strcasecmp(name, CTI_ROUTE_LOCAL) == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return FALSE;
	return TRUE;
}

/* relay_policy_from_config - see relay.h */
gboolean relay_policy_from_config(const CtiConfig *config, CtiRelayPolicy *policy, GError **error)
{
	const char *self = *config->gateway_name ? config->gateway_name : config->hostname;
	const char *intl = config->international_prefix;

	if (!relay_check_self(self)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		            "[routing] gateway_name: '%s' is not a gateway name (letters, digits, "
		            "'.', '_', '-', not 'local')",
		            self);
		return FALSE;
	}
	if (!relay_default_from_name(config->default_route, &policy->no_route)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		            "[routing] default_route: '%s' is not local or refuse",
		            config->default_route);
		return FALSE;
	}
	if (*intl && !number_is_digits(intl, 8)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		            "[routing] international_prefix: '%s' is not 1 to 8 digits", intl);
		return FALSE;
	}
	policy->self = self;
	policy->max_hops = config->max_hops;
	policy->date = NULL;
	return TRUE;
}

/* relay_hop_gateway - see relay.h */
char *relay_hop_gateway(const char *hop_value)
{
	const char *semi = strchr(hop_value, ';');
	g_autofree char *name =
	    g_strstrip(g_strndup(hop_value, semi ? (gsize)(semi - hop_value) : strlen(hop_value)));

	if (semi == NULL || *name == '\0')
		return NULL;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return NULL;
	return g_ascii_strdown(name, -1);
}

/* relay_new - a decision owning TEXT; control characters in TEXT (from a
 * destination the caller passed through) become '?', so it is safe in an SMTP reply */
static CtiRelayDecision *relay_new(CtiRelayAction action, const char *status, char *text)
{
	CtiRelayDecision *d = g_new0(CtiRelayDecision, 1);

	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	d->action = action;
	d->status = g_strdup(status);
	d->text = text;
	d->temporary = status[0] == '4';
	return d;
}

/* relay_trace_position - 1-based hop number naming NAME in HOPS, 0 if none */
static guint relay_trace_position(const char *const *hops, const char *name)
{
	for (guint i = 0; hops && hops[i]; i++) {
		g_autofree char *gw = relay_hop_gateway(hops[i]);

		if (gw && g_ascii_strcasecmp(gw, name) == 0)
			return i + 1;
	}
	return 0;
}

/* relay_check_trace - a refusal when HOPS already loop or are too many, else NULL */
static CtiRelayDecision *relay_check_trace(const char *const *hops, const CtiRelayPolicy *policy,
                                           int max_hops)
{
	guint n = hops ? g_strv_length((char **)hops) : 0;
	guint at = relay_trace_position(hops, policy->self);

	if (at)
		return relay_new(CTI_RELAY_REFUSE_LOOP, "5.4.6",
		                 g_strdup_printf("routing loop: the request has already passed "
		                                 "gateway %s (hop %u of %u)",
		                                 policy->self, at, n));
	if (n > (guint)max_hops)
		return relay_new(
		    CTI_RELAY_REFUSE_LOOP, "5.4.6",
		    g_strdup_printf("routing loop: too many hops (%u, at most %d)", n, max_hops));
	return NULL;
}

/* relay_no_route - the default for a destination the DB does not route */
static CtiRelayDecision *relay_no_route(const char *destination, const CtiRelayPolicy *policy)
{
	switch (policy->no_route) {
	case CTI_RELAY_DEFAULT_LOCAL:
		return relay_new(
		    CTI_RELAY_LOCAL, "2.0.0",
		    g_strdup_printf("no route for %s: executed here (default local)", destination));
	case CTI_RELAY_DEFAULT_REFUSE:
		break;
	}
	return relay_new(
	    CTI_RELAY_NO_ROUTE, "5.4.4",
	    g_strdup_printf("no route to %s: no gateway serves this destination", destination));
}

/* relay_forward - relay to the winner's gateway unless that would loop */
static CtiRelayDecision *relay_forward(const char *destination, const CtiRoute *w,
                                       const char *const *hops, const CtiRelayPolicy *policy,
                                       int max_hops)
{
	guint at = relay_trace_position(hops, w->gateway);
	guint n = hops ? g_strv_length((char **)hops) : 0;
	CtiRelayDecision *d;

	if (at)
		return relay_new(CTI_RELAY_REFUSE_LOOP, "5.4.6",
		                 g_strdup_printf("routing loop: %s routes %s to gateway %s, which "
		                                 "the request has already passed (hop %u)",
		                                 policy->self, destination, w->gateway, at));
	if (n + 1 > (guint)max_hops)
		return relay_new(
		    CTI_RELAY_REFUSE_LOOP, "5.4.6",
		    g_strdup_printf("routing loop: relaying %s to gateway %s would make "
		                    "%u hops, at most %d",
		                    destination, w->gateway, n + 1, max_hops));
	if (w->address == NULL || *w->address == '\0')
		return relay_new(CTI_RELAY_NO_ROUTE, "4.3.5",
		                 g_strdup_printf("route for %s names gateway %s, which has no CTI "
		                                 "address in the routing DB",
		                                 destination, w->gateway));
	d = relay_new(
	    CTI_RELAY_FORWARD, "2.0.0",
	    g_strdup_printf("relayed %s to gateway %s <%s>", destination, w->gateway, w->address));
	d->gateway = g_strdup(w->gateway);
	d->address = g_strdup(w->address);
	d->hop_value = g_strdup_printf("%s; %s", policy->self, policy->date);
	return d;
}

/* relay_decide - see relay.h */
CtiRelayDecision *relay_decide(const char *destination, const CtiRouteResult *result,
                               const char *const *hops, const CtiRelayPolicy *policy)
{
	int max_hops = policy->max_hops > 0 ? policy->max_hops : CTI_RELAY_DEFAULT_MAX_HOPS;
	const CtiRoute *w = result ? result->winner : NULL;
	CtiRelayDecision *d;

	g_return_val_if_fail(destination && policy && policy->self && policy->date, NULL);
	d = relay_check_trace(hops, policy, max_hops);
	if (d)
		return d;
	if (w == NULL)
		return relay_no_route(destination, policy);
	if (strcmp(w->gateway, CTI_ROUTE_LOCAL) == 0 ||
	    g_ascii_strcasecmp(w->gateway, policy->self) == 0)
		return relay_new(CTI_RELAY_LOCAL, "2.0.0",
		                 g_strdup_printf("%s is served here (%s)", destination,
		                                 result->why ? result->why : "local route"));
	return relay_forward(destination, w, hops, policy, max_hops);
}

/* relay_decision_free - see relay.h */
void relay_decision_free(CtiRelayDecision *decision)
{
	if (decision == NULL)
		return;
	g_free(decision->address);
	g_free(decision->gateway);
	g_free(decision->hop_value);
	g_free(decision->status);
	g_free(decision->text);
	g_free(decision);
}
