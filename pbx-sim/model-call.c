/* model-call.c - call progress in the simulated switch: MakeCall (with the
 * autoOriginate prompt answered by the calling device's behaviour), delivery of a
 * call to a number (forwarding, route points, the configured behaviour),
 * answer, failure, clearing, hold/retrieve, consultation, conference, transfer,
 * single-step variants and deflection, each with its CSTA events.
 *
 * Behaviour of a called device and the causes it produces:
 *   answer-after N  Delivered(newCall), Established(normal) after N s
 *   busy            Failed(busy)                 busy-for N: busy until N s
 *   never-answer    Delivered, rings until cleared (or forwardNoAns)
 *   decline         Delivered, Failed(callCancelled) after 1 s
 *   invalid         Failed(invalidNumberFormat)  dnd: Failed(doNotDisturb)
 *   fax             Delivered, Established after 1 s
 *   unreachable     Failed(destNotObtainable) for an extension, networkNotObtainable
 *                   for an external number; an unconfigured number fails with
 *                   numberUnallocated, a server line no client owns with
 *                   destOutOfOrder.
 * An answered external party hangs up (ConnectionCleared, normalClearing) after
 * its talk_time, so that the number can be called again.
 * A failed leg is released fail_release s later (the caller hangs up); a call
 * with fewer than two live connections is cleared (ConnectionCleared for each,
 * then CallCleared).  Timers belong to the connection and die with it.
 */
#include "model-private.h"

#include <string.h>

#include "simlog.h"

#define MAX_DIVERSIONS 8

static void
party_event(ModelConn *conn, EvKind kind, const char *cause)
{
	EvInfo ev = { .kind = kind, .call = conn->call->id, .device = conn->device,
		      .subject = conn->device, .calling = conn->call->calling,
		      .called = conn->call->called, .redir = conn->last_redir, .cause = cause };
	emit(conn->call, conn->dev, &ev);
}

static gboolean
on_fail_release(gpointer data)
{
	ModelConn *conn = data;
	conn->timer = 0;
	model_clear_connection(conn, "normalClearing");
	return G_SOURCE_REMOVE;
}

static void
fail(ModelConn *conn, const char *cause)
{
	g_clear_handle_id(&conn->timer, g_source_remove);
	g_clear_handle_id(&conn->noans_timer, g_source_remove);
	conn_set(conn, CONN_FAIL, cause);
	party_event(conn, EV_FAILED, cause);
	conn->timer = simlog_timeout_add(model.conf->fail_release, on_fail_release, conn);
}

/* Forwarding types by condition: the plain one, then the internal/external variant. */
static const char *
fwd_lookup(ModelDevice *d, const char *base, const ModelCall *call)
{
	static const char *const variants[][3] = {
		{ "forwardImmediate", "forwardImmInt", "forwardImmExt" },
		{ "forwardBusy", "forwardBusyInt", "forwardBusyExt" },
		{ "forwardNoAns", "forwardNoAnsInt", "forwardNoAnsExt" },
		{ "forwardDND", "forwardDNDInt", "forwardDNDExt" },
	};
	ModelDevice *caller = model_device(call->calling);
	gboolean internal = caller != NULL && caller->kind != SIM_DEV_EXTERNAL;
	for (gsize i = 0; i < G_N_ELEMENTS(variants); i++) {
		if (strcmp(variants[i][0], base) != 0)
			continue;
		const char *dn = g_hash_table_lookup(d->fwd, variants[i][0]);
		return dn ? dn : g_hash_table_lookup(d->fwd, variants[i][internal ? 1 : 2]);
	}
	return NULL;
}

static void
divert(ModelConn *conn, const char *to, const char *cause)
{
	ModelCall *call = conn->call;
	g_autofree char *from = g_strdup(conn->device);
	g_autofree char *dest = g_strdup(to);
	EvInfo ev = { .kind = EV_DIVERTED, .call = call->id, .device = from, .subject = from,
		      .other = dest, .calling = call->calling, .called = call->called,
		      .redir = conn->last_redir, .cause = cause };
	g_autoptr(GPtrArray) to_mon = recipients(call, NULL, conn->dev);
	conn_set(conn, CONN_NULL, cause);
	events_emit(to_mon, &ev);
	conn_remove(conn);
	Offer o = { .redir = from, .cause = cause };
	offer(call, dest, &o);
}

