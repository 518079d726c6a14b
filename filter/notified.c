/* notified - cti-milter's check of a notification ctid sent itself.
 *
 * ctid puts "X-CTI-Notification: <job> <token> <copy>" on each notification and
 * counts the job as notified only when this module, asked from the milter
 * for a locally injected message (non_smtpd_milters), gets OK to NOTIFIED.
 * A copy sent again after a ctid restart gets DUPLICATE and is discarded (the
 * confirmed copy itself gets OK again, should Postfix offer it twice), so
 * exactly one copy reaches the mailbox.  Mail from smtpd is never trusted: the
 * header is then forged by definition and ctid is not asked.  Owns nothing
 * beyond the call; fails as TEMPFAIL when ctid cannot answer (Postfix keeps
 * the mail in maildrop and pickup retries), as FORGED for a header that is not
 * ours.
 */
#include "notified.h"

#include <gio/gio.h>
#include <string.h>

#include "ipc.h"

/* ctid's answer to NOTIFIED, by verb */
static const struct {
	const char *verb;
	NotifiedVerdict verdict;
} notified_answers[] = {
    {"OK", NOTIFIED_CONFIRMED},
    {"DUPLICATE", NOTIFIED_DUPLICATE},
    {"REJECT", NOTIFIED_FORGED},
    {"TEMPFAIL", NOTIFIED_TEMPFAIL},
};

/* notified_verdict_name - the verdict as a log word */
const char *notified_verdict_name(NotifiedVerdict verdict)
{
	switch (verdict) {
	case NOTIFIED_CONFIRMED:
		return "confirmed";
	case NOTIFIED_DUPLICATE:
		return "duplicate";
	case NOTIFIED_FORGED:
		return "forged";
	case NOTIFIED_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

static NotifiedVerdict notified_forged(GError **error, const char *why)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", why);
	return NOTIFIED_FORGED;
}

/* the job id, token and copy of VALUE ("<job> <token> <copy>"); FALSE when malformed */
static gboolean notified_parse(const char *value, char **job_out, char **token_out,
                               char **copy_out)
{
	g_auto(GStrv) words = g_strsplit_set(value != NULL ? value : "", " \t\r\n", -1);
	guint n = 0;

	for (guint i = 0; words[i] != NULL; i++) {
		if (*words[i] == '\0')
			continue;
		if (n == 0)
			*job_out = g_strdup(words[i]);
		else if (n == 1)
			*token_out = g_strdup(words[i]);
		else if (n == 2)
			*copy_out = g_strdup(words[i]);
		n++;
	}
	if (n == 3)
		return TRUE;
	g_clear_pointer(job_out, g_free);
	g_clear_pointer(token_out, g_free);
	g_clear_pointer(copy_out, g_free);
	return FALSE;
}

/* notified_check - ask ctid about the notification VALUE names */
NotifiedVerdict notified_check(const CtiConfig *config, gboolean local, const char *value,
                               GError **error)
{
	g_autofree char *job = NULL;
	g_autofree char *token = NULL;
	g_autofree char *copy = NULL;
	g_autoptr(CtiIpcFrame) request = NULL;
	g_autoptr(CtiIpcFrame) reply = NULL;
	const char *reason;

	if (!local)
		return notified_forged(error, "not injected locally");
	if (!notified_parse(value, &job, &token, &copy))
		return notified_forged(error, "malformed header");
	request = ipc_frame_new("NOTIFIED");
	ipc_frame_add(request, "Job", job);
	ipc_frame_add(request, "Token", token);
	ipc_frame_add(request, "Copy", copy);
	reply = ipc_call(config->ctid_socket, request, config->ctid_timeout_ms, error);
	if (reply == NULL) {
		g_prefix_error(error, "ctid at %s: ", config->ctid_socket);
		return NOTIFIED_TEMPFAIL;
	}
	reason = ipc_frame_get(reply, "Reason") ? ipc_frame_get(reply, "Reason") : reply->verb;
	for (gsize i = 0; i < G_N_ELEMENTS(notified_answers); i++) {
		if (strcmp(notified_answers[i].verb, reply->verb) != 0)
			continue;
		if (notified_answers[i].verdict == NOTIFIED_FORGED ||
		    notified_answers[i].verdict == NOTIFIED_TEMPFAIL)
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "ctid: %s", reason);
		return notified_answers[i].verdict;
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "ctid answered %s", reply->verb);
	return NOTIFIED_TEMPFAIL;
}
