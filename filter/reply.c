/* reply - map an internal result (a GError) to the milter's SMTP answer.
 *
 * A table, one row per (error domain, code): verdict, SMTP code, enhanced
 * status code and whether the error's own message is shown to the client.
 * Temporary rows never show it (it may name local paths); the request rows
 * do, because the sender needs the field and the reason to fix the request.
 * Nothing here can fail.
 */
#include "reply.h"

#include "request.h"

G_DEFINE_QUARK(mailcti - filter - error - quark, filter_error)

typedef struct {
	GQuark (*domain)(void);
	int code; /* -1: any code of the domain */
	ReplyKind kind;
	const char *rcode;
	const char *xcode;
	const char *text; /* prefix of the error message, or the whole text */
	gboolean show_message;
	const char *reason; /* a refusal's name for ctid's metrics; NULL for a tempfail */
} ReplyRule;

static const ReplyRule reply_rules[] = {
    {filter_error_quark, FILTER_ERROR_TEMP, REPLY_TEMPFAIL, "451", "4.3.0",
     "CTI service temporarily unavailable, try again later", FALSE, NULL},
    {filter_error_quark, FILTER_ERROR_REQUEST, REPLY_REJECT, "550", "5.6.0",
     "bad CTI request: ", TRUE, "bad-request"},
    {filter_error_quark, FILTER_ERROR_REFUSED, REPLY_REJECT, "550", "5.7.0",
     "CTI request refused: ", TRUE, "refused"},
    {filter_error_quark, FILTER_ERROR_TOO_BIG, REPLY_REJECT, "552", "5.3.4", "", TRUE, "too-big"},
    {filter_error_quark, FILTER_ERROR_ROUTE_LOOP, REPLY_REJECT, "550", "5.4.6", "", TRUE, "route-loop"},
    {filter_error_quark, FILTER_ERROR_NO_ROUTE, REPLY_REJECT, "550", "5.4.4", "", TRUE, "no-route"},
    {filter_error_quark, FILTER_ERROR_ROUTE_TEMP, REPLY_TEMPFAIL, "451", "4.3.5",
     "CTI routing temporarily unavailable, try again later", FALSE, NULL},
    {filter_error_quark, FILTER_ERROR_UNAUTHORIZED, REPLY_REJECT, "550", "5.7.1",
     "CTI request not authorized: ", TRUE, "unauthorized"},
    {filter_error_quark, FILTER_ERROR_RATE_TEMP, REPLY_TEMPFAIL, "450", "4.7.1",
     "CTI request deferred: ", TRUE, NULL},
    {filter_error_quark, FILTER_ERROR_RATE_REJECT, REPLY_REJECT, "550", "5.7.1",
     "CTI request refused: ", TRUE, "rate-limit"},
    {request_error_quark, -1, REPLY_REJECT, "550", "5.6.0", "bad CTI request: ", TRUE, "bad-request"},
};

/* Unknown errors are temporary: a retry is better than a lost request. */
static const ReplyRule reply_default = {
    NULL,  -1,      REPLY_TEMPFAIL,
    "451", "4.3.0", "CTI service temporarily unavailable, try again later",
    FALSE, NULL};

static const ReplyRule *reply_rule_for(const GError *error)
{
	for (gsize i = 0; i < G_N_ELEMENTS(reply_rules); i++) {
		const ReplyRule *rule = &reply_rules[i];

		if (error->domain == rule->domain() &&
		    (rule->code < 0 || rule->code == error->code))
			return rule;
	}
	return &reply_default;
}

/* reply_sanitize - printable ASCII only, one line, bounded */
char *reply_sanitize(const char *text)
{
	GString *out = g_string_sized_new(64);
	gsize taken = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p && taken < REPLY_MAX_TEXT;
	     p++, taken++) {
		if (*p == '\r' || *p == '\n' || *p == '\t')
			g_string_append_c(out, ' ');
		else if (*p < 0x20 || *p >= 0x7f)
			g_string_append_c(out, '?');
		else
			g_string_append_c(out, (char)*p);
	}
	if (*text && taken == REPLY_MAX_TEXT && text[taken] != '\0')
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}

/* reply_milter_escape - double every '%' */
char *reply_milter_escape(const char *text)
{
	g_auto(GStrv) pieces = g_strsplit(text, "%", -1);

	return g_strjoinv("%%", pieces);
}

/* reply_from_error - the verdict, codes and text for ERROR */
FilterReply *reply_from_error(const GError *error)
{
	const ReplyRule *rule;
	FilterReply *reply;
	g_autofree char *raw = NULL;

	g_return_val_if_fail(error != NULL, NULL);
	rule = reply_rule_for(error);
	reply = g_new0(FilterReply, 1);
	reply->kind = rule->kind;
	reply->rcode = rule->rcode;
	reply->xcode = rule->xcode;
	reply->reason = rule->reason;
	raw = rule->show_message ? g_strconcat(rule->text, error->message, NULL)
	                         : g_strdup(rule->text);
	reply->text = reply_sanitize(raw);
	reply->milter_text = reply_milter_escape(reply->text);
	return reply;
}

/* reply_free - free the reply */
void reply_free(FilterReply *reply)
{
	if (reply == NULL)
		return;
	g_free(reply->text);
	g_free(reply->milter_text);
	g_free(reply);
}
