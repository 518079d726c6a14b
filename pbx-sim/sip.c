/* sip.c - pbx-sim's SIP side, built on libre: the registrar (sip-reg.c) and a
 * back-to-back user agent.  For each connection of a CSTA call whose device is
 * SIP-registered, the model asks for a leg: pbx-sim sends the phone an INVITE
 * with its own SDP offer (G.711 u-law and RFC 4733 events on an RTP port of its
 * own) and reports the answer, the failure or the phone's BYE.  A leg placed
 * with a peer leg relays RTP to it, packet for packet, in both directions, from
 * the moment both have answered.  Why a B2BUA and not RFC 3725 third-party call
 * control: each phone sees one ordinary early-offer call, so no answer has to
 * be parked in an ACK while the other phone rings, and the codec is fixed by
 * pbx-sim's own offer, the same on both legs.
 *
 * libre has its own event loop, so all of libre runs in one thread of its own
 * (the SIP thread).  The main thread, which owns the model, talks to it only
 * by messages: commands go through a libre mqueue (sip_invite, sip_hangup,
 * quit), leg events and log lines come back as GLib idle callbacks.  Leg ids are
 * handed out by the main thread, so it never waits for the SIP thread.
 */
#include "sip-private.h"

#include <gio/gio.h>
#include <string.h>

#include "simlog.h"

SipState sipst;

typedef struct {
	guint id, peer;         /* peer: the leg RTP is relayed to, 0 = none */
	struct sipsess *sess;
	struct sdp_session *sdp;
	struct sdp_media *media;
	struct udp_sock *rtp;
	struct sa raddr;        /* where the phone wants our RTP */
	gboolean answered;
	char *ext;
} Leg;

typedef struct {
	guint id, peer;
	char *ext, *caller;
} InviteCmd;

enum { CMD_INVITE, CMD_HANGUP, CMD_QUIT };

static struct {
	GThread *thread;
	GHashTable *legs;      /* id -> Leg*; SIP thread only */
	SipLegFunc func;
	gpointer data;
	guint next_leg;        /* main thread only */
	int start_err;
} S;

/* ---- messages to the main thread ---- */

typedef struct {
	guint leg, scode;
	SipLegEvent ev;
	char *event, *device, *detail; /* log line */
} Note;

static void
note_free(Note *n)
{
	g_free(n->event);
	g_free(n->device);
	g_free(n->detail);
	g_free(n);
}

static gboolean
on_note(gpointer data)
{
	Note *n = data;
	if (n->event != NULL) {
		g_autofree char *leg = n->leg ? g_strdup_printf("%u", n->leg) : NULL;
		g_autofree char *scode = n->scode ? g_strdup_printf("%u", n->scode) : NULL;
		simlog_kv("sip", "event", n->event, "device", n->device, "#leg", leg, "#scode", scode,
			  "detail", n->detail, NULL);
	} else if (S.func != NULL) {
		S.func(n->leg, n->ev, n->scode, S.data);
	}
	return G_SOURCE_REMOVE;
}

static void
post(Note *n)
{
	g_idle_add_full(G_PRIORITY_DEFAULT, on_note, n, (GDestroyNotify)note_free);
}

/* sip_post_log - a "sip" log line, written by the main thread */
void
sip_post_log(const char *event, const char *device, guint leg, guint scode, const char *detail)
{
	Note *n = g_new0(Note, 1);
	n->event = g_strdup(event);
	n->device = g_strdup(device);
	n->leg = leg;
	n->scode = scode;
	n->detail = g_strdup(detail);
	post(n);
}

static void
post_event(const Leg *leg, SipLegEvent ev, guint scode)
{
	Note *n = g_new0(Note, 1);
	n->leg = leg->id;
	n->ev = ev;
	n->scode = scode;
	post(n);
}

/* ---- legs (SIP thread) ---- */

static void
leg_free(Leg *leg)
{
	leg->sess = mem_deref(leg->sess); /* BYE, or CANCEL while it rings */
	leg->rtp = mem_deref(leg->rtp);
	leg->sdp = mem_deref(leg->sdp);
	g_free(leg->ext);
	g_free(leg);
}

static void
on_rtp(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	Leg *leg = arg;
	Leg *peer = leg->peer ? g_hash_table_lookup(S.legs, GUINT_TO_POINTER(leg->peer)) : NULL;
	if (leg->answered && peer != NULL && peer->answered && sa_isset(&peer->raddr, SA_ALL))
		(void)udp_send(peer->rtp, &peer->raddr, mb);
}

