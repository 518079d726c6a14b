/* runner-fax - the fax step: spandsp's T.30 sender over the call's G.711
 * audio (fax_init / fax_tx / fax_rx), sending the TIFF Class F that
 * steps_prepare rendered.  The T.30 engine's phase E (the end of the
 * transaction) ends the step; its completion code becomes the result.
 */
#include "call-private.h"

#include "log.h"

static void on_phase_e(t30_state_t *t30, void *user_data, int completion_code)
{
	Call *call = user_data;

	call->fax_done = TRUE;
	call->fax_result = completion_code;
}

gboolean fax_step_begin(Call *call, Step *s, GError **error)
{
	t30_state_t *t30;

	call->fax = fax_init(NULL, TRUE);
	if (call->fax == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start the fax engine");
		return FALSE;
	}
	call->fax_done = FALSE;
	t30 = fax_get_t30_state(call->fax);
	t30_set_tx_ident(t30, call->line);
	t30_set_tx_file(t30, s->tiff, -1, -1);
	t30_set_phase_e_handler(t30, on_phase_e, call);
	fax_set_transmit_on_idle(call->fax, TRUE);
	return TRUE;
}

void fax_step_tick(Call *call, gint16 *out)
{
	if (call->fax && !call->fax_done)
		fax_tx(call->fax, out, CALL_SAMPLES);
}

void fax_step_heard(Call *call, const gint16 *pcm, gsize n)
{
	gint16 copy[1024];

	if (call->fax_done)
		return;
	n = MIN(n, G_N_ELEMENTS(copy));
	memcpy(copy, pcm, n * sizeof(gint16));
	fax_rx(call->fax, copy, (int)n);
}

char *fax_step_end(Call *call, Step *s)
{
	t30_stats_t stats;
	g_autofree char *pages = NULL;
	gboolean ok;
	char *result;

	if (call->fax == NULL)
		return g_strdup("fax failed: not started");
	t30_get_transfer_statistics(fax_get_t30_state(call->fax), &stats);
	/* every page confirmed (MCF) is delivered, even if the far end hangs up before DCN */
	ok = call->fax_done ? call->fax_result == T30_ERR_OK
	                    : stats.pages_tx > 0 && (guint)stats.pages_tx == s->pages;
	pages = g_strdup_printf("%d", stats.pages_tx);
	result = ok ? g_strdup_printf("fax ok %d pages", stats.pages_tx)
	            : g_strdup_printf("fax failed: %s (%d of %u pages sent)",
	                              call->fax_done ? t30_completion_code_to_str(call->fax_result)
	                                             : "call ended",
	                              stats.pages_tx, s->pages);
	call_emit(call, "fax", "Pages", pages, "Result", ok ? "ok" : "failed", NULL);
	fax_free(call->fax);
	call->fax = NULL;
	return result;
}
