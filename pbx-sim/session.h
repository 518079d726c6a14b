/* session.h - client connections: TCP accept, framing, application sessions,
 * SystemStatus heartbeats, and sending responses, errors and events. */
#pragma once

#include <glib.h>

#include "simconf.h"
#include "xml.h"

#define NS_354 "http://www.ecma-international.org/standards/ecma-354/appl_session"
#define NS_CSTA_PREFIX "http://www.ecma-international.org/standards/ecma-323/csta/ed"
#define NS_ED2 "http://www.ecma.ch/standards/ecma-323/csta/ed2"

typedef enum {
	SESS_STYLE_BOTH,
	SESS_STYLE_ECMA354,
	SESS_STYLE_SYSTEM_STATUS,
} SessStyle;

typedef struct SessClient SessClient;

/* One request being handled: what a service handler needs. */
typedef struct {
	SessClient *client;
	const char *invoke;
	XmlNode *req; /* root element of the request */
	gboolean answered;
} SessReq;

gboolean session_listen(const char *hostport, const SimConf *conf, SessStyle style,
			const char *default_ns, GError **error);
void session_shutdown(void);

const char *session_ns(const SessClient *c);
const char *session_peer(const SessClient *c);
void session_send(SessClient *c, const char *invoke, const char *root, const GString *xml);
void session_request(SessClient *c, const char *root, const GString *xml);
gboolean session_exists(const SessClient *c);

void sess_reply(SessReq *r, const GString *xml);
void sess_reply_empty(SessReq *r, const char *root);
void sess_error(SessReq *r, const char *category, const char *value);
GString *sess_begin(SessReq *r, const char *root);
GString *sess_begin_client(SessClient *c, const char *root);
void sess_end(GString *xml, const char *root);