static int
take_sdp(Leg *leg, const struct sip_msg *msg, bool offer)
{
	int err = sdp_decode(leg->sdp, msg->mb, offer);
	if (err == 0) {
		sa_cpy(&leg->raddr, sdp_media_raddr(leg->media));
		sa_set_port(&leg->raddr, sdp_media_rport(leg->media));
	}
	return err;
}

/* The phone's answer to our offer (in its 200 OK). */
static int
on_answer(const struct sip_msg *msg, void *arg)
{
	return take_sdp(arg, msg, false);
}

/* A re-INVITE from the phone (hold, codec change): answer from the same media. */
static int
on_offer(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	Leg *leg = arg;
	int err = take_sdp(leg, msg, true);
	return err ? err : sdp_encode(descp, leg->sdp, false);
}

static void
on_progress(const struct sip_msg *msg, void *arg)
{
	Leg *leg = arg;
	sip_post_log("progress", leg->ext, leg->id, msg->scode, NULL);
}

static void
on_established(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	Leg *leg = arg;
	leg->answered = TRUE;
	sip_post_log("answered", leg->ext, leg->id, 200, NULL);
	post_event(leg, SIP_LEG_ANSWERED, 200);
}

static void
on_close(int err, const struct sip_msg *msg, void *arg)
{
	Leg *leg = arg;
	guint scode = msg != NULL && !msg->req ? msg->scode : 0;
	if (leg->answered) {
		/* libre reports the phone's BYE as ECONNRESET */
		sip_post_log("bye", leg->ext, leg->id, 0,
			     err == ECONNRESET || err == 0 ? "from the phone" : strerror(err));
		post_event(leg, SIP_LEG_ENDED, 0);
	} else {
		sip_post_log("failed", leg->ext, leg->id, scode, err ? strerror(err) : NULL);
		post_event(leg, SIP_LEG_FAILED, scode);
	}
	g_hash_table_remove(S.legs, GUINT_TO_POINTER(leg->id));
}

static int
leg_media(Leg *leg)
{
	struct sa local;
	int err = sa_set_str(&local, "127.0.0.1", 0);
	err = err ? err : udp_listen(&leg->rtp, &local, on_rtp, leg);
	err = err ? err : udp_local_get(leg->rtp, &local);
	err = err ? err : sdp_session_alloc(&leg->sdp, &local);
	err = err ? err : sdp_media_add(&leg->media, leg->sdp, "audio", sa_port(&local), "RTP/AVP");
	err = err ? err : sdp_format_add(NULL, leg->media, false, "0", "PCMU", 8000, 1, NULL, NULL,
					 NULL, false, NULL);
	err = err ? err : sdp_format_add(NULL, leg->media, false, "101", "telephone-event", 8000, 1,
					 NULL, NULL, NULL, false, "0-15");
	return err;
}

static int
leg_connect(Leg *leg, const char *contact, const char *caller)
{
	struct mbuf *desc = NULL;
	char from[256];
	re_snprintf(from, sizeof(from), "sip:%s@%J", caller, &sipst.laddr);
	int err = sdp_encode(&desc, leg->sdp, true);
	err = err ? err : sipsess_connect(&leg->sess, sipst.sock, contact, caller, from, "pbx-sim", NULL, 0,
					  "application/sdp", desc, NULL, NULL, false, on_offer, on_answer,
					  on_progress, on_established, NULL, NULL, on_close, leg, NULL);
	mem_deref(desc);
	return err;
}

static void
cmd_invite(InviteCmd *cmd)
{
	Leg *leg = g_new0(Leg, 1);
	leg->id = cmd->id;
	leg->peer = cmd->peer;
	leg->ext = g_strdup(cmd->ext);
	g_autofree char *contact = sipreg_contact(cmd->ext);
	int err = contact == NULL ? ENOENT : leg_media(leg);
	err = err ? err : leg_connect(leg, contact, cmd->caller);
	if (err != 0) {
		sip_post_log("failed", leg->ext, leg->id, 0, strerror(err));
		post_event(leg, SIP_LEG_FAILED, 0);
		leg_free(leg);
		return;
	}
	Leg *peer = leg->peer ? g_hash_table_lookup(S.legs, GUINT_TO_POINTER(leg->peer)) : NULL;
	if (peer != NULL)
		peer->peer = leg->id;
	g_hash_table_insert(S.legs, GUINT_TO_POINTER(leg->id), leg);
	sip_post_log("invite", leg->ext, leg->id, 0, contact);
}

static void
on_command(int id, void *data, void *arg)
{
	(void)arg;
	switch (id) {
	case CMD_INVITE: {
		InviteCmd *cmd = data;
		cmd_invite(cmd);
		g_free(cmd->ext);
		g_free(cmd->caller);
		g_free(cmd);
		break;
	}
	case CMD_HANGUP: {
		Leg *leg = g_hash_table_lookup(S.legs, data);
		if (leg != NULL)
			sip_post_log(leg->answered ? "bye" : "cancel", leg->ext, leg->id, 0, "from pbx-sim");
		g_hash_table_remove(S.legs, data);
		break;
	}
	case CMD_QUIT:
		g_hash_table_remove_all(S.legs);
		re_cancel();
		break;
	}
}

