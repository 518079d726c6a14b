/* authz - the one authorization decision (see authz.h).
 *
 * authz_check() runs a fixed list of checks, one small function each, over a
 * borrowed input and a borrowed policy DB handle; the result owns its
 * strings.  The first refusal sets the verdict and the text for the sender;
 * every check still adds its line, so a dry run shows every problem at once.
 * A policy DB that is busy or broken makes the verdict TEMP (unless a
 * permanent refusal came first).  Nothing here logs or writes.
 */
#include "authz.h"

#include <string.h>

#include "number.h"

typedef struct {
	const CtiAuthzInput *in;
	CtiPolicyDb *db;
	const CtiConfig *config;
	CtiAuthzResult *res;
} Authz;

static void authz_line(Authz *a, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void authz_line(Authz *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(a->res->lines, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* authz_refuse - record a refusal (TEMP: a DB failure); the first one decides */
static void authz_refuse(Authz *a, CtiAuthzVerdict verdict, const char *text)
{
	authz_line(a, "%s: %s", verdict == CTI_AUTHZ_TEMP ? "cannot check" : "refused", text);
	if (a->res->verdict != CTI_AUTHZ_ALLOW)
		return;
	a->res->verdict = verdict;
	a->res->text = g_strdup(text);
}

/* authz_policy_error - a policy error: DB trouble is TEMP, the rest a refusal */
static void authz_policy_error(Authz *a, const char *field, GError *error)
{
	gboolean temp = g_error_matches(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_TEMP) ||
	                g_error_matches(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_DB);
	g_autofree char *text =
	    field ? g_strdup_printf("%s: %s", field, error->message) : g_strdup(error->message);

	authz_refuse(a, temp ? CTI_AUTHZ_TEMP : CTI_AUTHZ_REFUSE, text);
	g_error_free(error);
}

/* authz_address - ADDRESS (envelope sender or Notify-To) belongs to the identity */
static void authz_address(Authz *a, const char *what, const char *address)
{
	g_autofree char *text = NULL;

	if (address == NULL || *address == '\0')
		return;
	if (authz_owns(a->config, a->in->identity, address)) {
		authz_line(a, "%s <%s> belongs to '%s'", what, address, a->in->identity);
		return;
	}
	text = g_strdup_printf("%s <%s> does not belong to the authenticated sender %s: "
	                       "results are mailed only to the sender's own address",
	                       what, address, a->in->identity);
	authz_refuse(a, CTI_AUTHZ_REFUSE, text);
}

/* authz_extension - EXT is granted to the identity, for the role VERB/ROLE */
static void authz_extension(Authz *a, const char *field, const char *ext, const char *verb,
                            const char *role)
{
	GError *error = NULL;

	if (ext == NULL)
		return;
	if (policy_check_extension(a->db, a->in->identity, ext, verb, role, &error))
		authz_line(a, "%s: '%s' may %s extension %s%s", field, a->in->identity, verb, ext,
		           role);
	else
		authz_policy_error(a, field, error);
}

/* authz_mailbox - Trigger: user: the Mailbox (default: the envelope recipient) is granted */
static void authz_mailbox(Authz *a)
{
	const CtiRequest *req = a->in->request;
	const char *mailbox = req->mailbox ? req->mailbox : a->in->recipient;
	GError *error = NULL;

	if (req->trigger != CTI_TRIGGER_USER)
		return;
	if (mailbox == NULL || *mailbox == '\0') {
		authz_refuse(a, CTI_AUTHZ_REFUSE, "Trigger: user needs a Mailbox or a recipient");
		return;
	}
	if (policy_check_mailbox(a->db, a->in->identity, mailbox, &error))
		authz_line(a, "Mailbox: '%s' may name mailbox %s%s", a->in->identity, mailbox,
		           req->mailbox ? "" : " (the recipient)");
	else
		authz_policy_error(a, "Mailbox", error);
}

/* authz_number - NUMBER passes the destination rules */
static void authz_number(Authz *a, const char *field, const char *number)
{
	g_autoptr(CtiPolicyVerdict) v = NULL;
	g_autofree char *norm = NULL;
	GError *error = NULL;

	if (number == NULL)
		return;
	if (!number_normalise(number, &norm, &error)) {
		authz_policy_error(a, field, error);
		return;
	}
	if (policy_check_destination(a->db, norm, &v, &error))
		authz_line(a, "%s %s: allowed (%s)", field, norm, v && v->why ? v->why : "");
	else
		authz_policy_error(a, field, error);
}

static gboolean authz_diverts(CtiAction action)
{
	switch (action) {
	case CTI_ACTION_FORWARD_SET:
	case CTI_ACTION_FORWARD_CLEAR:
		return TRUE;
	case CTI_ACTION_CONNECT:
	case CTI_ACTION_CONFERENCE:
	case CTI_ACTION_INTRUDE:
		return FALSE;
	}
	return FALSE;
}

/* authz_devices - every device the action touches */
static void authz_devices(Authz *a)
{
	const CtiRequest *req = a->in->request;

	authz_extension(a, "Source", req->source, "use", " as Source");
	authz_mailbox(a);
	if (authz_diverts(req->action)) {
		g_autofree char *verb =
		    g_strdup_printf("%s the diversion of", request_action_name(req->action));
		authz_extension(a, "Destination", req->destination, verb, "");
	}
	authz_number(a, "Destination", req->destination);
	authz_number(a, "Forward-To", req->forward_to);
}

/* authz_check - see authz.h */
CtiAuthzResult *authz_check(const CtiAuthzInput *in, CtiPolicyDb *db, const CtiConfig *config)
{
	CtiAuthzResult *res;
	Authz a = {in, db, config, NULL};

	g_return_val_if_fail(in != NULL && in->identity != NULL && in->request != NULL, NULL);
	a.res = res = g_new0(CtiAuthzResult, 1);
	res->verdict = CTI_AUTHZ_ALLOW;
	res->lines = g_ptr_array_new_with_free_func(g_free);
	authz_address(&a, "envelope sender", in->sender);
	authz_address(&a, "Notify-To", in->request->notify_to);
	if (db == NULL) {
		g_autofree char *text =
		    g_strdup_printf("sender %s is not registered for calls", in->identity);
		authz_refuse(&a, CTI_AUTHZ_REFUSE, text);
		return res;
	}
	authz_devices(&a);
	return res;
}

/* authz_same_domain - DOMAIN is [identity] default_domain */
static gboolean authz_same_domain(const CtiConfig *config, const char *domain)
{
	return config->default_domain != NULL && *config->default_domain != '\0' &&
	       g_ascii_strcasecmp(domain, config->default_domain) == 0;
}

/* authz_owns - see authz.h */
gboolean authz_owns(const CtiConfig *config, const char *identity, const char *address)
{
	const char *at = strrchr(address, '@');
	gsize local = at ? (gsize)(at - address) : strlen(address);

	if (g_ascii_strcasecmp(identity, address) == 0)
		return TRUE;
	if (strchr(identity, '@') != NULL || at == NULL || strlen(identity) != local ||
	    g_ascii_strncasecmp(identity, address, local) != 0)
		return FALSE;
	/* a bare login: its address in the default domain, or any local part match
	 * when no default domain is configured */
	if (config->default_domain == NULL || *config->default_domain == '\0')
		return TRUE;
	return authz_same_domain(config, at + 1);
}

/* authz_registered - 1/0 as policy_sender_registered; a NULL DB registers nobody */
static int authz_registered(CtiPolicyDb *db, const char *identity, GError **error)
{
	return db == NULL ? 0 : policy_sender_registered(db, identity, error);
}

/* authz_canonical - see authz.h */
char *authz_canonical(CtiPolicyDb *db, const CtiConfig *config, const char *login,
                      GError **error)
{
	g_autofree char *lower = g_ascii_strdown(login, -1);
	const char *at = strrchr(lower, '@');
	g_autofree char *bare = NULL, *full = NULL;
	int known;

	if (at == NULL && config->default_domain && *config->default_domain) {
		bare = g_strdup(lower);
		g_autofree char *mixed = g_strdup_printf("%s@%s", lower, config->default_domain);

		full = g_ascii_strdown(mixed, -1);
	} else if (at != NULL && authz_same_domain(config, at + 1)) {
		bare = g_strndup(lower, (gsize)(at - lower));
		full = g_strdup(lower);
	} else {
		return g_steal_pointer(&lower);
	}
	known = authz_registered(db, full, error);
	if (known < 0)
		return NULL;
	if (known > 0)
		return g_steal_pointer(&full);
	known = authz_registered(db, bare, error);
	if (known < 0)
		return NULL;
	return known > 0 ? g_steal_pointer(&bare) : g_steal_pointer(&full);
}

/* authz_result_free - see authz.h */
void authz_result_free(CtiAuthzResult *res)
{
	if (res == NULL)
		return;
	g_free(res->text);
	g_ptr_array_unref(res->lines);
	g_free(res);
}
