/* audio - the RTP leg of a call: G.711 mu-law / A-law in 20 ms packets.
 *
 * Sending is paced by one libre timer per call against tmr_jiffies(), not
 * by counting timer firings: each firing sends every packet that is due, so
 * a late timer catches up instead of drifting, and the RTP timestamp always
 * advances by 160 per packet (libre numbers the packets).  A packet sent
 * more than CALL_LATE_MS after its due time is counted late (STATUS).
 * Received audio is decoded and handed to the runner in timestamp order;
 * a gap in timestamps (a lost packet) becomes silence, so a recording keeps
 * its length.  Digits arrive both ways: RFC 4733 telephone-events (libre's
 * telev) and in-band tones (spandsp's dtmf_rx on the decoded audio).
 */
#include "call-private.h"

#include <string.h>

#include "log.h"

#define AUDIO_MAX_GAP (8000 * 2) /* a larger timestamp jump is a new stream, not a loss */
#define AUDIO_RESYNC  200        /* ms behind schedule: give up catching up */

static void send_packet(Call *call)
{
	gint16 pcm[CALL_SAMPLES];
	struct mbuf *mb = mbuf_alloc(RTP_HEADER_SIZE + CALL_SAMPLES);

	runner_tick(call, pcm);
	mb->pos = mb->end = RTP_HEADER_SIZE;
	for (int i = 0; i < CALL_SAMPLES; i++)
		mbuf_write_u8(mb, call->alaw ? linear_to_alaw(pcm[i]) : linear_to_ulaw(pcm[i]));
	mb->pos = RTP_HEADER_SIZE;
	if (rtp_send(call->rtp, &call->raddr, false, call->tx_marker, call->pt, call->tx_ts, mb) ==
	    0)
		call->tx_packets++;
	call->tx_marker = false;
	call->tx_ts += CALL_SAMPLES;
	mem_deref(mb);
}

static void on_tx(void *arg)
{
	Call *call = arg;
	uint64_t now = tmr_jiffies();

	if (now > call->tx_next + AUDIO_RESYNC)
		call->tx_next = now;
	while (call->rtp && now >= call->tx_next) {
		if (now > call->tx_next + CALL_LATE_MS)
			call->tx_late++;
		send_packet(call);
		call->tx_next += CALL_PTIME;
		if (call->state == CALL_ENDING)
			return;
	}
	tmr_start(&call->tx_tmr, call->tx_next - now, on_tx, call);
}

static void on_digits(void *user_data, const char *digits, int len)
{
	for (int i = 0; i < len; i++)
		runner_digit(user_data, digits[i], "inband");
}

static void heard(Call *call, const struct rtp_header *hdr, struct mbuf *mb)
{
	gint16 pcm[1024];
	gsize n = MIN(mbuf_get_left(mb), G_N_ELEMENTS(pcm));
	const uint8_t *p = mbuf_buf(mb);

	if (call->rx_started && hdr->ts != call->rx_next_ts) {
		uint32_t gap = hdr->ts - call->rx_next_ts;

		if ((int32_t)gap < 0)
			return; /* late or duplicate: already filled */
		if (gap <= AUDIO_MAX_GAP) {
			gint16 silence[CALL_SAMPLES] = {0};

			call->rx_lost += gap / CALL_SAMPLES;
			for (uint32_t left = gap; left > 0;) {
				uint32_t k = MIN(left, CALL_SAMPLES);

				runner_heard(call, silence, k);
				left -= k;
			}
		}
	}
	for (gsize i = 0; i < n; i++)
		pcm[i] = hdr->pt == 8 ? alaw_to_linear(p[i]) : ulaw_to_linear(p[i]);
	call->rx_started = TRUE;
	call->rx_next_ts = hdr->ts + n;
	dtmf_rx(call->dtmf, pcm, n);
	runner_heard(call, pcm, n);
}

