/* call - the lifecycle of one media session and its SIP dialog.
 *
 * States: preparing (the worker converts media) -> armed (ARM: waiting for
 * the PBX's INVITE) or ringing (CALL: our INVITE is out) -> answered (RTP
 * flows) -> running (the steps) -> ending.  call_finish() is the one way
 * out: it stops the runner (a recording in progress is kept), closes RTP,
 * ends the dialog (BYE, or CANCEL while ringing), sends "hangup" and then
 * "done" with one result per step, and frees the call from the loop, never
 * from inside a libre callback that still uses it.
 * Causes: completed, remote, busy, rejected, no-answer, no-call, hangup,
 * disconnected, error (cti-media(8)).
 */
#include "call-private.h"

#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "ua.h"

static guint call_serial;

static void call_finish(Call *call, const char *cause, guint16 code, const char *reason);
static void on_ring_timeout(void *arg);

Call *call_new(Ua *ua, const char *line, const char *to_uri, GPtrArray *steps, guint ring_seconds,
               CallSink sink, gpointer owner, CallGone gone, gpointer data)
{
	Call *call = g_new0(Call, 1);

	call->id = g_strdup_printf("%" G_GINT64_MODIFIER "x%04x", g_get_real_time() / 1000000,
	                           ++call_serial & 0xffff);
	call->line = g_strdup(line);
	call->to_uri = g_strdup(to_uri);
	call->ua = ua;
	call->steps = steps;
	call->ring_seconds = ring_seconds;
	call->sink = sink;
	call->owner = owner;
	call->gone = gone;
	call->gone_data = data;
	call->results = g_ptr_array_new_with_free_func(g_free);
	call->digits = g_string_new(NULL);
	call->te_pt = -1;
	tmr_init(&call->ring_tmr);
	tmr_init(&call->end_tmr);
	tmr_init(&call->tx_tmr);
	if (to_uri == NULL) /* an armed call waits this long for the PBX's INVITE */
		tmr_start(&call->ring_tmr, ring_seconds * 1000ULL, on_ring_timeout, call);
	return call;
}

static void call_free(Call *call)
{
	if (call->spool_dir) /* the converted prompts; recordings stay for their reader */
		steps_cleanup(call->spool_dir, call->id);
	tmr_cancel(&call->ring_tmr);
	tmr_cancel(&call->end_tmr);
	audio_free(call);
	call->sess = mem_deref(call->sess);
	if (call->fax)
		fax_free(call->fax);
	g_ptr_array_unref(call->steps);
	g_ptr_array_unref(call->results);
	g_string_free(call->digits, TRUE);
	if (call->rec)
		g_array_unref(call->rec);
	g_free(call->id);
	g_free(call->line);
	g_free(call->to_uri);
	g_free(call->spool_dir);
	g_free(call);
}

const char *call_id(const Call *call)
{
	return call->id;
}

const char *call_line(const Call *call)
{
	return call->line;
}

gpointer call_owner(const Call *call)
{
	return call->owner;
}

GPtrArray *call_steps(Call *call)
{
	return call->steps;
}

const char *call_state_name(const Call *call)
{
	switch (call->state) {
	case CALL_PREPARING:
		return "preparing";
	case CALL_ARMED:
		return "armed";
	case CALL_RINGING:
		return "ringing";
	case CALL_ANSWERED:
		return "answered";
	case CALL_RUNNING:
		return "running";
	case CALL_ENDING:
		return "ending";
	}
	return "?";
}

void call_emit(Call *call, const char *event, ...)
{
	g_autoptr(CtiIpcFrame) f = ipc_frame_new("EVENT");
	const char *name;
	va_list ap;

	ipc_frame_add(f, "Session", call->id);
	ipc_frame_add(f, "Event", event);
	va_start(ap, event);
	while ((name = va_arg(ap, const char *)) != NULL)
		ipc_frame_add(f, name, va_arg(ap, const char *));
	va_end(ap);
	if (call->sink)
		call->sink(f, call->owner);
}

static void on_end(void *arg)
{
	Call *call = arg;

	if (call->gone)
		call->gone(call, call->gone_data);
	call->gone = NULL;
	call->ended = TRUE;
	if (!call->busy)
		call_free(call);
}

void call_set_busy(Call *call, gboolean busy)
{
	call->busy = busy;
	if (!busy && call->ended)
		call_free(call);
}

void call_set_spool_dir(Call *call, const char *dir)
{
	g_free(call->spool_dir);
	call->spool_dir = g_strdup(dir);
}

