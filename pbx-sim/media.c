/* media.c - reads just enough of a WAV file for the voice unit: the RIFF/WAVE
 * header, the fmt chunk (format tag, rate, channels, bits) and the data chunk
 * size, from which the playing time follows.  The whole file is hashed (SHA-256)
 * so tests can tell which file was played.  Anything that is not a RIFF/WAVE
 * file with fmt and data chunks is an error.  The caller owns MediaInfo's strings.
 */
#include "media.h"

#include <string.h>

static guint32
le32(const guint8 *p)
{
	return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static guint16
le16(const guint8 *p)
{
	return (guint16)(p[0] | p[1] << 8);
}

static char *
format_name(guint16 tag)
{
	switch (tag) {
	case 1: return g_strdup("pcm");
	case 3: return g_strdup("float");
	case 6: return g_strdup("alaw");
	case 7: return g_strdup("mulaw");
	case 0x11: return g_strdup("adpcm");
	default: return g_strdup_printf("tag-%u", tag);
	}
}

static gboolean
parse_chunks(const guint8 *d, gsize len, MediaInfo *info, guint32 *byte_rate, guint32 *data_len)
{
	gboolean have_fmt = FALSE;
	gsize off = 12;
	while (off + 8 <= len) {
		guint32 size = le32(d + off + 4);
		const guint8 *c = d + off + 8;
		if (memcmp(d + off, "fmt ", 4) == 0 && size >= 16 && off + 8 + 16 <= len) {
			info->format = format_name(le16(c));
			info->channels = le16(c + 2);
			info->rate = le32(c + 4);
			*byte_rate = le32(c + 8);
			info->bits = le16(c + 14);
			have_fmt = TRUE;
		} else if (memcmp(d + off, "data", 4) == 0) {
			/* A truncated file plays what it has. */
			*data_len = (guint32)MIN((gsize)size, len - off - 8);
			return have_fmt;
		}
		off += 8 + (gsize)size + (size & 1);
	}
	return FALSE;
}

/* media_probe - read the WAV file at PATH into INFO */
gboolean
media_probe(const char *path, MediaInfo *info, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	memset(info, 0, sizeof *info);
	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	const guint8 *d = (const guint8 *)data;
	guint32 byte_rate = 0, data_len = 0;
	if (len < 12 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WAVE", 4) != 0 ||
	    !parse_chunks(d, len, info, &byte_rate, &data_len) || byte_rate == 0) {
		media_info_clear(info);
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a WAV file", path);
		return FALSE;
	}
	info->duration = (double)data_len / byte_rate;
	g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, d, len);
	info->checksum = g_strconcat("sha256:", sum, NULL);
	return TRUE;
}

/* media_info_clear - free INFO's strings */
void
media_info_clear(MediaInfo *info)
{
	g_clear_pointer(&info->format, g_free);
	g_clear_pointer(&info->checksum, g_free);
}
