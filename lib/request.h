/* request - the exchange-information part (application/x-cti), doc/design.md section 2.
 *
 * The part is header-style "Name: value" lines.  Names are case-insensitive;
 * an unknown name, a bad value or a missing required field is an error whose
 * message names the field and says what is wrong, e.g.
 *   "Monitor-Time: 'abc' is not a duration (use 90, 90s, 5m or 1h)".
 * The parser bounds its input (CTI_REQUEST_MAX bytes, 64 fields, 998-byte lines)
 * and never trusts it.  The GError domain is CTI_REQUEST_ERROR; the code says
 * which field class failed, the message is for the SMTP reply text.
 */
#ifndef MAILCTI_REQUEST_H
#define MAILCTI_REQUEST_H

#include <glib.h>

#define CTI_REQUEST_MAX 65536

typedef enum {
	CTI_ACTION_CONNECT,
	CTI_ACTION_CONFERENCE,
	CTI_ACTION_INTRUDE,
	CTI_ACTION_FORWARD_SET,
	CTI_ACTION_FORWARD_CLEAR,
} CtiAction;

typedef enum {
	CTI_TRIGGER_SYSTEM,
	CTI_TRIGGER_USER,
} CtiTrigger;

typedef struct {
	CtiAction action;
	char *source;          /* required: extension, digits */
	char *destination;     /* required for connect/conference/intrude/forward-*: number, separators stripped */
	char *forward_to;      /* required for forward-set */
	gboolean notify;       /* default TRUE */
	int monitor_time;      /* seconds, > 0; 0 means "not given": caller applies the configured default */
	char *notify_to;       /* addr-spec or NULL (= envelope sender) */
	CtiTrigger trigger;
	int retry_count;       /* attempts in all, >= 1, default 1 */
	int retry_interval;    /* seconds between attempts, default 60 */
	gboolean wait_for_idle;
	gint64 not_before;     /* unix seconds, 0 = now */
	gint64 not_after;      /* unix seconds, 0 = none */
	char *scenario;        /* "cid:..." or a filename, or NULL */
	char *mailbox;         /* Trigger: user owner, or NULL (= the recipient) */
	char *request_id;      /* sender's reference, printable, no CR/LF, <= 200 bytes */
	gboolean dry_run;
} CtiRequest;

#define CTI_REQUEST_ERROR (request_error_quark())
typedef enum {
	CTI_REQUEST_ERROR_SYNTAX,     /* not "Name: value" lines, too long, bad bytes */
	CTI_REQUEST_ERROR_UNKNOWN,    /* unknown field name */
	CTI_REQUEST_ERROR_VALUE,      /* bad value */
	CTI_REQUEST_ERROR_MISSING,    /* required field absent */
	CTI_REQUEST_ERROR_DUPLICATE,  /* a field given twice */
} CtiRequestError;
GQuark request_error_quark(void);

/* request_parse - parse and validate the part's decoded text; (transfer full) or NULL + error */
CtiRequest *request_parse(const char *text, gsize len, GError **error);
/* request_free - free; NULL is a no-op */
void request_free(CtiRequest *req);
/* request_format - canonical "Name: value\n" text that request_parse() reads back to an equal request */
char *request_format(const CtiRequest *req);
/* request_action_name - "connect", "conference", ... */
const char *request_action_name(CtiAction action);
/* parse_duration - "90", "90s", "5m", "2h", "1d" to seconds; FALSE if malformed or out of range */
gboolean parse_duration(const char *text, int *seconds_out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiRequest, request_free)

#endif
