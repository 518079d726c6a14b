/* media_convert - run one media handler on a file, for tests that need a
 * reference conversion (the integration tests compare pbx-sim's checksum of
 * the played file with it).
 *   media_convert voice IN OUT [CONTENT-TYPE]   -> "duration=<s> checksum=sha256:<hex>"
 *   media_convert fax IN OUT                    -> "pages=<n> checksum=sha256:<hex>"
 *   media_convert say LANGUAGE TEXT OUT         -> "duration=<s> checksum=sha256:<hex>"
 * Exit 1 with the error on stderr when the conversion fails, 2 on bad usage. */
#include <stdio.h>
#include <string.h>

#include "media.h"

static GBytes *load(const char *path)
{
	char *data;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, NULL))
		return NULL;
	return g_bytes_new_take(data, len);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiMedia) m = NULL;
	g_autoptr(GBytes) in = NULL;

	if (argc >= 4 && strcmp(argv[1], "voice") == 0 && (in = load(argv[2])) != NULL)
		m = media_voice_convert(in, argc > 4 ? argv[4] : NULL, argv[2], argv[3], &error);
	else if (argc == 4 && strcmp(argv[1], "fax") == 0 && (in = load(argv[2])) != NULL)
		m = media_fax_convert(in, NULL, argv[2], TRUE, argv[3], &error);
	else if (argc == 5 && strcmp(argv[1], "say") == 0)
		m = media_speech_synth(argv[3], argv[2], NULL, argv[4], &error);
	else {
		fprintf(
		    stderr,
		    "usage: media_convert voice IN OUT [TYPE] | fax IN OUT | say LANG TEXT OUT\n");
		return 2;
	}
	if (m == NULL) {
		fprintf(stderr, "media_convert: %s\n", error->message);
		return 1;
	}
	if (strcmp(argv[1], "fax") == 0)
		printf("pages=%u checksum=%s\n", m->pages, m->checksum);
	else
		printf("duration=%.4f checksum=%s\n", m->duration, m->checksum);
	return 0;
}
