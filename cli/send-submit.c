/* send-submit - how cti-send hands the request over.
 *
 *   sendmail  the configured command line gets "-i -f FROM -- GATEWAY" and
 *             the mail on standard input (GSubprocess); exit 0 = accepted
 *   SMTP      libcurl's SMTP client: submission with AUTH (user and a
 *             password read from a file, never from the command line) and
 *             STARTTLS ("--tls required|try|none", default try)
 *   direct    a SUBMIT frame with "Channel: direct" over ctid's socket; ctid
 *             authorizes the caller by its Unix user.  With --wait the
 *             connection stays open for the RESULT frame.
 * Errors are GErrors with a message naming the step that failed.
 */
#include "cti-send.h"

#include <curl/curl.h>
#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "request.h"

/* send_sendmail - see cti-send.h */
gboolean send_sendmail(const char *cmd, const char *from, const char *to, GBytes *mail,
                       GError **error)
{
	g_auto(GStrv) argv = NULL;
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GSubprocess) proc = NULL;
	int n;

	if (!g_shell_parse_argv(cmd, &n, &argv, error))
		return FALSE;
	for (int i = 0; i < n; i++)
		g_ptr_array_add(args, argv[i]);
	g_ptr_array_add(args, "-i");
	g_ptr_array_add(args, "-f");
	g_ptr_array_add(args, (gpointer)from);
	g_ptr_array_add(args, "--");
	g_ptr_array_add(args, (gpointer)to);
	g_ptr_array_add(args, NULL);
	proc = g_subprocess_newv((const char *const *)args->pdata, G_SUBPROCESS_FLAGS_STDIN_PIPE,
	                         error);
	if (proc == NULL || !g_subprocess_communicate(proc, mail, NULL, NULL, NULL, error))
		return FALSE;
	if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
		g_set_error(
		    error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s exited with status %d", argv[0],
		    g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1);
		return FALSE;
	}
	return TRUE;
}

/* send_read_password - see cti-send.h */
char *send_read_password(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	char *nl;

	if (!g_file_get_contents(path, &text, NULL, error)) {
		g_prefix_error(error, "password file: ");
		return NULL;
	}
	nl = strpbrk(text, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	return g_steal_pointer(&text);
}

typedef struct {
	const guint8 *data;
	gsize len, pos;
} Reader;

static size_t curl_read(char *buf, size_t size, size_t n, void *data)
{
	Reader *r = data;
	size_t take = MIN(size * n, r->len - r->pos);

	memcpy(buf, r->data + r->pos, take);
	r->pos += take;
	return take;
}

static long tls_level(const char *tls, GError **error)
{
	if (tls == NULL || strcmp(tls, "try") == 0)
		return CURLUSESSL_TRY;
	if (strcmp(tls, "required") == 0)
		return CURLUSESSL_ALL;
	if (strcmp(tls, "none") == 0)
		return CURLUSESSL_NONE;
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
	            "--tls '%s': use required, try or none", tls);
	return -1;
}

/* with_crlf - MAIL with CRLF line ends, as SMTP DATA and ctid want it (transfer full) */
static GBytes *with_crlf(GBytes *mail)
{
	gsize len;
	const char *p = g_bytes_get_data(mail, &len);
	GString *out = g_string_sized_new(len + len / 40);

	for (gsize i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			g_string_append_c(out, '\r');
		g_string_append_c(out, p[i]);
	}
	return g_string_free_to_bytes(out);
}

/* last_reply - keep the server's last reply line, for an error that says what it said */
static int last_reply(CURL *curl, curl_infotype type, char *data, size_t size, void *user)
{
	GString *last = user;

	if (type == CURLINFO_HEADER_IN) {
		g_string_assign(last, "");
		g_string_append_len(last, data, (gssize)size);
		g_strchomp(last->str);
		last->len = strlen(last->str);
	}
	if (type == CURLINFO_TEXT && g_getenv("CTI_SEND_DEBUG") != NULL)
		fprintf(stderr, "* %.*s", (int)size, data);
	if ((type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT) &&
	    g_getenv("CTI_SEND_DEBUG"))
		fprintf(stderr, "%c %.*s", type == CURLINFO_HEADER_IN ? '<' : '>', (int)size, data);
	return 0;
}

/* smtp_refusal - LINE is an SMTP reply of class 4 or 5 ("550 5.7.1 text") */
static gboolean smtp_refusal(const char *line)
{
	return (line[0] == '4' || line[0] == '5') && g_ascii_isdigit(line[1]) &&
	       g_ascii_isdigit(line[2]) && (line[3] == ' ' || line[3] == '-');
}

