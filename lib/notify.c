/* notify - compose the result notification with GMime 3 and hand it to sendmail.
 *
 * notify_compose() builds one GMimeMessage per call and owns it until it is
 * serialised; the caller owns the returned bytes and recipient.  Every value
 * copied into a header is checked for control characters first: a value that
 * fails (a Request-Id with CR/LF, a bad Message-ID) is left out of the
 * headers, never written raw; non-ASCII text is RFC 2047-encoded by GMime.
 * No valid recipient (null sender, bad Notify-To) is an error and no mail.
 * notify_send() runs the configured sendmail command with the null envelope
 * sender; a spawn failure or a non-zero exit is an error carrying the exit
 * status and sendmail's stderr.
 */
#include "notify.h"

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#define NOTIFY_STDERR_MAX 300

static void notify_gmime_init(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

/* notify_clean - TRUE if S has no control characters (header-safe) */
static gboolean notify_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return FALSE;
	return TRUE;
}

/* notify_body_safe - S with control characters replaced by '?', for body lines (transfer full) */
static char *notify_body_safe(const char *s)
{
	char *out = g_strdup(s ? s : "");

	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

/* notify_addr_spec - the single mailbox address in TEXT or NULL (transfer full) */
static char *notify_addr_spec(const char *text)
{
	InternetAddressList *list;
	InternetAddress *ia;
	char *addr = NULL;

	if (!text || !*text || !notify_clean(text))
		return NULL;
	list = internet_address_list_parse(NULL, text);
	if (!list)
		return NULL;
	if (internet_address_list_length(list) == 1) {
		ia = internet_address_list_get_address(list, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a =
			    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			if (a && strchr(a, '@') && a[0] != '@' && a[0] != '-' && notify_clean(a) &&
			    !strpbrk(a, " <>"))
				addr = g_strdup(a);
		}
	}
	g_object_unref(list);
	return addr;
}

static char *notify_iso(gint64 unix_seconds)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_seconds);

	return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static char *notify_iso_ms(gint64 unix_ms)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_ms / 1000);
	g_autofree char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");

	return g_strdup_printf("%s.%03dZ", base, (int)(unix_ms % 1000));
}

static gint64 notify_finished(const CtiNotifyInfo *info)
{
	return info->job->finished ? info->job->finished : g_get_real_time() / G_USEC_PER_SEC;
}

/* notify_result_text - the application/x-cti-result body (transfer full) */
static char *notify_result_text(const CtiNotifyInfo *info)
{
	GString *out = g_string_new(NULL);
	g_autofree char *submitted = notify_iso(info->job->created);
	g_autofree char *finished = notify_iso(notify_finished(info));
	guint n_attempts = info->attempts ? info->attempts->len : 0;

	if (info->request->request_id) {
		g_autofree char *rid = notify_body_safe(info->request->request_id);
		g_string_append_printf(out, "Request-Id: %s\n", rid);
	}
	g_string_append_printf(out, "Job-Id: %s\n", info->job->id);
	g_string_append_printf(out, "Action: %s\n", request_action_name(info->request->action));
	g_string_append_printf(out, "Status: %s\n", info->status);
	if (info->reason) {
		g_autofree char *reason = notify_body_safe(info->reason);
		g_string_append_printf(out, "Reason: %s\n", reason);
	}
	g_string_append_printf(out, "Attempts: %d\n", MAX(info->job->attempts, (int)n_attempts));
	if (info->answered_at) {
		g_autofree char *answered = notify_iso_ms(info->answered_at);
		g_string_append_printf(out, "Answered-At: %s\n", answered);
	}
	g_string_append_printf(out, "Submitted-At: %s\n", submitted);
	g_string_append_printf(out, "Finished-At: %s\n", finished);
	for (guint i = 0; i < n_attempts; i++) {
		const CtiAttempt *a = info->attempts->pdata[i];
		g_autofree char *start = notify_iso_ms(a->started);
		g_autofree char *outcome = notify_body_safe(a->outcome ? a->outcome : "-");
		g_autofree char *cause = notify_body_safe(a->cause ? a->cause : "-");
		g_string_append_printf(out, "Attempt: %d %s %s %s\n", a->number, start, outcome,
		                       cause);
	}
	for (guint i = 0; info->steps && i < info->steps->len; i++) {
		g_autofree char *step = notify_body_safe(info->steps->pdata[i]);
		g_string_append_printf(out, "Step: %s\n", step);
	}
	return g_string_free(out, FALSE);
}

