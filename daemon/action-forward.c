/* action-forward - "Action: forward-set" / "forward-clear": calls to
 * Destination are diverted to Forward-To by the gateway, as the routeing
 * application of Destination (ECMA-269 routeing services).
 *
 * forward-set writes the forwarding to the store first (table forwardings,
 * schema jobs-002), then RouteRegister(Destination); every RouteRequest for
 * that registration is answered with RouteSelect.  forward-clear removes the
 * row, then RouteRegisterCancel.  The stored forwardings are the truth: after
 * every (re)connect each is registered again (registrations die with the
 * session), and a ctid restart finds them in the store.
 * With [pbx] method=server-lines the route selected is the gateway's first
 * line; when the line has answered, the second line dials Forward-To and the
 * PBX's line board connects the two lines; when either leg clears, ctid clears
 * the other (a server-lines conference is bridged the same way).  The line
 * monitors that make ctid the lines' owner are started here on link up, for
 * both uses of the lines.
 * CtidForwards owns its registrations, line monitors and bridges; requests
 * carry a FwReq whose destroy notify frees it.  Failures: a refused
 * RouteRegister undoes the stored row; a RouteRequest for an unknown
 * registration gets RouteEnd, so the PBX applies its own treatment.
 */
#include <string.h>

#include "jobs-private.h"
#include "log.h"

typedef struct {
	char *device;
	char *forward_to;
	char *reg_id; /* NULL until RouteRegisterResponse */
} FwReg;

typedef struct {
	char *line_call; /* the forwarded call, now at line 1 */
	char *out_call;  /* line 2's call to Forward-To, NULL until MakeCallResponse */
	char *forward_to;
	gboolean dialling; /* line 2's MakeCall sent */
} FwBridge;

struct CtidForwards {
	CtidJobs *jobs;
	GHashTable *regs;       /* device -> FwReg */
	GHashTable *line_xrefs; /* monitorCrossRefID -> line */
	GPtrArray *bridges;     /* FwBridge */
	guint epoch;            /* bumped on link down: older replies are stale */
};

typedef struct {
	CtidForwards *fw;
	guint epoch;
	char *key; /* device or line */
} FwReq;

static void fw_reg_free(FwReg *r)
{
	g_free(r->device);
	g_free(r->forward_to);
	g_free(r->reg_id);
	g_free(r);
}

static void fw_bridge_free(FwBridge *b)
{
	g_free(b->line_call);
	g_free(b->out_call);
	g_free(b->forward_to);
	g_free(b);
}

static void fw_req_free(gpointer data)
{
	FwReq *q = data;

	g_free(q->key);
	g_free(q);
}

static FwReq *fw_req_new(CtidForwards *fw, const char *key)
{
	FwReq *q = g_new0(FwReq, 1);

	q->fw = fw;
	q->epoch = fw->epoch;
	q->key = g_strdup(key);
	return q;
}

static const char *fw_ns(const CtidForwards *fw)
{
	return link_namespace(fw->jobs->link);
}

static gboolean fw_lines(const CtidForwards *fw)
{
	return g_strcmp0(fw->jobs->config->call_method, "server-lines") == 0;
}

/* forwards_new - the route registrations of JOBS (none yet) */
CtidForwards *forwards_new(CtidJobs *jobs)
{
	CtidForwards *fw = g_new0(CtidForwards, 1);

	fw->jobs = jobs;
	fw->regs =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)fw_reg_free);
	fw->line_xrefs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	fw->bridges = g_ptr_array_new_with_free_func((GDestroyNotify)fw_bridge_free);
	return fw;
}

/* forwards_free - forget; NULL is a no-op */
void forwards_free(CtidForwards *fw)
{
	if (fw == NULL)
		return;
	g_hash_table_destroy(fw->regs);
	g_hash_table_destroy(fw->line_xrefs);
	g_ptr_array_unref(fw->bridges);
	g_free(fw);
}

