/* submit - hand a validated request to ctid (ipc SUBMIT) and read its answer.
 *
 * ctid answers OK (with Job-Id) only once the message and its job are on
 * disk; TEMPFAIL and an unreachable or silent ctid are temporary
 * (FILTER_ERROR_TEMP), REJECT is permanent (FILTER_ERROR_REFUSED, with
 * ctid's Reason).
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
	GBytes *message;         /* the whole mail as received, CRLF */
} SubmitInfo;

/* submit_job_id - a Job-Id that is the same whenever the same message carries
 * the same request (a retry after a lost answer), NULL without a Message-Id
 * (transfer full) */
char *submit_job_id(const SubmitInfo *info);
/* submit_frame - the SUBMIT frame for INFO (transfer full) */
CtiIpcFrame *submit_frame(const SubmitInfo *info);
/* submit_check_reply - the Job-Id of an OK reply (transfer full), or NULL + FILTER_ERROR_* */
char *submit_check_reply(const CtiIpcFrame *reply, GError **error);
/* submit_request - SUBMIT to ctid at SOCKET_PATH within TIMEOUT_MS; the Job-Id (transfer full) or
 * NULL + error */
char *submit_request(const char *socket_path, int timeout_ms, const SubmitInfo *info,
                     GError **error);

#endif
