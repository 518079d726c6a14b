/* fax_rx_sip - a fax receiver that speaks SIP/RTP, for cti-media's fax test.
 *
 * Usage: fax_rx_sip SIP_PORT RTP_PORT OUT.tif
 * It answers the first INVITE on 127.0.0.1:SIP_PORT with G.711 mu-law on
 * RTP_PORT, runs spandsp's T.30 receiver (fax_rx / fax_tx) over the call's
 * audio, paced by a 20 ms timer, and writes the pages to OUT.tif.  At the end
 * of the fax (T.30 phase E) it prints "pages N result R", waits for the
 * sender's BYE and exits 0 when the transfer succeeded, else 1; it gives up
 * after 120 s.
 * Built on libre and spandsp like cti-media itself: both ends share spandsp's
 * T.30 (there is no other SIP fax peer in Debian), so this proves the SIP,
 * RTP and G.711 path and the TIFF rendering, not interoperability of T.30.
 */
#include <re.h>
#include <spandsp.h>
#include <stdio.h>
#include <stdlib.h>

#define SAMPLES 160

static struct sip *sip;
static struct sipsess_sock *sock;
static struct sipsess *sess;
static struct sdp_session *sdp;
static struct sdp_media *sdpm;
static struct rtp_sock *rtp;
static struct sa raddr;
static struct tmr tx_tmr, guard_tmr;
static uint64_t tx_next;
static uint32_t tx_ts;
static fax_state_t *fax;
static int result = -1;

static void on_guard(void *arg)
{
	fprintf(stderr, "fax_rx_sip: %s\n",
	        result < 0 ? "no fax within 120 s" : "no BYE after the fax");
	re_cancel();
}

static void on_phase_e(t30_state_t *t30, void *user_data, int code)
{
	t30_stats_t stats;

	t30_get_transfer_statistics(t30, &stats);
	printf("pages %d result %d %s\n", stats.pages_rx, code, t30_completion_code_to_str(code));
	fflush(stdout);
	result = code;
	tmr_start(&guard_tmr, 10000, on_guard, NULL); /* now wait for the sender's BYE */
}

static void on_tx(void *arg)
{
	uint64_t now = tmr_jiffies();

	while (now >= tx_next) {
		int16_t pcm[SAMPLES] = {0};
		struct mbuf *mb = mbuf_alloc(RTP_HEADER_SIZE + SAMPLES);

		fax_tx(fax, pcm, SAMPLES);
		mb->pos = mb->end = RTP_HEADER_SIZE;
		for (int i = 0; i < SAMPLES; i++)
			mbuf_write_u8(mb, linear_to_ulaw(pcm[i]));
		mb->pos = RTP_HEADER_SIZE;
		rtp_send(rtp, &raddr, false, false, 0, tx_ts, mb);
		mem_deref(mb);
		tx_ts += SAMPLES;
		tx_next += 20;
	}
	tmr_start(&tx_tmr, tx_next - now, on_tx, NULL);
}

static void on_rtp(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb, void *arg)
{
	int16_t pcm[1024];
	size_t n = mbuf_get_left(mb);

	if (hdr->pt != 0 || n > 1024)
		return;
	for (size_t i = 0; i < n; i++)
		pcm[i] = ulaw_to_linear(mbuf_buf(mb)[i]);
	fax_rx(fax, pcm, (int)n);
}

static void on_close(int err, const struct sip_msg *msg, void *arg)
{
	if (result < 0)
		fprintf(stderr, "fax_rx_sip: call closed before the end of the fax\n");
	sess = mem_deref(sess);
	re_cancel();
}

static void on_conn(const struct sip_msg *msg, void *arg)
{
	struct mbuf *desc = NULL;

	if (sess || sdp_decode(sdp, msg->mb, true) || !sdp_media_rformat(sdpm, "PCMU")) {
		sip_treply(NULL, sip, msg, 488, "Not Acceptable Here");
		return;
	}
	sa_cpy(&raddr, sdp_media_raddr(sdpm));
	sdp_encode(&desc, sdp, false);
	if (sipsess_accept(&sess, sock, msg, 200, "OK", "fax", "application/sdp", desc, NULL, NULL,
	                   false, NULL, NULL, NULL, NULL, NULL, on_close, NULL, NULL)) {
		fprintf(stderr, "fax_rx_sip: cannot answer\n");
		re_cancel();
	}
	mem_deref(desc);
	tx_next = tmr_jiffies();
	tmr_start(&tx_tmr, 0, on_tx, NULL);
}

int main(int argc, char **argv)
{
	struct sa laddr;
	t30_state_t *t30;
	int port = argc == 4 ? atoi(argv[2]) : 0;

	if (argc != 4 || port <= 0) {
		fprintf(stderr, "usage: fax_rx_sip SIP_PORT RTP_PORT OUT.tif\n");
		return 2;
	}
	libre_init();
	sa_set_str(&laddr, "127.0.0.1", (uint16_t)atoi(argv[1]));
	if (sip_alloc(&sip, NULL, 8, 8, 8, "fax_rx_sip", NULL, NULL) ||
	    sip_transp_add(sip, SIP_TRANSP_UDP, &laddr) ||
	    sipsess_listen(&sock, sip, 8, on_conn, NULL)) {
		fprintf(stderr, "fax_rx_sip: cannot listen on port %s\n", argv[1]);
		return 1;
	}
	sa_set_port(&laddr, 0);
	if (rtp_listen(&rtp, IPPROTO_UDP, &laddr, port, port + 1, false, on_rtp, NULL, NULL) ||
	    sdp_session_alloc(&sdp, &laddr) ||
	    sdp_media_add(&sdpm, sdp, "audio", sa_port(rtp_local(rtp)), "RTP/AVP") ||
	    sdp_format_add(NULL, sdpm, false, "0", "PCMU", 8000, 1, NULL, NULL, NULL, false,
	                   NULL)) {
		fprintf(stderr, "fax_rx_sip: cannot open RTP on port %d\n", port);
		return 1;
	}
	fax = fax_init(NULL, 0);
	t30 = fax_get_t30_state(fax);
	t30_set_rx_file(t30, argv[3], -1);
	t30_set_tx_ident(t30, "fax_rx_sip");
	t30_set_phase_e_handler(t30, on_phase_e, NULL);
	fax_set_transmit_on_idle(fax, 1);
	printf("ready\n");
	fflush(stdout);
	tmr_start(&guard_tmr, 120000, on_guard, NULL);
	re_main(NULL);
	tmr_cancel(&tx_tmr);
	tmr_cancel(&guard_tmr);
	if (sess)
		sess = mem_deref(sess);
	fax_free(fax);
	mem_deref(sdp);
	mem_deref(rtp);
	mem_deref(sock);
	sip_close(sip, true);
	mem_deref(sip);
	libre_close();
	return result == T30_ERR_OK ? 0 : 1;
}
