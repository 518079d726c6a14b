/* model-sip.c - the model's side of SIP: a connection whose device is
 * SIP-registered rings the real phone (sip.c) instead of following its
 * configured behaviour, and the phone's answers drive the same call progress
 * and CSTA events as the simulation: 200 OK is the answer (Originated for the
 * calling device prompted by MakeCall, Established for a called one), an error
 * answer is Failed with the cause of sip_causes[], the phone's BYE clears its
 * connection.  A connection that goes away for any other reason (ClearConnection,
 * ClearCall, the other party leaving, a diversion) hangs its leg up.
 *
 * Leg ids map to connections in model.sip_legs; a connection owns its leg id
 * and drops the mapping when it is freed, so a late event for a gone
 * connection is ignored.
 */
#include "model-private.h"

#include "sip.h"

/* SIP status -> Failed cause; anything else (no answer at all, 404, 480, 5xx) is destNotObtainable. */
static const struct {
	guint scode;
	const char *cause;
} sip_causes[] = {
	{ 486, "busy" },
	{ 600, "busy" },
	{ 603, "callCancelled" },
	{ 403, "callCancelled" },
	{ 487, "callCancelled" },
	{ 484, "invalidNumberFormat" },
};

static const char *
failed_cause(guint scode)
{
	for (gsize i = 0; i < G_N_ELEMENTS(sip_causes); i++)
		if (sip_causes[i].scode == scode)
			return sip_causes[i].cause;
	return "destNotObtainable";
}

/* model_sip_device - TRUE when DEV rings a real phone */
gboolean
model_sip_device(const ModelDevice *dev)
{
	return dev != NULL && dev->kind != SIM_DEV_EXTERNAL && sip_registered(dev->id);
}

/* The leg of another party of CONN's call that is on a phone, or 0. */
static guint
peer_leg(const ModelConn *conn)
{
	for (guint i = 0; i < conn->call->conns->len; i++) {
		const ModelConn *c = g_ptr_array_index(conn->call->conns, i);
		if (c != conn && c->sip_leg != 0)
			return c->sip_leg;
	}
	return 0;
}

/* model_sip_ring - INVITE CONN's phone when its device is SIP-registered; FALSE if it is not */
gboolean
model_sip_ring(ModelConn *conn)
{
	if (!model_sip_device(conn->dev))
		return FALSE;
	const char *from = conn->call->calling;
	if (from == NULL || g_strcmp0(from, conn->device) == 0)
		from = conn->call->called;
	conn->sip_leg = sip_invite(conn->device, from, peer_leg(conn));
	if (conn->sip_leg == 0)
		return FALSE;
	g_hash_table_insert(model.sip_legs, GUINT_TO_POINTER(conn->sip_leg), conn);
	return TRUE;
}

/* model_sip_drop - CONN is going away: hang its phone up */
void
model_sip_drop(ModelConn *conn)
{
	if (conn->sip_leg == 0)
		return;
	g_hash_table_remove(model.sip_legs, GUINT_TO_POINTER(conn->sip_leg));
	sip_hangup(conn->sip_leg);
	conn->sip_leg = 0;
}

static void
leg_gone(ModelConn *conn)
{
	g_hash_table_remove(model.sip_legs, GUINT_TO_POINTER(conn->sip_leg));
	conn->sip_leg = 0;
}

/* model_sip_event - a phone answered, refused or hung up (SipLegFunc) */
void
model_sip_event(guint leg, SipLegEvent ev, guint scode, gpointer data)
{
	(void)data;
	ModelConn *conn = g_hash_table_lookup(model.sip_legs, GUINT_TO_POINTER(leg));
	if (conn == NULL)
		return;
	switch (ev) {
	case SIP_LEG_ANSWERED:
		if (conn->state == CONN_INITIATED)
			call_originate(conn);
		else if (conn->state == CONN_ALERTING)
			model_answer(conn);
		break;
	case SIP_LEG_FAILED:
		leg_gone(conn);
		if (conn->state == CONN_INITIATED || conn->state == CONN_ALERTING)
			call_fail(conn, failed_cause(scode));
		break;
	case SIP_LEG_ENDED:
		leg_gone(conn);
		model_clear_connection(conn, "normalClearing");
		break;
	}
}
