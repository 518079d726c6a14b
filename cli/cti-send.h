/* cti-send - shared declarations of the request client: the options,
 * composition (send-compose.c), submission (send-submit.c) and waiting for
 * the result (send-wait.c). */
#ifndef MAILCTI_CTI_SEND_H
#define MAILCTI_CTI_SEND_H

#include <glib.h>

/* exit statuses: the result of the request with --wait, else 0 = submitted */
enum {
	SEND_EXIT_SUCCESS = 0,
	SEND_EXIT_FAILED = 1,    /* Status: failed */
	SEND_EXIT_TIMEOUT = 2,   /* Status: timeout */
	SEND_EXIT_OTHER = 3,     /* refused, cancelled, expired, or a submission error */
	SEND_EXIT_NO_RESULT = 4, /* no result within the wait time */
	SEND_EXIT_USAGE = 64,
};

typedef struct {
	/* request fields */
	char *action, *source, *to, *forward_to, *notify, *notify_to, *monitor_time;
	char *trigger, *retry, *not_before, *not_after, *mailbox, *request_id;
	gboolean dry_run;
	/* parts */
	char **play, **say, **fax;
	char *scenario;
	/* envelope and headers */
	char *from, *gateway, *subject;
	/* submission */
	gboolean print, direct;
	char *sendmail, *smtp, *user, *password_file, *tls, *config_path, *identity;
	/* waiting */
	gboolean wait;
	int wait_seconds;
	gboolean version;
	char *maildir, *imap;
} SendOptions;

/* send_request_text - the x-cti part's text for OPTS (transfer full) */
char *send_request_text(const SendOptions *opts);
/* send_compose - the request mail, LF line ends (transfer full), its Message-ID
 * (without <>) in *MESSAGE_ID_OUT; NULL + error on an unreadable attachment */
GBytes *send_compose(const SendOptions *opts, char **message_id_out, GError **error);

/* send_sendmail - pipe MAIL to the command line CMD with "-i -f FROM -- TO" */
gboolean send_sendmail(const char *cmd, const char *from, const char *to, GBytes *mail,
                       GError **error);
/* send_smtp - submit MAIL over SMTP to HOSTPORT with libcurl (AUTH, STARTTLS per TLS) */
gboolean send_smtp(const SendOptions *opts, GBytes *mail, GError **error);
/* send_direct - SUBMIT MAIL over ctid's socket; with WAIT the RESULT status in *STATUS_OUT */
gboolean send_direct(const SendOptions *opts, GBytes *mail, const char *message_id,
                     char **status_out, GError **error);
/* send_read_password - the first line of PATH (transfer full) */
char *send_read_password(const char *path, GError **error);

/* send_status_text - "STATUS" or, with a REASON, "STATUS: REASON" (transfer full) */
char *send_status_text(const char *status, const char *reason);
/* send_wait_maildir - wait for the notification replying to MESSAGE_ID in MAILDIR; its Status or
 * NULL */
char *send_wait_maildir(const char *maildir, const char *message_id, int seconds);
/* send_wait_imap - the same over IMAP (URL imap://host:port/MAILBOX, with USER/PASSWORD) */
char *send_wait_imap(const char *url, const char *user, const char *password,
                     const char *message_id, int seconds, GError **error);
/* send_result_status - the Status of a notification mail's x-cti-result part if it replies to
 * MESSAGE_ID, or NULL */
char *send_result_status(GBytes *mail, const char *message_id);
/* send_exit_for_status - the exit status for a result Status value */
int send_exit_for_status(const char *status);

#endif
