/* jobs-authz - ctid's own authorization of every job it accepts.
 *
 * The socket is not a trust boundary: any process of its group can write a
 * SUBMIT frame, whatever it claims in Identity.  So ctid establishes the
 * identity again from what the frame carries the milter saw (Auth-Authen,
 * Client-Addr, Sender and the mail's From: and Authentication-Results
 * fields), with the same [identity] methods and the same canonical account
 * (lib/authz.h), and runs the one authorization decision, authz_check(),
 * against the policy DB as it is now.  The frame's Identity field is never
 * read.  On the direct channel the identity is the peer's (direct.c), set by
 * ctid itself.  A dry run (explain) needs an identified sender whose envelope
 * sender is its own; it is not refused for what it explains.  A job fired by
 * RETRIEVED is checked again with the identity stored at SUBMIT, so a grant
 * revoked meanwhile stops it.
 * Refusals are CTI_STORE_ERROR_PERM (REJECT, the milter answers 550) and a
 * busy or broken policy DB CTI_STORE_ERROR_TEMP; the caller logs them.
 */
#include <gmime/gmime.h>
#include <string.h>

#include "authz.h"
#include "identity.h"
#include "jobs-private.h"
#include "log.h"

/* the header block of a mail is looked at, never more than this */
#define AUTHZ_MAX_HEADERS (256 * 1024)
#define AUTHZ_MAX_AUTH_RESULTS 16

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)

/* authz_headers - the header block of the mail BODY, parsed (transfer full) or NULL */
static GMimeMessage *authz_headers(GBytes *body)
{
	gsize len = 0;
	const char *data = body ? g_bytes_get_data(body, &len) : NULL;
	const char *end;
	g_autoptr(GMimeStream) stream = NULL;
	g_autoptr(GMimeParser) parser = NULL;

	if (data == NULL || len == 0)
		return NULL;
	len = MIN(len, AUTHZ_MAX_HEADERS);
	end = g_strstr_len(data, (gssize)len, "\n\n");
	if (end == NULL)
		end = g_strstr_len(data, (gssize)len, "\r\n\r\n");
	if (end != NULL)
		len = (gsize)(end - data) + 1;
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(stream);
	return g_mime_parser_construct_message(parser, NULL);
}

/* authz_resolve - the identity the frame's SMTP facts establish (transfer full) or NULL + PERM */
static char *authz_resolve(const CtiConfig *config, const CtiIpcFrame *frame, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(CtiIdentityConfig) ic = identity_config_new(config, &local);
	g_autoptr(GMimeMessage) msg = authz_headers(frame->body);
	g_autoptr(GPtrArray) ar = g_ptr_array_new();
	g_autoptr(CtiIdentity) id = NULL;
	CtiIdentityInput in = {ipc_frame_get(frame, "Auth-Authen"),
	                       ipc_frame_get(frame, "Client-Addr"), ipc_frame_get(frame, "Sender"),
	                       NULL, NULL};

	if (ic == NULL) {
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP, "%s", local->message);
		return NULL;
	}
	if (msg != NULL) {
		GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));

		in.from = g_mime_object_get_header(GMIME_OBJECT(msg), "From");
		for (int i = 0; i < g_mime_header_list_get_count(headers) &&
		                ar->len < AUTHZ_MAX_AUTH_RESULTS;
		     i++) {
			GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);

			if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Authentication-Results") ==
			    0)
				g_ptr_array_add(ar, (gpointer)g_mime_header_get_raw_value(h));
		}
	}
	g_ptr_array_add(ar, NULL);
	in.auth_results = (const char *const *)ar->pdata;
	id = identity_resolve(ic, &in, &local);
	if (id == NULL) {
		store_perm_error(error, "%s", local->message);
		return NULL;
	}
	return g_steal_pointer(&id->identity);
}

/* authz_open - the policy DB read-only; NULL without error when it does not exist yet */
static CtiPolicyDb *authz_open(const CtiConfig *config, GError **error)
{
	g_autoptr(GError) local = NULL;
	CtiPolicyDb *db = policy_open_config(config, FALSE, &local);

	if (db == NULL && !g_error_matches(local, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND))
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP, "policy DB: %s",
		            local->message);
	return db;
}

/* authz_verdict - RES as TRUE, or a PERM / TEMP store error */
static gboolean authz_verdict(const CtiAuthzResult *res, GError **error)
{
	switch (res->verdict) {
	case CTI_AUTHZ_ALLOW:
		return TRUE;
	case CTI_AUTHZ_REFUSE:
		return store_perm_error(error, "not authorized: %s", res->text);
	case CTI_AUTHZ_TEMP:
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP, "policy DB: %s",
		            res->text);
		return FALSE;
	}
	return FALSE;
}

/* authz_decide - canonical IDENTITY (transfer full) if REQ may run for it, else NULL + error */
static char *authz_decide(const CtiConfig *config, CtiPolicyDb *db, char *identity,
                          const CtiRequest *req, const char *recipient, const char *sender,
                          GError **error)
{
	g_autofree char *login = identity;
	g_autofree char *canon = NULL;
	g_autoptr(CtiAuthzResult) res = NULL;
	g_autoptr(GError) local = NULL;
	CtiAuthzInput in = {NULL, req, recipient, sender};

	canon = authz_canonical(db, config, login, &local);
	if (canon == NULL) {
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP, "policy DB: %s",
		            local->message);
		return NULL;
	}
	if (req->dry_run) {
		/* an explanation is mailed to the envelope sender: it must be the sender's own */
		if (sender != NULL && *sender != '\0' && !authz_owns(config, canon, sender)) {
			store_perm_error(error,
			                 "not authorized: envelope sender <%s> does not belong to the "
			                 "authenticated sender %s",
			                 sender, canon);
			return NULL;
		}
		return g_steal_pointer(&canon);
	}
	in.identity = canon;
	res = authz_check(&in, db, config);
	if (!authz_verdict(res, error))
		return NULL;
	return g_steal_pointer(&canon);
}

/* jobs_authorize - see jobs-private.h */
char *jobs_authorize(CtidJobs *jobs, const CtiIpcFrame *frame, const CtiRequest *req,
                     const char *direct_identity, GError **error)
{
	GError *local = NULL;
	g_autoptr(CtiPolicyDb) db = authz_open(jobs->config, &local);
	char *identity;

	if (local != NULL) {
		g_propagate_error(error, local);
		return NULL;
	}
	identity = direct_identity ? g_ascii_strdown(direct_identity, -1)
	                           : authz_resolve(jobs->config, frame, error);
	if (identity == NULL)
		return NULL;
	return authz_decide(jobs->config, db, identity, req, ipc_frame_get(frame, "Recipient"),
	                    ipc_frame_get(frame, "Sender"), error);
}

/* jobs_reauthorize - see jobs-private.h */
gboolean jobs_reauthorize(LiveJob *lj, GError **error)
{
	const CtiJob *job = lj->job;
	const char *who = job->rate_key ? job->rate_key
	                  : job->auth_authen && *job->auth_authen ? job->auth_authen
	                                                            : job->sender;
	GError *local = NULL;
	g_autoptr(CtiPolicyDb) db = authz_open(lj->jobs->config, &local);
	g_autofree char *id = NULL;

	if (local != NULL) {
		g_propagate_error(error, local);
		return FALSE;
	}
	if (who == NULL || *who == '\0')
		return store_perm_error(error, "not authorized: the job has no identity");
	id = authz_decide(lj->jobs->config, db, g_strdup(who), lj->req, job->recipient,
	                  job->sender, error);
	return id != NULL;
}