static void on_rtp(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb, void *arg)
{
	Call *call = arg;
	int event;
	bool end;

	if (call->state != CALL_ANSWERED && call->state != CALL_RUNNING)
		return;
	call->rx_packets++;
	if (call->te_pt >= 0 && hdr->pt == call->te_pt) {
		if (telev_recv(call->telev, mb, &event, &end) == 0 && !end &&
		    telev_code2digit(event) > 0)
			runner_digit(call, (char)telev_code2digit(event), "rfc4733");
		return;
	}
	if (hdr->pt == 0 || hdr->pt == 8)
		heard(call, hdr, mb);
}

gboolean audio_open(Call *call, GError **error)
{
	guint16 lo, hi;
	struct sa laddr;
	char *const *codecs = ua_codecs(call->ua);
	int err;

	ua_rtp_range(call->ua, &lo, &hi);
	sa_cpy(&laddr, ua_laddr(call->ua));
	sa_set_port(&laddr, 0);
	err = rtp_listen(&call->rtp, IPPROTO_UDP, &laddr, lo, hi, false, on_rtp, NULL, call);
	if (!err)
		err = telev_alloc(&call->telev, CALL_PTIME);
	if (!err)
		err = sdp_session_alloc(&call->sdp, &laddr);
	if (!err)
		err = sdp_media_add(&call->sdpm, call->sdp, "audio", sa_port(rtp_local(call->rtp)),
		                    "RTP/AVP");
	for (guint i = 0; !err && codecs[i]; i++) {
		gboolean a = strcmp(codecs[i], "pcma") == 0;

		err = sdp_format_add(NULL, call->sdpm, false, a ? "8" : "0", a ? "PCMA" : "PCMU",
		                     8000, 1, NULL, NULL, NULL, false, NULL);
	}
	if (!err)
		err = sdp_format_add(NULL, call->sdpm, false, "101", "telephone-event", 8000, 1,
		                     NULL, NULL, NULL, false, "0-15");
	if (err) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no RTP port in %u-%u: %s", lo,
		            hi, g_strerror(err));
		return FALSE;
	}
	if (call->dtmf == NULL)
		call->dtmf = dtmf_rx_init(NULL, on_digits, call);
	call->te_pt = -1;
	return TRUE;
}

/* pick_codec - the first format of the far end's list that we offered too */
static const struct sdp_format *pick_codec(const struct sdp_media *m)
{
	for (struct le *le = list_head(sdp_media_format_lst(m, false)); le; le = le->next) {
		const struct sdp_format *f = le->data;

		if (f->sup &&
		    (str_casecmp(f->name, "PCMU") == 0 || str_casecmp(f->name, "PCMA") == 0))
			return f;
	}
	return NULL;
}

gboolean audio_remote(Call *call, GError **error)
{
	const struct sdp_format *f = pick_codec(call->sdpm);
	const struct sdp_format *te = sdp_media_rformat(call->sdpm, "telephone-event");
	char addr[64];

	if (f == NULL || !sa_isset(sdp_media_raddr(call->sdpm), SA_ALL)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		            "the far end offers neither PCMU nor PCMA (or no address)");
		return FALSE;
	}
	call->pt = f->pt;
	call->alaw = str_casecmp(f->name, "PCMA") == 0;
	call->te_pt = te ? te->pt : -1;
	sa_cpy(&call->raddr, sdp_media_raddr(call->sdpm));
	if (!call->tx_started) {
		call->tx_started = TRUE;
		call->tx_marker = TRUE;
		call->tx_ts = (uint32_t)g_random_int();
		call->tx_next = tmr_jiffies();
		tmr_start(&call->tx_tmr, 0, on_tx, call);
	}
	re_snprintf(addr, sizeof addr, "%J", &call->raddr);
	log_info("session %s: RTP %s to %s, telephone-event %s", call->id, f->name, addr,
	         te ? "yes" : "no");
	return TRUE;
}

void audio_close(Call *call)
{
	tmr_cancel(&call->tx_tmr);
	call->rtp = mem_deref(call->rtp);
	call->telev = mem_deref(call->telev);
	call->sdpm = NULL;
	call->sdp = mem_deref(call->sdp);
}

void audio_free(Call *call)
{
	audio_close(call);
	if (call->dtmf) /* not in audio_close: a detected digit can end the call inside dtmf_rx */
		dtmf_rx_free(call->dtmf);
	call->dtmf = NULL;
}
