/* explain - the dry run of a request mail (explain.h).
 *
 * explain_message() parses the mail with GMime, then runs each check of
 * the real path in order, appending one section per check to the report.
 * The first check that refuses decides the verdict; later checks still run
 * where they can, so the sender sees every problem at once.  Databases are
 * opened read-only for the duration of the call and closed again.  Nothing
 * here dials, converts into the media store or writes anything: media are
 * only probed (headers), as the milter does at SMTP time.
 * The Explanation owns its strings.  explain_compose_reply() builds the
 * answer mail with GMime; every header value is checked for CR/LF.
 */
#include "explain.h"

#include <gmime/gmime.h>
#include <string.h>

#include "authz.h"
#include "identity.h"
#include "media.h"
#include "parts.h"
#include "policy.h"
#include "relay.h"
#include "request.h"
#include "route.h"
#include "routing.h"
#include "scenario.h"

/* GMime 3.2 declares no autoptr cleanups of its own */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeTextPart, g_object_unref)

typedef struct {
	const CtiConfig *config;
	const CtiExplainEnvelope *env;
	GMimeMessage *msg;
	GPtrArray *parts; /* CtiPart* */
	GString *out;
	CtiExplainVerdict verdict;
	char *summary;
	CtiRequest *req;
	char *identity;
} Ex;

