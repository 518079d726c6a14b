/* notified - cti-milter's handling of ctid's own notifications: the
 * "X-CTI-Notification: <job> <token> <copy>" header and the NOTIFIED ipc verb.
 */
#ifndef FILTER_NOTIFIED_H
#define FILTER_NOTIFIED_H

#include <glib.h>

#include "config.h"

#define NOTIFIED_HEADER "X-CTI-Notification"

typedef enum {
	NOTIFIED_CONFIRMED, /* first copy: remove the header, accept */
	NOTIFIED_DUPLICATE, /* confirmed before: discard this copy */
	NOTIFIED_FORGED,    /* not ours (smtpd mail, bad token, unknown job): strip the header */
	NOTIFIED_TEMPFAIL,  /* ctid unreachable or its store failed: try again later */
} NotifiedVerdict;

/* notified_check - the verdict on a message carrying VALUE (the header's value);
 * LOCAL: it was injected locally (sendmail/pickup), only then is ctid asked;
 * ERROR says why for FORGED and TEMPFAIL */
NotifiedVerdict notified_check(const CtiConfig *config, gboolean local, const char *value,
                               GError **error);
/* notified_verdict_name - "confirmed", "duplicate", "forged", "tempfail" */
const char *notified_verdict_name(NotifiedVerdict verdict);

#endif
