/* reply - the one place where an internal result becomes an SMTP answer.
 *
 * STYLE.md "three tiers": temporary and permanent failures travel apart as
 * GError codes all the way here, and reply_from_error() maps them to
 * 451 4.x.x (tempfail: the sending MTA keeps the mail) or 5xx 5.x.x
 * (reject).  Anything it does not know is temporary: losing a request to an
 * unexpected error is worse than a retry.  Reply texts are made safe for
 * libmilter (no CR/LF, '%' doubled, printable ASCII, bounded length).
 */
#ifndef MAILCTI_FILTER_REPLY_H
#define MAILCTI_FILTER_REPLY_H

#include <glib.h>

#define FILTER_ERROR (filter_error_quark())
typedef enum {
	FILTER_ERROR_TEMP,    /* local trouble or ctid unreachable/busy: 451 4.3.0 */
	FILTER_ERROR_REQUEST, /* the request part is malformed: 550 5.6.0 */
	FILTER_ERROR_REFUSED, /* ctid refused the request: 550 5.7.0 */
	FILTER_ERROR_TOO_BIG, /* the mail exceeds [milter] max_message_size: 552 5.3.4 */
	FILTER_ERROR_ROUTE_LOOP, /* routing loop or too many hops (route-step.h): 550 5.4.6 */
	FILTER_ERROR_NO_ROUTE,   /* no route and default_route=refuse: 550 5.4.4 */
	FILTER_ERROR_ROUTE_TEMP, /* a route names a gateway without an address: 451 4.3.5 */
	FILTER_ERROR_UNAUTHORIZED, /* unidentified, not granted, destination denied: 550 5.7.1 */
	FILTER_ERROR_RATE_TEMP,    /* ctid: over a rate limit, over_limit=tempfail: 450 4.7.1 */
	FILTER_ERROR_RATE_REJECT,  /* ctid: over a rate limit, over_limit=reject: 550 5.7.1 */
} FilterError;
GQuark filter_error_quark(void);

/* Longest reply text, before '%' doubling. */
#define REPLY_MAX_TEXT 400

typedef enum {
	REPLY_TEMPFAIL, /* SMFIS_TEMPFAIL */
	REPLY_REJECT,   /* SMFIS_REJECT */
} ReplyKind;

typedef struct {
	ReplyKind kind;
	const char *rcode; /* "451", "550", "552" (static) */
	const char *xcode; /* "4.3.0", "5.6.0", ... (static) */
	char *text;        /* sanitized one line, for logs */
	char *milter_text; /* the same with '%' doubled, for smfi_setreply() */
	const char *reason; /* a rejection's name for ctid's metrics ("unauthorized", ...), static */
} FilterReply;

/* reply_from_error - the SMTP answer for ERROR (transfer full) */
FilterReply *reply_from_error(const GError *error);
/* reply_free - free; NULL is a no-op */
void reply_free(FilterReply *reply);
/* reply_sanitize - TEXT as one bounded line of printable ASCII (transfer full) */
char *reply_sanitize(const char *text);
/* reply_milter_escape - TEXT with '%' doubled, as libmilter's reply text wants (transfer full) */
char *reply_milter_escape(const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FilterReply, reply_free)

#endif
