/* request - parse, validate and format the exchange-information part.
 *
 * Input is untrusted mail text.  request_parse() splits it into logical
 * lines (CRLF or LF, folded continuation lines joined), looks each name up
 * in a table of { name, parser } rows and fills a CtiRequest; then the
 * cross-field rules run (required fields per Action, Not-Before < Not-After).
 * Every error names the field, says what is wrong in <= 200 ASCII bytes, and
 * echoes at most a short, escaped piece of the input.  The caller owns the
 * returned request.  request_format() writes the canonical text that ctid
 * stores and re-parses.
 */
#include "request.h"
#include "number.h"

#include <gmime/gmime.h>
#include <string.h>

#define REQ_MAX_FIELDS 64
#define REQ_MAX_LINE   998
#define REQ_MAX_TEXT   200 /* Request-Id, Scenario, addresses */
#define REQ_ECHO_MAX   40  /* bytes of a bad value echoed in an error */
#define REQ_ERROR_MAX  200

G_DEFINE_QUARK(mailcti - request - error, request_error)

typedef gboolean (*ReqParseFn)(CtiRequest *req, const char *name, const char *value,
                               GError **error);

typedef struct {
	const char *name;
	ReqParseFn parse;
} ReqField;

static const char *const action_names[] = {
    [CTI_ACTION_CONNECT] = "connect",
    [CTI_ACTION_CONFERENCE] = "conference",
    [CTI_ACTION_INTRUDE] = "intrude",
    [CTI_ACTION_FORWARD_SET] = "forward-set",
    [CTI_ACTION_FORWARD_CLEAR] = "forward-clear",
};

/* request_action_name - canonical lower-case name of ACTION */
const char *request_action_name(CtiAction action)
{
	switch (action) {
	case CTI_ACTION_CONNECT:
	case CTI_ACTION_CONFERENCE:
	case CTI_ACTION_INTRUDE:
	case CTI_ACTION_FORWARD_SET:
	case CTI_ACTION_FORWARD_CLEAR:
		return action_names[action];
	}
	return "unknown";
}

/* req_echo - S cut to about REQ_ECHO_MAX output bytes, non-printable bytes as \xHH (transfer full)
 */
static char *req_echo(const char *s)
{
	GString *out = g_string_new(NULL);

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (out->len >= REQ_ECHO_MAX) {
			g_string_append(out, "...");
			break;
		}
		if (*p == '\\' || *p == '\'')
			g_string_append_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			g_string_append_printf(out, "\\x%02x", *p);
		else
			g_string_append_c(out, (char)*p);
	}
	return g_string_free(out, FALSE);
}

/* req_fail - set a request error, cut to REQ_ERROR_MAX bytes */
static gboolean req_fail(GError **error, CtiRequestError code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static gboolean req_fail(GError **error, CtiRequestError code, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (strlen(msg) > REQ_ERROR_MAX)
		msg[REQ_ERROR_MAX] = '\0';
	g_set_error_literal(error, CTI_REQUEST_ERROR, code, msg);
	return FALSE;
}

/* parse_duration - "90", "90s", "5m", "2h", "1d" (0 .. 400 days) */
gboolean parse_duration(const char *text, int *seconds_out)
{
	guint64 v = 0;
	gsize i = 0;
	int mult = 1;

	if (!text)
		return FALSE;
	for (; g_ascii_isdigit(text[i]); i++) {
		if (i >= 9)
			return FALSE;
		v = v * 10 + (guint64)(text[i] - '0');
	}
	if (i == 0)
		return FALSE;
	switch (g_ascii_tolower(text[i])) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return FALSE;
	}
	if (text[i] && text[i + 1])
		return FALSE;
	v *= (guint64)mult;
	if (v > 400u * 86400u)
		return FALSE;
	*seconds_out = (int)v;
	return TRUE;
}