static gboolean
try_forward(ModelConn *conn, const char *type, const char *cause)
{
	if (conn->dev == NULL || conn->call->diversions >= MAX_DIVERSIONS)
		return FALSE;
	const char *dn = fwd_lookup(conn->dev, type, conn->call);
	if (dn == NULL)
		return FALSE;
	conn->call->diversions++;
	divert(conn, dn, cause);
	return TRUE;
}

static gboolean
on_answer(gpointer data)
{
	ModelConn *conn = data;
	conn->timer = 0;
	model_answer(conn);
	return G_SOURCE_REMOVE;
}

static gboolean
on_decline(gpointer data)
{
	ModelConn *conn = data;
	conn->timer = 0;
	fail(conn, "callCancelled");
	return G_SOURCE_REMOVE;
}

static gboolean
on_no_answer(gpointer data)
{
	ModelConn *conn = data;
	conn->noans_timer = 0;
	try_forward(conn, "forwardNoAns", "callForwardNoAnswer");
	return G_SOURCE_REMOVE;
}

static gboolean
busy_for_active(const ModelDevice *d)
{
	return d->beh.kind == SIM_BEH_BUSY_FOR && simlog_now() - d->beh_since < d->beh.secs;
}

/* The Failed cause when DEV cannot be alerted, or NULL when it can ring. */
static gboolean
busy_except(const ModelDevice *d, const ModelConn *self)
{
	for (GList *l = d->conns; l != NULL; l = l->next) {
		ModelConn *c = l->data;
		if (c != self && (c->state == CONN_INITIATED || c->state == CONN_ALERTING ||
				  c->state == CONN_CONNECTED || c->state == CONN_HOLD ||
				  c->state == CONN_QUEUED))
			return TRUE;
	}
	return FALSE;
}

static const char *
refusal(const ModelDevice *d, const ModelConn *self)
{
	if (d == NULL)
		return "numberUnallocated";
	if (d->kind == SIM_DEV_LINE && d->line_owner == NULL)
		return "destOutOfOrder";
	switch (d->beh.kind) {
	case SIM_BEH_INVALID: return "invalidNumberFormat";
	case SIM_BEH_UNREACHABLE:
		return d->kind == SIM_DEV_EXTERNAL ? "networkNotObtainable" : "destNotObtainable";
	case SIM_BEH_DND: return "doNotDisturb";
	case SIM_BEH_BUSY: return "busy";
	case SIM_BEH_BUSY_FOR:
		if (busy_for_active(d))
			return "busy";
		break;
	case SIM_BEH_ANSWER_AFTER:
	case SIM_BEH_NEVER_ANSWER:
	case SIM_BEH_DECLINE:
	case SIM_BEH_FAX:
		break;
	}
	return busy_except(d, self) ? "busy" : NULL;
}

static double
answer_delay(const ModelDevice *d)
{
	switch (d->beh.kind) {
	case SIM_BEH_ANSWER_AFTER: return d->beh.secs;
	case SIM_BEH_BUSY_FOR:
	case SIM_BEH_FAX:
		return 1;
	case SIM_BEH_NEVER_ANSWER:
	case SIM_BEH_DECLINE:
	case SIM_BEH_BUSY:
	case SIM_BEH_INVALID:
	case SIM_BEH_DND:
	case SIM_BEH_UNREACHABLE:
		return -1;
	}
	return -1;
}

static void
alert(ModelConn *conn, const char *cause)
{
	ModelDevice *d = conn->dev;
	conn_set(conn, CONN_ALERTING, cause);
	party_event(conn, EV_DELIVERED, cause);
	gboolean phone = model_sip_ring(conn); /* then the phone answers, or not */
	double delay = phone ? -1 : answer_delay(d);
	if (delay >= 0)
		conn->timer = simlog_timeout_add(delay, on_answer, conn);
	else if (!phone && d->beh.kind == SIM_BEH_DECLINE)
		conn->timer = simlog_timeout_add(1, on_decline, conn);
	if (fwd_lookup(d, "forwardNoAns", conn->call) != NULL)
		conn->noans_timer = simlog_timeout_add(model.conf->ring_time * d->ring_count,
						       on_no_answer, conn);
}

