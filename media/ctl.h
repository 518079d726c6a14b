/* ctl - cti-media's control socket: MCTI/1 frames from ctid (or any local
 * client) to place, arm, start and hang up media sessions, and the EVENT
 * frames of those sessions back on the same connection (cti-media(8)).
 */
#ifndef CTI_MEDIA_CTL_H
#define CTI_MEDIA_CTL_H

#include <gio/gio.h>

#include "call.h"
#include "config.h"
#include "ua.h"

typedef struct Ctl Ctl;

/* CtlPrepare - hand CALL to the conversion worker */
typedef void (*CtlPrepare)(Call *call, gpointer data);

/* ctl_new - listen on [media] socket (transfer full) or NULL + error */
Ctl *ctl_new(const CtiConfig *config, CtlPrepare prepare, gpointer data, GError **error);
/* ctl_set_ua - the SIP side, once it is up */
void ctl_set_ua(Ctl *ctl, Ua *ua);
/* ctl_free - hang up every session, close every connection and the socket */
void ctl_free(Ctl *ctl);
/* ctl_invite - UaInvite: give the INVITE to the oldest call armed for LINE */
gboolean ctl_invite(const char *line, const struct sip_msg *msg, gpointer data);

#endif
