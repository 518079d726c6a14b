/* server - ctid's ipc sockets: the control/submission socket and the
 * retrieval socket for the Dovecot plugin (lib/ipc.h frames).
 */
#ifndef CTID_SERVER_H
#define CTID_SERVER_H

#include <glib.h>

#include "config.h"
#include "jobs.h"
#include "link.h"

typedef struct CtidServer CtidServer;

/* server_new - a server for CONFIG (borrowed); attach jobs and link before the loop runs */
CtidServer *server_new(const CtiConfig *config);
/* server_attach - answer with JOBS and LINK (borrowed) */
void server_attach(CtidServer *server, CtidJobs *jobs, CtidLink *link);
/* server_listen - create, chmod/chown and listen on both sockets; FALSE + error */
gboolean server_listen(CtidServer *server, GError **error);
/* server_stop - stop accepting, close every connection, remove the sockets */
void server_stop(CtidServer *server);
/* server_free - server_stop and free; NULL is a no-op */
void server_free(CtidServer *server);

#endif
