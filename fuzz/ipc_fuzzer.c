/* ipc_fuzzer - libFuzzer target for the MCTI/1 frame decoder.
 *
 * The input is fed to the decoder in pieces whose sizes come from the first
 * byte, so split points are explored too.  Every decoded frame must encode
 * and decode again to the same verb, fields and body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const CtiIpcFrame *f)
{
	GBytes *wire = ipc_frame_encode(f);
	CtiIpcDecoder *dec = ipc_decoder_new(1 << 20);
	CtiIpcFrame *g = NULL;

	if (!ipc_decoder_feed(dec, g_bytes_get_data(wire, NULL), g_bytes_get_size(wire), NULL) ||
	    !ipc_decoder_next(dec, &g, NULL) || !g)
		abort();
	if (strcmp(f->verb, g->verb) != 0 || f->names->len != g->names->len)
		abort();
	for (guint i = 0; i < f->names->len; i++)
		if (strcmp(f->names->pdata[i], g->names->pdata[i]) != 0 ||
		    strcmp(f->values->pdata[i], g->values->pdata[i]) != 0)
			abort();
	if ((f->body == NULL) != (g->body == NULL) || (f->body && !g_bytes_equal(f->body, g->body)))
		abort();
	ipc_frame_free(g);
	ipc_decoder_free(dec);
	g_bytes_unref(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	CtiIpcDecoder *dec = ipc_decoder_new(4096);
	size_t chunk = size ? (size_t)(data[0] % 64) + 1 : 1;
	size_t pos = size ? 1 : 0;
	gboolean ok = TRUE;

	while (ok && pos < size) {
		size_t n = MIN(chunk, size - pos);
		CtiIpcFrame *f = NULL;

		ok = ipc_decoder_feed(dec, data + pos, n, NULL);
		while (ok && ipc_decoder_next(dec, &f, NULL) && f) {
			check_frame(f);
			ipc_frame_free(f);
		}
		pos += n;
	}
	ipc_decoder_free(dec);
	return 0;
}