static void ex_gmime_init(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

static void section(Ex *ex, const char *title)
{
	g_string_append_printf(ex->out, "\n%s\n", title);
}

static void line(Ex *ex, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void line(Ex *ex, const char *fmt, ...)
{
	va_list ap;

	g_string_append(ex->out, "  ");
	va_start(ap, fmt);
	g_string_append_vprintf(ex->out, fmt, ap);
	va_end(ap);
	g_string_append_c(ex->out, '\n');
}

/* decide - the first refusal (or deferral) wins; later ones are only reported */
static void decide(Ex *ex, CtiExplainVerdict verdict, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void decide(Ex *ex, CtiExplainVerdict verdict, const char *fmt, ...)
{
	va_list ap;

	if (ex->summary != NULL)
		return;
	ex->verdict = verdict;
	va_start(ap, fmt);
	ex->summary = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* ---- the checks, in the order of the real path ---- */

static gboolean check_request(Ex *ex)
{
	const CtiPart *found = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autofree char *canon = NULL;
	g_autofree char *what = NULL;

	section(ex, "Request part");
	for (guint i = 0; i < ex->parts->len; i++) {
		const CtiPart *p = g_ptr_array_index(ex->parts, i);

		if (p->kind != CTI_PART_REQUEST)
			continue;
		if (found != NULL) {
			line(ex, "two request parts: refused");
			decide(ex, CTI_EXPLAIN_REFUSE, "refused: more than one request part");
			return FALSE;
		}
		found = p;
	}
	if (found == NULL) {
		line(ex, "no application/x-cti part and no *.cti attachment: not a request");
		decide(ex, CTI_EXPLAIN_NONE, "not a request: the mail would be delivered as it is");
		return FALSE;
	}
	what = parts_describe(found);
	text = parts_text(found, CTI_REQUEST_MAX, &error);
	if (text != NULL)
		ex->req = request_parse(text, strlen(text), &error);
	if (ex->req == NULL) {
		line(ex, "%s: %s", what, error->message);
		decide(ex, CTI_EXPLAIN_REFUSE, "refused: %s", error->message);
		return FALSE;
	}
	canon = request_format(ex->req);
	line(ex, "found %s; the fields as understood:", what);
	g_strchomp(canon);
	for (char *l = strtok(canon, "\n"); l != NULL; l = strtok(NULL, "\n"))
		line(ex, "  %s", l);
	return TRUE;
}

/* identity_input - what identity_resolve() reads, from the envelope and the mail */
static void identity_input(Ex *ex, CtiIdentityInput *in, GPtrArray *ar)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(ex->msg));

	for (int i = 0; i < g_mime_header_list_get_count(headers); i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Authentication-Results") == 0)
			g_ptr_array_add(ar, (gpointer)g_mime_header_get_raw_value(h));
	}
	g_ptr_array_add(ar, NULL);
	in->auth_authen = ex->env->auth_authen;
	in->client_addr = ex->env->client_addr;
	in->envelope_sender = ex->env->sender;
	in->from = g_mime_object_get_header(GMIME_OBJECT(ex->msg), "From");
	in->auth_results = (const char *const *)ar->pdata;
}

/* check_identity - the sender's account, as the milter establishes it; DB may be NULL */
static void check_identity(Ex *ex, CtiPolicyDb *db)
{
	const CtiExplainEnvelope *env = ex->env;
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiIdentityConfig) ic = identity_config_new(ex->config, &error);
	g_autoptr(CtiIdentity) id = NULL;
	g_autoptr(GPtrArray) ar = g_ptr_array_new();
	CtiIdentityInput in;

	section(ex, "Identity");
	if (ic == NULL) {
		line(ex, "[identity] settings: %s", error->message);
		decide(ex, CTI_EXPLAIN_TEMP, "deferred: bad [identity] settings");
		return;
	}
	identity_input(ex, &in, ar);
	line(ex, "envelope sender <%s>, SMTP AUTH %s, client %s", env->sender ? env->sender : "",
	     env->auth_authen ? env->auth_authen : "(none)",
	     env->client_addr ? env->client_addr : "(unknown)");
	id = identity_resolve(ic, &in, &error);
	if (id == NULL) {
		line(ex, "not identified: %s", error->message);
		decide(ex, CTI_EXPLAIN_REFUSE, "refused: %s", error->message);
		return;
	}
	ex->identity = authz_canonical(db, ex->config, id->identity, &error);
	if (ex->identity == NULL) {
		line(ex, "cannot check: policy DB: %s", error->message);
		decide(ex, CTI_EXPLAIN_TEMP, "deferred: the policy DB is unavailable");
		return;
	}
	line(ex, "identified as '%s' by %s (%s)", ex->identity, identity_method_name(id->method),
	     id->detail ? id->detail : "");
}

/* check_policy - authz_check(), the decision the milter and ctid make */
static void check_policy(Ex *ex, CtiPolicyDb *db)
{
	CtiAuthzInput in = {ex->identity, ex->req, ex->env->recipient, ex->env->sender};
	g_autoptr(CtiAuthzResult) res = NULL;

	section(ex, "Grants and destination policy");
	if (ex->identity == NULL) {
		line(ex, "no identity: grants not checked");
		return;
	}
	res = authz_check(&in, db, ex->config);
	for (guint i = 0; i < res->lines->len; i++)
		line(ex, "%s", (const char *)res->lines->pdata[i]);
	switch (res->verdict) {
	case CTI_AUTHZ_ALLOW:
		break;
	case CTI_AUTHZ_REFUSE:
		decide(ex, CTI_EXPLAIN_REFUSE, "refused: %s", res->text);
		break;
	case CTI_AUTHZ_TEMP:
		decide(ex, CTI_EXPLAIN_TEMP, "deferred: %s", res->text);
		break;
	}
}

/* open_policy - the policy DB read-only; NULL when it does not exist yet (nobody is
 * registered: authz_check refuses) or cannot be opened (the verdict is TEMP) */
static CtiPolicyDb *open_policy(Ex *ex)
{
	g_autoptr(GError) error = NULL;
	CtiPolicyDb *db = policy_open_config(ex->config, FALSE, &error);

	if (db == NULL && !g_error_matches(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND)) {
		section(ex, "Policy DB");
		/* the error names the file: a path of the host is never printed */
		line(ex, "the policy DB cannot be opened");
		decide(ex, CTI_EXPLAIN_TEMP, "deferred: the policy DB is unavailable");
	}
	return db;
}

static char **hop_values(GMimeMessage *msg)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	GPtrArray *hops = g_ptr_array_new();

	for (int i = 0; i < g_mime_header_list_get_count(headers); i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), CTI_RELAY_HOP_HEADER) == 0)
			g_ptr_array_add(hops, g_strstrip(g_strdup(g_mime_header_get_value(h))));
	}
	g_ptr_array_add(hops, NULL);
	return (char **)g_ptr_array_free(hops, FALSE);
}

