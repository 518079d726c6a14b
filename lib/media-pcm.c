/* media-pcm - the writer both audio handlers end in: mono float samples at
 * any rate, resampled by libsamplerate (sinc, medium quality) to 8 kHz and
 * written by libsndfile as 16-bit PCM WAV with clipping (never wrap-around).
 * The writer owns its temporary file until finish renames it into place or
 * abort removes it.  Failures: the output cannot be written (STORE), the
 * resampler fails (CONVERT), the playing time or time budget runs out (LIMIT).
 */
#include "media-private.h"

#include <glib/gstdio.h>
#include <samplerate.h>
#include <sndfile.h>

#define PCM_CHUNK 4096

struct MediaPcmWriter {
	SNDFILE *out;
	char *tmp_path;
	char *out_path;
	SRC_STATE *src; /* NULL when the input is already at 8 kHz */
	double ratio;
	guint64 frames;
	MediaDeadline deadline;
	float buf[PCM_CHUNK];
};

static void pcm_free(MediaPcmWriter *w)
{
	if (w->out != NULL)
		sf_close(w->out);
	if (w->src != NULL)
		src_delete(w->src);
	g_free(w->tmp_path);
	g_free(w->out_path);
	g_free(w);
}

/* media_pcm_open - open the temporary output and the resampler */
MediaPcmWriter *media_pcm_open(const char *out_path, int in_rate, MediaDeadline deadline,
                               GError **error)
{
	MediaPcmWriter *w = g_new0(MediaPcmWriter, 1);
	SF_INFO info = {.samplerate = CTI_MEDIA_RATE,
	                .channels = 1,
	                .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	int err = 0;

	w->out_path = g_strdup(out_path);
	w->tmp_path = media_tmp_path(out_path);
	w->deadline = deadline;
	w->ratio = (double)CTI_MEDIA_RATE / in_rate;
	if (in_rate != CTI_MEDIA_RATE &&
	    (w->src = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &err)) == NULL) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_CONVERT, "resampler: %s",
		            src_strerror(err));
		pcm_free(w);
		return NULL;
	}
	w->out = sf_open(w->tmp_path, SFM_WRITE, &info);
	if (w->out == NULL) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE, "cannot write %s: %s",
		            w->tmp_path, sf_strerror(NULL));
		pcm_free(w);
		return NULL;
	}
	sf_command(w->out, SFC_SET_CLIPPING, NULL, SF_TRUE);
	return w;
}

static gboolean pcm_put(MediaPcmWriter *w, const float *samples, gsize n, GError **error)
{
	if (n == 0)
		return TRUE;
	if (w->frames + n > (guint64)CTI_MEDIA_MAX_SECONDS * CTI_MEDIA_RATE) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "longer than %d s of audio", CTI_MEDIA_MAX_SECONDS);
		return FALSE;
	}
	if (sf_writef_float(w->out, samples, (sf_count_t)n) != (sf_count_t)n) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE, "cannot write %s: %s",
		            w->tmp_path, sf_strerror(w->out));
		return FALSE;
	}
	w->frames += n;
	return TRUE;
}

/* media_pcm_write - resample and write N samples */
gboolean media_pcm_write(MediaPcmWriter *w, const float *mono, gsize n, gboolean last,
                         GError **error)
{
	SRC_DATA d = {0};

	if (media_deadline_passed(w->deadline, "audio conversion", error))
		return FALSE;
	if (w->src == NULL)
		return pcm_put(w, mono, n, error);
	d.data_in = mono;
	d.input_frames = (long)n;
	d.src_ratio = w->ratio;
	d.end_of_input = last;
	for (;;) {
		int err;

		d.data_out = w->buf;
		d.output_frames = PCM_CHUNK;
		if ((err = src_process(w->src, &d)) != 0) {
			g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_CONVERT,
			            "resampler: %s", src_strerror(err));
			return FALSE;
		}
		if (!pcm_put(w, w->buf, (gsize)d.output_frames_gen, error))
			return FALSE;
		d.data_in += d.input_frames_used;
		d.input_frames -= d.input_frames_used;
		if (d.input_frames == 0 && (!last || d.output_frames_gen == 0))
			return TRUE;
	}
}

/* media_pcm_finish - close and move into place */
gboolean media_pcm_finish(MediaPcmWriter *w, CtiMedia *media, GError **error)
{
	gboolean ok;

	if (sf_close(w->out) != 0) {
		w->out = NULL;
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE, "cannot close %s",
		            w->tmp_path);
		g_unlink(w->tmp_path);
		pcm_free(w);
		return FALSE;
	}
	w->out = NULL;
	media->frames = w->frames;
	media->duration = (double)w->frames / CTI_MEDIA_RATE;
	ok = media_finish_file(media, w->tmp_path, w->out_path, error);
	pcm_free(w);
	return ok;
}

/* media_pcm_abort - give up: no file is left behind */
void media_pcm_abort(MediaPcmWriter *w)
{
	if (w == NULL)
		return;
	if (w->out != NULL) {
		sf_close(w->out);
		w->out = NULL;
	}
	g_unlink(w->tmp_path);
	pcm_free(w);
}
