/* call - one media session: a SIP call placed (CALL) or answered (ARM) by
 * cti-media, its RTP stream and its steps.
 *
 * A call belongs to the control connection that asked for it; it reports to
 * it through an event sink and ends with exactly one "done" event, after
 * which the registry (cti-media.c) forgets it.  Every call ends: by its last
 * step, a HANGUP, the far end, a ring timeout, or its connection closing.
 */
#ifndef CTI_MEDIA_CALL_H
#define CTI_MEDIA_CALL_H

#include <gio/gio.h>

#include "ipc.h"

struct sip_msg;
typedef struct Call Call;
typedef struct Ua Ua;

/* CallSink - deliver EVENT (transfer none) to the call's owner */
typedef void (*CallSink)(const CtiIpcFrame *event, gpointer owner);
/* CallGone - the call sent its "done" event and is about to be freed */
typedef void (*CallGone)(Call *call, gpointer data);

/* call_new - a call of LINE running STEPS (transfer full, taken); TO_URI NULL = an armed call
 * that answers the next INVITE to LINE; RING_SECONDS bounds ringing (or waiting for the INVITE) */
Call *call_new(Ua *ua, const char *line, const char *to_uri, GPtrArray *steps, guint ring_seconds,
               CallSink sink, gpointer owner, CallGone gone, gpointer data);
/* call_set_spool_dir - where recordings go (copied) */
void call_set_spool_dir(Call *call, const char *dir);
/* call_set_busy - the worker holds the call: its memory outlives an early end until cleared */
void call_set_busy(Call *call, gboolean busy);
/* call_detach - forget the owner: no more events are delivered */
void call_detach(Call *call);
/* call_id - the session id (transfer none) */
const char *call_id(const Call *call);
const char *call_line(const Call *call);
gpointer call_owner(const Call *call);
/* call_prepared - the worker finished preparing the steps: ERROR NULL = ready (places an
 * outgoing call), else the call ends with the error */
void call_prepared(Call *call, const GError *error);
/* call_steps - the call's steps, for the worker (transfer none) */
GPtrArray *call_steps(Call *call);
/* call_wants_invite - is this an armed call waiting for an INVITE? */
gboolean call_wants_invite(const Call *call);
/* call_accept - answer the INVITE MSG for this armed call; FALSE + error */
gboolean call_accept(Call *call, const struct sip_msg *msg, GError **error);
/* call_start - run the steps of an answered armed call (START); FALSE + error */
gboolean call_start(Call *call, GError **error);
/* call_hangup - end the call now with CAUSE ("hangup", "disconnected") */
void call_hangup(Call *call, const char *cause);
/* call_release - at shutdown: end the call and free it now (later if the worker holds it) */
void call_release(Call *call);
/* call_state_name - "preparing", "armed", "ringing", "answered", "running", "ending" */
const char *call_state_name(const Call *call);

#endif
