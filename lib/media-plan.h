/* media-plan - what ctid does on the answered call, with every medium converted.
 *
 * Built from the request mail (as ctid spooled it) and the parsed request:
 * with a Scenario: field, one plan step per scenario step; without one, the
 * voice, text and fax parts in mail order (connect, then play them).  Voice
 * parts are converted (media_voice_convert), <Say> texts and text parts are
 * synthesised (media_speech_synth), documents become TIFF Class F
 * (media_fax_convert), each into the media store as "<job>-<NN>.<ext>", the
 * name the exchange's voice unit plays.  Errors are permanent (the mail was
 * already checked by the milter, so this is rare) except CTI_MEDIA_ERROR_STORE
 * and a spool read error; the caller ends the job and calls
 * media_store_cleanup() either way.
 */
#ifndef MAILCTI_MEDIA_PLAN_H
#define MAILCTI_MEDIA_PLAN_H

#include <glib.h>
#include <gmime/gmime.h>

#include "request.h"

typedef enum {
	CTI_PLAN_PLAY,   /* play FILE (voice part or synthesised speech), LOOP times */
	CTI_PLAN_PAUSE,  /* SECONDS of silence */
	CTI_PLAN_DIAL,   /* dial NUMBER, ringing at most TIMEOUT s */
	CTI_PLAN_HANGUP, /* end the call */
	CTI_PLAN_FAX,    /* send FILE (TIFF Class F, PAGES pages) */
} CtiPlanKind;

typedef struct {
	CtiPlanKind kind;
	char *file;     /* PLAY/FAX: the file's name inside media_dir, as PlayMessage names it */
	char *path;     /* PLAY/FAX: the full path */
	char *checksum; /* PLAY/FAX: "sha256:..." of the file */
	double seconds; /* PLAY: one playing; PAUSE: the pause */
	int loop;       /* PLAY: times, 0 = until the call ends */
	guint pages;    /* FAX */
	char *number;   /* DIAL */
	int timeout;    /* DIAL */
	char *describe; /* "2 Play 'greeting.wav' 3.20 s x1": a notification Step: line */
} CtiPlanStep;

typedef struct {
	GPtrArray *steps;     /* CtiPlanStep*, in order */
	double total_seconds; /* plays (x loop, at least once), pauses and dial timeouts */
} CtiMediaPlan;

/* media_plan_build - convert MESSAGE's media for REQ into MEDIA_DIR under JOB_ID (transfer full) or
 * NULL + error */
CtiMediaPlan *media_plan_build(GMimeMessage *message, const CtiRequest *req, const char *media_dir,
                               const char *job_id, GError **error);
/* media_plan_build_file - the same, reading the mail from MESSAGE_PATH (e.g. the spool file) */
CtiMediaPlan *media_plan_build_file(const char *message_path, const CtiRequest *req,
                                    const char *media_dir, const char *job_id, GError **error);
/* media_plan_free - free; NULL is a no-op (the files stay: media_store_cleanup() removes them) */
void media_plan_free(CtiMediaPlan *plan);
/* media_plan_describe - the plan's Step: lines for CtiNotifyInfo.steps (char*, transfer full) */
GPtrArray *media_plan_describe(const CtiMediaPlan *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiMediaPlan, media_plan_free)

#endif
