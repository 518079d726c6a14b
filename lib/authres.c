/* authres - parse Authentication-Results field bodies (RFC 8601, section 2.2).
 *
 * A small recursive-descent reader over a bounded buffer: skip CFWS, read a
 * keyword, a value (token or quoted-string) or a property value (which may be
 * an addr-spec or a domain).  Nothing is trusted: every loop is bounded by the
 * input end, comments nest at most CTI_AUTHRES_MAX_COMMENT_NEST deep, and the
 * result and property counts are capped.  The caller owns the CtiAuthres; on
 * any error nothing is returned.  Which results to believe (authserv-id,
 * domains) is decided by the caller (identity.c), not here.
 */
#include "authres.h"

#include <string.h>

G_DEFINE_QUARK(mailcti - authres - error, authres_error)

typedef struct {
	const char *p;
	const char *end;
} ArScan;

static void ar_prop_free(gpointer data)
{
	CtiAuthresProp *prop = data;

	g_free(prop->ptype);
	g_free(prop->property);
	g_free(prop->value);
	g_free(prop);
}

static void ar_result_free(gpointer data)
{
	CtiAuthresResult *res = data;

	g_free(res->method);
	g_free(res->result);
	g_free(res->reason);
	g_ptr_array_unref(res->props);
	g_free(res);
}

/* authres_free - see authres.h */
void authres_free(CtiAuthres *ar)
{
	if (!ar)
		return;
	g_free(ar->authserv_id);
	g_ptr_array_unref(ar->results);
	g_free(ar);
}

static gboolean ar_fail(ArScan *s, const char *start, GError **error, const char *what)
{
	g_set_error(error, CTI_AUTHRES_ERROR, CTI_AUTHRES_ERROR_SYNTAX,
	            "Authentication-Results: %s at offset %ld", what, (long)(s->p - start));
	return FALSE;
}

/* ar_skip_comment - S->p is at '('; skip a (nested) comment */
static gboolean ar_skip_comment(ArScan *s)
{
	int depth = 0;

	while (s->p < s->end) {
		char c = *s->p++;

		if (c == '\\' && s->p < s->end)
			s->p++;
		else if (c == '(' && ++depth > CTI_AUTHRES_MAX_COMMENT_NEST)
			return FALSE;
		else if (c == ')' && --depth == 0)
			return TRUE;
	}
	return FALSE;
}

