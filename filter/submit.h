/* submit - hand a validated request to ctid (ipc SUBMIT) and read its answer.
 *
 * The message goes from the spool file to the socket with sendfile(2), so
 * a 25 MB request mail is never held in the milter's memory.
 *
 * ctid answers OK (with Job-Id) only once the message and its job are on
 * disk; TEMPFAIL and an unreachable or silent ctid are temporary
 * (FILTER_ERROR_TEMP), REJECT is permanent (FILTER_ERROR_REFUSED, with
 * ctid's Reason).  A rate limit answer carries Enhanced-Status 4.7.1
 * (TEMPFAIL: FILTER_ERROR_RATE_TEMP) or 5.7.1 (REJECT: FILTER_ERROR_RATE_REJECT).
 */
#ifndef MAILCTI_FILTER_SUBMIT_H
#define MAILCTI_FILTER_SUBMIT_H

#include <glib.h>

#include "ipc.h"

typedef struct {
	const char *request; /* canonical request text (request_format) */
	const char *sender;  /* envelope sender without <>, "" for the null sender */
	const char *recipient;
	const char *auth_authen; /* optional */
	const char *client_addr; /* optional */
	const char *queue_id;    /* optional */
	const char *message_id;  /* optional */
	const char *mailbox;     /* optional: Trigger: user owner */
	const char *job_id;      /* optional: makes a repeated SUBMIT idempotent */
	const char *identity;    /* optional: the sender's identity (authz-step.h), for rate limits */
	int message_fd;          /* the whole mail as received (CRLF), read from offset 0 */
	const guint8 *message_data; /* or the whole mail in memory: then message_fd is unused */
	gsize message_size;
} SubmitInfo;

/* submit_job_id - a Job-Id that is the same whenever the same message carries
 * the same request (a retry after a lost answer), NULL without a Message-Id
 * (transfer full) */
char *submit_job_id(const SubmitInfo *info);
/* submit_frame - the SUBMIT frame for INFO, without its body (transfer full) */
CtiIpcFrame *submit_frame(const SubmitInfo *info);
/* submit_frame_head - FRAME's wire bytes up to its body, announcing BODY_LEN bytes (transfer full)
 */
GBytes *submit_frame_head(const CtiIpcFrame *frame, gsize body_len);
/* submit_check_reply - the Job-Id of an OK reply (transfer full), or NULL + FILTER_ERROR_* */
char *submit_check_reply(const CtiIpcFrame *reply, GError **error);
/* submit_request - SUBMIT to ctid at SOCKET_PATH within TIMEOUT_MS; the Job-Id (transfer full) or
 * NULL + error */
char *submit_request(const char *socket_path, int timeout_ms, const SubmitInfo *info,
                     GError **error);

#endif