static FwReg *fw_add(CtidForwards *fw, const char *device, const char *forward_to)
{
	FwReg *r = g_new0(FwReg, 1);

	r->device = g_strdup(device);
	r->forward_to = g_strdup(forward_to);
	g_hash_table_replace(fw->regs, r->device, r);
	return r;
}

/* ---- (re)registration after link up ---- */

static void on_reregistered(const CstaMessage *reply, const GError *error, gpointer data)
{
	FwReq *q = data;
	FwReg *r = g_hash_table_lookup(q->fw->regs, q->key);

	if (q->epoch != q->fw->epoch || r == NULL)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_ROUTE_REGISTER_RESPONSE) {
		log_warning("pbx: forwarding of %s to %s not registered again: %s", r->device,
		            r->forward_to,
		            reply ? (reply->error_value ? reply->error_value : reply->root)
		                  : error->message);
		return;
	}
	g_free(r->reg_id);
	r->reg_id = g_strdup(reply->route_register_id);
	log_info("pbx: forwarding of %s to %s registered (routeRegisterReqID %s)", r->device,
	         r->forward_to, r->reg_id);
}

static void on_line_monitor(const CstaMessage *reply, const GError *error, gpointer data)
{
	FwReq *q = data;

	if (q->epoch != q->fw->epoch)
		return;
	if (reply == NULL || reply->kind != CSTA_MSG_MONITOR_START_RESPONSE) {
		log_warning("pbx: server line %s not monitored, so not ours: %s", q->key,
		            reply ? (reply->error_value ? reply->error_value : reply->root)
		                  : error->message);
		return;
	}
	g_hash_table_replace(q->fw->line_xrefs, g_strdup(reply->monitor_xref), g_strdup(q->key));
	log_info("pbx: server line %s is ours (monitor %s)", q->key, reply->monitor_xref);
}

static void fw_request(CtidForwards *fw, char *xml, LinkReplyFunc cb, const char *key)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *owned = xml;

	if (!link_request(fw->jobs->link, owned, cb, fw_req_new(fw, key), fw_req_free, &error))
		log_warning("pbx: request for %s not sent: %s", key, error->message);
}

static void own_lines(CtidForwards *fw)
{
	g_auto(GStrv) lines = call_lines(fw->jobs->config);

	for (guint i = 0; lines[i] != NULL; i++)
		fw_request(fw, csta_build_monitor_start(fw_ns(fw), lines[i]), on_line_monitor,
		           lines[i]);
}

/* forwards_link_up - register every stored forwarding again */
void forwards_link_up(CtidForwards *fw)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) stored = store_forwards(fw->jobs->store, &error);

	if (fw_lines(fw))
		own_lines(fw);
	if (stored == NULL) {
		log_error("cannot read the stored forwardings: %s", error->message);
		return;
	}
	g_hash_table_remove_all(fw->regs);
	for (guint i = 0; i < stored->len; i++) {
		const CtiForward *f = g_ptr_array_index(stored, i);

		fw_add(fw, f->device, f->forward_to);
		fw_request(fw, csta_build_route_register(fw_ns(fw), f->device), on_reregistered,
		           f->device);
	}
}

/* forwards_link_down - every registration is gone with the session */
void forwards_link_down(CtidForwards *fw)
{
	GHashTableIter it;
	FwReg *r;

	fw->epoch++;
	g_hash_table_iter_init(&it, fw->regs);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&r))
		g_clear_pointer(&r->reg_id, g_free);
	g_hash_table_remove_all(fw->line_xrefs);
	g_ptr_array_set_size(fw->bridges, 0);
}

/* ---- routeing dialogues ---- */

static FwReg *fw_find(CtidForwards *fw, const CstaMessage *ev)
{
	GHashTableIter it;
	FwReg *r;

	g_hash_table_iter_init(&it, fw->regs);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&r))
		if (r->reg_id != NULL && g_strcmp0(r->reg_id, ev->route_register_id) == 0)
			return r;
	if (ev->called_device != NULL)
		return g_hash_table_lookup(fw->regs, ev->called_device);
	return NULL;
}

