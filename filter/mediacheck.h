/* mediacheck - the scenario and media parts of a request, checked at SMTP time.
 *
 * A bad scenario, a missing part or a part that is no readable media of its
 * kind is a permanent error the sender must see in the 550 reply (with the
 * line and column, or the part's name); the media are only probed here
 * (headers, page directories, speech voices), and converted later by ctid.
 */
#ifndef MAILCTI_FILTER_MEDIACHECK_H
#define MAILCTI_FILTER_MEDIACHECK_H

#include <glib.h>
#include <gmime/gmime.h>

#include "request.h"

/* mediacheck_message - check REQ's scenario (if any) and the media parts of
 * MESSAGE; TRUE when fine, FALSE + FILTER_ERROR_REQUEST (permanent) or
 * FILTER_ERROR_TEMP (a read error) */
gboolean mediacheck_message(GMimeMessage *message, const CtiRequest *req, GError **error);

#endif
