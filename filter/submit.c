/* submit - the milter's side of the ipc SUBMIT exchange with ctid.
 *
 * Builds the frame from borrowed strings (the caller owns everything in
 * SubmitInfo, the spool file included), sends its head with the ipc
 * encoder and the message straight from the spool file (sendfile), reads
 * one reply, all bounded by [milter] ctid_timeout_ms (socket timeouts),
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

#include <errno.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* ctid's replies carry no body; anything bigger is a broken peer. */
#define SUBMIT_MAX_REPLY_BODY 65536

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
	submit_add_optional(frame, "Identity", info->identity);
	return frame;
}

/* submit_frame_head - per ipc.h, a body is announced by a Body-Length field
 * among the fields before the blank line; the encoder's blank line is
 * replaced by that field and a blank line */
GBytes *submit_frame_head(const CtiIpcFrame *frame, gsize body_len)
{
	g_autoptr(GBytes) wire = NULL;
	GString *head;
	gsize len = 0;
	const char *data;

	g_return_val_if_fail(frame->body == NULL, NULL);
	wire = ipc_frame_encode(frame);
	data = g_bytes_get_data(wire, &len);
	g_return_val_if_fail(len >= 2 && data[len - 1] == '\n' && data[len - 2] == '\n', NULL);
	head = g_string_new_len(data, (gssize)len - 1);
	g_string_append_printf(head, "Body-Length: %" G_GSIZE_FORMAT "\n\n", body_len);
	return g_string_free_to_bytes(head);
}

static gboolean submit_fail_errno(GError **error, const char *what)
{
	int saved = errno;

	g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "%s: %s", what,
	            saved == EAGAIN ? "timed out" : g_strerror(saved));
	return FALSE;
}

static gboolean submit_write_all(int fd, const char *data, gsize len, GError **error)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return submit_fail_errno(error, "sending the SUBMIT frame");
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* submit_send_file - LEN bytes of FILE_FD from offset 0 to the socket */
static gboolean submit_send_file(int sock, int file_fd, gsize len, GError **error)
{
	off_t offset = 0;

	while ((gsize)offset < len) {
		ssize_t n = sendfile(sock, file_fd, &offset, len - (gsize)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return submit_fail_errno(error, "sending the message");
		if (n == 0) {
			g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
			            "the spool file is shorter than %" G_GSIZE_FORMAT " bytes",
			            len);
			return FALSE;
		}
	}
	return TRUE;
}

/* submit_exchange - send the frame and the message on SOCK, read the reply (transfer full) */
static CtiIpcFrame *submit_exchange(int sock, const SubmitInfo *info, GError **error)
{
	g_autoptr(CtiIpcFrame) frame = submit_frame(info);
	g_autoptr(GBytes) head = submit_frame_head(frame, info->message_size);
	g_autoptr(GError) local = NULL;
	CtiIpcFrame *reply;
	gsize len = 0;
	const char *data = g_bytes_get_data(head, &len);

	if (!submit_write_all(sock, data, len, error))
		return NULL;
	if (info->message_data != NULL
	        ? !submit_write_all(sock, (const char *)info->message_data, info->message_size, error)
	        : !submit_send_file(sock, info->message_fd, info->message_size, error))
		return NULL;
	reply = ipc_recv(sock, SUBMIT_MAX_REPLY_BODY, &local);
	if (reply == NULL)
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "no answer: %s",
		            local->message);
	return reply;
}

/* submit_check_reply - OK with a Job-Id, or the error tier of the answer */
char *submit_check_reply(const CtiIpcFrame *reply, GError **error)
{
	const char *reason = ipc_frame_get(reply, "Reason");
	const char *job_id = ipc_frame_get(reply, "Job-Id");
	/* a rate limit (ctid, ratelimit.h): 4.7.1 or 5.7.1, the Reason names it */
	const char *status = ipc_frame_get(reply, "Enhanced-Status");

	if (reason == NULL || *reason == '\0')
		reason = "no reason given";
	if (g_strcmp0(reply->verb, "OK") == 0) {
		if (job_id != NULL && *job_id != '\0')
			return g_strdup(job_id);
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "ctid answered OK without a Job-Id");
	} else if (g_strcmp0(reply->verb, "REJECT") == 0 && g_strcmp0(status, "5.7.1") == 0) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_RATE_REJECT, "%s", reason);
	} else if (g_strcmp0(reply->verb, "TEMPFAIL") == 0 && g_strcmp0(status, "4.7.1") == 0) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_RATE_TEMP, "%s", reason);
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

/* submit_request - one SUBMIT exchange; transport failures become FILTER_ERROR_TEMP */
char *submit_request(const char *socket_path, int timeout_ms, const SubmitInfo *info,
                     GError **error)
{
	g_autoptr(CtiIpcFrame) reply = NULL;
	g_autoptr(GError) local = NULL;
	int sock = ipc_connect(socket_path, timeout_ms, &local);

	if (sock < 0) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "ctid at %s: %s", socket_path,
		            local->message);
		return NULL;
	}
	reply = submit_exchange(sock, info, &local);
	close(sock);
	if (reply == NULL) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "ctid at %s: %s", socket_path,
		            local->message);
		return NULL;
	}
	return submit_check_reply(reply, error);
}