static void route_request(CtidForwards *fw, const CstaMessage *ev)
{
	FwReg *r = fw_find(fw, ev);
	g_auto(GStrv) lines = call_lines(fw->jobs->config);
	const char *target;

	if (r == NULL) {
		log_warning("pbx: RouteRequest %s for %s matches no forwarding; ended",
		            ev->route_xref, ev->called_device ? ev->called_device : "-");
		call_cleanup(fw->jobs, csta_build_route_end(fw_ns(fw), ev->route_xref,
		                                            ev->route_register_id));
		return;
	}
	target = r->forward_to;
	if (fw_lines(fw) && g_strv_length(lines) >= 2 && ev->call_id != NULL) {
		FwBridge *b = g_new0(FwBridge, 1);

		b->line_call = g_strdup(ev->call_id);
		b->forward_to = g_strdup(r->forward_to);
		g_ptr_array_add(fw->bridges, b);
		target = lines[0];
	}
	log_info("pbx: call %s from %s to %s forwarded to %s%s%s", ev->call_id ? ev->call_id : "-",
	         ev->calling_device ? ev->calling_device : "-", r->device, target,
	         target != r->forward_to ? " for " : "",
	         target != r->forward_to ? r->forward_to : "");
	call_cleanup(fw->jobs, csta_build_route_select(fw_ns(fw), ev->route_xref,
	                                               ev->route_register_id, target));
}

/* ---- server-line bridges ---- */

static FwBridge *bridge_of(CtidForwards *fw, const char *call_id, gboolean *out_leg)
{
	for (guint i = 0; call_id != NULL && i < fw->bridges->len; i++) {
		FwBridge *b = g_ptr_array_index(fw->bridges, i);

		*out_leg = g_strcmp0(b->out_call, call_id) == 0;
		if (*out_leg || g_strcmp0(b->line_call, call_id) == 0)
			return b;
	}
	return NULL;
}

static void on_bridge_call(const CstaMessage *reply, const GError *error, gpointer data)
{
	FwReq *q = data;
	gboolean out_leg;
	FwBridge *b;

	if (q->epoch != q->fw->epoch)
		return;
	b = bridge_of(q->fw, q->key, &out_leg);
	if (b == NULL || reply == NULL || reply->kind != CSTA_MSG_MAKE_CALL_RESPONSE) {
		log_warning("pbx: server line could not dial the forwarding target: %s",
		            reply   ? (reply->error_value ? reply->error_value : reply->root)
		            : error ? error->message
		                    : "call gone");
		return;
	}
	b->out_call = g_strdup(reply->call_id);
}

static void bridge_end(CtidForwards *fw, FwBridge *b, gboolean out_leg)
{
	g_auto(GStrv) lines = call_lines(fw->jobs->config);

	if (out_leg)
		call_cleanup(fw->jobs,
		             csta_build_clear_connection(fw_ns(fw), b->line_call, lines[0]));
	else if (b->out_call != NULL)
		call_cleanup(fw->jobs,
		             csta_build_clear_connection(fw_ns(fw), b->out_call, lines[1]));
	g_ptr_array_remove(fw->bridges, b);
}

static gboolean bridge_event(CtidForwards *fw, const CstaMessage *ev)
{
	gboolean out_leg = FALSE;
	FwBridge *b = bridge_of(fw, ev->call_id, &out_leg);
	g_auto(GStrv) lines = NULL;

	if (b == NULL)
		return FALSE;
	lines = call_lines(fw->jobs->config);
	if (ev->kind == CSTA_MSG_ESTABLISHED && !out_leg && !b->dialling &&
	    g_strcmp0(ev->device_id, lines[0]) == 0 && lines[1] != NULL) {
		log_info("pbx: server line %s took forwarded call %s; dialling %s from %s",
		         lines[0], b->line_call, b->forward_to, lines[1]);
		b->dialling = TRUE;
		fw_request(fw, csta_build_make_call(fw_ns(fw), lines[1], b->forward_to),
		           on_bridge_call, b->line_call);
		return TRUE;
	}
	/* the line's leg ends with the call or with the line itself (other parties may
	 * stay in a conference); the second line's two-party call ends with either */
	if (ev->kind == CSTA_MSG_CALL_CLEARED ||
	    ((ev->kind == CSTA_MSG_CONNECTION_CLEARED || ev->kind == CSTA_MSG_FAILED) &&
	     (out_leg || g_strcmp0(ev->device_id, lines[0]) == 0)))
		bridge_end(fw, b, out_leg);
	return TRUE;
}