/* deliver - apply DEV's state and behaviour to a new leg: ring it or fail it */
void
deliver(ModelConn *conn, const char *cause)
{
	const char *why = refusal(conn->dev, conn);
	if (why == NULL) {
		alert(conn, cause);
		return;
	}
	if (strcmp(why, "busy") == 0 && try_forward(conn, "forwardBusy", "callForwardBusy"))
		return;
	if (strcmp(why, "doNotDisturb") == 0 && try_forward(conn, "forwardDND", "callForward"))
		return;
	fail(conn, why);
}

/* offer - a new leg of CALL towards NUMBER: forwarding, route point, behaviour */
void
offer(ModelCall *call, const char *number, const Offer *o)
{
	ModelConn *conn = conn_new(call, number, model_device(number));
	conn->last_redir = g_strdup(o->redir);
	conn->join_by = g_strdup(o->join_by);
	if (try_forward(conn, "forwardImmediate", "callForwardImmediate"))
		return;
	if (conn->dev != NULL && conn->dev->route_owner != NULL) {
		route_request(conn);
		return;
	}
	deliver(conn, o->cause);
}

/* The calling device is off-hook: Originated, then the called number is offered the call. */
static void
originate(ModelConn *a, const char *cause)
{
	ModelCall *call = a->call;
	conn_set(a, CONN_CONNECTED, cause);
	EvInfo orig = { .kind = EV_ORIGINATED, .call = call->id, .device = a->device,
			.calling = a->device, .called = call->called, .cause = cause };
	emit(call, NULL, &orig);
	Offer o = { .cause = "newCall" };
	offer(call, call->called, &o);
}

/* call_originate - the calling device A answered its prompt (a SIP phone's 200 OK) */
void
call_originate(ModelConn *a)
{
	g_clear_handle_id(&a->timer, g_source_remove);
	originate(a, "newCall");
}

/* call_fail - CONN's phone refused the call: Failed with CAUSE */
void
call_fail(ModelConn *conn, const char *cause)
{
	fail(conn, cause);
}

static gboolean
on_prompt_answered(gpointer data)
{
	ModelConn *a = data;
	a->timer = 0;
	originate(a, "newCall");
	return G_SOURCE_REMOVE;
}

/* autoOriginate prompt: the calling device is asked to go off-hook first, and
 * does so as its behaviour says (answer delay), or the call fails at it. */
static void
prompt(ModelConn *a)
{
	const char *why = refusal(a->dev, a);
	if (why != NULL) {
		fail(a, why);
		return;
	}
	if (model_sip_ring(a))
		return;
	double delay = answer_delay(a->dev);
	if (delay >= 0)
		a->timer = simlog_timeout_add(delay, on_prompt_answered, a);
	else if (a->dev->beh.kind == SIM_BEH_DECLINE)
		a->timer = simlog_timeout_add(1, on_decline, a);
}

/* model_make_call - CALL (new, empty) from FROM to TO: ServiceInitiated, then (at once,
 * or after FROM answers the prompt) Originated and delivery */
void
model_make_call(ModelCall *call, ModelDevice *from, const char *to, const char *cause,
		gboolean prompted)
{
	call->calling = g_strdup(from->id);
	call->called = g_strdup(to);
	ModelConn *a = conn_new(call, from->id, from);
	conn_set(a, CONN_INITIATED, cause);
	EvInfo si = { .kind = EV_SERVICE_INITIATED, .call = call->id, .device = from->id,
		      .subject = from->id, .cause = cause };
	emit(call, NULL, &si);
	/* A SIP phone is asked to go off-hook by ringing it, whatever autoOriginate says. */
	if (prompted || (strcmp(cause, "makeCall") == 0 && model_sip_device(from)))
		prompt(a);
	else
		originate(a, strcmp(cause, "makeCall") == 0 ? "newCall" : cause);
}

/* model_inbound_call - FROM dials TO by hand (control "call FROM TO"): an extension or
 * line originates (ServiceInitiated, Originated, cause newCall); an external
 * number's leg is simply connected */