/* ar_skip_cfws - white space, folding and comments; FALSE on a broken comment */
static gboolean ar_skip_cfws(ArScan *s)
{
	while (s->p < s->end) {
		if (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n')
			s->p++;
		else if (*s->p == '(') {
			if (!ar_skip_comment(s))
				return FALSE;
		} else
			break;
	}
	return TRUE;
}

static gboolean ar_is_keyword_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* ar_is_token_char - RFC 2045 token: printable ASCII except space and tspecials */
static gboolean ar_is_token_char(char c)
{
	return c > ' ' && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* ar_keyword - letters, digits, '-', '_'; lower-cased (transfer full) or NULL */
static char *ar_keyword(ArScan *s)
{
	const char *start = s->p;

	while (s->p < s->end && ar_is_keyword_char(*s->p))
		s->p++;
	if (s->p == start)
		return NULL;
	return g_ascii_strdown(start, s->p - start);
}

/* ar_quoted - S->p at '"': the unquoted content (transfer full) or NULL */
static char *ar_quoted(ArScan *s)
{
	GString *out = g_string_new(NULL);

	for (s->p++; s->p < s->end; s->p++) {
		char c = *s->p;

		if (c == '"') {
			s->p++;
			return g_string_free(out, FALSE);
		}
		if (c == '\\' && s->p + 1 < s->end)
			c = *++s->p;
		if ((unsigned char)c < ' ' && c != '\t')
			break;
		g_string_append_c(out, c);
	}
	g_string_free(out, TRUE);
	return NULL;
}

/* ar_value - token or quoted-string (transfer full) or NULL */
static char *ar_value(ArScan *s)
{
	const char *start = s->p;

	if (s->p < s->end && *s->p == '"')
		return ar_quoted(s);
	while (s->p < s->end && ar_is_token_char(*s->p))
		s->p++;
	return s->p == start ? NULL : g_strndup(start, s->p - start);
}

/* ar_pvalue - a value, or [[local-part] "@"] domain-name (transfer full) or NULL */
static char *ar_pvalue(ArScan *s)
{
	const char *start = s->p;

	if (s->p < s->end && *s->p == '"')
		return ar_quoted(s);
	while (s->p < s->end && (unsigned char)*s->p > ' ' && (unsigned char)*s->p < 0x7f &&
	       !strchr(";()\"\\", *s->p))
		s->p++;
	return s->p == start ? NULL : g_strndup(start, s->p - start);
}

static gboolean ar_expect(ArScan *s, char c)
{
	if (!ar_skip_cfws(s) || s->p >= s->end || *s->p != c)
		return FALSE;
	s->p++;
	return ar_skip_cfws(s);
}

/* ar_propspec - "ptype.property=pvalue" or "reason=value" into RES */
static gboolean ar_propspec(ArScan *s, CtiAuthresResult *res, const char *start, GError **error)
{
	g_autofree char *ptype = ar_keyword(s);
	CtiAuthresProp *prop;

	if (!ptype)
		return ar_fail(s, start, error, "property expected");
	if (strcmp(ptype, "reason") == 0 && !res->reason && res->props->len == 0) {
		if (!ar_expect(s, '=') || !(res->reason = ar_value(s)))
			return ar_fail(s, start, error, "bad reason");
		return TRUE;
	}
	if (res->props->len >= CTI_AUTHRES_MAX_PROPS) {
		g_set_error(error, CTI_AUTHRES_ERROR, CTI_AUTHRES_ERROR_LIMIT,
		            "Authentication-Results: more than %d properties in one result",
		            CTI_AUTHRES_MAX_PROPS);
		return FALSE;
	}
	prop = g_new0(CtiAuthresProp, 1);
	prop->ptype = g_steal_pointer(&ptype);
	g_ptr_array_add(res->props, prop);
	if (!ar_expect(s, '.') || !(prop->property = ar_keyword(s)) || !ar_expect(s, '=') ||
	    !(prop->value = ar_pvalue(s)))
		return ar_fail(s, start, error, "bad property");
	return TRUE;
}

/* ar_resinfo - after ';': methodspec [reasonspec] *propspec, up to the next ';' */
static CtiAuthresResult *ar_resinfo(ArScan *s, const char *start, GError **error)
{
	CtiAuthresResult *res = g_new0(CtiAuthresResult, 1);

	res->props = g_ptr_array_new_with_free_func(ar_prop_free);
	if (!(res->method = ar_keyword(s))) {
		ar_fail(s, start, error, "method expected");
		goto fail;
	}
	if (ar_skip_cfws(s) && s->p < s->end && *s->p == '/') {
		g_autofree char *version = NULL;
		s->p++;
		if (!ar_skip_cfws(s) || !(version = ar_keyword(s))) {
			ar_fail(s, start, error, "bad method version");
			goto fail;
		}
	}
	if (!ar_expect(s, '=') || !(res->result = ar_keyword(s))) {
		ar_fail(s, start, error, "method=result expected");
		goto fail;
	}
	for (;;) {
		if (!ar_skip_cfws(s)) {
			ar_fail(s, start, error, "unterminated comment");
			goto fail;
		}
		if (s->p >= s->end || *s->p == ';')
			return res;
		if (!ar_propspec(s, res, start, error))
			goto fail;
	}
fail:
	ar_result_free(res);
	return NULL;
}

/* ar_header - authserv-id [version] */
static gboolean ar_header(ArScan *s, CtiAuthres *ar, const char *start, GError **error)
{
	if (!ar_skip_cfws(s) || !(ar->authserv_id = ar_value(s)) || !*ar->authserv_id)
		return ar_fail(s, start, error, "authserv-id expected");
	if (!ar_skip_cfws(s))
		return ar_fail(s, start, error, "unterminated comment");
	ar->version = 1;
	if (s->p < s->end && g_ascii_isdigit(*s->p)) {
		const char *v = s->p;
		ar->version = 0;
		while (s->p < s->end && g_ascii_isdigit(*s->p) && s->p - v < 4)
			ar->version = ar->version * 10 + (*s->p++ - '0');
		if (ar->version != 1)
			return ar_fail(s, start, error, "unsupported version");
		if (!ar_skip_cfws(s))
			return ar_fail(s, start, error, "unterminated comment");
	}
	return TRUE;
}

/* ar_results - *( ";" resinfo ) or ";" "none" */
static gboolean ar_results(ArScan *s, CtiAuthres *ar, const char *start, GError **error)
{
	while (s->p < s->end) {
		CtiAuthresResult *res;

		if (*s->p != ';')
			return ar_fail(s, start, error, "';' expected");
		s->p++;
		if (!ar_skip_cfws(s))
			return ar_fail(s, start, error, "unterminated comment");
		if (s->p >= s->end && ar->results->len > 0)
			return TRUE; /* a trailing ';' is common and harmless */
		if (ar->results->len == 0 && s->end - s->p >= 4 &&
		    g_ascii_strncasecmp(s->p, "none", 4) == 0) {
			ArScan after = {s->p + 4, s->end};
			if (ar_skip_cfws(&after) && after.p == after.end)
				return TRUE;
		}
		if (ar->results->len >= CTI_AUTHRES_MAX_RESULTS) {
			g_set_error(error, CTI_AUTHRES_ERROR, CTI_AUTHRES_ERROR_LIMIT,
			            "Authentication-Results: more than %d results",
			            CTI_AUTHRES_MAX_RESULTS);
			return FALSE;
		}
		if (!(res = ar_resinfo(s, start, error)))
			return FALSE;
		g_ptr_array_add(ar->results, res);
	}
	if (ar->results->len == 0)
		return ar_fail(s, start, error, "no result");
	return TRUE;
}

/* authres_parse - see authres.h */
CtiAuthres *authres_parse(const char *text, gssize len, GError **error)
{
	g_autoptr(CtiAuthres) ar = NULL;
	gsize n = len < 0 ? strlen(text) : (gsize)len;
	ArScan s = {text, text + n};

	g_return_val_if_fail(text != NULL, NULL);
	if (n > CTI_AUTHRES_MAX) {
		g_set_error(error, CTI_AUTHRES_ERROR, CTI_AUTHRES_ERROR_LIMIT,
		            "Authentication-Results: longer than %d bytes", CTI_AUTHRES_MAX);
		return NULL;
	}
	if (memchr(text, '\0', n)) {
		g_set_error_literal(error, CTI_AUTHRES_ERROR, CTI_AUTHRES_ERROR_SYNTAX,
		                    "Authentication-Results: NUL byte");
		return NULL;
	}
	ar = g_new0(CtiAuthres, 1);
	ar->results = g_ptr_array_new_with_free_func(ar_result_free);
	if (!ar_header(&s, ar, text, error) || !ar_results(&s, ar, text, error))
		return NULL;
	return g_steal_pointer(&ar);
}

/* authres_prop - see authres.h */
const char *authres_prop(const CtiAuthresResult *result, const char *ptype, const char *property)
{
	for (guint i = 0; i < result->props->len; i++) {
		const CtiAuthresProp *prop = result->props->pdata[i];

		if (g_ascii_strcasecmp(prop->ptype, ptype) == 0 &&
		    g_ascii_strcasecmp(prop->property, property) == 0)
			return prop->value;
	}
	return NULL;
}