/* forwards_bridge_add - a server-lines conference is up: LINE_CALL (line 1 in
 * Source's call) and OUT_CALL (line 2 to Destination) end together */
void forwards_bridge_add(CtidForwards *fw, const char *line_call, const char *out_call)
{
	FwBridge *b = g_new0(FwBridge, 1);

	b->line_call = g_strdup(line_call);
	b->out_call = g_strdup(out_call);
	b->dialling = TRUE;
	g_ptr_array_add(fw->bridges, b);
}

/* forwards_event - routeing messages and events of bridged calls; TRUE if taken */
gboolean forwards_event(CtidForwards *fw, const CstaMessage *ev)
{
	if (ev->kind == CSTA_MSG_ROUTE_REQUEST) {
		route_request(fw, ev);
		return TRUE;
	}
	if (ev->kind == CSTA_MSG_ROUTE_END || ev->kind == CSTA_MSG_ROUTE_USED) {
		log_debug("pbx: %s %s%s%s", ev->root, ev->route_xref,
		          ev->error_value ? " error " : "", ev->error_value ? ev->error_value : "");
		return TRUE;
	}
	switch (csta_call_event(ev->kind)) {
	case CSTA_EVENT_ESTABLISHED:
	case CSTA_EVENT_CONNECTION_CLEARED:
	case CSTA_EVENT_CALL_CLEARED:
	case CSTA_EVENT_FAILED:
		return fw->bridges->len > 0 && bridge_event(fw, ev);
	case CSTA_EVENT_NONE:
	case CSTA_EVENT_SERVICE_INITIATED:
	case CSTA_EVENT_ORIGINATED:
	case CSTA_EVENT_DELIVERED:
	case CSTA_EVENT_HELD:
	case CSTA_EVENT_RETRIEVED:
	case CSTA_EVENT_CONFERENCED:
	case CSTA_EVENT_TRANSFERRED:
	case CSTA_EVENT_DIVERTED:
		break;
	}
	return FALSE;
}

/* ---- the jobs ---- */

static void on_registered(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	CtidForwards *fw;
	FwReg *r;
	g_autofree char *reason = NULL;

	if (lj == NULL)
		return;
	fw = lj->jobs->forwards;
	r = g_hash_table_lookup(fw->regs, lj->req->destination);
	if (reply == NULL || reply->kind != CSTA_MSG_ROUTE_REGISTER_RESPONSE || r == NULL) {
		store_forward_clear(lj->jobs->store, lj->req->destination, NULL);
		g_hash_table_remove(fw->regs, lj->req->destination);
		call_fail_reply(lj, "RouteRegister refused", reply, error);
		return;
	}
	g_free(r->reg_id);
	r->reg_id = g_strdup(reply->route_register_id);
	reason = g_strdup_printf("calls to %s are now forwarded to %s%s", r->device, r->forward_to,
	                         fw_lines(fw) ? " through server lines" : "");
	jobs_attempt_done(lj, "registered", r->reg_id, CTI_JOB_SUCCESS, reason);
}

