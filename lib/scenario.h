/* scenario - the scenario part (cti-scenario(5)): a TwiML-compatible subset.
 *
 * <Response> holding <Dial>, <Play>, <Say>, <Pause/>, <Hangup/> and <Fax>.
 * A document that uses only these verbs means what it means under TwiML.
 * Anything else (an unknown verb or attribute, bad nesting, a bad value, a
 * part that is not in the mail, too big a document) is an error whose
 * message starts "line L, column C: " (the position of the offending tag).
 * Input is bounded: CTI_SCENARIO_MAX_BYTES and CTI_SCENARIO_MAX_STEPS.
 * The error domain is CTI_SCENARIO_ERROR; every error is permanent.
 */
#ifndef MAILCTI_SCENARIO_H
#define MAILCTI_SCENARIO_H

#include <glib.h>

#define CTI_SCENARIO_MAX_BYTES 65536
#define CTI_SCENARIO_MAX_STEPS 200
#define CTI_SCENARIO_MAX_TEXT  4096 /* bytes of a <Say> text */

typedef enum {
	CTI_STEP_DIAL,   /* text: the number; timeout: ring time in s */
	CTI_STEP_PLAY,   /* part: the voice part; loop: times, 0 = until the call ends */
	CTI_STEP_SAY,    /* text: what to speak; voice, language; loop */
	CTI_STEP_PAUSE,  /* length: seconds of silence */
	CTI_STEP_HANGUP, /* end the call */
	CTI_STEP_FAX,    /* part: the document part; fine: 196 dpi (else 98 dpi) */
} CtiStepKind;

typedef struct {
	CtiStepKind kind;
	int line, column; /* where the verb's tag starts, 1-based */
	char *text;       /* Dial: number; Say: text; Play/Fax: the reference as written */
	int part;         /* Play/Fax: index into the caller's part list, else -1 */
	int loop;         /* Play/Say: default 1 */
	int timeout;      /* Dial: default 30 */
	int length;       /* Pause: default 1 */
	gboolean fine;    /* Fax: default TRUE */
	char *voice;      /* Say: NULL, "man", "woman", "alice" or an espeak-ng voice name */
	char *language;   /* Say: a language tag such as "en-GB", or NULL */
} CtiStep;

/* A part of the mail that <Play>/<Fax> may name ("cid:..." or its file name). */
typedef struct {
	const char *content_id; /* without <>, or NULL */
	const char *filename;   /* decoded file name, or NULL */
	gboolean is_request;    /* the request part (parts_is_request): never media */
} CtiScenarioPart;

typedef struct {
	GPtrArray *steps; /* CtiStep*, in document order */
} CtiScenario;

#define CTI_SCENARIO_ERROR (scenario_error_quark())
typedef enum {
	CTI_SCENARIO_ERROR_SYNTAX,      /* not well-formed XML, not <Response> */
	CTI_SCENARIO_ERROR_VERB,        /* unknown verb or bad nesting */
	CTI_SCENARIO_ERROR_ATTR,        /* unknown attribute or bad attribute value */
	CTI_SCENARIO_ERROR_VALUE,       /* bad element content */
	CTI_SCENARIO_ERROR_PART,        /* a referenced part is missing */
	CTI_SCENARIO_ERROR_LIMIT,       /* too big, too many steps */
	CTI_SCENARIO_ERROR_UNSUPPORTED, /* valid TwiML this gateway cannot run: <Dial> */
} CtiScenarioError;
GQuark scenario_error_quark(void);

/* scenario_parse - parse TEXT (LEN bytes) and resolve <Play>/<Fax> against
 * the N_PARTS entries of PARTS (may be NULL when N_PARTS is 0); (transfer full)
 * or NULL + error "line L, column C: ..." */
CtiScenario *scenario_parse(const char *text, gsize len, const CtiScenarioPart *parts,
                            gsize n_parts, GError **error);
/* scenario_check_runnable - can this gateway run every step of SCENARIO as written?  FALSE +
 * CTI_SCENARIO_ERROR_UNSUPPORTED "line L, column C: ..." for a <Dial> (no dial-out from a
 * scenario), CTI_SCENARIO_ERROR_PART for a <Play>/<Fax> of the request part (a request part
 * is never media).  PARTS as given to scenario_parse().  The milter, explain and ctid's media
 * planner all call this, so a scenario is refused at SMTP time, never half run. */
gboolean scenario_check_runnable(const CtiScenario *scenario, const CtiScenarioPart *parts,
                                 gsize n_parts, GError **error);
/* scenario_free - free; NULL is a no-op */
void scenario_free(CtiScenario *scenario);
/* scenario_step_name - the verb of KIND: "Dial", "Play", ... */
const char *scenario_step_name(CtiStepKind kind);
/* scenario_step_describe - one line for the notification, e.g. "3 Pause length=2" (transfer full)
 */
char *scenario_step_describe(const CtiStep *step, guint number);
/* scenario_part_lookup - index of the part REF names ("cid:..." or a file name), or -1 */
int scenario_part_lookup(const char *ref, const CtiScenarioPart *parts, gsize n_parts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiScenario, scenario_free)

#endif
