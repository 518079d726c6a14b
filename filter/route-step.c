/* route-step - the routing step of cti-milter: look the request up in the
 * routing DB and turn relay_decide()'s answer into milter actions or an error.
 *
 * route_step_run() is the plain function (DB handle and policy passed in) that
 * Check drives; the lookup and the decision are lib/routing.c, shared with
 * the dry run (lib/explain.c); route_step_decide() wraps it for the milter's threads: it
 * holds the process-wide RouteStep mutex around every use of the one
 * CtiRouteDb (SQLite opened without its own mutex), opens the DB lazily and
 * stamps the hop with the current time.  The RouteStep owns the DB handle;
 * results are owned by the caller.  What can fail: the DB (locked, broken,
 * schema too new: temporary), a Destination the DB cannot parse (permanent),
 * and the decision itself (loop, no route): all FILTER_ERROR GErrors.
 */
#include "route-step.h"

#include <string.h>

#include "log.h"
#include "reply.h"
#include "routing.h"

struct RouteStep {
	const CtiConfig *config;
	CtiRelayPolicy policy; /* strings point into config; date set per lookup */
	GMutex lock;           /* guards db and missing_logged */
	CtiRouteDb *db;        /* NULL until the file exists */
	gboolean missing_logged;
};

/* route_step_date - see route-step.h */
char *route_step_date(gint64 unix_seconds)
{
	static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_seconds);

	g_return_val_if_fail(dt != NULL, NULL);
	return g_strdup_printf(
	    "%s, %02d %s %04d %02d:%02d:%02d +0000", days[g_date_time_get_day_of_week(dt) - 1],
	    g_date_time_get_day_of_month(dt), months[g_date_time_get_month(dt) - 1],
	    g_date_time_get_year(dt), g_date_time_get_hour(dt), g_date_time_get_minute(dt),
	    g_date_time_get_second(dt));
}

/* route_step_db_error - a lookup failure as a FILTER_ERROR: DB trouble is temporary */
static void route_step_db_error(GError *local, GError **error)
{
	int code = local->domain == CTI_ROUTE_ERROR && local->code == CTI_ROUTE_ERROR_INVALID
	               ? FILTER_ERROR_REQUEST
	               : FILTER_ERROR_TEMP;

	g_set_error_literal(error, FILTER_ERROR, code, local->message);
	g_error_free(local);
}

/* route_step_refusal - the FILTER_ERROR for a decision that is not LOCAL/FORWARD */
static void route_step_refusal(const CtiRelayDecision *d, GError **error)
{
	int code = FILTER_ERROR_NO_ROUTE;

	switch (d->action) {
	case CTI_RELAY_REFUSE_LOOP:
		code = FILTER_ERROR_ROUTE_LOOP;
		break;
	case CTI_RELAY_NO_ROUTE:
		code = d->temporary ? FILTER_ERROR_ROUTE_TEMP : FILTER_ERROR_NO_ROUTE;
		break;
	case CTI_RELAY_LOCAL:
	case CTI_RELAY_FORWARD:
		g_assert_not_reached();
	}
	g_set_error_literal(error, FILTER_ERROR, code, d->text);
}

/* route_step_result - the result for a LOCAL or FORWARD decision (transfer full) */
static RouteStepResult *route_step_result(const CtiRelayDecision *d, const char *looked_up,
                                          const RouteStepInput *in)
{
	RouteStepResult *r = g_new0(RouteStepResult, 1);

	r->action = d->action;
	r->looked_up = g_strdup(looked_up);
	r->text = g_strdup(d->text);
	if (d->action != CTI_RELAY_FORWARD)
		return r;
	r->gateway = g_strdup(d->gateway);
	r->add_rcpt = g_strdup_printf("<%s>", d->address);
	if (in->recipient != NULL && *in->recipient != '\0')
		r->del_rcpt = g_strdup_printf("<%s>", in->recipient);
	r->hop_header = g_strdup(d->hop_value);
	return r;
}

/* route_step_check_target - a relay to the very address the mail came to would
 * be delivered here without a job (a gateway entry naming this gateway's own
 * address): an operator's error, answered 451 so that nothing is lost */
