/* cti-send - compose a mailcti request mail and submit it.
 *
 *   cti-send --from ME --gateway call@pbx.example --source 2001 --to 0312345678 [...]
 *
 * The mail is composed with GMime (send-compose.c) and then printed
 * (--print), piped to sendmail (--sendmail CMD, the default), submitted by
 * SMTP with libcurl (--smtp HOST:PORT), or sent over ctid's socket
 * (--direct).  With --wait the program waits for the result notification
 * (--maildir DIR or --imap URL; for --direct the RESULT frame) and exits
 * with a status that reflects it: 0 success, 1 failed, 2 timeout,
 * 3 refused/cancelled/expired or a submission error, 4 no result in time,
 * 64 usage.  Diagnostics go to stderr.
 */
#include <curl/curl.h>
#include <gmime/gmime.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cti-send.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define SEND_DEFAULT_CONFIG   SYSCONFDIR "/mailcti/mailcti.conf"
#define SEND_DEFAULT_SENDMAIL "/usr/sbin/sendmail"
#define SEND_DEFAULT_WAIT     300

static gboolean parse_options(SendOptions *o, int *argc, char ***argv, GError **error)
{
	const GOptionEntry entries[] = {
	    {"action", 'a', 0, G_OPTION_ARG_STRING, &o->action, "connect, conference, ...",
	     "ACTION"},
	    {"source", 's', 0, G_OPTION_ARG_STRING, &o->source, "the extension that calls", "EXT"},
	    {"to", 't', 0, G_OPTION_ARG_STRING, &o->to, "the Destination number", "NUMBER"},
	    {"forward-to", 0, 0, G_OPTION_ARG_STRING, &o->forward_to, "Forward-To", "NUMBER"},
	    {"notify", 0, 0, G_OPTION_ARG_STRING, &o->notify, "yes or no", "YES|NO"},
	    {"notify-to", 0, 0, G_OPTION_ARG_STRING, &o->notify_to, "result address", "ADDRESS"},
	    {"monitor-time", 'm', 0, G_OPTION_ARG_STRING, &o->monitor_time, "e.g. 90s", "DURATION"},
	    {"trigger", 0, 0, G_OPTION_ARG_STRING, &o->trigger, "system or user", "TRIGGER"},
	    {"retry", 'r', 0, G_OPTION_ARG_STRING, &o->retry, "e.g. '3; interval=10m'", "SPEC"},
	    {"not-before", 0, 0, G_OPTION_ARG_STRING, &o->not_before, "date-time", "DATE"},
	    {"not-after", 0, 0, G_OPTION_ARG_STRING, &o->not_after, "date-time", "DATE"},
	    {"mailbox", 0, 0, G_OPTION_ARG_STRING, &o->mailbox, "Trigger: user owner", "ADDRESS"},
	    {"request-id", 0, 0, G_OPTION_ARG_STRING, &o->request_id, "your reference", "TEXT"},
	    {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &o->dry_run, "explain, dial nothing", NULL},
	    {"play", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->play, "voice file", "FILE"},
	    {"say", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->say, "text to speak", "TEXT"},
	    {"fax", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->fax, "TIFF or PDF", "FILE"},
	    {"scenario", 0, 0, G_OPTION_ARG_FILENAME, &o->scenario, "scenario XML", "FILE"},
	    {"from", 'f', 0, G_OPTION_ARG_STRING, &o->from, "sender address", "ADDRESS"},
	    {"gateway", 'g', 0, G_OPTION_ARG_STRING, &o->gateway, "CTI address", "ADDRESS"},
	    {"subject", 0, 0, G_OPTION_ARG_STRING, &o->subject, "Subject", "TEXT"},
	    {"print", 'p', 0, G_OPTION_ARG_NONE, &o->print, "write the mail to stdout", NULL},
	    {"sendmail", 0, 0, G_OPTION_ARG_STRING, &o->sendmail, "sendmail command", "CMD"},
	    {"smtp", 0, 0, G_OPTION_ARG_STRING, &o->smtp, "SMTP submission", "HOST:PORT"},
	    {"user", 'u', 0, G_OPTION_ARG_STRING, &o->user, "SMTP/IMAP login", "LOGIN"},
	    {"password-file", 0, 0, G_OPTION_ARG_FILENAME, &o->password_file, "password", "FILE"},
	    {"tls", 0, 0, G_OPTION_ARG_STRING, &o->tls, "STARTTLS: required, try, none", "MODE"},
	    {"direct", 'd', 0, G_OPTION_ARG_NONE, &o->direct, "submit over ctid's socket", NULL},
	    {"identity", 0, 0, G_OPTION_ARG_STRING, &o->identity, "act as (root, --direct)", "ID"},
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_path, "mailcti.conf", "FILE"},
	    {"wait", 'w', 0, G_OPTION_ARG_NONE, &o->wait, "wait for the result", NULL},
	    {"wait-time", 0, 0, G_OPTION_ARG_INT, &o->wait_seconds, "seconds to wait", "S"},
	    {"maildir", 0, 0, G_OPTION_ARG_FILENAME, &o->maildir, "where results arrive", "DIR"},
	    {"imap", 0, 0, G_OPTION_ARG_STRING, &o->imap, "imap://host:port/INBOX", "URL"},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &o->version, "print the version and exit", NULL},
	    {NULL},
	};
	g_autoptr(GOptionContext) oc = g_option_context_new("- compose and submit a CTI request");

	g_option_context_add_main_entries(oc, entries, NULL);
	return g_option_context_parse(oc, argc, argv, error);
}

