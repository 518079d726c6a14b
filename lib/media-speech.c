/* media-speech - text parts and <Say>: speech synthesis with libespeak-ng.
 *
 * espeak-ng keeps global state and is not thread-safe, so every use holds
 * one lock; it is initialised once, synchronous, and told never to exit the
 * process on an error.  The language comes from <Say language> or the part's
 * Content-Language; TwiML's voices "man", "woman" and "alice" choose the
 * gender, any other voice name is an espeak-ng voice.  Samples arrive in a
 * callback at espeak's own rate and go through media-pcm to 8 kHz.
 * Failures: no voice for the language (LANGUAGE), espeak cannot start or
 * synthesise (CONVERT), too long (LIMIT), the store (STORE).
 */
#include "media-private.h"

#include <stdio.h>
#include <string.h>

#include <espeak-ng/speak_lib.h>

#define SPEECH_MAX_TEXT (64 * 1024)

static GMutex speech_lock;
static int speech_rate; /* espeak's sample rate, 0 = not initialised, < 0 = failed */

typedef struct {
	MediaPcmWriter *w;
	GError *error;
	float buf[4096];
} SpeechRun;

/* speech_init - once per process, under speech_lock */
static gboolean speech_init(GError **error)
{
	if (speech_rate == 0)
		speech_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL,
		                                espeakINITIALIZE_DONT_EXIT);
	if (speech_rate > 0)
		return TRUE;
	g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_CONVERT,
	            "speech synthesis unavailable (espeak-ng data not found)");
	return FALSE;
}

static const char *const gender_voices[][2] = {{"man", "1"}, {"woman", "2"}, {"alice", "2"}};

static int voice_gender(const char *voice)
{
	for (gsize i = 0; voice != NULL && i < G_N_ELEMENTS(gender_voices); i++)
		if (g_ascii_strcasecmp(voice, gender_voices[i][0]) == 0)
			return gender_voices[i][1][0] - '0';
	return 0;
}

/* speech_select - choose the voice, under speech_lock */
static gboolean speech_select(const char *language, const char *voice, GError **error)
{
	g_autofree char *lang = g_ascii_strdown(language ? language : "en", -1);
	espeak_VOICE spec = {0};
	const espeak_VOICE **found;

	if (voice != NULL && voice_gender(voice) == 0) {
		if (espeak_SetVoiceByName(voice) == EE_OK)
			return TRUE;
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LANGUAGE,
		            "no speech voice named '%s'", voice);
		return FALSE;
	}
	g_strdelimit(lang, "_", '-');
	spec.languages = lang;
	spec.gender = (unsigned char)voice_gender(voice);
	found = espeak_ListVoices(&spec);
	if (found == NULL || found[0] == NULL || espeak_SetVoiceByProperties(&spec) != EE_OK) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LANGUAGE,
		            "no speech voice for language '%s'", lang);
		return FALSE;
	}
	return TRUE;
}

/* media_speech_probe - is the language/voice available? */
gboolean media_speech_probe(const char *language, const char *voice, GError **error)
{
	gboolean ok;

	g_mutex_lock(&speech_lock);
	ok = speech_init(error) && speech_select(language, voice, error);
	g_mutex_unlock(&speech_lock);
	return ok;
}

/* speech_samples - espeak's callback: convert and pass on; 1 aborts synthesis */
static int speech_samples(short *wav, int n, espeak_EVENT *events)
{
	SpeechRun *run = events ? events->user_data : NULL;

	if (run == NULL || wav == NULL || n <= 0 || run->error != NULL)
		return run != NULL && run->error != NULL;
	while (n > 0) {
		int chunk = MIN(n, (int)G_N_ELEMENTS(run->buf));

		for (int i = 0; i < chunk; i++)
			run->buf[i] = (float)wav[i] / 32768.0f;
		if (!media_pcm_write(run->w, run->buf, (gsize)chunk, FALSE, &run->error))
			return 1;
		wav += chunk;
		n -= chunk;
	}
	return 0;
}

/* speech_run - synthesise TEXT into W, under speech_lock */
static gboolean speech_run(const char *text, MediaPcmWriter *w, GError **error)
{
	SpeechRun *run = g_new0(SpeechRun, 1);
	espeak_ERROR rc;
	gboolean ok;

	run->w = w;
	espeak_SetSynthCallback(speech_samples);
	rc = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, run);
	if (rc == EE_OK)
		rc = espeak_Synchronize();
	ok = run->error == NULL && rc == EE_OK;
	if (run->error != NULL)
		g_propagate_error(error, run->error);
	else if (rc != EE_OK)
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_CONVERT,
		            "speech synthesis failed (%d)", rc);
	g_free(run);
	return ok && media_pcm_write(w, NULL, 0, TRUE, error);
}

static gboolean text_blank(const char *text)
{
	for (; *text; text++)
		if (!g_ascii_isspace(*text))
			return FALSE;
	return TRUE;
}

/* media_speech_synth - TEXT spoken into an 8 kHz mono PCM WAV */
CtiMedia *media_speech_synth(const char *text, const char *language, const char *voice,
                             const char *out_path, GError **error)
{
	g_autoptr(CtiMedia) media = NULL;
	MediaPcmWriter *w = NULL;
	gboolean ok;

	if (text == NULL || !g_utf8_validate(text, -1, NULL) || text_blank(text)) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT, "no text to speak");
		return NULL;
	}
	if (strlen(text) > SPEECH_MAX_TEXT) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "text longer than %d bytes", SPEECH_MAX_TEXT);
		return NULL;
	}
	media = media_new(language ? language : "en");
	g_mutex_lock(&speech_lock);
	ok = speech_init(error) && speech_select(language, voice, error) &&
	     (w = media_pcm_open(out_path, speech_rate, media_deadline(), error)) != NULL &&
	     speech_run(text, w, error);
	g_mutex_unlock(&speech_lock);
	if (!ok) {
		media_pcm_abort(w);
		return NULL;
	}
	if (!media_pcm_finish(w, media, error))
		return NULL;
	if (media->frames == 0) {
		remove(media->path);
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_CONVERT,
		            "speech synthesis produced no audio");
		return NULL;
	}
	return g_steal_pointer(&media);
}