static gboolean req_yes_no(const char *name, const char *value, gboolean *out, GError **error)
{
	g_autofree char *echo = NULL;

	if (g_ascii_strcasecmp(value, "yes") == 0)
		*out = TRUE;
	else if (g_ascii_strcasecmp(value, "no") == 0)
		*out = FALSE;
	else {
		echo = req_echo(value);
		return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: '%s' is not yes or no", name,
		                echo);
	}
	return TRUE;
}

static gboolean req_action(CtiRequest *req, const char *name, const char *value, GError **error)
{
	g_autofree char *echo = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(action_names); i++) {
		if (g_ascii_strcasecmp(value, action_names[i]) == 0) {
			req->action = (CtiAction)i;
			return TRUE;
		}
	}
	echo = req_echo(value);
	return req_fail(
	    error, CTI_REQUEST_ERROR_VALUE,
	    "%s: '%s' is not one of connect, conference, intrude, forward-set, forward-clear", name,
	    echo);
}

static gboolean req_source(CtiRequest *req, const char *name, const char *value, GError **error)
{
	g_autofree char *echo = NULL;

	if (!number_is_digits(value, CTI_NUMBER_MAX_DIGITS)) {
		echo = req_echo(value);
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: '%s' is not an extension (1 to %d digits)", name, echo,
		                CTI_NUMBER_MAX_DIGITS);
	}
	req->source = g_strdup(value);
	return TRUE;
}

static gboolean req_number(char **slot, const char *name, const char *value, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (!number_normalise(value, slot, &local))
		return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: not a telephone number: %s",
		                name, local->message);
	return TRUE;
}

static gboolean req_destination(CtiRequest *req, const char *name, const char *value,
                                GError **error)
{
	return req_number(&req->destination, name, value, error);
}

static gboolean req_forward_to(CtiRequest *req, const char *name, const char *value, GError **error)
{
	return req_number(&req->forward_to, name, value, error);
}

static gboolean req_notify(CtiRequest *req, const char *name, const char *value, GError **error)
{
	return req_yes_no(name, value, &req->notify, error);
}

static gboolean req_wait_for_idle(CtiRequest *req, const char *name, const char *value,
                                  GError **error)
{
	return req_yes_no(name, value, &req->wait_for_idle, error);
}

static gboolean req_dry_run(CtiRequest *req, const char *name, const char *value, GError **error)
{
	return req_yes_no(name, value, &req->dry_run, error);
}

static gboolean req_monitor_time(CtiRequest *req, const char *name, const char *value,
                                 GError **error)
{
	int s = 0;
	g_autofree char *echo = NULL;

	if (!parse_duration(value, &s)) {
		echo = req_echo(value);
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: '%s' is not a duration (use 90, 90s, 5m or 1h)", name, echo);
	}
	if (s < 1 || s > 86400)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: %d seconds is out of range (1s to 24h)", name, s);
	req->monitor_time = s;
	return TRUE;
}