static const char *notify_status_phrase(const char *status)
{
	static const struct {
		const char *status, *phrase;
	} phrases[] = {
	    {"success", "was carried out"},
	    {"failed", "failed"},
	    {"timeout", "did not succeed within the monitor time"},
	    {"cancelled", "was cancelled"},
	    {"refused", "was refused"},
	    {"expired", "expired before it could be carried out"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(phrases); i++)
		if (strcmp(phrases[i].status, status) == 0)
			return phrases[i].phrase;
	return "ended";
}

/* notify_human_text - the text/plain part (transfer full) */
static char *notify_human_text(const CtiNotifyInfo *info)
{
	const CtiRequest *r = info->request;
	GString *out = g_string_new(NULL);
	g_autofree char *finished = notify_iso(notify_finished(info));

	g_string_append_printf(out, "Your CTI request (%s from %s to %s) %s.\n\n",
	                       request_action_name(r->action), r->source ? r->source : "-",
	                       r->destination ? r->destination : "-",
	                       notify_status_phrase(info->status));
	if (r->request_id) {
		g_autofree char *rid = notify_body_safe(r->request_id);
		g_string_append_printf(out, "Your reference: %s\n", rid);
	}
	g_string_append_printf(out, "Job: %s\nStatus: %s\n", info->job->id, info->status);
	if (info->reason) {
		g_autofree char *reason = notify_body_safe(info->reason);
		g_string_append_printf(out, "Reason: %s\n", reason);
	}
	g_string_append_printf(
	    out, "Attempts: %d\nFinished: %s\n",
	    MAX(info->job->attempts, info->attempts ? (int)info->attempts->len : 0), finished);
	if (r->dry_run)
		g_string_append(out, "\nThis was a dry run: nothing was dialled.\n");
	g_string_append(
	    out, "\nThe machine-readable result and the headers of your request are attached.\n");
	return g_string_free(out, FALSE);
}

/* notify_part - a leaf part TYPE/SUBTYPE holding TEXT, with the best transfer encoding */
static GMimePart *notify_part(const char *type, const char *subtype, const char *text,
                              gboolean utf8)
{
	GMimePart *part = g_mime_part_new_with_type(type, subtype);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeDataWrapper *content =
	    g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, content);
	g_object_unref(content);
	g_object_unref(stream);
	if (utf8)
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_mime_part_set_content_encoding(
	    part, g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT));
	return part;
}

/* notify_msg_id - "<id>" form of a Message-ID, or NULL if it is not header-safe (transfer full) */
static char *notify_msg_id(const char *id)
{
	if (!id || !*id || !notify_clean(id) || strchr(id, ' ') || strlen(id) > 900)
		return NULL;
	if (id[0] == '<' && id[strlen(id) - 1] == '>')
		return g_strdup(id);
	if (strchr(id, '<') || strchr(id, '>'))
		return NULL;
	return g_strdup_printf("<%s>", id);
}

/* notify_subject - "CTI result: status - action source -> destination [ref]" */
static char *notify_subject(const CtiNotifyInfo *info)
{
	const CtiRequest *r = info->request;
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "CTI result: %s - %s %s", info->status,
	                       request_action_name(r->action),
	                       r->destination ? r->destination : "");
	if (r->request_id && notify_clean(r->request_id))
		g_string_append_printf(s, " [%s]", r->request_id);
	return g_string_free(s, FALSE);
}

static void notify_set_headers(GMimeMessage *msg, const CtiNotifyInfo *info, const char *from,
                               const char *to)
{
	g_autofree char *subject = notify_subject(info);
	g_autofree char *mid = g_strdup_printf(
	    "%s.%" G_GINT64_FORMAT "@%s", info->job->id, notify_finished(info),
	    info->hostname && notify_clean(info->hostname) ? info->hostname : "localhost");
	g_autofree char *ref = notify_msg_id(info->job->message_id);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, "CTI gateway", from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, to);
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_mime_message_set_date(msg, now);
	g_mime_message_set_message_id(msg, mid);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", NULL);
	if (ref) {
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", ref, NULL);
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", ref, NULL);
	}
}

/* notify_body - the multipart/report tree (transfer full) */
static GMimeMultipart *notify_body(const CtiNotifyInfo *info)
{
	GMimeMultipart *report = g_mime_multipart_new_with_subtype("report");
	g_autofree char *human = notify_human_text(info);
	g_autofree char *result = notify_result_text(info);
	GMimePart *part;

	g_mime_object_set_content_type_parameter(GMIME_OBJECT(report), "report-type",
	                                         "x-cti-result");
	part = notify_part("text", "plain", human, TRUE);
	g_mime_multipart_add(report, GMIME_OBJECT(part));
	g_object_unref(part);
	part = notify_part("application", "x-cti-result", result, TRUE);
	g_mime_multipart_add(report, GMIME_OBJECT(part));
	g_object_unref(part);
	if (info->request_headers) {
		g_autofree char *headers = g_str_has_suffix(info->request_headers, "\n")
		                               ? g_strdup(info->request_headers)
		                               : g_strconcat(info->request_headers, "\n", NULL);
		part = notify_part("text", "rfc822-headers", headers, FALSE);
		g_mime_multipart_add(report, GMIME_OBJECT(part));
		g_object_unref(part);
	}
	return report;
}