void
model_inbound_call(ModelCall *call, const char *from, const char *to)
{
	ModelDevice *dev = model_device(from);
	if (dev != NULL && dev->kind != SIM_DEV_EXTERNAL) {
		model_make_call(call, dev, to, "newCall", FALSE);
		return;
	}
	call->calling = g_strdup(from);
	call->called = g_strdup(to);
	ModelConn *a = conn_new(call, from, model_device(from));
	conn_set(a, CONN_CONNECTED, "newCall");
	Offer o = { .cause = "newCall" };
	offer(call, to, &o);
}

static void
conference_items(ModelCall *call, ModelCall *old, GArray *items)
{
	for (guint i = 0; i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		EvListItem it = { .new_call = call->id, .old_call = old ? old->id : call->id,
				  .device = c->device };
		g_array_append_val(items, it);
	}
}

static gboolean
on_talk_end(gpointer data)
{
	ModelConn *conn = data;
	conn->timer = 0;
	simlog_kv("call", "event", "talk-time", "call", conn->call->id, "device", conn->device, NULL);
	model_clear_connection(conn, "normalClearing");
	return G_SOURCE_REMOVE;
}

/* model_answer - CONN answers: Established, or Conferenced when it joins a call */
void
model_answer(ModelConn *conn)
{
	g_clear_handle_id(&conn->timer, g_source_remove);
	g_clear_handle_id(&conn->noans_timer, g_source_remove);
	if (conn->dev != NULL && conn->dev->kind == SIM_DEV_EXTERNAL && conn->dev->talk_time > 0)
		conn->timer = simlog_timeout_add(conn->dev->talk_time, on_talk_end, conn);
	if (conn->join_by == NULL) {
		conn_set(conn, CONN_CONNECTED, "normal");
		party_event(conn, EV_ESTABLISHED, "normal");
		return;
	}
	conn_set(conn, CONN_CONNECTED, "singleStepConference");
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(EvListItem));
	conference_items(conn->call, NULL, items);
	EvInfo ev = { .kind = EV_CONFERENCED, .call = conn->call->id, .device = conn->join_by,
		      .subject = conn->join_by, .other = conn->device,
		      .items = (EvListItem *)items->data, .n_items = items->len,
		      .cause = "singleStepConference" };
	emit(conn->call, NULL, &ev);
}

/* Clear every connection of CALL, then CallCleared; ALSO (may be NULL) are monitors
 * that saw the call before a party left and must see the end too. */
static void
clear_all(ModelCall *call, const char *cause, GPtrArray *also)
{
	if (call->clearing)
		return;
	call->clearing = TRUE;
	g_autoptr(GPtrArray) to = recipients(call, NULL, NULL);
	for (guint i = 0; also != NULL && i < also->len; i++)
		if (!g_ptr_array_find(to, g_ptr_array_index(also, i), NULL))
			g_ptr_array_add(to, g_ptr_array_index(also, i));
	for (guint i = 0; i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		conn_set(c, CONN_NULL, cause);
		EvInfo ev = { .kind = EV_CONNECTION_CLEARED, .call = call->id, .device = c->device,
			      .subject = c->device, .cause = cause };
		events_emit(to, &ev);
	}
	EvInfo cc = { .kind = EV_CALL_CLEARED, .call = call->id, .cause = cause };
	events_emit(to, &cc);
	simlog_kv("call", "event", "cleared", "call", call->id, "cause", cause, NULL);
	call_destroy(call);
}

/* call_check_end - clear CALL when fewer than two parties remain */
void
call_check_end(ModelCall *call, const char *cause, GPtrArray *also)
{
	if (call_live_conns(call) < 2)
		clear_all(call, cause, also);
}

/* model_clear_connection - CONN leaves its call (ConnectionCleared); the call ends when one party is left */
void
model_clear_connection(ModelConn *conn, const char *cause)
{
	ModelCall *call = conn->call;
	g_autoptr(GPtrArray) to = recipients(call, NULL, NULL);
	conn_set(conn, CONN_NULL, cause);
	EvInfo ev = { .kind = EV_CONNECTION_CLEARED, .call = call->id, .device = conn->device,
		      .subject = conn->device, .cause = cause };
	events_emit(to, &ev);
	conn_remove(conn);
	call_check_end(call, cause, to);
}

/* model_clear_call - release every connection of CALL, then CallCleared */
void
model_clear_call(ModelCall *call, const char *cause)
{
	clear_all(call, cause, NULL);
}

