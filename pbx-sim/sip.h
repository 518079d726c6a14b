/* sip.h - pbx-sim's SIP side: a registrar for its extensions and a back-to-back
 * user agent that rings SIP-registered devices and relays RTP between them. */
#pragma once

#include <glib.h>

#include "simconf.h"

typedef enum {
	SIP_LEG_ANSWERED, /* 200 OK to our INVITE */
	SIP_LEG_FAILED,   /* final error answer or no answer at all; scode says which */
	SIP_LEG_ENDED,    /* BYE from the phone after it answered */
} SipLegEvent;

/* Called in the main loop's thread for each leg event; SCODE is the SIP status
 * (0 when the leg failed without one). */
typedef void (*SipLegFunc)(guint leg, SipLegEvent ev, guint scode, gpointer data);

gboolean sip_start(const SimConf *conf, const char *listen, const char *password, SipLegFunc func, gpointer data,
		   GError **error);
void sip_stop(void);
gboolean sip_registered(const char *ext);
guint sip_invite(const char *ext, const char *caller, guint peer);
void sip_hangup(guint leg);
