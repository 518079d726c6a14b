/* authz-step - who may have a request executed (see authz-step.h).
 *
 * authz_step_run() is the plain decision over an identity config and a
 * policy DB handle, so Check drives it without libmilter; authz_step_check()
 * adds the shared, lazily opened DB handle and its mutex.  Every refusal
 * maps a lib error (identity, policy) to FILTER_ERROR_UNAUTHORIZED with a
 * text for the sender; temporary DB trouble stays FILTER_ERROR_TEMP.  The
 * AuthzStep owns the identity config and the DB handle; the config is
 * borrowed.
 */
#include "authz-step.h"

#include <string.h>

#include "log.h"
#include "reply.h"

struct AuthzStep {
	const CtiConfig *config;
	CtiIdentityConfig *ic;
	GMutex lock;     /* guards db and warned */
	CtiPolicyDb *db; /* read-only, NULL until the file exists */
	gboolean warned; /* "no policy DB" logged */
};

/* authz_step_new - see authz-step.h */
AuthzStep *authz_step_new(const CtiConfig *config, GError **error)
{
	CtiIdentityConfig *ic = identity_config_new(config, error);
	AuthzStep *as;

	if (ic == NULL)
		return NULL;
	as = g_new0(AuthzStep, 1);
	as->config = config;
	as->ic = ic;
	g_mutex_init(&as->lock);
	return as;
}

/* authz_step_free - see authz-step.h */
void authz_step_free(AuthzStep *as)
{
	if (as == NULL)
		return;
	g_clear_pointer(&as->db, policy_close);
	identity_config_free(as->ic);
	g_mutex_clear(&as->lock);
	g_free(as);
}

/* authz_step_trusted_relay - see authz-step.h */
gboolean authz_step_trusted_relay(const AuthzStep *as, const char *client_addr)
{
	return identity_is_trusted_relay(as->ic, client_addr);
}

/* authz_step_identity_possible - see authz-step.h */
gboolean authz_step_identity_possible(const AuthzStep *as, const char *auth_authen,
                                      const char *client_addr)
{
	return identity_possible(as->ic, auth_authen, client_addr);
}

static gboolean authz_refuse(GError **error, const char *text)
{
	g_set_error_literal(error, FILTER_ERROR, FILTER_ERROR_UNAUTHORIZED, text);
	return FALSE;
}

/* authz_automatic - refuse the null sender and Auto-Submitted mail */
static gboolean authz_automatic(const AuthzInput *in, GError **error)
{
	g_autofree char *auto_sub = NULL;

	if (in->sender == NULL || *in->sender == '\0')
		return authz_refuse(error, "requests from the null sender <> are never executed");
	if (in->auto_submitted == NULL)
		return TRUE;
	auto_sub = g_strstrip(g_strdup(in->auto_submitted));
	/* "no" may carry comments or parameters: "no (manual)", "no; x=y" */
	if (g_ascii_strncasecmp(auto_sub, "no", 2) == 0 &&
	    (auto_sub[2] == '\0' || auto_sub[2] == ' ' || auto_sub[2] == ';' || auto_sub[2] == '('))
		return TRUE;
	return authz_refuse(error, "automatically submitted mail (Auto-Submitted other than no) "
	                           "is never executed");
}

/* authz_policy_error - map a policy refusal to UNAUTHORIZED, DB trouble to TEMP */
static gboolean authz_policy_error(GError *local, GError **error)
{
	g_autoptr(GError) owned = local;

	if (g_error_matches(local, CTI_POLICY_ERROR, CTI_POLICY_ERROR_TEMP) ||
	    g_error_matches(local, CTI_POLICY_ERROR, CTI_POLICY_ERROR_DB)) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "policy DB: %s",
		            local->message);
		return FALSE;
	}
	return authz_refuse(error, local->message);
}

/* authz_number - check one destination NUMBER (may be NULL) against the rules */
static gboolean authz_number(CtiPolicyDb *db, const char *field, const char *number, GError **error)
{
	GError *local = NULL;

	if (number == NULL || policy_check_destination(db, number, NULL, &local))
		return TRUE;
	g_prefix_error(&local, "%s: ", field);
	return authz_policy_error(local, error);
}

/* authz_grants - Source, Mailbox and destinations of IN's request for identity ID */
static gboolean authz_grants(CtiPolicyDb *db, const char *id, const AuthzInput *in, GError **error)
{
	const CtiRequest *req = in->request;
	GError *local = NULL;

	if (db == NULL) {
		g_autofree char *text =
		    g_strdup_printf("sender %s is not registered for calls", id);
		return authz_refuse(error, text);
	}
	if (req->source && !policy_check_source(db, id, req->source, &local))
		return authz_policy_error(local, error);
	if (req->trigger == CTI_TRIGGER_USER &&
	    !policy_check_mailbox(db, id, req->mailbox ? req->mailbox : in->recipient, &local))
		return authz_policy_error(local, error);
	return authz_number(db, "Destination", req->destination, error) &&
	       authz_number(db, "Forward-To", req->forward_to, error);
}

/* authz_step_run - see authz-step.h */
char *authz_step_run(const CtiIdentityConfig *ic, CtiPolicyDb *db, const AuthzInput *in,
                     GError **error)
{
	CtiIdentityInput id_in = {
	    .auth_authen = in->auth_authen,
	    .client_addr = in->client_addr,
	    .envelope_sender = in->sender,
	    .from = in->from,
	    .auth_results = in->auth_results,
	};
	g_autoptr(CtiIdentity) id = NULL;
	GError *local = NULL;

	if (!authz_automatic(in, error))
		return NULL;
	id = identity_resolve(ic, &id_in, &local);
	if (id == NULL) {
		authz_refuse(error, local->message);
		g_error_free(local);
		return NULL;
	}
	if (!authz_grants(db, id->identity, in, error))
		return NULL;
	return g_steal_pointer(&id->identity);
}

/* authz_open - the shared DB handle, opened on first use; NULL while there is no file */
static CtiPolicyDb *authz_open(AuthzStep *as, GError **error)
{
	GError *local = NULL;

	if (as->db != NULL)
		return as->db;
	as->db = policy_open_config(as->config, FALSE, &local);
	if (as->db != NULL)
		return as->db;
	if (g_error_matches(local, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND)) {
		if (!as->warned)
			log_warning("%s; every request is refused until it exists", local->message);
		as->warned = TRUE;
		g_error_free(local);
		return NULL;
	}
	g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "policy DB: %s", local->message);
	g_error_free(local);
	return NULL;
}

/* authz_step_check - see authz-step.h */
char *authz_step_check(AuthzStep *as, const AuthzInput *in, GError **error)
{
	GError *local = NULL;
	CtiPolicyDb *db;
	char *id;

	g_mutex_lock(&as->lock);
	db = authz_open(as, &local);
	if (local != NULL) {
		g_mutex_unlock(&as->lock);
		g_propagate_error(error, local);
		return NULL;
	}
	id = authz_step_run(as->ic, db, in, error);
	g_mutex_unlock(&as->lock);
	return id;
}