static void report_decision(Ex *ex, const CtiRelayDecision *d)
{
	line(ex, "decision: %s (%s %s)", relay_action_name(d->action), d->status, d->text);
	switch (d->action) {
	case CTI_RELAY_LOCAL:
		break;
	case CTI_RELAY_FORWARD:
		line(ex, "the mail would be relayed to gateway %s at <%s>", d->gateway, d->address);
		decide(ex, CTI_EXPLAIN_RELAY, "relayed to gateway %s <%s>", d->gateway, d->address);
		break;
	case CTI_RELAY_REFUSE_LOOP:
	case CTI_RELAY_NO_ROUTE:
		decide(ex, d->temporary ? CTI_EXPLAIN_TEMP : CTI_EXPLAIN_REFUSE, "%s: %s",
		       d->temporary ? "deferred" : "refused", d->text);
		break;
	}
}

/* check_route - routing_decide(), the decision the milter's routing step takes */
static void check_route(Ex *ex)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRouteDb) db = NULL;
	g_autoptr(CtiRelayDecision) d = NULL;
	g_auto(GStrv) hops = hop_values(ex->msg);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *date = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S +0000");
	g_autofree char *looked_up = NULL;
	CtiRelayPolicy policy;

	section(ex, "Route");
	if (!relay_policy_from_config(ex->config, &policy, &error)) {
		line(ex, "[routing] settings: %s", error->message);
		decide(ex, CTI_EXPLAIN_TEMP, "deferred: bad [routing] settings");
		return;
	}
	policy.date = date;
	db = route_open(ex->config->routes_db, FALSE, &error);
	if (db == NULL && !g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND)) {
		/* the error names the file: a path of the host is never printed */
		line(ex, "the routes DB cannot be opened");
		decide(ex, CTI_EXPLAIN_TEMP, "deferred: the routes DB is unavailable");
		return;
	}
	g_clear_error(&error);
	if (db != NULL)
		route_set_international_prefix(db, ex->config->international_prefix);
	else
		line(ex, "no routes DB: every request takes the default route");
	d = routing_decide(db, ex->req->destination, ex->env->recipient, (const char *const *)hops,
	                   &policy, &looked_up, &error);
	if (d == NULL) {
		gboolean bad = g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID);

		line(ex, "%s", bad ? error->message : "the routes DB lookup failed");
		decide(ex, bad ? CTI_EXPLAIN_REFUSE : CTI_EXPLAIN_TEMP, "%s: %s",
		       bad ? "refused" : "deferred", bad ? error->message : "the routes DB failed");
		return;
	}
	line(ex, "looked up: %s", *looked_up ? looked_up : "nothing matched: the default route");
	line(ex, "hop traces received: %u", g_strv_length(hops));
	report_decision(ex, d);
}

static void describe_media(Ex *ex, const CtiPart *p)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *what = parts_describe(p);
	g_autoptr(GBytes) data = NULL;
	g_autoptr(CtiMedia) m = NULL;

	switch (p->kind) {
	case CTI_PART_VOICE:
		data = parts_content(p, CTI_MEDIA_MAX_INPUT, &error);
		if (data != NULL)
			m = media_voice_probe(data, p->content_type, p->filename, &error);
		if (m == NULL) {
			line(ex, "voice %s: %s", what, error->message);
			decide(ex, CTI_EXPLAIN_REFUSE, "refused: %s: %s", what, error->message);
			return;
		}
		line(ex, "voice %s: %s, %.1f s -> 8 kHz mono 16-bit PCM WAV", what, m->format,
		     m->duration);
		return;
	case CTI_PART_TEXT:
		if (!media_speech_probe(p->language, NULL, &error)) {
			line(ex, "text %s: %s", what, error->message);
			decide(ex, CTI_EXPLAIN_REFUSE, "refused: %s: %s", what, error->message);
			return;
		}
		line(ex, "text %s (%s) -> speech synthesis, 8 kHz mono PCM WAV", what,
		     p->language ? p->language : "default voice");
		return;
	case CTI_PART_FAX:
		line(ex, "fax %s -> TIFF Class F (G3, 1728 pixels wide)", what);
		return;
	case CTI_PART_OTHER:
	case CTI_PART_REQUEST:
	case CTI_PART_SCENARIO:
		return;
	}
}