/* model_hold - CONN (connected) goes on hold */
void
model_hold(ModelConn *conn, const char *cause)
{
	conn_set(conn, CONN_HOLD, cause);
	EvInfo ev = { .kind = EV_HELD, .call = conn->call->id, .device = conn->device,
		      .subject = conn->device, .cause = cause };
	emit(conn->call, NULL, &ev);
}

/* model_retrieve - CONN (held) is connected again */
void
model_retrieve(ModelConn *conn)
{
	conn_set(conn, CONN_CONNECTED, "normal");
	EvInfo ev = { .kind = EV_RETRIEVED, .call = conn->call->id, .device = conn->device,
		      .subject = conn->device, .cause = "normal" };
	emit(conn->call, NULL, &ev);
}

/* model_consult - hold HELD's call and place CALL2 (new) from the same device to TO */
void
model_consult(ModelConn *held, ModelCall *call2, const char *to)
{
	if (held->state == CONN_CONNECTED)
		model_hold(held, "consultation");
	model_make_call(call2, held->dev, to, "consultation", FALSE);
}

static ModelConn *
first_other(const ModelCall *call, const char *device)
{
	for (guint i = 0; i < call->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(call->conns, i);
		if (strcmp(c->device, device) != 0)
			return c;
	}
	return NULL;
}

/* Move every connection of FROM except DEVICE's into INTO; record list items. */
static void
merge_calls(ModelCall *into, ModelCall *from, const char *device, GArray *items,
	    GPtrArray *names)
{
	for (guint i = 0; i < into->conns->len; i++) {
		ModelConn *c = g_ptr_array_index(into->conns, i);
		if (strcmp(c->device, device) == 0)
			continue;
		EvListItem it = { into->id, into->id, c->device };
		g_array_append_val(items, it);
	}
	while (from->conns->len > 0) {
		ModelConn *c = g_ptr_array_index(from->conns, 0);
		if (strcmp(c->device, device) == 0) {
			conn_set(c, CONN_NULL, "normal");
			conn_remove(c);
			continue;
		}
		conn_detach(c);
		conn_attach(c, into);
		simlog_state(into->id, c->device, model_state_str(c->state), "merged");
		g_ptr_array_add(names, g_strdup(c->device));
		EvListItem it = { into->id, from->id, g_ptr_array_index(names, names->len - 1) };
		g_array_append_val(items, it);
	}
}

/* model_conference - join ACTIVE's call into HELD's call (ConferencedEvent); returns the call */
ModelCall *
model_conference(ModelConn *held, ModelConn *active)
{
	ModelCall *c1 = held->call, *c2 = active->call;
	g_autofree char *dev = g_strdup(held->device);
	ModelConn *added = first_other(c2, dev);
	g_autofree char *added_dev = g_strdup(added ? added->device : NULL);
	g_autoptr(GPtrArray) to = recipients(c1, c2, NULL);
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(EvListItem));
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	EvListItem me = { c1->id, c1->id, dev };
	g_array_append_val(items, me);
	merge_calls(c1, c2, dev, items, names);
	conn_set(held, CONN_CONNECTED, "conference");
	EvInfo ev = { .kind = EV_CONFERENCED, .call = c1->id, .device = dev, .old_call = c2->id,
		      .old_device = dev, .subject = dev, .other = added_dev,
		      .items = (EvListItem *)items->data, .n_items = items->len,
		      .result_call = c1->id, .cause = "conference" };
	events_emit(to, &ev);
	call_destroy(c2);
	return c1;
}

/* model_transfer - connect HELD's and ACTIVE's other parties; the device leaves (TransferedEvent) */
ModelCall *
model_transfer(ModelConn *held, ModelConn *active)
{
	ModelCall *c1 = held->call, *c2 = active->call;
	g_autofree char *dev = g_strdup(held->device);
	ModelConn *target = first_other(c2, dev);
	g_autofree char *target_dev = g_strdup(target ? target->device : NULL);
	g_autoptr(GPtrArray) to = recipients(c1, c2, NULL);
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(EvListItem));
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	merge_calls(c2, c1, dev, items, names);
	conn_set(active, CONN_NULL, "transfer");
	conn_remove(active);
	EvInfo ev = { .kind = EV_TRANSFERED, .call = c1->id, .device = dev, .old_call = c2->id,
		      .old_device = dev, .subject = dev, .other = target_dev,
		      .items = (EvListItem *)items->data, .n_items = items->len,
		      .result_call = c2->id, .cause = "transfer" };
	events_emit(to, &ev);
	call_destroy(c1);
	call_check_end(c2, "normalClearing", to);
	return c2;
}

