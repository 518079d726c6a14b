/* notify - the result notification (doc/design.md; cti-request(5)), composed with GMime.
 *
 * A reply to Notify-To from the null sender: Auto-Submitted: auto-replied,
 * In-Reply-To/References of the request, and multipart/report
 * (report-type=x-cti-result) holding a text/plain part for people, an
 * application/x-cti-result part for programs, and text/rfc822-headers with
 * the request's headers.  Every value that goes into a header is checked for
 * CR/LF and encoded; notify_compose never emits a header injected by a field.
 */
#ifndef MAILCTI_NOTIFY_H
#define MAILCTI_NOTIFY_H

#include <glib.h>
#include "store.h"

typedef struct {
	const CtiJob *job;         /* id, request, sender, created, finished */
	const CtiRequest *request; /* parsed job->request */
	const char *status;        /* success | failed | timeout | cancelled | refused | expired */
	const char *reason;        /* human text, may be NULL */
	GPtrArray *attempts;       /* CtiAttempt*, may be NULL */
	gint64 answered_at;        /* unix ms, 0 = never */
	const char *request_headers; /* the request mail's header block, may be NULL */
	const char *from;          /* From: address of the gateway, e.g. "mailcti@host" */
	const char *hostname;      /* for the Message-ID */
	GPtrArray *steps;          /* extra "Step: ..." lines for scenarios, char*, may be NULL */
} CtiNotifyInfo;

/* notify_compose - the notification as RFC 5322 bytes with LF line ends (transfer full), or NULL + error if there is no valid recipient */
GBytes *notify_compose(const CtiNotifyInfo *info, char **recipient_out, GError **error);
/* notify_send - pipe MESSAGE to the sendmail command line SENDMAIL as "-f <> -i -- RECIPIENT"; TRUE when it exited 0 */
gboolean notify_send(const char *sendmail, const char *recipient, GBytes *message, GError **error);

#endif
