/* call-private.h - what call.c (SIP session, lifecycle), audio.c (RTP,
 * codecs, DTMF detection) and runner.c / runner-fax.c (the steps) share. */
#ifndef CTI_MEDIA_CALL_PRIVATE_H
#define CTI_MEDIA_CALL_PRIVATE_H

#include <re.h>
#include <spandsp.h>

#include "call.h"
#include "steps.h"
#include "ua.h"

#define CALL_PTIME   20               /* ms of audio per RTP packet */
#define CALL_SAMPLES (8 * CALL_PTIME) /* samples per packet at 8 kHz */
#define CALL_LATE_MS 10               /* a packet sent this late counts as late */

typedef enum {
	CALL_PREPARING, /* the worker converts the steps' media */
	CALL_ARMED,     /* waiting for the PBX's INVITE to the line */
	CALL_RINGING,   /* our INVITE is out */
	CALL_ANSWERED,  /* media flows; an armed call waits for START */
	CALL_RUNNING,   /* the steps run */
	CALL_ENDING,    /* events sent; freed from the loop */
} CallState;

struct Call {
	char *id, *line, *to_uri;
	Ua *ua;
	CallSink sink;
	gpointer owner;
	CallGone gone;
	gpointer gone_data;
	CallState state;
	gboolean prepared, start_pending;
	gboolean busy, ended; /* the worker holds it; on_end ran while it did */
	guint ring_seconds;
	struct tmr ring_tmr, end_tmr;
	GPtrArray *steps;   /* Step* */
	GPtrArray *results; /* char*, one per step run */
	char *spool_dir;

	/* SIP and SDP */
	struct sipsess *sess;
	struct sdp_session *sdp;
	struct sdp_media *sdpm;

	/* RTP (audio.c) */
	struct rtp_sock *rtp;
	struct sa raddr;
	int pt, te_pt; /* payload types sent: audio, telephone-event (-1 = none) */
	gboolean alaw;
	struct telev *telev;
	struct tmr tx_tmr;
	uint64_t tx_next; /* tmr_jiffies() when the next packet is due */
	uint32_t tx_ts;
	gboolean tx_started, tx_marker;
	guint64 tx_packets, tx_late;
	dtmf_rx_state_t *dtmf;
	gboolean rx_started;
	uint32_t rx_next_ts;
	guint64 rx_packets, rx_lost;

	/* the running step (runner.c) */
	guint step;
	gsize pos; /* sample position in the playing prompt */
	guint loops, prompt;
	guint64 ticks; /* packets since the step (or the gather's wait) began */
	gboolean prompts_done;
	GString *digits;
	GArray *rec; /* gint16, the recording */
	fax_state_t *fax;
	gboolean fax_done;
	int fax_result;
};

/* call_emit - send an event frame EVENT of this call, with NAME/VALUE pairs, NULL-terminated */
void call_emit(Call *call, const char *event, ...) G_GNUC_NULL_TERMINATED;
/* call_steps_done - the last step finished: hang up with cause "completed" */
void call_steps_done(Call *call);

/* audio_open - bind the RTP socket and build the local SDP; FALSE + error */
gboolean audio_open(Call *call, GError **error);
/* audio_remote - apply the far end's SDP (after sdp_decode): codec, address; start sending */
gboolean audio_remote(Call *call, GError **error);
/* audio_close - stop sending and close the socket; a no-op when not open */
void audio_close(Call *call);
/* audio_free - audio_close, and free the DTMF detector (from call_free only) */
void audio_free(Call *call);

/* runner_begin - start the steps from the first */
void runner_begin(Call *call);
/* runner_tick - the next CALL_SAMPLES samples to send */
void runner_tick(Call *call, gint16 *out);
/* runner_heard - N samples received from the far end */
void runner_heard(Call *call, const gint16 *pcm, gsize n);
/* runner_digit - DIGIT received, HOW: "rfc4733" or "inband" */
void runner_digit(Call *call, char digit, const char *how);
/* runner_abort - the call ends under the running step: finish it (a recording is kept), mark
 * the rest not run */
void runner_abort(Call *call, const char *why);

/* fax_step_begin / _tick / _heard / _end - the fax step (runner-fax.c) */
gboolean fax_step_begin(Call *call, Step *s, GError **error);
void fax_step_tick(Call *call, gint16 *out);
void fax_step_heard(Call *call, const gint16 *pcm, gsize n);
/* fax_step_end - release the fax engine; the result text (transfer full) */
char *fax_step_end(Call *call, Step *s);

#endif