void call_detach(Call *call)
{
	call->sink = NULL;
	call->owner = NULL;
}

static void emit_done(Call *call)
{
	g_autoptr(CtiIpcFrame) f = ipc_frame_new("EVENT");

	ipc_frame_add(f, "Session", call->id);
	ipc_frame_add(f, "Event", "done");
	ipc_frame_addf(f, "Steps", "%u", call->steps->len);
	for (guint i = 0; i < call->results->len; i++)
		ipc_frame_addf(f, "Result", "%u %s", i + 1,
		               (char *)g_ptr_array_index(call->results, i));
	for (guint i = call->results->len; i < call->steps->len; i++)
		ipc_frame_addf(f, "Result", "%u %s not-run", i + 1,
		               steps_name(((Step *)g_ptr_array_index(call->steps, i))->kind));
	ipc_frame_addf(f, "Packets-Sent", "%" G_GUINT64_FORMAT, call->tx_packets);
	ipc_frame_addf(f, "Packets-Late", "%" G_GUINT64_FORMAT, call->tx_late);
	ipc_frame_addf(f, "Packets-Received", "%" G_GUINT64_FORMAT, call->rx_packets);
	ipc_frame_addf(f, "Packets-Lost", "%" G_GUINT64_FORMAT, call->rx_lost);
	if (call->sink)
		call->sink(f, call->owner);
}

static void emit_hangup(Call *call, const char *cause, guint16 code, const char *reason)
{
	g_autoptr(CtiIpcFrame) f = ipc_frame_new("EVENT");

	ipc_frame_add(f, "Session", call->id);
	ipc_frame_add(f, "Event", "hangup");
	ipc_frame_add(f, "Cause", cause);
	if (code)
		ipc_frame_addf(f, "Code", "%u", code);
	if (reason)
		ipc_frame_add(f, "Reason", reason);
	if (call->sink)
		call->sink(f, call->owner);
}

static void call_finish(Call *call, const char *cause, guint16 code, const char *reason)
{
	if (call->state == CALL_ENDING)
		return;
	if (call->state == CALL_RUNNING)
		runner_abort(call, cause);
	call->state = CALL_ENDING;
	tmr_cancel(&call->ring_tmr);
	audio_close(call);
	call->sess = mem_deref(call->sess); /* BYE when established, CANCEL while ringing */
	log_info("session %s: ended: %s%s%s", call->id, cause, reason ? ": " : "",
	         reason ? reason : "");
	emit_hangup(call, cause, code, reason);
	emit_done(call);
	tmr_start(&call->end_tmr, 0, on_end, call);
}

void call_steps_done(Call *call)
{
	call_finish(call, "completed", 0, NULL);
}

void call_hangup(Call *call, const char *cause)
{
	call_finish(call, cause, 0, NULL);
}

void call_release(Call *call)
{
	call_finish(call, "disconnected", 0, NULL);
	tmr_cancel(&call->end_tmr);
	on_end(call);
}

static void fail(Call *call, const GError *error)
{
	call_finish(call, "error", 0, error->message);
}

static void on_ring_timeout(void *arg)
{
	Call *call = arg;

	call_finish(call, call->to_uri ? "no-answer" : "no-call", 0, NULL);
}

static void answered(Call *call)
{
	tmr_cancel(&call->ring_tmr);
	call->state = CALL_ANSWERED;
	call_emit(call, "answered", NULL);
	if (call->to_uri || call->start_pending) {
		if (call->prepared)
			runner_begin(call);
		else
			call->start_pending = TRUE;
	}
}

static int on_offer(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	Call *call = arg;
	g_autoptr(GError) error = NULL;
	int err = sdp_decode(call->sdp, msg->mb, true);

	if (err)
		return err;
	if (!audio_remote(call, &error)) {
		log_warning("session %s: re-INVITE: %s", call->id, error->message);
		return EPROTO;
	}
	return sdp_encode(descp, call->sdp, false);
}

static int on_answer(const struct sip_msg *msg, void *arg)
{
	Call *call = arg;
	g_autoptr(GError) error = NULL;
	int err = sdp_decode(call->sdp, msg->mb, false);

	if (err)
		return err;
	if (!audio_remote(call, &error)) {
		log_warning("session %s: %s", call->id, error->message);
		return EPROTO;
	}
	return 0;
}

static void on_estab(const struct sip_msg *msg, void *arg)
{
	Call *call = arg;

	if (call->state == CALL_RINGING)
		answered(call);
}