static void forward_set(LiveJob *lj)
{
	CtidForwards *fw = lj->jobs->forwards;
	const char *dev = lj->req->destination;
	g_autoptr(GError) error = NULL;
	g_autofree char *reason = NULL;
	FwReg *r = g_hash_table_lookup(fw->regs, dev);

	if (!store_forward_set(lj->jobs->store, dev, lj->req->forward_to, lj->job->id, &error)) {
		reason = g_strdup_printf("the forwarding could not be stored: %s", error->message);
		jobs_attempt_done(lj, "failed", "store", CTI_JOB_FAILED, reason);
		return;
	}
	if (r != NULL && r->reg_id != NULL) { /* registered already: only the target changes */
		/* never silently: the result names the diversion it replaces */
		if (g_strcmp0(r->forward_to, lj->req->forward_to) == 0)
			reason = g_strdup_printf("calls to %s were already forwarded to %s; unchanged",
			                         dev, r->forward_to);
		else
			reason = g_strdup_printf("calls to %s were forwarded to %s; that diversion is "
			                         "replaced: they are now forwarded to %s",
			                         dev, r->forward_to, lj->req->forward_to);
		jobs_log(lj, "forward-set device=%s replaces forward_to=%s by %s", dev, r->forward_to,
		         lj->req->forward_to);
		g_free(r->forward_to);
		r->forward_to = g_strdup(lj->req->forward_to);
		jobs_attempt_done(lj, "registered", r->reg_id, CTI_JOB_SUCCESS, reason);
		return;
	}
	fw_add(fw, dev, lj->req->forward_to);
	call_send(lj, CALL_REGISTERING, csta_build_route_register(call_ns(lj), dev), on_registered);
}

static void on_cancelled(const CstaMessage *reply, const GError *error, gpointer data)
{
	LiveJob *lj = call_req_job(data);
	g_autofree char *reason = NULL;

	if (lj == NULL)
		return;
	/* the stored row is gone: whatever the PBX said, nothing is forwarded after a reconnect */
	g_hash_table_remove(lj->jobs->forwards->regs, lj->req->destination);
	if (reply == NULL || reply->kind != CSTA_MSG_ROUTE_REGISTER_CANCEL_RESPONSE) {
		call_fail_reply(lj, "RouteRegisterCancel refused", reply, error);
		return;
	}
	reason = g_strdup_printf("calls to %s are no longer forwarded", lj->req->destination);
	jobs_attempt_done(lj, "cancelled", NULL, CTI_JOB_SUCCESS, reason);
}

static void forward_clear(LiveJob *lj)
{
	CtidForwards *fw = lj->jobs->forwards;
	const char *dev = lj->req->destination;
	g_autoptr(GError) error = NULL;
	g_autofree char *reason = NULL;
	FwReg *r = g_hash_table_lookup(fw->regs, dev);

	if (!store_forward_clear(lj->jobs->store, dev, &error)) {
		gboolean none = g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND);

		lj->no_retry = none;
		reason = none ? g_strdup_printf("no forwarding is set for %s", dev)
		              : g_strdup_printf("the forwarding could not be removed: %s",
		                                error->message);
		jobs_attempt_done(lj, "failed", none ? "none" : "store", CTI_JOB_FAILED, reason);
		return;
	}
	if (r == NULL || r->reg_id == NULL) {
		g_hash_table_remove(fw->regs, dev);
		reason = g_strdup_printf("calls to %s are no longer forwarded", dev);
		jobs_attempt_done(lj, "cancelled", NULL, CTI_JOB_SUCCESS, reason);
		return;
	}
	call_send(lj, CALL_REGISTERING, csta_build_route_register_cancel(call_ns(lj), r->reg_id),
	          on_cancelled);
}

/* forward_start - run LJ's forward-set / forward-clear attempt */
void forward_start(LiveJob *lj)
{
	switch (lj->req->action) {
	case CTI_ACTION_FORWARD_SET:
		forward_set(lj);
		return;
	case CTI_ACTION_FORWARD_CLEAR:
		forward_clear(lj);
		return;
	case CTI_ACTION_CONNECT:
	case CTI_ACTION_CONFERENCE:
	case CTI_ACTION_INTRUDE:
		break;
	}
	g_return_if_reached();
}
