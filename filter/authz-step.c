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

#include "authz.h"
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

/* authz_verdict - the lib verdict as a FILTER_ERROR: REFUSE is UNAUTHORIZED, TEMP is TEMP */
static gboolean authz_verdict(const CtiAuthzResult *res, GError **error)
{
	switch (res->verdict) {
	case CTI_AUTHZ_ALLOW:
		return TRUE;
	case CTI_AUTHZ_REFUSE:
		return authz_refuse(error, res->text);
	case CTI_AUTHZ_TEMP:
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "policy DB: %s", res->text);
		return FALSE;
	}
	return FALSE;
}

/* authz_identify - the canonical identity of IN's sender (transfer full) or NULL + error */
static char *authz_identify(const CtiIdentityConfig *ic, CtiPolicyDb *db, const CtiConfig *config,
                            const AuthzInput *in, GError **error)
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
	char *canon;

	if (!authz_automatic(in, error))
		return NULL;
	id = identity_resolve(ic, &id_in, &local);
	if (id == NULL) {
		authz_refuse(error, local->message);
		g_error_free(local);
		return NULL;
	}
	canon = authz_canonical(db, config, id->identity, &local);
	if (canon == NULL) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP, "policy DB: %s", local->message);
		g_error_free(local);
	}
	return canon;
}

/* authz_step_run - see authz-step.h */
char *authz_step_run(const CtiIdentityConfig *ic, CtiPolicyDb *db, const CtiConfig *config,
                     const AuthzInput *in, GError **error)
{
	g_autofree char *id = authz_identify(ic, db, config, in, error);
	g_autoptr(CtiAuthzResult) res = NULL;
	CtiAuthzInput a_in = {id, in->request, in->recipient, in->sender};

	if (id == NULL)
		return NULL;
	res = authz_check(&a_in, db, config);
	if (!authz_verdict(res, error))
		return NULL;
	return g_steal_pointer(&id);
}

/* authz_step_sender - see authz-step.h */
char *authz_step_sender(const CtiIdentityConfig *ic, CtiPolicyDb *db, const CtiConfig *config,
                        const AuthzInput *in, GError **error)
{
	g_autofree char *id = authz_identify(ic, db, config, in, error);

	if (id == NULL)
		return NULL;
	if (!authz_owns(config, id, in->sender)) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_UNAUTHORIZED,
		            "envelope sender <%s> does not belong to the authenticated sender %s: "
		            "results are mailed only to the sender's own address",
		            in->sender, id);
		return NULL;
	}
	return g_steal_pointer(&id);
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

typedef char *(*AuthzRun)(const CtiIdentityConfig *ic, CtiPolicyDb *db, const CtiConfig *config,
                          const AuthzInput *in, GError **error);

/* authz_locked - RUN with the shared DB handle, under the lock */
static char *authz_locked(AuthzStep *as, AuthzRun run, const AuthzInput *in, GError **error)
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
	id = run(as->ic, db, as->config, in, error);
	g_mutex_unlock(&as->lock);
	return id;
}

/* authz_step_check - see authz-step.h */
char *authz_step_check(AuthzStep *as, const AuthzInput *in, GError **error)
{
	return authz_locked(as, authz_step_run, in, error);
}

/* authz_step_identify - see authz-step.h */
char *authz_step_identify(AuthzStep *as, const AuthzInput *in, GError **error)
{
	return authz_locked(as, authz_step_sender, in, error);
}