static void check_scenario(Ex *ex)
{
	const CtiPart *sp = ex->req->scenario ? parts_lookup(ex->parts, ex->req->scenario) : NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autofree CtiScenarioPart *refs = NULL;
	g_autoptr(CtiScenario) sc = NULL;

	section(ex, "Scenario and media");
	for (guint i = 0; i < ex->parts->len; i++)
		describe_media(ex, g_ptr_array_index(ex->parts, i));
	if (ex->req->scenario == NULL) {
		line(ex, "no Scenario: the media parts are played in mail order once answered");
		return;
	}
	if (sp == NULL) {
		line(ex, "Scenario %s: no such part in the mail", ex->req->scenario);
		decide(ex, CTI_EXPLAIN_REFUSE, "refused: scenario part %s is missing",
		       ex->req->scenario);
		return;
	}
	text = parts_text(sp, CTI_SCENARIO_MAX_BYTES, &error);
	refs = parts_scenario_refs(ex->parts);
	if (text != NULL)
		sc = scenario_parse(text, strlen(text), refs, ex->parts->len, &error);
	if (sc != NULL && !scenario_check_runnable(sc, refs, ex->parts->len, &error))
		g_clear_pointer(&sc, scenario_free);
	if (sc == NULL) {
		line(ex, "scenario: %s", error->message);
		decide(ex, CTI_EXPLAIN_REFUSE, "refused: scenario: %s", error->message);
		return;
	}
	for (guint i = 0; i < sc->steps->len; i++) {
		g_autofree char *step =
		    scenario_step_describe(g_ptr_array_index(sc->steps, i), i + 1);

		line(ex, "step %s", step);
	}
}

static void verdict_line(Ex *ex)
{
	const CtiRequest *r = ex->req;

	if (ex->summary == NULL && r != NULL)
		decide(ex, CTI_EXPLAIN_EXECUTE,
		       "would %s %s from %s here: %d attempt(s), monitor time %d s, trigger %s",
		       request_action_name(r->action), r->destination ? r->destination : "-",
		       r->source, r->retry_count,
		       r->monitor_time > 0 ? r->monitor_time : ex->config->default_monitor_time,
		       r->trigger == CTI_TRIGGER_USER ? "user" : "system");
	section(ex, "Verdict");
	line(ex, "%s: %s", explain_verdict_name(ex->verdict), ex->summary);
	line(ex, "this was a dry run: nothing was dialled");
}

static GMimeMessage *parse_mail(const void *data, gsize len)
{
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(data, len);
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

	return g_mime_parser_construct_message(parser, NULL);
}

/* check_addressed - the milter's rule: Trigger: system runs only for mail to a CTI address
 * ([milter] cti_address); without a recipient, or for an explain address, it is assumed */
static gboolean check_addressed(Ex *ex)
{
	const char *rcpt = ex->env->recipient;

	if (ex->req->trigger != CTI_TRIGGER_SYSTEM || rcpt == NULL || *rcpt == '\0' ||
	    config_address_listed(ex->config->explain_address, rcpt) ||
	    config_is_cti_address(ex->config, rcpt))
		return TRUE;
	section(ex, "Recipient");
	line(ex, "%s is no CTI address ([milter] cti_address = %s): a Trigger: system request "
	         "runs only for mail to one",
	     rcpt, ex->config->cti_address);
	decide(ex, CTI_EXPLAIN_NONE, "not a request for %s: delivered as ordinary mail, nothing run",
	       rcpt);
	return FALSE;
}

static void run_checks(Ex *ex)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiPolicyDb) db = NULL;

	ex->parts = parts_list(ex->msg, &error);
	if (ex->parts == NULL) {
		section(ex, "Structure");
		line(ex, "%s", error->message);
		decide(ex, CTI_EXPLAIN_REFUSE, "refused: %s", error->message);
		return;
	}
	if (!check_request(ex) || !check_addressed(ex))
		return;
	db = open_policy(ex);
	check_identity(ex, db);
	check_policy(ex, db);
	check_route(ex);
	check_scenario(ex);
}