/* notify_serialise - MSG as bytes with LF line ends (transfer full) */
static GBytes *notify_serialise(GMimeMessage *msg)
{
	GMimeStream *stream = g_mime_stream_mem_new();
	GMimeFormatOptions *opts = g_mime_format_options_new();
	GByteArray *arr;
	GBytes *bytes;

	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_UNIX);
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, stream);
	g_mime_format_options_free(opts);
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
	bytes = g_bytes_new(arr->data, arr->len);
	g_object_unref(stream);
	return bytes;
}

/* notify_compose - see notify.h */
GBytes *notify_compose(const CtiNotifyInfo *info, char **recipient_out, GError **error)
{
	const char *want = info->request && info->request->notify_to ? info->request->notify_to
	                                                             : info->job->sender;
	g_autofree char *to = NULL;
	g_autofree char *from = NULL;
	GMimeMessage *msg;
	GMimeMultipart *body;
	GBytes *bytes;

	g_return_val_if_fail(info && info->job && info->request && info->status, NULL);
	notify_gmime_init();
	if (!want || !*want) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "no notification recipient (null sender)");
		return NULL;
	}
	to = notify_addr_spec(want);
	if (!to) {
		g_autofree char *shown = notify_body_safe(want);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "invalid notification recipient '%.100s'", shown);
		return NULL;
	}
	from = notify_addr_spec(info->from);
	if (!from) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "invalid From address for notifications");
		return NULL;
	}
	msg = g_mime_message_new(FALSE);
	notify_set_headers(msg, info, from, to);
	body = notify_body(info);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(body));
	g_object_unref(body);
	bytes = notify_serialise(msg);
	g_object_unref(msg);
	if (recipient_out)
		*recipient_out = g_steal_pointer(&to);
	return bytes;
}

/* notify_stderr_text - sendmail's stderr, escaped and cut, for an error message (transfer full) */
static char *notify_stderr_text(GBytes *err)
{
	gsize len = 0;
	const char *data = err ? g_bytes_get_data(err, &len) : NULL;
	g_autofree char *text = g_strndup(data ? data : "", MIN(len, NOTIFY_STDERR_MAX));
	char *safe = notify_body_safe(g_strstrip(text));

	return safe;
}

/* A sendmail that outlives a killed ctid would still post a notification that the
 * restarted ctid, not knowing, posts again; dying with ctid instead leaves Postfix an
 * unfinished maildrop file, which it discards, and the restart sends the one copy. */
static void notify_child_setup(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* notify_send - run SENDMAIL -f '' -i -- RECIPIENT with MESSAGE on stdin */
gboolean notify_send(const char *sendmail, const char *recipient, GBytes *message, GError **error)
{
	g_auto(GStrv) base = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GBytes) err_out = NULL;
	g_autofree char *err_text = NULL;

	if (!recipient || !*recipient || recipient[0] == '-' || !notify_clean(recipient)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "invalid notification recipient");
		return FALSE;
	}
	if (!g_shell_parse_argv(sendmail, NULL, &base, error)) {
		g_prefix_error(error, "sendmail command '%s': ", sendmail);
		return FALSE;
	}
	for (gsize i = 0; base[i]; i++)
		g_ptr_array_add(argv, base[i]);
	g_ptr_array_add(argv, (char *)"-f");
	g_ptr_array_add(argv, (char *)"");
	g_ptr_array_add(argv, (char *)"-i");
	g_ptr_array_add(argv, (char *)"--");
	g_ptr_array_add(argv, (char *)recipient);
	g_ptr_array_add(argv, NULL);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
	                                     G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
	                                     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_set_child_setup(launcher, notify_child_setup, NULL, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, error);
	if (!proc || !g_subprocess_communicate(proc, message, NULL, NULL, &err_out, error)) {
		g_prefix_error(error, "sendmail: ");
		return FALSE;
	}
	if (g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0)
		return TRUE;
	err_text = notify_stderr_text(err_out);
	if (g_subprocess_get_if_exited(proc))
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "sendmail exited with status %d: %s",
		            g_subprocess_get_exit_status(proc), err_text);
	else
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "sendmail killed by signal %d: %s", g_subprocess_get_term_sig(proc),
		            err_text);
	return FALSE;
}
