/* submit - the milter's side of the ipc SUBMIT exchange with ctid.
 *
 * Builds the frame from borrowed strings (the caller owns everything in
 * SubmitInfo), makes one blocking call bounded by [milter] ctid_timeout_ms,
 * and sorts the answer into the milter's error tiers.  Any transport error
 * (no socket, refused, timeout, a malformed reply) is temporary, so the
 * sending MTA keeps the mail.  Because an answer can be lost after ctid
 * stored the job (a timeout), the Job-Id is derived from the message, so
 * the MTA's retry of the same mail finds the job ctid already holds
 * instead of placing a second call.
 */
#include "submit.h"

#include "reply.h"
#include "store.h"

#include <string.h>

static void submit_add_optional(CtiIpcFrame *frame, const char *name, const char *value)
{
	if (value != NULL && *value != '\0')
		ipc_frame_add(frame, name, value);
}

/* submit_job_id - SHA-256 over sender, recipient, Message-Id and request, cut to a Job-Id */
char *submit_job_id(const SubmitInfo *info)
{
	g_autoptr(GChecksum) sum = NULL;
	const char *parts[] = {info->sender, info->recipient, info->message_id, info->request};
	char *hex;

	if (info->message_id == NULL || *info->message_id == '\0')
		return NULL;
	sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, (const guchar *)"mailcti-job-id/1", -1);
	for (gsize i = 0; i < G_N_ELEMENTS(parts); i++) {
		/* the NUL keeps "ab"+"c" apart from "a"+"bc" */
		g_checksum_update(sum, (const guchar *)(parts[i] ? parts[i] : ""),
		                  (gssize)strlen(parts[i] ? parts[i] : "") + 1);
	}
	hex = g_strndup(g_checksum_get_string(sum), CTI_JOB_ID_LEN);
	return hex;
}

/* submit_frame - fields as agreed for SUBMIT; the body is the message */
CtiIpcFrame *submit_frame(const SubmitInfo *info)
{
	CtiIpcFrame *frame = ipc_frame_new("SUBMIT");

	ipc_frame_add(frame, "Request", info->request);
	ipc_frame_add(frame, "Sender", info->sender ? info->sender : "");
	ipc_frame_add(frame, "Recipient", info->recipient ? info->recipient : "");
	submit_add_optional(frame, "Auth-Authen", info->auth_authen);
	submit_add_optional(frame, "Client-Addr", info->client_addr);
	submit_add_optional(frame, "Queue-Id", info->queue_id);
	submit_add_optional(frame, "Message-Id", info->message_id);
	submit_add_optional(frame, "Mailbox", info->mailbox);
	submit_add_optional(frame, "Job-Id", info->job_id);
	ipc_frame_set_body(frame, info->message);
	return frame;
}

/* submit_check_reply - OK with a Job-Id, or the error tier of the answer */
char *submit_check_reply(const CtiIpcFrame *reply, GError **error)
{
	const char *reason = ipc_frame_get(reply, "Reason");
	const char *job_id = ipc_frame_get(reply, "Job-Id");

	if (reason == NULL || *reason == '\0')
		reason = "no reason given";
	if (g_strcmp0(reply->verb, "OK") == 0) {
		if (job_id != NULL && *job_id != '\0')
			return g_strdup(job_id);
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "ctid answered OK without a Job-Id");
	} else if (g_strcmp0(reply->verb, "REJECT") == 0) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_REFUSED, "%s", reason);
	} else if (g_strcmp0(reply->verb, "TEMPFAIL") == 0) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "ctid: TEMPFAIL: %s", reason);
	} else {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "ctid: unexpected answer '%s'",
		            reply->verb);
	}
	return NULL;
}

/* submit_request - one SUBMIT call; transport failures become FILTER_ERROR_TEMP */
char *submit_request(const char *socket_path, int timeout_ms, const SubmitInfo *info,
                     GError **error)
{
	g_autoptr(CtiIpcFrame) frame = submit_frame(info);
	g_autoptr(CtiIpcFrame) reply = NULL;
	g_autoptr(GError) local = NULL;

	reply = ipc_call(socket_path, frame, timeout_ms, &local);
	if (reply == NULL) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "ctid at %s: %s", socket_path,
		            local ? local->message : "no answer");
		return NULL;
	}
	return submit_check_reply(reply, error);
}
