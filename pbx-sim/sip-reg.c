/* sip-reg.c - pbx-sim's SIP registrar (RFC 3261 section 10) with digest
 * authentication (RFC 2617, qop=auth): every configured extension or line may
 * register with the one password of --sip-password / [sim] sip_password.
 *
 * Runs in the SIP thread.  The bindings (one Contact per extension, the latest
 * REGISTER wins) are read by the main thread through sipreg_contact(), so they
 * sit behind sipst.lock.  A REGISTER without credentials, or with a nonce this
 * registrar did not issue in the last NONCE_LIFE seconds, gets 401 and a fresh
 * challenge; credentials that do not match get 403; an external number or an
 * unknown one gets 404.  Each outcome is logged (type "sip").
 */
#include "sip-private.h"

#include <string.h>

#define NONCE_LIFE 300   /* seconds a challenge stays valid */
#define MAX_EXPIRES 3600 /* longest binding granted */

static gint64
now_us(void)
{
	return g_get_monotonic_time();
}

static gboolean
nonce_expired(gpointer key, gpointer value, gpointer data)
{
	(void)key;
	return *(gint64 *)value < *(gint64 *)data;
}

/* A new nonce, remembered for NONCE_LIFE seconds (transfer full). */
static char *
nonce_new(void)
{
	gint64 now = now_us();
	g_hash_table_foreach_remove(sipst.nonces, nonce_expired, &now);
	char *nonce = g_strdup_printf("%08x%08x%08x", rand_u32(), rand_u32(), rand_u32());
	gint64 *exp = g_new(gint64, 1);
	*exp = now + (gint64)NONCE_LIFE * G_USEC_PER_SEC;
	g_hash_table_insert(sipst.nonces, g_strdup(nonce), exp);
	return nonce;
}

static gboolean
nonce_valid(const struct pl *pl)
{
	g_autofree char *nonce = pl_gstrdup(pl);
	const gint64 *exp = g_hash_table_lookup(sipst.nonces, nonce);
	return exp != NULL && *exp >= now_us();
}

static void
challenge(const struct sip_msg *msg)
{
	g_autofree char *nonce = nonce_new();
	(void)sip_replyf(sipst.sip, msg, 401, "Unauthorized",
			 "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", qop=\"auth\", "
			 "algorithm=MD5\r\nContent-Length: 0\r\n\r\n",
			 SIP_REALM, nonce);
}

/* TRUE when RESP proves the password for EXT (HA1 = MD5(EXT:realm:password)). */
static gboolean
digest_ok(const struct httpauth_digest_resp *resp, const struct sip_msg *msg, const char *ext)
{
	g_autofree char *a1 = g_strdup_printf("%s:%s:%s", ext, SIP_REALM, sipst.password);
	uint8_t ha1[16];
	md5((const uint8_t *)a1, strlen(a1), ha1);
	return pl_strcmp(&resp->username, ext) == 0 &&
	       httpauth_digest_response_auth(resp, &msg->met, ha1) == 0;
}

static void
binding_set(const char *ext, const char *contact, guint secs)
{
	g_mutex_lock(&sipst.lock);
	if (secs == 0) {
		g_hash_table_remove(sipst.regs, ext);
	} else {
		SipReg *r = g_new0(SipReg, 1);
		r->contact = g_strdup(contact);
		r->expires = now_us() + (gint64)secs * G_USEC_PER_SEC;
		g_hash_table_insert(sipst.regs, g_strdup(ext), r);
	}
	g_mutex_unlock(&sipst.lock);
}

/* The binding asked for: Contact URI and seconds; FALSE when there is none. */
static gboolean
requested_binding(const struct sip_msg *msg, char **contact, guint *secs)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (hdr == NULL)
		return FALSE;
	*secs = pl_isset(&msg->expires) ? pl_u32(&msg->expires) : MAX_EXPIRES;
	if (pl_strcmp(&hdr->val, "*") == 0) {
		*secs = 0;
		*contact = NULL;
		return TRUE;
	}
	struct sip_addr addr;
	if (sip_addr_decode(&addr, &hdr->val) != 0)
		return FALSE;
	struct pl exp;
	if (msg_param_decode(&addr.params, "expires", &exp) == 0)
		*secs = pl_u32(&exp);
	*secs = MIN(*secs, MAX_EXPIRES);
	*contact = pl_gstrdup(&addr.auri);
	return TRUE;
}

static void
accept_binding(const struct sip_msg *msg, const char *ext)
{
	g_autofree char *contact = NULL;
	guint secs = 0;
	if (!requested_binding(msg, &contact, &secs)) {
		(void)sip_reply(sipst.sip, msg, 400, "Bad Contact");
		sip_post_log("refused", ext, 0, 400, "bad Contact");
		return;
	}
	binding_set(ext, contact, secs);
	if (secs == 0) {
		(void)sip_reply(sipst.sip, msg, 200, "OK");
		sip_post_log("unregistered", ext, 0, 200, NULL);
		return;
	}
	(void)sip_replyf(sipst.sip, msg, 200, "OK", "Contact: <%s>;expires=%u\r\nContent-Length: 0\r\n\r\n",
			 contact, secs);
	sip_post_log("registered", ext, 0, 200, contact);
}

static void
handle_register(const struct sip_msg *msg)
{
	g_autofree char *ext = pl_gstrdup(&msg->to.uri.user);
	if (*ext == '\0') {
		(void)sip_reply(sipst.sip, msg, 404, "Not Found");
		return;
	}
	const SimDeviceSpec *spec = simconf_lookup(sipst.conf, ext);
	if (spec == NULL || spec->kind == SIM_DEV_EXTERNAL) {
		(void)sip_reply(sipst.sip, msg, 404, "Not Found");
		sip_post_log("refused", ext, 0, 404, "not an extension of this switch");
		return;
	}
	const struct sip_hdr *auth = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	struct httpauth_digest_resp resp;
	if (auth == NULL || httpauth_digest_response_decode(&resp, &auth->val) != 0 ||
	    pl_strcmp(&resp.realm, SIP_REALM) != 0 || !nonce_valid(&resp.nonce)) {
		challenge(msg);
		return;
	}
	if (!digest_ok(&resp, msg, ext)) {
		(void)sip_reply(sipst.sip, msg, 403, "Forbidden");
		sip_post_log("refused", ext, 0, 403, "wrong credentials");
		return;
	}
	accept_binding(msg, ext);
}

/* sipreg_request - the SIP listener: REGISTER and OPTIONS here, anything else to sipsess */
bool
sipreg_request(const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (pl_strcmp(&msg->met, "REGISTER") == 0) {
		handle_register(msg);
		return true;
	}
	if (pl_strcmp(&msg->met, "OPTIONS") == 0) {
		(void)sip_reply(sipst.sip, msg, 200, "OK");
		return true;
	}
	return false;
}

/* sipreg_free - free a binding */
void
sipreg_free(SipReg *r)
{
	g_free(r->contact);
	g_free(r);
}

/* sipreg_contact - EXT's registered Contact URI, or NULL (transfer full; any thread) */
char *
sipreg_contact(const char *ext)
{
	char *contact = NULL;
	g_mutex_lock(&sipst.lock);
	SipReg *r = sipst.regs ? g_hash_table_lookup(sipst.regs, ext) : NULL;
	if (r != NULL && r->expires > now_us())
		contact = g_strdup(r->contact);
	g_mutex_unlock(&sipst.lock);
	return contact;
}