/* req_mailbox_addr - the addr-spec of the only mailbox in VALUE, or NULL (transfer full) */
static char *req_mailbox_addr(const char *value, gboolean *is_group)
{
	InternetAddressList *list = internet_address_list_parse(NULL, value);
	InternetAddress *ia;
	char *addr = NULL;

	*is_group = FALSE;
	if (!list)
		return NULL;
	if (internet_address_list_length(list) == 1) {
		ia = internet_address_list_get_address(list, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			addr = g_strdup(
			    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
		else
			*is_group = TRUE;
	}
	g_object_unref(list);
	return addr;
}

/* req_addr_spec - one mailbox address, parsed by GMime; *SLOT = its addr-spec */
static gboolean req_addr_spec(char **slot, const char *name, const char *value, GError **error)
{
	g_autofree char *echo = req_echo(value);
	g_autofree char *addr = NULL;
	gboolean is_group = FALSE;
	const char *at;

	if (strlen(value) > REQ_MAX_TEXT)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: address longer than %d bytes",
		                name, REQ_MAX_TEXT);
	addr = req_mailbox_addr(value, &is_group);
	if (is_group)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: '%s' is a group, not a mail address", name, echo);
	at = addr ? strrchr(addr, '@') : NULL;
	if (!at || at == addr || !at[1] || strpbrk(addr, "\r\n\t <>\"(),;:") != NULL)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: '%s' is not one mail address (local@domain)", name, echo);
	for (const char *p = addr; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return req_fail(error, CTI_REQUEST_ERROR_VALUE,
			                "%s: control character in address", name);
	*slot = g_steal_pointer(&addr);
	return TRUE;
}

static gboolean req_notify_to(CtiRequest *req, const char *name, const char *value, GError **error)
{
	return req_addr_spec(&req->notify_to, name, value, error);
}

static gboolean req_mailbox(CtiRequest *req, const char *name, const char *value, GError **error)
{
	return req_addr_spec(&req->mailbox, name, value, error);
}

static gboolean req_trigger(CtiRequest *req, const char *name, const char *value, GError **error)
{
	g_autofree char *echo = NULL;

	if (g_ascii_strcasecmp(value, "system") == 0)
		req->trigger = CTI_TRIGGER_SYSTEM;
	else if (g_ascii_strcasecmp(value, "user") == 0)
		req->trigger = CTI_TRIGGER_USER;
	else {
		echo = req_echo(value);
		return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: '%s' is not system or user",
		                name, echo);
	}
	return TRUE;
}

/* req_retry_param - one "interval=S" parameter of Retry */
static gboolean req_retry_param(CtiRequest *req, const char *name, char *param, GError **error)
{
	char *eq = strchr(param, '=');
	g_autofree char *echo = req_echo(param);
	int s = 0;

	if (!eq)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: '%s' is not a parameter (use interval=S)", name, echo);
	*eq = '\0';
	g_strstrip(param);
	if (g_ascii_strcasecmp(param, "interval") != 0)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: unknown parameter '%s' (only interval=S)", name, echo);
	if (!parse_duration(g_strstrip(eq + 1), &s) || s < 1 || s > 86400)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: interval must be a duration from 1s to 24h", name);
	req->retry_interval = s;
	return TRUE;
}

static gboolean req_retry(CtiRequest *req, const char *name, const char *value, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(value, ";", -1);
	guint64 n = 0;
	g_autofree char *echo = req_echo(value);
	gboolean have_interval = FALSE;

	g_strstrip(parts[0]);
	if (!g_ascii_string_to_unsigned(parts[0], 10, 1, 20, &n, NULL))
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: '%s' is not 'N; interval=S' with N from 1 to 20 attempts",
		                name, echo);
	req->retry_count = (int)n;
	for (gsize i = 1; parts[i]; i++) {
		if (have_interval)
			return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: interval given twice",
			                name);
		if (!req_retry_param(req, name, parts[i], error))
			return FALSE;
		have_interval = TRUE;
	}
	return TRUE;
}

/* req_date - ISO 8601 (UTC when no zone given) or RFC 5322 date-time to unix seconds */
static gboolean req_date(gint64 *slot, const char *name, const char *value, GError **error)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(value, utc);
	g_autofree char *echo = NULL;
	gint64 t;

	if (!dt)
		dt = g_mime_utils_header_decode_date(value);
	if (!dt) {
		echo = req_echo(value);
		return req_fail(
		    error, CTI_REQUEST_ERROR_VALUE,
		    "%s: '%s' is not a date-time (RFC 5322 or ISO 8601, e.g. 2026-05-01T09:30:00Z)",
		    name, echo);
	}
	t = g_date_time_to_unix(dt);
	if (t <= 0 || t > G_GINT64_CONSTANT(253402300799)) {
		echo = req_echo(value);
		return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: '%s' is out of range", name,
		                echo);
	}
	*slot = t;
	return TRUE;
}

