/* media-voice - voice parts: probe and convert with libsndfile.
 *
 * The part's bytes are read in place through libsndfile's virtual I/O (no
 * temporary file).  libsndfile recognises the container from the data (WAV
 * with PCM, mu-law, A-law, IMA/MS ADPCM, GSM; AU; AIFF; FLAC; Ogg; MP3 ...);
 * headerless mu-law / A-law (audio/PCMU, audio/PCMA, *.ul, *.al) is read as
 * raw 8 kHz mono.  Channels are mixed down to mono, then media-pcm resamples.
 * Failures: unreadable or corrupt audio (FORMAT), too long or too large
 * (LIMIT), the store (STORE).
 */
#include "media-private.h"

#include <string.h>

#include <sndfile.h>

#define VOICE_CHUNK        4096
#define VOICE_MAX_CHANNELS 16

typedef struct {
	const guint8 *data;
	sf_count_t len, pos;
} VoiceMem;

static sf_count_t vm_len(void *user)
{
	return ((VoiceMem *)user)->len;
}

static sf_count_t vm_seek(sf_count_t offset, int whence, void *user)
{
	VoiceMem *m = user;
	sf_count_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;

	if (base + offset < 0 || base + offset > m->len)
		return -1;
	m->pos = base + offset;
	return m->pos;
}

static sf_count_t vm_read(void *ptr, sf_count_t count, void *user)
{
	VoiceMem *m = user;
	sf_count_t n = MIN(count, m->len - m->pos);

	memcpy(ptr, m->data + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t vm_write(const void *ptr, sf_count_t count, void *user)
{
	return 0; /* read-only */
}

static sf_count_t vm_tell(void *user)
{
	return ((VoiceMem *)user)->pos;
}

static SF_VIRTUAL_IO voice_vio = {vm_len, vm_seek, vm_read, vm_write, vm_tell};

typedef struct {
	const char *name;
	int format; /* SF_FORMAT_ULAW or SF_FORMAT_ALAW */
} RawRow;

/* Headerless G.711: by content type or by extension. */
static const RawRow raw_rows[] = {
    {"audio/pcmu", SF_FORMAT_ULAW},    {"audio/basic", SF_FORMAT_ULAW},
    {"audio/x-mulaw", SF_FORMAT_ULAW}, {"audio/pcma", SF_FORMAT_ALAW},
    {"audio/x-alaw", SF_FORMAT_ALAW},  {".ul", SF_FORMAT_ULAW},
    {".ulaw", SF_FORMAT_ULAW},         {".mulaw", SF_FORMAT_ULAW},
    {".al", SF_FORMAT_ALAW},           {".alaw", SF_FORMAT_ALAW},
};

static int raw_format(const char *content_type, const char *filename)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(raw_rows); i++) {
		const char *name = raw_rows[i].name;

		if (name[0] == '.'
		        ? dot != NULL && g_ascii_strcasecmp(dot, name) == 0
		        : content_type != NULL && g_ascii_strcasecmp(content_type, name) == 0)
			return raw_rows[i].format;
	}
	return 0;
}

/* format_name - "wav/pcm16 44100 Hz 2 ch" */
static char *format_name(const SF_INFO *info)
{
	SF_FORMAT_INFO major = {.format = info->format & SF_FORMAT_TYPEMASK};
	SF_FORMAT_INFO minor = {.format = info->format & SF_FORMAT_SUBMASK};

	sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major);
	sf_command(NULL, SFC_GET_FORMAT_INFO, &minor, sizeof minor);
	return g_strdup_printf("%s/%s %d Hz %d ch", major.extension ? major.extension : "?",
	                       minor.name ? minor.name : "?", info->samplerate, info->channels);
}