/* check_options - fill defaults; FALSE + error on a combination that cannot work */
static gboolean check_options(SendOptions *o, GError **error)
{
	const char *why = NULL;

	if (o->from == NULL)
		o->from = g_strdup_printf("%s@%s", g_get_user_name(), g_get_host_name());
	if (o->source == NULL)
		why = "--source is required";
	else if (o->gateway == NULL)
		why = "--gateway is required (the CTI address, e.g. call@pbx.example)";
	else if (!!o->smtp + !!o->sendmail + o->direct + o->print > 1)
		why = "choose one of --print, --sendmail, --smtp, --direct";
	else if (o->identity != NULL && !o->direct)
		why = "--identity is for --direct";
	else if (o->wait && !o->direct && !o->print && o->maildir == NULL && o->imap == NULL)
		why = "--wait needs --maildir or --imap (or --direct)";
	if (why != NULL) {
		g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, why);
		return FALSE;
	}
	if (o->wait_seconds <= 0)
		o->wait_seconds = SEND_DEFAULT_WAIT;
	if (o->config_path == NULL)
		o->config_path = g_strdup(SEND_DEFAULT_CONFIG);
	if (!o->smtp && !o->direct && !o->print && o->sendmail == NULL)
		o->sendmail = g_strdup(SEND_DEFAULT_SENDMAIL);
	return TRUE;
}

static int wait_for_mail(const SendOptions *o, const char *message_id)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *password = NULL;
	g_autofree char *status = NULL;

	if (o->maildir) {
		status = send_wait_maildir(o->maildir, message_id, o->wait_seconds);
	} else {
		if (o->password_file &&
		    !(password = send_read_password(o->password_file, &error))) {
			g_printerr("cti-send: %s\n", error->message);
			return SEND_EXIT_OTHER;
		}
		status =
		    send_wait_imap(o->imap, o->user, password, message_id, o->wait_seconds, &error);
		if (status == NULL && error != NULL)
			g_printerr("cti-send: %s\n", error->message);
	}
	g_print("%s\n", status ? status : "no result");
	return send_exit_for_status(status);
}

static int submit(const SendOptions *o, GBytes *mail, const char *message_id)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *status = NULL;
	gboolean ok;

	if (o->print) {
		gsize len;
		const void *data = g_bytes_get_data(mail, &len);

		return fwrite(data, 1, len, stdout) == len ? SEND_EXIT_SUCCESS : SEND_EXIT_OTHER;
	}
	if (o->direct) {
		ok = send_direct(o, mail, message_id, &status, &error);
		if (!ok) {
			g_printerr("cti-send: %s\n", error->message);
			return SEND_EXIT_OTHER;
		}
		if (o->wait)
			g_print("%s\n", status ? status : "no result");
		return o->wait ? send_exit_for_status(status) : SEND_EXIT_SUCCESS;
	}
	ok = o->smtp ? send_smtp(o, mail, &error)
	             : send_sendmail(o->sendmail, o->from, o->gateway, mail, &error);
	if (!ok) {
		g_printerr("cti-send: %s\n", error->message);
		return SEND_EXIT_OTHER;
	}
	g_print("submitted <%s>\n", message_id);
	return o->wait ? wait_for_mail(o, message_id) : SEND_EXIT_SUCCESS;
}

static void options_clear(SendOptions *o)
{
	char **strs[] = {&o->action,        &o->source,     &o->to,           &o->forward_to,
	                 &o->notify,        &o->notify_to,  &o->monitor_time, &o->trigger,
	                 &o->retry,         &o->not_before, &o->not_after,    &o->mailbox,
	                 &o->request_id,    &o->scenario,   &o->from,         &o->gateway,
	                 &o->subject,       &o->sendmail,   &o->smtp,         &o->user,
	                 &o->password_file, &o->tls,        &o->config_path,  &o->maildir,
	                 &o->imap,          &o->identity};

	for (guint i = 0; i < G_N_ELEMENTS(strs); i++)
		g_clear_pointer(strs[i], g_free);
	g_clear_pointer(&o->play, g_strfreev);
	g_clear_pointer(&o->say, g_strfreev);
	g_clear_pointer(&o->fax, g_strfreev);
}

int main(int argc, char **argv)
{
	SendOptions o = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) mail = NULL;
	g_autofree char *message_id = NULL;
	int rc;

	setlocale(LC_ALL, "");
	if (parse_options(&o, &argc, &argv, &error) && o.version) {
		printf("cti-send (mailcti) %s\n", PACKAGE_VERSION);
		options_clear(&o);
		return SEND_EXIT_SUCCESS;
	}
	if (error != NULL || !check_options(&o, &error)) {
		g_printerr("cti-send: %s (see cti-send --help)\n", error->message);
		options_clear(&o);
		return SEND_EXIT_USAGE;
	}
	if (argc > 1) {
		g_printerr("cti-send: unexpected argument '%s'\n", argv[1]);
		options_clear(&o);
		return SEND_EXIT_USAGE;
	}
	g_mime_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mail = send_compose(&o, &message_id, &error);
	if (mail == NULL) {
		g_printerr("cti-send: %s\n", error->message);
		rc = SEND_EXIT_OTHER;
	} else {
		rc = submit(&o, mail, message_id);
	}
	curl_global_cleanup();
	g_mime_shutdown();
	options_clear(&o);
	return rc;
}
