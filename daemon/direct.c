/* direct - authorization of the direct request channel.
 *
 * A direct SUBMIT carries the same request mail cti-send would have mailed,
 * but no SMTP identity.  The identity is the peer's Unix user name (from
 * SO_PEERCRED, lower-cased); only root may name another one with an
 * "Identity" field (a gateway-side tool acting for a user).  The identity
 * passes the same decision as a mail sender's (lib/authz.h), made by
 * jobs_submit_prepare() for every SUBMIT (jobs-authz.c), which takes the
 * identity from the rebuilt frame's Auth-Authen.  The frame handed on
 * is rebuilt from scratch, so a client cannot set Auth-Authen, Client-Addr,
 * Queue-Id or a Job-Id itself.  Notify-To is required unless the caller
 * waits on the socket for its RESULT frame (Wait: yes) or says Notify: no.
 * The rebuilt frame carries the identity as Auth-Authen, so jobs_submit()
 * applies the same per-sender rate limits as to mail.
 */
#include "direct.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "request.h"
#include "store.h"

/* identity_of - the identity the peer UID acts as (transfer full) or NULL + error */
static char *identity_of(const CtiIpcFrame *req, uid_t uid, GError **error)
{
	const char *asked = ipc_frame_get(req, "Identity");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (asked != NULL && asked[0] != '\0') {
		if (uid != 0) {
			store_perm_error(error,
			                 "only root may name an Identity on the direct channel");
			return NULL;
		}
		return g_ascii_strdown(asked, -1);
	}
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || res == NULL) {
		store_perm_error(error, "uid %u has no user name", (unsigned)uid);
		return NULL;
	}
	return g_ascii_strdown(pw.pw_name, -1);
}

static void copy_field(CtiIpcFrame *to, const CtiIpcFrame *from, const char *name)
{
	const char *v = ipc_frame_get(from, name);

	if (v != NULL && v[0] != '\0')
		ipc_frame_add(to, name, v);
}

/* direct_prepare - authorize and rebuild a direct SUBMIT */
CtiIpcFrame *direct_prepare(const CtiConfig *config, const CtiIpcFrame *req, uid_t uid,
                            GError **error)
{
	const char *text = ipc_frame_get(req, "Request");
	const char *wait = ipc_frame_get(req, "Wait");
	g_autofree char *identity = NULL;
	g_autoptr(CtiRequest) parsed = NULL;
	g_autoptr(GError) perr = NULL;
	CtiIpcFrame *out;

	if (text == NULL || req->body == NULL) {
		store_perm_error(error, "a direct SUBMIT needs Request and the message");
		return NULL;
	}
	parsed = request_parse(text, strlen(text), &perr);
	if (parsed == NULL) {
		store_perm_error(error, "request: %s", perr->message);
		return NULL;
	}
	if (parsed->notify && parsed->notify_to == NULL &&
	    (wait == NULL || g_ascii_strcasecmp(wait, "yes") != 0)) {
		store_perm_error(
		    error, "Notify-To is required on the direct channel (or wait for the result)");
		return NULL;
	}
	identity = identity_of(req, uid, error);
	if (identity == NULL)
		return NULL;
	out = ipc_frame_new("SUBMIT");
	ipc_frame_add(out, "Request", text);
	ipc_frame_add(out, "Sender", strchr(identity, '@') ? identity : "");
	ipc_frame_add(out, "Recipient",
	              ipc_frame_get(req, "Recipient") ? ipc_frame_get(req, "Recipient") : "");
	ipc_frame_add(out, "Auth-Authen", identity);
	ipc_frame_addf(out, "Client-Addr", "local:uid=%u", (unsigned)uid);
	copy_field(out, req, "Message-Id");
	copy_field(out, req, "Mailbox");
	ipc_frame_set_body(out, req->body);
	return out;
}