/* voice_open - open DATA with libsndfile, falling back to raw G.711 */
static SNDFILE *voice_open(VoiceMem *mem, GBytes *data, const char *content_type,
                           const char *filename, SF_INFO *info, GError **error)
{
	SNDFILE *sf;
	int raw = raw_format(content_type, filename);
	gsize len;

	mem->data = g_bytes_get_data(data, &len);
	mem->len = (sf_count_t)len;
	if (len > CTI_MEDIA_MAX_INPUT) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "audio larger than %d bytes", CTI_MEDIA_MAX_INPUT);
		return NULL;
	}
	memset(info, 0, sizeof *info);
	mem->pos = 0;
	sf = sf_open_virtual(&voice_vio, SFM_READ, info, mem);
	if (sf == NULL && raw != 0) {
		memset(info, 0, sizeof *info);
		info->format = SF_FORMAT_RAW | raw;
		info->samplerate = CTI_MEDIA_RATE;
		info->channels = 1;
		mem->pos = 0;
		sf = sf_open_virtual(&voice_vio, SFM_READ, info, mem);
	}
	if (sf == NULL) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT,
		            "not readable audio (%s)", sf_strerror(NULL));
		return NULL;
	}
	return sf;
}

/* voice_check - reject what we will not convert */
static gboolean voice_check(const SF_INFO *info, GError **error)
{
	if (info->channels < 1 || info->channels > VOICE_MAX_CHANNELS || info->samplerate < 1000 ||
	    info->samplerate > 384000) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT,
		            "unsupported audio: %d channels at %d Hz", info->channels,
		            info->samplerate);
		return FALSE;
	}
	if (info->frames <= 0) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT,
		            "the audio holds no samples");
		return FALSE;
	}
	if (info->frames / info->samplerate > CTI_MEDIA_MAX_SECONDS) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "audio of %" G_GINT64_FORMAT " s is longer than %d s",
		            (gint64)(info->frames / info->samplerate), CTI_MEDIA_MAX_SECONDS);
		return FALSE;
	}
	return TRUE;
}

/* media_voice_probe - headers only */
CtiMedia *media_voice_probe(GBytes *data, const char *content_type, const char *filename,
                            GError **error)
{
	VoiceMem mem;
	SF_INFO info;
	SNDFILE *sf = voice_open(&mem, data, content_type, filename, &info, error);
	g_autofree char *format = NULL;
	CtiMedia *media;

	if (sf == NULL)
		return NULL;
	format = format_name(&info);
	if (!voice_check(&info, error)) {
		sf_close(sf);
		return NULL;
	}
	sf_close(sf);
	media = media_new(format);
	media->duration = (double)info.frames / info.samplerate;
	return media;
}

/* voice_pump - read, mix down, hand to the writer until the input ends */
static gboolean voice_pump(SNDFILE *sf, const SF_INFO *info, MediaPcmWriter *w, GError **error)
{
	g_autofree float *frames = g_new(float, (gsize)VOICE_CHUNK *(gsize)info->channels);
	float mono[VOICE_CHUNK];
	sf_count_t n;

	while ((n = sf_readf_float(sf, frames, VOICE_CHUNK)) > 0) {
		for (sf_count_t i = 0; i < n; i++) {
			float sum = 0;

			for (int c = 0; c < info->channels; c++)
				sum += frames[i * info->channels + c];
			mono[i] = sum / (float)info->channels;
		}
		if (!media_pcm_write(w, mono, (gsize)n, FALSE, error))
			return FALSE;
	}
	if (sf_error(sf) != SF_ERR_NO_ERROR) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT, "corrupt audio: %s",
		            sf_strerror(sf));
		return FALSE;
	}
	return media_pcm_write(w, mono, 0, TRUE, error);
}

/* media_voice_convert - any readable audio to 8 kHz mono 16-bit PCM WAV */
CtiMedia *media_voice_convert(GBytes *data, const char *content_type, const char *filename,
                              const char *out_path, GError **error)
{
	VoiceMem mem;
	SF_INFO info;
	SNDFILE *sf = voice_open(&mem, data, content_type, filename, &info, error);
	g_autoptr(CtiMedia) media = NULL;
	g_autofree char *format = NULL;
	MediaPcmWriter *w;

	if (sf == NULL)
		return NULL;
	format = format_name(&info);
	if (!voice_check(&info, error) ||
	    (w = media_pcm_open(out_path, info.samplerate, media_deadline(), error)) == NULL) {
		sf_close(sf);
		return NULL;
	}
	media = media_new(format);
	if (!voice_pump(sf, &info, w, error)) {
		media_pcm_abort(w);
		sf_close(sf);
		return NULL;
	}
	sf_close(sf);
	if (!media_pcm_finish(w, media, error))
		return NULL;
	return g_steal_pointer(&media);
}
