/* routing - the routing decision shared by the milter and explain (routing.h).
 *
 * Lookups run on a borrowed DB handle (the caller serialises access); the
 * decision and the looked-up string are the caller's.  What can fail: the
 * DB (locked, broken) and a Destination it cannot parse, both as
 * CTI_ROUTE_ERROR whose message names what was looked up.
 */
#include "routing.h"

#include <string.h>

/* routing_error - LOCAL as the error for WHAT: INVALID "cannot be routed", else DB trouble */
static void routing_error(const GError *local, const char *what, GError **error)
{
	if (local->domain == CTI_ROUTE_ERROR && local->code == CTI_ROUTE_ERROR_INVALID)
		g_set_error(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID,
		            "%s cannot be routed: %s", what, local->message);
	else
		g_set_error(error, local->domain, local->code, "routes DB lookup of %s: %s", what,
		            local->message);
}

/* routing_by_number - the lookup of the Destination; NULL with no error when there is none */
static CtiRouteResult *routing_by_number(CtiRouteDb *db, const char *destination, GError **error)
{
	g_autoptr(GError) local = NULL;
	CtiRouteResult *result;

	if (destination == NULL || *destination == '\0')
		return NULL;
	result = route_lookup(db, destination, &local);
	if (result == NULL) {
		g_autofree char *what = g_strdup_printf("Destination: '%s'", destination);

		routing_error(local, what, error);
	}
	return result;
}

/* routing_by_address - the lookup of the recipient; an address the DB
 * cannot parse has no route of its own (NULL, no error) */
static CtiRouteResult *routing_by_address(CtiRouteDb *db, const char *recipient, GError **error)
{
	g_autoptr(GError) local = NULL;
	CtiRouteResult *result;

	if (recipient == NULL || strchr(recipient, '@') == NULL)
		return NULL;
	result = route_lookup(db, recipient, &local);
	if (result == NULL && !g_error_matches(local, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID))
		routing_error(local, recipient, error);
	return result;
}

static gboolean routing_specific(const CtiRouteResult *result, gboolean number)
{
	const CtiRoute *w = result ? result->winner : NULL;

	if (w == NULL)
		return FALSE;
	return number ? w->kind == CTI_ROUTE_PREFIX && *w->key != '\0' : w->kind != CTI_ROUTE_PREFIX;
}

/* routing_lookup - the result that decides (NULL: no route at all), and
 * in LOOKED_UP what it was taken for; FALSE + error on a DB failure */
static gboolean routing_lookup(CtiRouteDb *db, const char *destination, const char *recipient,
                               CtiRouteResult **out, const char **looked_up, GError **error)
{
	g_autoptr(CtiRouteResult) by_number = NULL;
	g_autoptr(CtiRouteResult) by_address = NULL;
	GError *local = NULL;

	*out = NULL;
	*looked_up = "";
	if (db == NULL)
		return TRUE;
	by_number = routing_by_number(db, destination, &local);
	if (local == NULL && !routing_specific(by_number, TRUE))
		by_address = routing_by_address(db, recipient, &local);
	if (local != NULL) {
		g_propagate_error(error, local);
		return FALSE;
	}
	if (routing_specific(by_address, FALSE)) {
		*looked_up = recipient;
		*out = g_steal_pointer(&by_address);
	} else if (by_number != NULL) {
		*looked_up = destination;
		*out = g_steal_pointer(&by_number);
	} else if (by_address != NULL) {
		*looked_up = recipient;
		*out = g_steal_pointer(&by_address);
	}
	if (*out != NULL && (*out)->winner == NULL)
		*looked_up = "";
	return TRUE;
}

/* routing_decide - see routing.h */
CtiRelayDecision *routing_decide(CtiRouteDb *db, const char *destination, const char *recipient,
                                 const char *const *hops, const CtiRelayPolicy *policy,
                                 char **looked_up_out, GError **error)
{
	g_autoptr(CtiRouteResult) result = NULL;
	const char *looked_up = "";
	const char *subject = destination ? destination : (recipient ? recipient : "");

	g_return_val_if_fail(policy != NULL && looked_up_out != NULL, NULL);
	if (!routing_lookup(db, destination, recipient, &result, &looked_up, error))
		return NULL;
	*looked_up_out = g_strdup(looked_up);
	return relay_decide(*looked_up ? looked_up : subject, result, hops, policy);
}