static gboolean req_not_before(CtiRequest *req, const char *name, const char *value, GError **error)
{
	return req_date(&req->not_before, name, value, error);
}

static gboolean req_not_after(CtiRequest *req, const char *name, const char *value, GError **error)
{
	return req_date(&req->not_after, name, value, error);
}

/* req_check_text - UTF-8, no control characters, at most REQ_MAX_TEXT bytes */
static gboolean req_check_text(const char *name, const char *value, GError **error)
{
	if (strlen(value) > REQ_MAX_TEXT)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: longer than %d bytes", name,
		                REQ_MAX_TEXT);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return req_fail(error, CTI_REQUEST_ERROR_VALUE,
			                "%s: control character \\x%02x not allowed", name, *p);
	return TRUE;
}

static gboolean req_scenario(CtiRequest *req, const char *name, const char *value, GError **error)
{
	g_autofree char *echo = NULL;

	if (!req_check_text(name, value, error))
		return FALSE;
	if (g_ascii_strncasecmp(value, "cid:", 4) != 0 &&
	    (strchr(value, '/') || strchr(value, '\\') || strcmp(value, ".") == 0 ||
	     strcmp(value, "..") == 0)) {
		echo = req_echo(value);
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "%s: '%s' is neither cid:... nor a plain file name", name, echo);
	}
	if (g_ascii_strncasecmp(value, "cid:", 4) == 0 && value[4] == '\0')
		return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: empty cid: reference", name);
	req->scenario = g_strdup(value);
	return TRUE;
}

static gboolean req_request_id(CtiRequest *req, const char *name, const char *value, GError **error)
{
	if (!req_check_text(name, value, error))
		return FALSE;
	req->request_id = g_strdup(value);
	return TRUE;
}

static const ReqField req_fields[] = {
    {"Action", req_action},
    {"Source", req_source},
    {"Destination", req_destination},
    {"Forward-To", req_forward_to},
    {"Notify", req_notify},
    {"Monitor-Time", req_monitor_time},
    {"Notify-To", req_notify_to},
    {"Trigger", req_trigger},
    {"Retry", req_retry},
    {"Wait-For-Idle", req_wait_for_idle},
    {"Not-Before", req_not_before},
    {"Not-After", req_not_after},
    {"Scenario", req_scenario},
    {"Mailbox", req_mailbox},
    {"Request-Id", req_request_id},
    {"Dry-Run", req_dry_run},
};

/* req_apply - look NAME up and parse VALUE into REQ; SEEN marks duplicates */
static gboolean req_apply(CtiRequest *req, const char *name, char *value, gboolean *seen,
                          GError **error)
{
	g_autofree char *echo = NULL;

	g_strstrip(value);
	for (gsize i = 0; i < G_N_ELEMENTS(req_fields); i++) {
		const ReqField *f = &req_fields[i];

		if (g_ascii_strcasecmp(name, f->name) != 0)
			continue;
		if (seen[i])
			return req_fail(error, CTI_REQUEST_ERROR_DUPLICATE,
			                "%s: given more than once", f->name);
		seen[i] = TRUE;
		if (!g_utf8_validate(value, -1, NULL))
			return req_fail(error, CTI_REQUEST_ERROR_VALUE,
			                "%s: value is not UTF-8 text", f->name);
		if (!*value)
			return req_fail(error, CTI_REQUEST_ERROR_VALUE, "%s: empty value", f->name);
		return f->parse(req, f->name, value, error);
	}
	echo = req_echo(name);
	return req_fail(error, CTI_REQUEST_ERROR_UNKNOWN,
	                "unknown field '%s' (known: Action, Source, Destination, Forward-To, "
	                "Notify, Monitor-Time, ...)",
	                echo);
}