/* explain_message - see explain.h */
CtiExplanation *explain_message(const CtiConfig *config, const void *data, gsize len,
                                const CtiExplainEnvelope *env)
{
	static const CtiExplainEnvelope none = {NULL, NULL, NULL, NULL};
	Ex ex = {config,
	         env ? env : &none,
	         NULL,
	         NULL,
	         g_string_new(NULL),
	         CTI_EXPLAIN_NONE,
	         NULL,
	         NULL,
	         NULL};
	CtiExplanation *res = g_new0(CtiExplanation, 1);

	ex_gmime_init();
	g_string_append(ex.out, "What this gateway would do with the request (dry run).\n");
	ex.msg = parse_mail(data, len);
	if (ex.msg == NULL)
		decide(&ex, CTI_EXPLAIN_REFUSE, "refused: the mail does not parse");
	else
		run_checks(&ex);
	if (ex.msg != NULL) {
		const char *mid = g_mime_message_get_message_id(ex.msg);
		const char *subject = g_mime_message_get_subject(ex.msg);

		res->message_id = g_strdup(mid);
		res->subject = g_strdup(subject);
	}
	verdict_line(&ex);
	res->verdict = ex.verdict;
	res->summary = ex.summary;
	res->text = g_string_free(ex.out, FALSE);
	g_clear_pointer(&ex.parts, g_ptr_array_unref);
	g_clear_object(&ex.msg);
	request_free(ex.req);
	g_free(ex.identity);
	return res;
}

static gboolean header_safe(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

/* explain_compose_reply - see explain.h */
GBytes *explain_compose_reply(const CtiConfig *config, const CtiExplanation *ex, const char *to,
                              GError **error)
{
	g_autoptr(GMimeMessage) msg = NULL;
	g_autoptr(GMimeTextPart) body = NULL;
	g_autoptr(GMimeStream) stream = NULL;
	g_autofree char *subject = NULL;
	g_autofree char *ref = NULL;
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *mid = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	GMimeFormatOptions *opts;
	GByteArray *arr;

	ex_gmime_init();
	if (to == NULL || to[0] == '\0' || !header_safe(to) || strchr(to, '@') == NULL ||
	    !header_safe(ex->message_id)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "no usable address for the explanation");
		return NULL;
	}
	msg = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, "CTI gateway",
	                           config->notify_from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, to);
	subject = g_strdup_printf("CTI dry run: %s", explain_verdict_name(ex->verdict));
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_mime_message_set_date(msg, now);
	mid = g_strdup_printf("explain.%s@%s", uuid,
	                      config->hostname && header_safe(config->hostname) ? config->hostname
	                                                                        : "localhost");
	g_mime_message_set_message_id(msg, mid);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", NULL);
	if (ex->message_id != NULL) {
		ref = g_strdup_printf("<%s>", ex->message_id);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", ref, NULL);
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", ref, NULL);
	}
	body = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(body, ex->text);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(body));
	stream = g_mime_stream_mem_new();
	opts = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_UNIX);
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, stream);
	g_mime_format_options_free(opts);
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
	return g_bytes_new(arr->data, arr->len);
}

/* explain_verdict_name - see explain.h */
const char *explain_verdict_name(CtiExplainVerdict verdict)
{
	switch (verdict) {
	case CTI_EXPLAIN_EXECUTE:
		return "execute";
	case CTI_EXPLAIN_RELAY:
		return "relay";
	case CTI_EXPLAIN_REFUSE:
		return "refuse";
	case CTI_EXPLAIN_TEMP:
		return "defer";
	case CTI_EXPLAIN_NONE:
		return "not-a-request";
	}
	return "?";
}

/* explain_free - see explain.h */
void explain_free(CtiExplanation *ex)
{
	if (ex == NULL)
		return;
	g_free(ex->text);
	g_free(ex->summary);
	g_free(ex->message_id);
	g_free(ex->subject);
	g_free(ex);
}
