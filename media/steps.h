/* steps - the media steps of one session: parsed from a control frame's
 * "Steps" field, prepared (converted) off the SIP loop, then run by call.c.
 *
 * The text form, one step a line (cti-media(8)):
 *   play [loop=N] FILE     any audio libsndfile reads, converted to 8 kHz
 *   say [lang=LANG] TEXT   spoken by espeak-ng
 *   pause SECONDS
 *   gather DIGITS TIMEOUT  then indented "  play ..." / "  say ..." lines: its prompts
 *   record SECONDS         the far end's audio, at most SECONDS
 *   fax FILE               a PDF or TIFF sent by T.30 over G.711
 * A bad line is an error naming the line; nothing is half parsed.
 */
#ifndef CTI_MEDIA_STEPS_H
#define CTI_MEDIA_STEPS_H

#include <gio/gio.h>

#define STEPS_MAX         64
#define STEPS_MAX_PROMPTS 8
#define STEPS_MAX_LOOP    20
#define STEPS_MAX_SECONDS 3600

typedef enum {
	STEP_PLAY,
	STEP_SAY,
	STEP_PAUSE,
	STEP_GATHER,
	STEP_RECORD,
	STEP_FAX,
} StepKind;

typedef struct Step {
	StepKind kind;
	char *arg;          /* play, fax: the file; say: the text */
	char *language;     /* say: espeak-ng language, NULL = its default */
	guint loop;         /* play: times played, >= 1 */
	double seconds;     /* pause: length; gather: timeout; record: maximum length */
	guint digits;       /* gather: digits wanted */
	GPtrArray *prompts; /* gather: Step*, play and say only */

	/* filled by steps_prepare */
	gint16 *pcm; /* play, say: 8 kHz mono samples */
	gsize samples;
	char *tiff;  /* fax: TIFF Class F path */
	guint pages; /* fax: pages of tiff */
} Step;

/* steps_parse - TEXT into a GPtrArray of Step* (transfer full) or NULL + error */
GPtrArray *steps_parse(const char *text, GError **error);
/* steps_prepare - convert every step's media into SPOOL_DIR, files named after SESSION;
 * blocking: call it off the SIP loop */
gboolean steps_prepare(GPtrArray *steps, const char *spool_dir, const char *session,
                       GError **error);
/* steps_name - "play", "say", ... */
const char *steps_name(StepKind kind);
/* steps_cleanup - remove SPOOL_DIR's converted files of SESSION (not recordings) */
void steps_cleanup(const char *spool_dir, const char *session);

#endif