/* model_ss_transfer - ACTIVE's device leaves; TO is offered the call (TransferedEvent) */
void
model_ss_transfer(ModelConn *active, const char *to)
{
	ModelCall *call = active->call;
	g_autofree char *dev = g_strdup(active->device);
	g_autoptr(GPtrArray) mons = recipients(call, NULL, model_device(to));
	conn_set(active, CONN_NULL, "singleStepTransfer");
	conn_remove(active);
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(EvListItem));
	conference_items(call, NULL, items);
	EvListItem it = { call->id, NULL, to };
	g_array_append_val(items, it);
	EvInfo ev = { .kind = EV_TRANSFERED, .call = call->id, .device = dev, .subject = dev,
		      .other = to, .items = (EvListItem *)items->data, .n_items = items->len,
		      .cause = "singleStepTransfer" };
	events_emit(mons, &ev);
	Offer o = { .redir = dev, .cause = "singleStepTransfer" };
	offer(call, to, &o);
}

/* model_ss_conference - offer JOIN into ACTIVE's call; it is conferenced in when it answers */
void
model_ss_conference(ModelConn *active, const char *join, gboolean silent)
{
	Offer o = { .cause = "singleStepConference", .join_by = active->device };
	simlog_kv("call", "event", "join", "call", active->call->id, "device", join,
		  "participation", silent ? "silent" : "active", NULL);
	offer(active->call, join, &o);
}

/* model_deflect - ALERTING's call goes to TO instead (DivertedEvent, cause redirected) */
void
model_deflect(ModelConn *alerting, const char *to)
{
	alerting->call->diversions++;
	divert(alerting, to, "redirected");
}

/* model_set_forwarding - switch forwarding TYPE on (to DN) or off; ForwardingEvent */
void
model_set_forwarding(ModelDevice *dev, const char *type, gboolean on, const char *dn, int ring_count)
{
	if (on)
		g_hash_table_insert(dev->fwd, g_strdup(type), g_strdup(dn));
	else
		g_hash_table_remove(dev->fwd, type);
	if (ring_count > 0)
		dev->ring_count = ring_count;
	simlog_kv("forwarding", "device", dev->id, "forwardingType", type, "#on", on ? "true" : "false",
		  "to", on ? dn : NULL, NULL);
	EvInfo ev = { .kind = EV_FORWARDING, .device = dev->id, .fwd_type = type, .fwd_on = on,
		      .fwd_to = on ? dn : NULL };
	g_autoptr(GPtrArray) to = recipients(NULL, NULL, dev);
	events_emit(to, &ev);
}

/* model_set_behaviour - replace DEV's behaviour (busy-for counts from now) */
void
model_set_behaviour(ModelDevice *dev, const SimBehaviour *beh)
{
	dev->beh = *beh;
	dev->beh_since = simlog_now();
}

/* model_go_busy - DEV goes off-hook (ServiceInitiated) and stays busy; FALSE if already busy */
gboolean
model_go_busy(ModelDevice *dev)
{
	if (dev->busy_call != NULL)
		return FALSE;
	ModelCall *call = model_call_new();
	call->calling = g_strdup(dev->id);
	ModelConn *c = conn_new(call, dev->id, dev);
	conn_set(c, CONN_INITIATED, "newCall");
	EvInfo ev = { .kind = EV_SERVICE_INITIATED, .call = call->id, .device = dev->id,
		      .subject = dev->id, .cause = "newCall" };
	emit(call, NULL, &ev);
	dev->busy_call = call;
	return TRUE;
}

/* model_go_free - end the call made by model_go_busy(); FALSE if there is none */
gboolean
model_go_free(ModelDevice *dev)
{
	if (dev->busy_call == NULL)
		return FALSE;
	clear_all(dev->busy_call, "normalClearing", NULL);
	return TRUE;
}
