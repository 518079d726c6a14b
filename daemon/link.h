/* link - ctid's link to the PBX (TCP, or TLS over it): connect with backoff, the session
 * (ECMA-354 application session or SystemStatus/SystemRegister), request /
 * response matching by invoke id, events handed to the hooks.
 */
#ifndef CTID_LINK_H
#define CTID_LINK_H

#include <glib.h>

#include "config.h"
#include "csta.h"
#include "ipc.h"
#include "link-tls.h"

typedef struct CtidLink CtidLink;

/* A request's outcome: REPLY (transfer none) is the positive response or a
 * CSTAErrorCode (kind CSTA_MSG_ERROR); it is NULL when ERROR says why there is
 * no reply (timeout, link lost).  Called exactly once unless the link is freed. */
typedef void (*LinkReplyFunc)(const CstaMessage *reply, const GError *error, gpointer data);

typedef struct {
	void (*up)(gpointer data);   /* session established */
	void (*down)(gpointer data); /* session lost; pending requests already failed */
	void (*event)(const CstaMessage *event,
	              gpointer data); /* a call-control event (transfer none) */
} LinkHooks;

/* link_new - a link for CONFIG (borrowed, must outlive it), over TLS when TLS (transfer
 * full) is not NULL; nothing happens before link_start */
CtidLink *link_new(const CtiConfig *config, LinkTls *tls, const LinkHooks *hooks, gpointer data);
/* link_free - close at once, drop pending requests (their destroy notifies run, not their
 * callbacks) */
void link_free(CtidLink *link);
/* link_start - begin connecting */
void link_start(CtidLink *link);
/* link_kick - when waiting to reconnect, try now */
void link_kick(CtidLink *link);
/* link_shutdown - end the session politely (StopApplicationSession), then call DONE once */
void link_shutdown(CtidLink *link, void (*done)(gpointer data), gpointer data);
/* link_is_up - TRUE when the session is established */
gboolean link_is_up(const CtidLink *link);
/* link_namespace - the CSTA namespace for requests (negotiated or configured) */
const char *link_namespace(const CtidLink *link);
/* link_request - send XML as a new request; FALSE + error when the link is down or full */
gboolean link_request(CtidLink *link, const char *xml, LinkReplyFunc cb, gpointer data,
                      GDestroyNotify destroy, GError **error);
/* link_status - add Link, Session-Style, Link-Since, Last-Error to REPLY */
void link_status(const CtidLink *link, CtiIpcFrame *reply);

#endif