/* req_split_name - NAME part of "Name: value"; NULL if LINE is not such a line */
static char *req_split_name(const char *line, const char **value_out)
{
	const char *colon = strchr(line, ':');

	if (!colon || colon == line)
		return NULL;
	for (const char *p = line; p < colon; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return NULL;
	*value_out = colon + 1;
	return g_strndup(line, (gsize)(colon - line));
}

typedef struct {
	CtiRequest *req;
	gboolean seen[G_N_ELEMENTS(req_fields)];
	char *name; /* the field being collected */
	GString *value;
	int fields;
} ReqParser;

/* req_flush - apply the field collected so far */
static gboolean req_flush(ReqParser *p, GError **error)
{
	gboolean ok;

	if (!p->name)
		return TRUE;
	ok = req_apply(p->req, p->name, p->value->str, p->seen, error);
	g_clear_pointer(&p->name, g_free);
	g_string_truncate(p->value, 0);
	return ok;
}

/* req_line - one physical line (without its line end), number LINENO */
static gboolean req_line(ReqParser *p, const char *line, int lineno, GError **error)
{
	const char *value = NULL;
	char *name;

	if (*line == '\0')
		return req_flush(p, error);
	if (*line == ' ' || *line == '\t') {
		if (!p->name)
			return req_fail(error, CTI_REQUEST_ERROR_SYNTAX,
			                "line %d: continuation line without a field", lineno);
		/* unfold: keep the folding white space, as one space per byte, so a tab
		 * used for folding does not become a control character in the value */
		for (; *line == ' ' || *line == '\t'; line++)
			g_string_append_c(p->value, ' ');
		g_string_append(p->value, line);
		if (p->value->len > REQ_MAX_LINE * 4)
			return req_fail(error, CTI_REQUEST_ERROR_SYNTAX,
			                "line %d: folded field too long", lineno);
		return TRUE;
	}
	if (!req_flush(p, error))
		return FALSE;
	name = req_split_name(line, &value);
	if (!name)
		return req_fail(error, CTI_REQUEST_ERROR_SYNTAX,
		                "line %d: not a 'Name: value' line", lineno);
	if (++p->fields > REQ_MAX_FIELDS) {
		g_free(name);
		return req_fail(error, CTI_REQUEST_ERROR_SYNTAX, "more than %d fields",
		                REQ_MAX_FIELDS);
	}
	p->name = name;
	g_string_assign(p->value, value);
	return TRUE;
}

/* req_lines - split TEXT into physical lines and feed them to the parser */
static gboolean req_lines(ReqParser *p, const char *text, gsize len, GError **error)
{
	gsize start = 0;
	int lineno = 0;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		gsize end = nl ? (gsize)(nl - text) : len;
		gsize n = end - start;
		g_autofree char *line = NULL;

		lineno++;
		if (n > 0 && text[start + n - 1] == '\r')
			n--;
		if (n > REQ_MAX_LINE)
			return req_fail(error, CTI_REQUEST_ERROR_SYNTAX,
			                "line %d: longer than %d bytes", lineno, REQ_MAX_LINE);
		line = g_strndup(text + start, n);
		if (strchr(line, '\r'))
			return req_fail(error, CTI_REQUEST_ERROR_SYNTAX,
			                "line %d: stray carriage return", lineno);
		if (!req_line(p, line, lineno, error))
			return FALSE;
		start = end + 1;
	}
	return req_flush(p, error);
}

/* req_check_rules - required fields and cross-field rules */
static gboolean req_check_rules(const CtiRequest *req, GError **error)
{
	const char *action = request_action_name(req->action);

	if (!req->source)
		return req_fail(error, CTI_REQUEST_ERROR_MISSING,
		                "Source: required (the extension that places the call)");
	if (!req->destination)
		return req_fail(error, CTI_REQUEST_ERROR_MISSING,
		                "Destination: required for Action: %s", action);
	if (req->action == CTI_ACTION_FORWARD_SET && !req->forward_to)
		return req_fail(error, CTI_REQUEST_ERROR_MISSING,
		                "Forward-To: required for Action: forward-set");
	if (req->action != CTI_ACTION_FORWARD_SET && req->forward_to)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "Forward-To: only allowed with Action: forward-set, not %s",
		                action);
	if (req->not_before && req->not_after && req->not_after <= req->not_before)
		return req_fail(error, CTI_REQUEST_ERROR_VALUE,
		                "Not-After: must be later than Not-Before");
	return TRUE;
}