/* send_smtp - see cti-send.h */
gboolean send_smtp(const SendOptions *o, GBytes *mail, GError **error)
{
	g_autoptr(GBytes) crlf = with_crlf(mail);
	const char *at = strrchr(o->from, '@');
	/* the URL's path is the EHLO name: the sender's domain */
	g_autofree char *url = g_strdup_printf("smtp://%s/%s", o->smtp, at ? at + 1 : "localhost");
	g_autofree char *password = NULL;
	Reader r = {NULL, 0, 0};
	struct curl_slist *rcpt = NULL;
	g_autoptr(GString) last = g_string_new(NULL);
	long tls = tls_level(o->tls, error);
	CURL *curl;
	CURLcode rc;

	if (tls < 0)
		return FALSE;
	r.data = g_bytes_get_data(crlf, &r.len);
	if (o->password_file && (password = send_read_password(o->password_file, error)) == NULL)
		return FALSE;
	curl = curl_easy_init();
	rcpt = curl_slist_append(rcpt, o->gateway);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, o->from);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, last_reply);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, last);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, curl_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &r);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_USE_SSL, tls);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
	if (o->user) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, password ? password : "");
	}
	rc = curl_easy_perform(curl);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK && smtp_refusal(last->str)) /* the server's own words, not curl's */
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s refused the request: %s",
		            o->smtp, last->str);
	else if (rc != CURLE_OK)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SMTP to %s: %s%s%s", o->smtp,
		            curl_easy_strerror(rc), last->len ? ": " : "", last->str);
	return rc == CURLE_OK;
}

/* direct_frame - the SUBMIT frame for MAIL (transfer full), NULL + error when the request is bad */
static CtiIpcFrame *direct_frame(const SendOptions *o, GBytes *mail, const char *message_id,
                                 GError **error)
{
	g_autofree char *text = send_request_text(o);
	g_autoptr(CtiRequest) req = request_parse(text, strlen(text), error);
	g_autofree char *canon = NULL;
	g_autoptr(GBytes) crlf = NULL;
	CtiIpcFrame *f;

	if (req == NULL)
		return NULL;
	canon = request_format(req);
	crlf = with_crlf(mail);
	f = ipc_frame_new("SUBMIT");
	ipc_frame_add(f, "Channel", "direct");
	ipc_frame_add(f, "Request", canon);
	ipc_frame_add(f, "Recipient", o->gateway);
	ipc_frame_add(f, "Message-Id", message_id);
	if (o->wait)
		ipc_frame_add(f, "Wait", "yes");
	if (o->identity)
		ipc_frame_add(f, "Identity", o->identity);
	ipc_frame_set_body(f, crlf);
	return f;
}

/* send_direct - see cti-send.h */
gboolean send_direct(const SendOptions *o, GBytes *mail, const char *message_id, char **status_out,
                     GError **error)
{
	g_autoptr(CtiConfig) config = config_load(o->config_path, error);
	g_autoptr(CtiIpcFrame) req = NULL;
	g_autoptr(CtiIpcFrame) reply = NULL;
	g_autoptr(CtiIpcFrame) result = NULL;
	CtiIpcDecoder *dec;
	int fd;

	if (config == NULL || (req = direct_frame(o, mail, message_id, error)) == NULL)
		return FALSE;
	fd = ipc_connect(config->ctid_socket, o->wait ? o->wait_seconds * 1000 : 30000, error);
	if (fd < 0)
		return FALSE;
	dec = ipc_decoder_new(CTI_IPC_MAX_HEADER);
	if (ipc_send(fd, req, error))
		reply = ipc_read_frame(fd, dec, "ctid: ", "connection closed", error);
	if (reply != NULL && strcmp(reply->verb, "OK") != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "ctid: %s %s", reply->verb,
		            ipc_frame_get(reply, "Reason") ? ipc_frame_get(reply, "Reason") : "");
		g_clear_pointer(&reply, ipc_frame_free);
	}
	if (reply != NULL) {
		g_print("job %s\n", ipc_frame_get(reply, "Job-Id"));
		if (o->wait) {
			g_autoptr(GError) werr = NULL;

			result = ipc_read_frame(fd, dec, "ctid: ", "connection closed", &werr);
			*status_out = result && ipc_frame_get(result, "Status")
			                  ? send_status_text(ipc_frame_get(result, "Status"),
			                                     ipc_frame_get(result, "Reason"))
			                  : NULL;
		}
	}
	close(fd);
	ipc_decoder_free(dec);
	return reply != NULL;
}
