/* ua - cti-media's SIP user agent on libre: the UDP transport, one
 * registration per configured line (digest authentication), incoming INVITEs
 * handed to the call armed for their line, outgoing calls' SIP parameters.
 */
#ifndef CTI_MEDIA_UA_H
#define CTI_MEDIA_UA_H

#include <gio/gio.h>

#include "config.h"
#include "ipc.h"

struct sip_msg;
struct sipsess_sock;
struct sa;
typedef struct Ua Ua;

/* UaInvite - an INVITE for LINE; return TRUE when a call took it */
typedef gboolean (*UaInvite)(const char *line, const struct sip_msg *msg, gpointer data);

/* ua_new - bind SIP on [media] local_address:sip_port and register every line (transfer full)
 * or NULL + error */
Ua *ua_new(const CtiConfig *config, UaInvite invite, gpointer data, GError **error);
void ua_free(Ua *ua);
/* ua_line - LINE's credentials, the ARG of ua_auth, valid as long as UA; NULL when LINE is not
 * one of [media] lines (transfer none) */
gpointer ua_line(const Ua *ua, const char *line);
/* ua_status - add Line-N, Registered-N fields to REPLY */
void ua_status(const Ua *ua, CtiIpcFrame *reply);
/* ua_sock - the session socket (transfer none) */
struct sipsess_sock *ua_sock(const Ua *ua);
/* ua_laddr - the local address SIP and RTP use (transfer none) */
const struct sa *ua_laddr(const Ua *ua);
/* ua_aor - "sip:LINE@DOMAIN" (transfer full) */
char *ua_aor(const Ua *ua, const char *line);
/* ua_auth - libre's sip_auth_h: ARG is ua_line()'s answer */
int ua_auth(char **username, char **password, const char *realm, void *arg);
/* ua_rtp_range - [media] rtp_ports */
void ua_rtp_range(const Ua *ua, guint16 *min, guint16 *max);
/* ua_codecs - [media] codecs, e.g. {"pcmu", "pcma", NULL} (transfer none) */
char *const *ua_codecs(const Ua *ua);

#endif