static gboolean route_step_check_target(const CtiRelayDecision *d, const RouteStepInput *in,
                                        GError **error)
{
	if (in->recipient == NULL || g_ascii_strcasecmp(d->address, in->recipient) != 0)
		return TRUE;
	g_set_error(error, FILTER_ERROR, FILTER_ERROR_ROUTE_TEMP,
	            "gateway %s has this recipient's own address <%s>: relaying would not "
	            "reach it",
	            d->gateway, d->address);
	return FALSE;
}

/* route_step_run - see route-step.h */
RouteStepResult *route_step_run(CtiRouteDb *db, const RouteStepInput *in,
                                const CtiRelayPolicy *policy, GError **error)
{
	g_autoptr(CtiRelayDecision) d = NULL;
	g_autofree char *looked_up = NULL;
	GError *local = NULL;

	g_return_val_if_fail(in != NULL && in->request != NULL && policy != NULL, NULL);
	d = routing_decide(db, in->request->destination, in->recipient, in->hops, policy,
	                   &looked_up, &local);
	if (d == NULL) {
		route_step_db_error(local, error);
		return NULL;
	}
	switch (d->action) {
	case CTI_RELAY_FORWARD:
		if (!route_step_check_target(d, in, error))
			return NULL;
		return route_step_result(d, looked_up, in);
	case CTI_RELAY_LOCAL:
		return route_step_result(d, looked_up, in);
	case CTI_RELAY_REFUSE_LOOP:
	case CTI_RELAY_NO_ROUTE:
		break;
	}
	route_step_refusal(d, error);
	return NULL;
}

/* route_step_new - see route-step.h */
RouteStep *route_step_new(const CtiConfig *config, GError **error)
{
	RouteStep *rs = g_new0(RouteStep, 1);

	if (!relay_policy_from_config(config, &rs->policy, error)) {
		g_free(rs);
		return NULL;
	}
	rs->config = config;
	g_mutex_init(&rs->lock);
	return rs;
}

/* route_step_free - see route-step.h */
void route_step_free(RouteStep *rs)
{
	if (rs == NULL)
		return;
	g_clear_pointer(&rs->db, route_close);
	g_mutex_clear(&rs->lock);
	g_free(rs);
}

/* route_step_db - the open DB, NULL while the file does not exist (called locked) */
static gboolean route_step_db(RouteStep *rs, CtiRouteDb **db_out, GError **error)
{
	const char *path = rs->config->routes_db;
	g_autoptr(GError) local = NULL;

	*db_out = rs->db;
	if (rs->db != NULL)
		return TRUE;
	rs->db = route_open(path, FALSE, &local);
	if (rs->db == NULL && g_error_matches(local, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND)) {
		if (!rs->missing_logged)
			log_warning("routes DB %s does not exist: every request takes the default "
			            "route (%s) until it does",
			            path, rs->config->default_route);
		rs->missing_logged = TRUE;
		return TRUE;
	}
	if (rs->db == NULL) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "cannot open the routes DB: %s",
		            local->message);
		return FALSE;
	}
	route_set_international_prefix(rs->db, rs->config->international_prefix);
	log_info("routes DB %s opened", path);
	rs->missing_logged = FALSE;
	*db_out = rs->db;
	return TRUE;
}

/* route_step_decide - see route-step.h */
RouteStepResult *route_step_decide(RouteStep *rs, const RouteStepInput *in, GError **error)
{
	g_autofree char *date = route_step_date(g_get_real_time() / G_USEC_PER_SEC);
	CtiRelayPolicy policy = rs->policy;
	RouteStepResult *result = NULL;
	CtiRouteDb *db = NULL;

	policy.date = date;
	g_mutex_lock(&rs->lock);
	if (route_step_db(rs, &db, error))
		result = route_step_run(db, in, &policy, error);
	g_mutex_unlock(&rs->lock);
	return result;
}

/* route_step_result_free - see route-step.h */
void route_step_result_free(RouteStepResult *result)
{
	if (result == NULL)
		return;
	g_free(result->looked_up);
	g_free(result->text);
	g_free(result->gateway);
	g_free(result->del_rcpt);
	g_free(result->add_rcpt);
	g_free(result->hop_header);
	g_free(result);
}
