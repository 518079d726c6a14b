/* send-wait - cti-send --wait: find the result notification of our request.
 *
 * A notification replies to the request: its In-Reply-To (or References)
 * holds the request's Message-ID, and its application/x-cti-result part
 * has a "Status:" line (and a "Reason:" line, shown after the status as
 * "failed: busy").  The mailbox is polled, either a Maildir (new/ and
 * cur/, read with GMime) or an IMAP mailbox through libcurl's IMAP client
 * (UID SEARCH HEADER In-Reply-To, then the message by UID).  Messages that
 * do not reply to our Message-ID are left alone.
 */
#include "cti-send.h"

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <string.h>

#define WAIT_POLL_MS 200

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)

static gboolean refers_to(GMimeMessage *msg, const char *message_id)
{
	g_autofree char *want = g_strdup_printf("<%s>", message_id);
	const char *irt = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To");
	const char *refs = g_mime_object_get_header(GMIME_OBJECT(msg), "References");

	return (irt && strstr(irt, want)) || (refs && strstr(refs, want));
}

static char *status_of_part(GMimeObject *obj)
{
	g_autoptr(GMimeStream) mem = NULL;
	GMimeDataWrapper *content;
	GByteArray *arr;
	g_autofree char *text = NULL;
	g_autofree char *status = NULL, *reason = NULL;
	g_auto(GStrv) lines = NULL;

	if (!GMIME_IS_PART(obj) || !g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
	                                                        "application", "x-cti-result"))
		return NULL;
	content = g_mime_part_get_content(GMIME_PART(obj));
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	text = g_strndup((const char *)arr->data, arr->len);
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		if (g_ascii_strncasecmp(lines[i], "Status:", 7) == 0)
			status = g_strstrip(g_strdup(lines[i] + 7));
		else if (g_ascii_strncasecmp(lines[i], "Reason:", 7) == 0)
			reason = g_strstrip(g_strdup(lines[i] + 7));
	}
	return status ? send_status_text(status, reason) : NULL;
}

/* send_status_text - see cti-send.h */
char *send_status_text(const char *status, const char *reason)
{
	if (reason == NULL || reason[0] == '\0')
		return g_strdup(status);
	return g_strdup_printf("%s: %s", status, reason);
}

/* send_result_status - see cti-send.h */
char *send_result_status(GBytes *mail, const char *message_id)
{
	gsize len;
	const void *data = g_bytes_get_data(mail, &len);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	char *status = NULL;

	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		return NULL;
	if (refers_to(msg, message_id)) {
		GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(msg));

		do {
			GMimeObject *cur = g_mime_part_iter_get_current(it);

			status = cur ? status_of_part(cur) : NULL;
		} while (status == NULL && g_mime_part_iter_next(it));
		g_mime_part_iter_free(it);
	}
	g_object_unref(msg);
	return status;
}

/* send_exit_for_status - see cti-send.h */
int send_exit_for_status(const char *status)
{
	gsize n = status ? strcspn(status, ":") : 0; /* "failed: busy": the word before the reason */

	if (status == NULL)
		return SEND_EXIT_NO_RESULT;
	if ((n == strlen("success") && strncmp(status, "success", n) == 0) ||
	    (n == strlen("dry-run") && strncmp(status, "dry-run", n) == 0))
		return SEND_EXIT_SUCCESS; /* a dry run that was explained did what it was asked */
	if (n == strlen("failed") && strncmp(status, "failed", n) == 0)
		return SEND_EXIT_FAILED;
	if (n == strlen("timeout") && strncmp(status, "timeout", n) == 0)
		return SEND_EXIT_TIMEOUT;
	return SEND_EXIT_OTHER;
}

static char *scan_maildir_dir(const char *dir, const char *message_id)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *data = NULL;
		gsize len;
		char *status;

		if (name[0] == '.' || !g_file_get_contents(path, &data, &len, NULL))
			continue;
		g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&data), len);
		status = send_result_status(bytes, message_id);
		if (status != NULL)
			return status;
	}
	return NULL;
}

/* send_wait_maildir - see cti-send.h */
char *send_wait_maildir(const char *maildir, const char *message_id, int seconds)
{
	gint64 end = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
	g_autofree char *new_dir = g_build_filename(maildir, "new", NULL);
	g_autofree char *cur_dir = g_build_filename(maildir, "cur", NULL);

	for (;;) {
		char *status = scan_maildir_dir(new_dir, message_id);

		if (status == NULL)
			status = scan_maildir_dir(cur_dir, message_id);
		if (status != NULL || g_get_monotonic_time() >= end)
			return status;
		g_usleep(WAIT_POLL_MS * 1000);
	}
}

static size_t curl_collect(char *buf, size_t size, size_t n, void *data)
{
	g_string_append_len(data, buf, (gssize)(size * n));
	return size * n;
}

/* imap_do - one IMAP request: URL with an optional custom COMMAND; the response text or NULL */
static GString *imap_do(const char *url, const char *command, const char *user,
                        const char *password, GError **error)
{
	CURL *curl = curl_easy_init();
	GString *out = g_string_new(NULL);
	CURLcode rc;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (command)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, command);
	if (user) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, password ? password : "");
	}
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, curl_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	rc = curl_easy_perform(curl);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "IMAP %s: %s", url,
		            curl_easy_strerror(rc));
		g_string_free(out, TRUE);
		return NULL;
	}
	return out;
}

/* imap_poll - one search and fetch; the Status or NULL (and *ERROR on a protocol failure) */
static char *imap_poll(const char *url, const char *user, const char *password,
                       const char *message_id, GError **error)
{
	g_autofree char *cmd =
	    g_strdup_printf("UID SEARCH HEADER In-Reply-To \"<%s>\"", message_id);
	g_autoptr(GString) found = imap_do(url, cmd, user, password, error);
	g_auto(GStrv) words = NULL;
	char *line;

	if (found == NULL || (line = strstr(found->str, "* SEARCH")) == NULL)
		return NULL;
	line += strlen("* SEARCH");
	line[strcspn(line, "\r\n")] = '\0';
	words = g_strsplit(g_strstrip(line), " ", -1);
	for (guint i = 0; words[i] != NULL; i++) {
		g_autofree char *msg_url = g_strdup_printf("%s/;UID=%s", url, words[i]);
		g_autoptr(GString) mail = NULL;
		char *status;

		if (words[i][0] == '\0')
			continue;
		mail = imap_do(msg_url, NULL, user, password, error);
		if (mail == NULL)
			return NULL;
		g_autoptr(GBytes) bytes = g_bytes_new(mail->str, mail->len);
		status = send_result_status(bytes, message_id);
		if (status != NULL)
			return status;
	}
	return NULL;
}

/* send_wait_imap - see cti-send.h */
char *send_wait_imap(const char *url, const char *user, const char *password,
                     const char *message_id, int seconds, GError **error)
{
	gint64 end = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;

	for (;;) {
		char *status = imap_poll(url, user, password, message_id, error);

		if (status != NULL || (error && *error) || g_get_monotonic_time() >= end)
			return status;
		g_usleep(WAIT_POLL_MS * 5 * 1000);
	}
}
