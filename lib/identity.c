/* identity - resolve a request's sender identity (see identity.h).
 *
 * The CtiIdentityConfig owns the parsed [identity] settings (method order,
 * networks as GInetAddressMasks, DKIM domains); identity_resolve() reads only
 * borrowed input and returns a new CtiIdentity.  Nothing here blocks or does
 * I/O.  What can fail: bad settings (CONFIG, at start-up) and an
 * unidentified sender (UNIDENTIFIED, a permanent refusal whose text says how
 * to authenticate).  Malformed Authentication-Results fields are skipped,
 * never believed.
 */
#include "identity.h"

#include <gio/gio.h>
#include <gmime/gmime.h>
#include <string.h>

#include "authres.h"

G_DEFINE_QUARK(mailcti - identity - error, identity_error)

struct CtiIdentityConfig {
	CtiIdentityMethod *methods;
	guint n_methods;
	GPtrArray *networks; /* GInetAddressMask* */
	GPtrArray *relays;   /* GInetAddressMask* */
	char *authserv_id;
	char **dkim_domains; /* lower case */
};

static const char *const identity_method_names[] = {
    [CTI_IDENTITY_AUTH] = "auth",
    [CTI_IDENTITY_NETWORK] = "network",
    [CTI_IDENTITY_DKIM] = "dkim",
};

/* identity_method_name - see identity.h */
const char *identity_method_name(CtiIdentityMethod method)
{
	switch (method) {
	case CTI_IDENTITY_AUTH:
	case CTI_IDENTITY_NETWORK:
	case CTI_IDENTITY_DKIM:
		return identity_method_names[method];
	}
	return "?";
}

