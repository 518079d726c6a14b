/* media - the media handlers (doc/design.md section 3) and the media store.
 *
 * One handler per medium, each over a real library:
 *   voice  (media-voice.c)  libsndfile reads WAV (PCM, mu-law, A-law, ...), AU,
 *          AIFF, FLAC, Ogg, MP3 and headerless mu-law/A-law; libsamplerate
 *          resamples; the output is 8 kHz mono 16-bit PCM WAV;
 *   speech (media-speech.c) libespeak-ng speaks UTF-8 text into the same PCM WAV;
 *   fax    (media-fax.c)    libtiff reads TIFF (any compression libtiff knows),
 *          Ghostscript renders PDF; the output is TIFF Class F: CCITT G3 (MH),
 *          1728 pixels wide, 204 x 196 (fine) or 204 x 98 (standard) dpi.
 * Each handler has a probe (cheap: headers only, for the milter at SMTP
 * time) and a convert (for ctid).  Inputs are bounded in bytes, playing time,
 * pages and pixels; conversions are bounded in time.  Output files are
 * written under a temporary name and renamed, so a reader never sees half a
 * file.  Every error names what is wrong; the caller prefixes the part.
 */
#ifndef MAILCTI_MEDIA_H
#define MAILCTI_MEDIA_H

#include <glib.h>

#define CTI_MEDIA_RATE        8000               /* output sample rate, Hz */
#define CTI_MEDIA_MAX_INPUT   (40 * 1024 * 1024) /* bytes of one input part */
#define CTI_MEDIA_MAX_SECONDS 900                /* playing time of one voice part / speech */
#define CTI_MEDIA_MAX_PAGES   50                 /* fax pages */
#define CTI_MEDIA_MAX_PIXELS  (40 * 1000 * 1000) /* pixels of one input fax page */
#define CTI_MEDIA_TIMEOUT_MS  60000              /* wall time of one conversion */
#define CTI_MEDIA_FAX_WIDTH   1728

#define CTI_MEDIA_ERROR (media_error_quark())
typedef enum {
	CTI_MEDIA_ERROR_FORMAT,   /* not a format this handler reads, or corrupt (permanent) */
	CTI_MEDIA_ERROR_LIMIT,    /* too big, too long, too many pages, too slow (permanent) */
	CTI_MEDIA_ERROR_LANGUAGE, /* no speech voice for the language or voice name (permanent) */
	CTI_MEDIA_ERROR_CONVERT,  /* the converter failed on this input (permanent) */
	CTI_MEDIA_ERROR_STORE,    /* the media store cannot be written (temporary) */
} CtiMediaError;
GQuark media_error_quark(void);

typedef struct {
	char *path;          /* the converted file, NULL for a probe */
	char *format;        /* what the input was, e.g. "wav/pcm16 44100 Hz 2 ch", "pdf" */
	double duration;     /* seconds of audio (voice, speech) */
	guint64 frames;      /* 8 kHz frames written (voice, speech) */
	guint pages;         /* fax pages */
	guint width, height; /* fax: first page, pixels */
	char *checksum;      /* "sha256:<hex>" of the output file, as pbx-sim logs it */
} CtiMedia;

/* media_free - free; NULL is a no-op */
void media_free(CtiMedia *media);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiMedia, media_free)

/* media_voice_probe - read the headers of DATA: format and duration (transfer full) or NULL +
 * error. CONTENT_TYPE and FILENAME (may be NULL) tell headerless mu-law/A-law apart. */
CtiMedia *media_voice_probe(GBytes *data, const char *content_type, const char *filename,
                            GError **error);
/* media_voice_convert - DATA to 8 kHz mono 16-bit PCM WAV at OUT_PATH (transfer full) or NULL +
 * error */
CtiMedia *media_voice_convert(GBytes *data, const char *content_type, const char *filename,
                              const char *out_path, GError **error);

/* media_speech_probe - is there a voice for LANGUAGE / VOICE (either may be NULL)? */
gboolean media_speech_probe(const char *language, const char *voice, GError **error);
/* media_speech_synth - speak UTF-8 TEXT into an 8 kHz mono PCM WAV at OUT_PATH (transfer full) or
 * NULL + error */
CtiMedia *media_speech_synth(const char *text, const char *language, const char *voice,
                             const char *out_path, GError **error);

/* media_fax_probe - pages and format of a TIFF or PDF (PDF: header check only) (transfer full) or
 * NULL + error */
CtiMedia *media_fax_probe(GBytes *data, const char *content_type, const char *filename,
                          GError **error);
/* media_fax_convert - DATA (TIFF or PDF) to TIFF Class F at OUT_PATH; FINE: 196 dpi, else 98
 * (transfer full) or NULL + error */
CtiMedia *media_fax_convert(GBytes *data, const char *content_type, const char *filename,
                            gboolean fine, const char *out_path, GError **error);

/* media_store_path - "<MEDIA_DIR>/<JOB_ID>-<STEP>.<EXT>" (transfer full), NULL if JOB_ID is unsafe
 * in a path */
char *media_store_path(const char *media_dir, const char *job_id, guint step, const char *ext);
/* media_store_prepare - create MEDIA_DIR (mode 0755) if it is missing */
gboolean media_store_prepare(const char *media_dir, GError **error);
/* media_store_cleanup - remove every file of JOB_ID from MEDIA_DIR; the count removed, or -1 +
 * error */
int media_store_cleanup(const char *media_dir, const char *job_id, GError **error);

#endif