static void req_gmime_init(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

/* request_parse - see request.h */
CtiRequest *request_parse(const char *text, gsize len, GError **error)
{
	g_autoptr(CtiRequest) req = g_new0(CtiRequest, 1);
	ReqParser p = {0};
	gboolean ok;

	g_return_val_if_fail(text != NULL || len == 0, NULL);
	if (len > CTI_REQUEST_MAX) {
		req_fail(error, CTI_REQUEST_ERROR_SYNTAX, "request part larger than %d bytes",
		         CTI_REQUEST_MAX);
		return NULL;
	}
	if (len && memchr(text, '\0', len)) {
		req_fail(error, CTI_REQUEST_ERROR_SYNTAX, "request part contains a NUL byte");
		return NULL;
	}
	req_gmime_init();
	req->action = CTI_ACTION_CONNECT;
	req->notify = TRUE;
	req->trigger = CTI_TRIGGER_SYSTEM;
	req->retry_count = 1;
	req->retry_interval = 60;
	p.req = req;
	p.value = g_string_new(NULL);
	ok = req_lines(&p, text ? text : "", len, error) && req_check_rules(req, error);
	g_free(p.name);
	g_string_free(p.value, TRUE);
	return ok ? g_steal_pointer(&req) : NULL;
}

/* request_free - free every field */
void request_free(CtiRequest *req)
{
	if (!req)
		return;
	g_free(req->source);
	g_free(req->destination);
	g_free(req->forward_to);
	g_free(req->notify_to);
	g_free(req->scenario);
	g_free(req->mailbox);
	g_free(req->request_id);
	g_free(req);
}

static void req_put_date(GString *out, const char *name, gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	g_autofree char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");

	g_string_append_printf(out, "%s: %s\n", name, s);
}

/* request_format - canonical text, fixed field order */
char *request_format(const CtiRequest *req)
{
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "Action: %s\n", request_action_name(req->action));
	if (req->source)
		g_string_append_printf(out, "Source: %s\n", req->source);
	if (req->destination)
		g_string_append_printf(out, "Destination: %s\n", req->destination);
	if (req->forward_to)
		g_string_append_printf(out, "Forward-To: %s\n", req->forward_to);
	g_string_append_printf(out, "Notify: %s\n", req->notify ? "yes" : "no");
	if (req->monitor_time > 0)
		g_string_append_printf(out, "Monitor-Time: %d\n", req->monitor_time);
	if (req->notify_to)
		g_string_append_printf(out, "Notify-To: %s\n", req->notify_to);
	g_string_append_printf(out, "Trigger: %s\n",
	                       req->trigger == CTI_TRIGGER_USER ? "user" : "system");
	g_string_append_printf(out, "Retry: %d; interval=%d\n", req->retry_count,
	                       req->retry_interval);
	g_string_append_printf(out, "Wait-For-Idle: %s\n", req->wait_for_idle ? "yes" : "no");
	if (req->not_before)
		req_put_date(out, "Not-Before", req->not_before);
	if (req->not_after)
		req_put_date(out, "Not-After", req->not_after);
	if (req->scenario)
		g_string_append_printf(out, "Scenario: %s\n", req->scenario);
	if (req->mailbox)
		g_string_append_printf(out, "Mailbox: %s\n", req->mailbox);
	if (req->request_id)
		g_string_append_printf(out, "Request-Id: %s\n", req->request_id);
	g_string_append_printf(out, "Dry-Run: %s\n", req->dry_run ? "yes" : "no");
	return g_string_free(out, FALSE);
}
