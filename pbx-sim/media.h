/* media.h - the voice unit's view of a WAV file. */
#pragma once

#include <glib.h>

typedef struct {
	char *format;     /* "pcm", "alaw", "mulaw", "float", "adpcm" or "tag-N" */
	guint rate, channels, bits;
	double duration;  /* seconds */
	char *checksum;   /* "sha256:<hex>" of the whole file */
} MediaInfo;

gboolean media_probe(const char *path, MediaInfo *info, GError **error);
void media_info_clear(MediaInfo *info);