static void on_progress(const struct sip_msg *msg, void *arg)
{
	Call *call = arg;

	log_info("session %s: %u %.*s", call->id, msg->scode, (int)msg->reason.l, msg->reason.p);
}

static void on_close(int err, const struct sip_msg *msg, void *arg)
{
	Call *call = arg;
	g_autofree char *reason = NULL;

	call->sess = mem_deref(call->sess);
	if (msg && !msg->req && msg->scode >= 300) {
		reason = g_strndup(msg->reason.p, msg->reason.l);
		call_finish(call,
		            msg->scode == 486 || msg->scode == 600   ? "busy"
		            : msg->scode == 408 || msg->scode == 480 ? "no-answer"
		                                                     : "rejected",
		            msg->scode, reason);
	} else if (err && err != ECONNRESET) {
		call_finish(call, call->state == CALL_RINGING ? "no-answer" : "error", 0,
		            g_strerror(err));
	} else {
		call_finish(call, "remote", 0, NULL);
	}
}

static gboolean place(Call *call, GError **error)
{
	g_autofree char *aor = ua_aor(call->ua, call->line);
	struct mbuf *desc = NULL;
	int err;

	if (!audio_open(call, error))
		return FALSE;
	err = sdp_encode(&desc, call->sdp, true);
	if (!err)
		err = sipsess_connect(&call->sess, ua_sock(call->ua), call->to_uri, NULL, aor,
		                      call->line, NULL, 0, "application/sdp", desc, ua_auth,
		                      ua_line(call->ua, call->line), false, on_offer, on_answer,
		                      on_progress, on_estab, NULL, NULL, on_close, call, NULL);
	mem_deref(desc);
	if (err) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot call %s: %s",
		            call->to_uri, g_strerror(err));
		return FALSE;
	}
	call->state = CALL_RINGING;
	log_info("session %s: calling %s from line %s", call->id, call->to_uri, call->line);
	return TRUE;
}

void call_prepared(Call *call, const GError *error)
{
	g_autoptr(GError) local = NULL;

	if (call->state == CALL_ENDING)
		return;
	if (error != NULL) {
		fail(call, error);
		return;
	}
	call->prepared = TRUE;
	if (call->to_uri) {
		if (!place(call, &local)) {
			fail(call, local);
			return;
		}
		tmr_start(&call->ring_tmr, call->ring_seconds * 1000ULL, on_ring_timeout, call);
	} else if (call->state == CALL_PREPARING) {
		call->state = CALL_ARMED;
	} else if (call->state == CALL_ANSWERED && call->start_pending) {
		runner_begin(call);
	}
}

gboolean call_wants_invite(const Call *call)
{
	return call->to_uri == NULL && call->sess == NULL &&
	       (call->state == CALL_PREPARING || call->state == CALL_ARMED);
}

gboolean call_accept(Call *call, const struct sip_msg *msg, GError **error)
{
	struct mbuf *desc = NULL;
	gboolean offer = mbuf_get_left(msg->mb) > 0;
	int err;

	if (!audio_open(call, error))
		return FALSE;
	if (offer && (sdp_decode(call->sdp, msg->mb, true) != 0 || !audio_remote(call, error))) {
		if (error && *error == NULL)
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad SDP offer");
		audio_close(call);
		return FALSE;
	}
	err = sdp_encode(&desc, call->sdp, !offer);
	if (!err)
		err =
		    sipsess_accept(&call->sess, ua_sock(call->ua), msg, 200, "OK", call->line,
		                   "application/sdp", desc, ua_auth, ua_line(call->ua, call->line),
		                   false, on_offer, on_answer, on_estab, NULL, NULL, on_close, call,
		                   "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n");
	mem_deref(desc);
	if (err) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot answer: %s",
		            g_strerror(err));
		audio_close(call);
		return FALSE;
	}
	log_info("session %s: answered the INVITE to line %s", call->id, call->line);
	answered(call);
	return TRUE;
}

gboolean call_start(Call *call, GError **error)
{
	if (call->state == CALL_RUNNING || call->start_pending) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "already started");
		return FALSE;
	}
	if (call->to_uri != NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "a placed call starts by itself when answered");
		return FALSE;
	}
	if (call->state != CALL_ANSWERED) {
		call->start_pending = TRUE; /* the INVITE may still be on its way */
		return TRUE;
	}
	if (call->prepared)
		runner_begin(call);
	else
		call->start_pending = TRUE;
	return TRUE;
}
