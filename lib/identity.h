/* identity - who sent a request, from what the milter knows about the mail.
 *
 * Methods, tried in the configured order ([identity] methods):
 *   auth     the SMTP AUTH login ({auth_authen}); the default and the strongest
 *   network  the client address is in [identity] trusted_networks (IPv4/IPv6
 *            CIDR): the envelope sender is believed
 *   dkim     an Authentication-Results field added by this site's verifier
 *            ([identity] authserv_id) says dkim=pass for a domain listed in
 *            [identity] dkim_domains, and that domain is the From: domain:
 *            the From: address is believed
 * The identity is a lower-cased login or mail address.  The From: header
 * never identifies anybody by itself, so a spoofed From: with another AUTH
 * login yields the AUTH login.  An unidentified sender is
 * CTI_IDENTITY_ERROR_UNIDENTIFIED with a text saying how to authenticate.
 */
#ifndef MAILCTI_IDENTITY_H
#define MAILCTI_IDENTITY_H

#include <glib.h>

#include "config.h"

#define CTI_IDENTITY_MAX 254

typedef enum {
	CTI_IDENTITY_AUTH,
	CTI_IDENTITY_NETWORK,
	CTI_IDENTITY_DKIM,
} CtiIdentityMethod;

#define CTI_IDENTITY_ERROR (identity_error_quark())
typedef enum {
	CTI_IDENTITY_ERROR_UNIDENTIFIED, /* no configured method identified the sender */
	CTI_IDENTITY_ERROR_CONFIG,       /* bad [identity] settings */
} CtiIdentityErrorCode;
GQuark identity_error_quark(void);

/* what the milter knows; every field may be NULL */
typedef struct {
	const char *auth_authen;     /* {auth_authen} */
	const char *client_addr;     /* {client_addr}, "192.0.2.1", "2001:db8::1" or "IPv6:..." */
	const char *envelope_sender; /* without angle brackets; "" for <> */
	const char *from;            /* the From: field body, unfolded or not */
	const char *const *auth_results; /* NULL-terminated Authentication-Results field bodies */
} CtiIdentityInput;

typedef struct {
	CtiIdentityMethod method;
	char *identity; /* lower case */
	char *detail;   /* how it was established, for logs and explanations */
} CtiIdentity;

typedef struct CtiIdentityConfig CtiIdentityConfig;

/* identity_config_new - the [identity] settings of CONFIG, parsed (transfer full) or NULL + error
 */
CtiIdentityConfig *identity_config_new(const CtiConfig *config, GError **error);
/* identity_config_free - free; NULL is a no-op */
void identity_config_free(CtiIdentityConfig *ic);
/* identity_resolve - the first configured method that identifies IN (transfer full),
 * or NULL + CTI_IDENTITY_ERROR_UNIDENTIFIED saying how to authenticate */
CtiIdentity *identity_resolve(const CtiIdentityConfig *ic, const CtiIdentityInput *in,
                              GError **error);
/* identity_free - free; NULL is a no-op */
void identity_free(CtiIdentity *id);
/* identity_method_name - "auth", "network", "dkim" */
const char *identity_method_name(CtiIdentityMethod method);
/* identity_is_trusted_relay - TRUE if CLIENT_ADDR is in [identity] trusted_relays */
gboolean identity_is_trusted_relay(const CtiIdentityConfig *ic, const char *client_addr);

/* identity_possible - whether any configured method could identify a sender with this
 * SMTP AUTH login (NULL: none) from CLIENT_ADDR before the headers are seen: TRUE for
 * a login (auth), a trusted network (network), always with dkim (the headers decide),
 * and for a trusted relay, whose traces matter even when it identifies nobody */
gboolean identity_possible(const CtiIdentityConfig *ic, const char *auth_authen,
                           const char *client_addr);

/* identity_split_list - split a comma/space separated setting, empty items dropped (transfer full)
 */
char **identity_split_list(const char *text);
/* identity_methods_parse - TEXT to an ordered method list (transfer full, may be NULL);
 * FALSE when a name is unknown, repeated, or the list is empty */
gboolean identity_methods_parse(const char *text, CtiIdentityMethod **methods, guint *n,
                                GError **error);
/* identity_networks_parse - TEXT to GInetAddressMask*s (transfer full) or NULL + error */
GPtrArray *identity_networks_parse(const char *text, GError **error);
/* identity_address_in - TRUE if the textual address ADDR is in one of NETWORKS */
gboolean identity_address_in(GPtrArray *networks, const char *addr);
/* identity_domain_valid - a plausible DNS domain name */
gboolean identity_domain_valid(const char *domain);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiIdentity, identity_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiIdentityConfig, identity_config_free)

#endif