/* ---- the SIP thread ---- */

static gpointer
sip_thread(gpointer data)
{
	(void)data;
	(void)re_main(NULL);
	return NULL;
}

static int
stack_open(const char *listen)
{
	int err = sa_decode(&sipst.laddr, listen, strlen(listen));
	if (err != 0 || !sa_is_loopback(&sipst.laddr))
		return EINVAL;
	err = sip_alloc(&sipst.sip, NULL, 32, 32, 32, "pbx-sim", NULL, NULL);
	err = err ? err : sip_transp_add(sipst.sip, SIP_TRANSP_UDP, &sipst.laddr);
	err = err ? err : sip_listen(&sipst.lsnr, sipst.sip, true, sipreg_request, NULL);
	err = err ? err : sipsess_listen(&sipst.sock, sipst.sip, 32, NULL, NULL);
	err = err ? err : mqueue_alloc(&sipst.mq, on_command, NULL);
	return err;
}

static void
stack_close(void)
{
	sipst.mq = mem_deref(sipst.mq);
	sipst.sock = mem_deref(sipst.sock);
	sipst.lsnr = mem_deref(sipst.lsnr);
	if (sipst.sip != NULL)
		sip_close(sipst.sip, true);
	sipst.sip = mem_deref(sipst.sip);
}

/* sip_start - open the SIP port LISTEN (127.0.0.1:PORT) and start the SIP thread;
 * FUNC gets the leg events in the main loop */
gboolean
sip_start(const SimConf *conf, const char *listen, const char *password, SipLegFunc func,
	  gpointer data, GError **error)
{
	g_return_val_if_fail(S.thread == NULL, FALSE);
	int err = libre_init();
	sipst.conf = conf;
	sipst.password = g_strdup(password);
	sipst.nonces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sipst.regs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)sipreg_free);
	g_mutex_init(&sipst.lock);
	S.legs = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)leg_free);
	S.func = func;
	S.data = data;
	err = err ? err : stack_open(listen);
	if (err != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "SIP on %s: %s", listen,
			    err == EINVAL ? "not a loopback address:port" : strerror(err));
		sip_stop();
		return FALSE;
	}
	S.thread = g_thread_new("sip", sip_thread, NULL);
	return TRUE;
}

/* sip_stop - end every leg, stop the SIP thread and close the port; no-op when not started */
void
sip_stop(void)
{
	if (S.thread != NULL) {
		(void)mqueue_push(sipst.mq, CMD_QUIT, NULL);
		g_thread_join(S.thread);
		S.thread = NULL;
	}
	g_clear_pointer(&S.legs, g_hash_table_unref);
	stack_close();
	if (sipst.nonces != NULL) {
		libre_close();
		g_mutex_clear(&sipst.lock);
	}
	g_clear_pointer(&sipst.nonces, g_hash_table_unref);
	g_clear_pointer(&sipst.regs, g_hash_table_unref);
	g_clear_pointer(&sipst.password, g_free);
	S.func = NULL;
}

/* sip_registered - TRUE when EXT has a live registration */
gboolean
sip_registered(const char *ext)
{
	if (S.thread == NULL || ext == NULL)
		return FALSE;
	g_autofree char *contact = sipreg_contact(ext);
	return contact != NULL;
}

/* sip_invite - ring EXT's phone, CALLER as the From; relay RTP with leg PEER (0 =
 * none) once both answered.  Returns the leg id, 0 when SIP is off */
guint
sip_invite(const char *ext, const char *caller, guint peer)
{
	if (S.thread == NULL)
		return 0;
	InviteCmd *cmd = g_new0(InviteCmd, 1);
	cmd->id = ++S.next_leg;
	cmd->peer = peer;
	cmd->ext = g_strdup(ext);
	cmd->caller = g_strdup(caller ? caller : "pbx-sim");
	if (mqueue_push(sipst.mq, CMD_INVITE, cmd) != 0) {
		g_free(cmd->ext);
		g_free(cmd->caller);
		g_free(cmd);
		return 0;
	}
	return S.next_leg;
}

/* sip_hangup - end LEG: BYE once answered, CANCEL while it rings; no-op for an ended leg */
void
sip_hangup(guint leg)
{
	if (S.thread != NULL && leg != 0)
		(void)mqueue_push(sipst.mq, CMD_HANGUP, GUINT_TO_POINTER(leg));
}