/* identity_split_list - see identity.h */
char **identity_split_list(const char *text)
{
	g_auto(GStrv) parts = g_strsplit_set(text ? text : "", ", \t", -1);
	GPtrArray *out = g_ptr_array_new();

	for (gsize i = 0; parts[i]; i++)
		if (*parts[i])
			g_ptr_array_add(out, g_strdup(parts[i]));
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* identity_methods_parse - see identity.h */
gboolean identity_methods_parse(const char *text, CtiIdentityMethod **methods, guint *n,
                                GError **error)
{
	g_auto(GStrv) names = identity_split_list(text);
	g_autofree CtiIdentityMethod *list =
	    g_new0(CtiIdentityMethod, G_N_ELEMENTS(identity_method_names));
	guint count = 0, seen = 0;

	for (gsize i = 0; names[i]; i++) {
		guint m = 0;

		while (m < G_N_ELEMENTS(identity_method_names) &&
		       g_ascii_strcasecmp(names[i], identity_method_names[m]) != 0)
			m++;
		if (m == G_N_ELEMENTS(identity_method_names) || (seen & (1u << m))) {
			g_set_error(error, CTI_IDENTITY_ERROR, CTI_IDENTITY_ERROR_CONFIG,
			            "[identity] methods: '%s' is unknown or repeated", names[i]);
			return FALSE;
		}
		seen |= 1u << m;
		list[count++] = (CtiIdentityMethod)m;
	}
	if (count == 0) {
		g_set_error_literal(error, CTI_IDENTITY_ERROR, CTI_IDENTITY_ERROR_CONFIG,
		                    "[identity] methods: no method given");
		return FALSE;
	}
	if (methods)
		*methods = g_steal_pointer(&list);
	if (n)
		*n = count;
	return TRUE;
}

/* identity_networks_parse - see identity.h */
GPtrArray *identity_networks_parse(const char *text, GError **error)
{
	g_auto(GStrv) items = identity_split_list(text);
	g_autoptr(GPtrArray) nets = g_ptr_array_new_with_free_func(g_object_unref);

	for (gsize i = 0; items[i]; i++) {
		g_autoptr(GError) local = NULL;
		GInetAddressMask *mask = g_inet_address_mask_new_from_string(items[i], &local);

		if (!mask) {
			g_set_error(error, CTI_IDENTITY_ERROR, CTI_IDENTITY_ERROR_CONFIG,
			            "bad network '%s': %s", items[i], local->message);
			return NULL;
		}
		g_ptr_array_add(nets, mask);
	}
	return g_steal_pointer(&nets);
}

/* identity_parse_address - ADDR as a GInetAddress, "IPv6:" prefix and
 * IPv4-mapped IPv6 forms accepted (transfer full) or NULL */
static GInetAddress *identity_parse_address(const char *addr)
{
	g_autoptr(GInetAddress) ia = NULL;

	if (!addr)
		return NULL;
	if (g_ascii_strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	ia = g_inet_address_new_from_string(addr);
	if (ia && g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6 &&
	    g_ascii_strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
		return g_inet_address_new_from_string(addr + 7);
	return g_steal_pointer(&ia);
}

/* identity_address_in - see identity.h */
gboolean identity_address_in(GPtrArray *networks, const char *addr)
{
	g_autoptr(GInetAddress) ia = identity_parse_address(addr);

	for (guint i = 0; ia && networks && i < networks->len; i++)
		if (g_inet_address_mask_matches(networks->pdata[i], ia))
			return TRUE;
	return FALSE;
}

/* identity_domain_valid - see identity.h */
gboolean identity_domain_valid(const char *domain)
{
	gsize len = strlen(domain);

	if (len == 0 || len > 253 || domain[0] == '.' || domain[0] == '-' ||
	    domain[len - 1] == '.' || strstr(domain, ".."))
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(domain[i]) && domain[i] != '-' && domain[i] != '.')
			return FALSE;
	return TRUE;
}

/* identity_config_free - see identity.h */
void identity_config_free(CtiIdentityConfig *ic)
{
	if (!ic)
		return;
	g_free(ic->methods);
	g_clear_pointer(&ic->networks, g_ptr_array_unref);
	g_clear_pointer(&ic->relays, g_ptr_array_unref);
	g_free(ic->authserv_id);
	g_strfreev(ic->dkim_domains);
	g_free(ic);
}

/* identity_config_check - dkim needs an authserv-id and domains, network needs networks */
static gboolean identity_config_check(const CtiIdentityConfig *ic, GError **error)
{
	for (guint i = 0; i < ic->n_methods; i++) {
		if (ic->methods[i] == CTI_IDENTITY_DKIM &&
		    (!*ic->authserv_id || !ic->dkim_domains[0])) {
			g_set_error_literal(error, CTI_IDENTITY_ERROR, CTI_IDENTITY_ERROR_CONFIG,
			                    "[identity] methods has dkim: set authserv_id and "
			                    "dkim_domains");
			return FALSE;
		}
		if (ic->methods[i] == CTI_IDENTITY_NETWORK && ic->networks->len == 0) {
			g_set_error_literal(error, CTI_IDENTITY_ERROR, CTI_IDENTITY_ERROR_CONFIG,
			                    "[identity] methods has network: set trusted_networks");
			return FALSE;
		}
	}
	return TRUE;
}

/* identity_config_new - see identity.h */
CtiIdentityConfig *identity_config_new(const CtiConfig *config, GError **error)
{
	g_autoptr(CtiIdentityConfig) ic = g_new0(CtiIdentityConfig, 1);

	if (!identity_methods_parse(config->identity_methods, &ic->methods, &ic->n_methods, error))
		return NULL;
	ic->networks = identity_networks_parse(config->trusted_networks, error);
	if (!ic->networks)
		return NULL;
	ic->relays = identity_networks_parse(config->trusted_relays, error);
	if (!ic->relays)
		return NULL;
	ic->authserv_id = g_strdup(config->authserv_id);
	ic->dkim_domains = identity_split_list(config->dkim_domains);
	for (gsize i = 0; ic->dkim_domains[i]; i++) {
		char *lower = g_ascii_strdown(ic->dkim_domains[i], -1);
		g_free(ic->dkim_domains[i]);
		ic->dkim_domains[i] = lower;
	}
	if (!identity_config_check(ic, error))
		return NULL;
	return g_steal_pointer(&ic);
}

/* identity_is_trusted_relay - see identity.h */
gboolean identity_is_trusted_relay(const CtiIdentityConfig *ic, const char *client_addr)
{
	return identity_address_in(ic->relays, client_addr);
}

/* identity_possible - see identity.h */
gboolean identity_possible(const CtiIdentityConfig *ic, const char *auth_authen,
                           const char *client_addr)
{
	if (identity_address_in(ic->relays, client_addr))
		return TRUE;
	for (guint i = 0; i < ic->n_methods; i++) {
		switch (ic->methods[i]) {
		case CTI_IDENTITY_AUTH:
			if (auth_authen != NULL && *auth_authen != '\0')
				return TRUE;
			break;
		case CTI_IDENTITY_NETWORK:
			if (identity_address_in(ic->networks, client_addr))
				return TRUE;
			break;
		case CTI_IDENTITY_DKIM:
			return TRUE; /* decided by the headers */
		}
	}
	return FALSE;
}

/* identity_free - see identity.h */
void identity_free(CtiIdentity *id)
{
	if (!id)
		return;
	g_free(id->identity);
	g_free(id->detail);
	g_free(id);
}

/* identity_plain - a printable name without spaces, controls or angle brackets */
static gboolean identity_plain(const char *s)
{
	gsize len = s ? strlen(s) : 0;

	if (len == 0 || len > CTI_IDENTITY_MAX)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    strchr("<>()[],;:\"\\", s[i]))
			return FALSE;
	return TRUE;
}

static CtiIdentity *identity_new(CtiIdentityMethod method, const char *who, char *detail)
{
	CtiIdentity *id = g_new0(CtiIdentity, 1);

	id->method = method;
	id->identity = g_ascii_strdown(who, -1);
	id->detail = detail;
	return id;
}

static CtiIdentity *identity_by_auth(const CtiIdentityInput *in)
{
	if (!in->auth_authen || !identity_plain(in->auth_authen))
		return NULL;
	return identity_new(CTI_IDENTITY_AUTH, in->auth_authen,
	                    g_strdup_printf("SMTP AUTH as %s", in->auth_authen));
}

static CtiIdentity *identity_by_network(const CtiIdentityConfig *ic, const CtiIdentityInput *in)
{
	const char *sender = in->envelope_sender;

	if (!sender || !identity_plain(sender) || !strchr(sender, '@') ||
	    !identity_address_in(ic->networks, in->client_addr))
		return NULL;
	return identity_new(
	    CTI_IDENTITY_NETWORK, sender,
	    g_strdup_printf("envelope sender %s from trusted client %s", sender, in->client_addr));
}

/* identity_mailbox_addr - the single mailbox address of LIST, or NULL (transfer none) */
static const char *identity_mailbox_addr(InternetAddressList *list)
{
	InternetAddress *ia;

	if (!list || internet_address_list_length(list) != 1)
		return NULL;
	ia = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return NULL;
	return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
}

/* identity_from_address - the single mailbox of a From: field, lower-cased (transfer full) */
static char *identity_from_address(const char *from)
{
	static gsize once;
	InternetAddressList *list;
	const char *addr;
	char *out = NULL;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
	if (!from || strlen(from) > 2048)
		return NULL;
	list = internet_address_list_parse(NULL, from);
	addr = identity_mailbox_addr(list);
	if (addr && identity_plain(addr) && strchr(addr, '@') && addr[0] != '@')
		out = g_ascii_strdown(addr, -1);
	g_clear_object(&list);
	return out;
}

static gboolean identity_domain_listed(const CtiIdentityConfig *ic, const char *domain)
{
	for (gsize i = 0; ic->dkim_domains[i]; i++)
		if (g_ascii_strcasecmp(ic->dkim_domains[i], domain) == 0)
			return TRUE;
	return FALSE;
}

/* identity_dkim_domain - the signing domain of a dkim result: header.d, else header.i's domain */
static const char *identity_dkim_domain(const CtiAuthresResult *res)
{
	const char *d = authres_prop(res, "header", "d");
	const char *i = authres_prop(res, "header", "i");

	if (d)
		return d;
	return i && strrchr(i, '@') ? strrchr(i, '@') + 1 : NULL;
}

/* identity_dkim_passes - one of AR's results is dkim=pass for FROM_DOMAIN, which is listed */
static gboolean identity_dkim_passes(const CtiIdentityConfig *ic, const CtiAuthres *ar,
                                     const char *from_domain)
{
	if (g_ascii_strcasecmp(ar->authserv_id, ic->authserv_id) != 0)
		return FALSE;
	for (guint r = 0; r < ar->results->len; r++) {
		const CtiAuthresResult *res = ar->results->pdata[r];
		const char *domain = identity_dkim_domain(res);

		if (strcmp(res->method, "dkim") == 0 && strcmp(res->result, "pass") == 0 &&
		    domain && g_ascii_strcasecmp(domain, from_domain) == 0 &&
		    identity_domain_listed(ic, domain))
			return TRUE;
	}
	return FALSE;
}

static CtiIdentity *identity_by_dkim(const CtiIdentityConfig *ic, const CtiIdentityInput *in)
{
	g_autofree char *from = identity_from_address(in->from);
	const char *domain;

	if (!from || !in->auth_results)
		return NULL;
	domain = strrchr(from, '@') + 1;
	for (gsize i = 0; in->auth_results[i] && i < 64; i++) {
		g_autoptr(CtiAuthres) ar = authres_parse(in->auth_results[i], -1, NULL);

		if (ar && identity_dkim_passes(ic, ar, domain))
			return identity_new(
			    CTI_IDENTITY_DKIM, from,
			    g_strdup_printf("From: %s, DKIM signature of %s verified by %s", from,
			                    domain, ic->authserv_id));
	}
	return NULL;
}

/* identity_how_to - the refusal text: what each configured method needs */
static void identity_set_unidentified(const CtiIdentityConfig *ic, GError **error)
{
	GString *text = g_string_new("sender not identified: ");

	for (guint i = 0; i < ic->n_methods; i++) {
		if (i > 0)
			g_string_append(text, i + 1 == ic->n_methods ? ", or " : ", ");
		switch (ic->methods[i]) {
		case CTI_IDENTITY_AUTH:
			g_string_append(text, "log in with SMTP AUTH before sending the request");
			break;
		case CTI_IDENTITY_NETWORK:
			g_string_append(
			    text, "send from a trusted network with your own envelope sender");
			break;
		case CTI_IDENTITY_DKIM:
			g_string_append(text, "send DKIM-signed mail from a registered domain");
			break;
		}
	}
	g_set_error_literal(error, CTI_IDENTITY_ERROR, CTI_IDENTITY_ERROR_UNIDENTIFIED, text->str);
	g_string_free(text, TRUE);
}

/* identity_resolve - see identity.h */
CtiIdentity *identity_resolve(const CtiIdentityConfig *ic, const CtiIdentityInput *in,
                              GError **error)
{
	g_return_val_if_fail(ic != NULL && in != NULL, NULL);
	for (guint i = 0; i < ic->n_methods; i++) {
		CtiIdentity *id = NULL;

		switch (ic->methods[i]) {
		case CTI_IDENTITY_AUTH:
			id = identity_by_auth(in);
			break;
		case CTI_IDENTITY_NETWORK:
			id = identity_by_network(ic, in);
			break;
		case CTI_IDENTITY_DKIM:
			id = identity_by_dkim(ic, in);
			break;
		}
		if (id)
			return id;
	}
	identity_set_unidentified(ic, error);
	return NULL;
}
