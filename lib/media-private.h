/* media-private.h - what the media handlers share: the PCM writer that
 * voice and speech both end in, output-file finishing, deadlines. */
#ifndef MAILCTI_MEDIA_PRIVATE_H
#define MAILCTI_MEDIA_PRIVATE_H

#include "media.h"

/* A deadline in monotonic microseconds. */
typedef gint64 MediaDeadline;

/* media_deadline - now + CTI_MEDIA_TIMEOUT_MS */
MediaDeadline media_deadline(void);
/* media_deadline_passed - TRUE + CTI_MEDIA_ERROR_LIMIT when DEADLINE is past */
gboolean media_deadline_passed(MediaDeadline deadline, const char *what, GError **error);

/* media_new - an empty result with FORMAT (copied) */
CtiMedia *media_new(const char *format);
/* media_tmp_path - the temporary name OUT_PATH is written under (transfer full) */
char *media_tmp_path(const char *out_path);
/* media_finish_file - rename TMP_PATH to OUT_PATH and record path and checksum in MEDIA */
gboolean media_finish_file(CtiMedia *media, const char *tmp_path, const char *out_path,
                           GError **error);

/* The 8 kHz mono 16-bit PCM WAV writer: mono float samples at any rate in,
 * resampled with libsamplerate. */
typedef struct MediaPcmWriter MediaPcmWriter;
/* media_pcm_open - start writing OUT_PATH (under a temporary name) from IN_RATE Hz input */
MediaPcmWriter *media_pcm_open(const char *out_path, int in_rate, MediaDeadline deadline,
                               GError **error);
/* media_pcm_write - N mono samples; LAST flushes the resampler */
gboolean media_pcm_write(MediaPcmWriter *w, const float *mono, gsize n, gboolean last,
                         GError **error);
/* media_pcm_finish - close, rename into place, fill MEDIA's path, frames, duration, checksum; frees
 * W */
gboolean media_pcm_finish(MediaPcmWriter *w, CtiMedia *media, GError **error);
/* media_pcm_abort - close and remove the temporary file; frees W; NULL is a no-op */
void media_pcm_abort(MediaPcmWriter *w);

#endif
