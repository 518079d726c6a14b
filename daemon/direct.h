/* direct - the direct request channel: a SUBMIT with "Channel: direct" sent
 * by cti-send --direct over ctid's control socket instead of by mail.
 */
#ifndef CTID_DIRECT_H
#define CTID_DIRECT_H

#include <glib.h>
#include <sys/types.h>

#include "config.h"
#include "ipc.h"

/* direct_prepare - authorize REQ from the peer UID (SO_PEERCRED) and build the
 * SUBMIT frame jobs_submit() takes (transfer full); NULL + error (CTI_STORE_ERROR:
 * TEMP when the policy DB is unavailable, PERM for a refusal) */
CtiIpcFrame *direct_prepare(const CtiConfig *config, const CtiIpcFrame *req, uid_t uid,
                            GError **error);

#endif
