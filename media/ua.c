/* ua - the SIP side of cti-media on libre.
 *
 * One UDP transport on [media] local_address:sip_port.  Each line of [media]
 * lines registers to [media] registrar as sip:LINE@DOMAIN with the shared
 * digest password; libre re-registers before expiry and retries on failure.
 * An INVITE goes to the call armed for the line named in its request URI (or
 * To); with none armed it is refused with 480, so a PBX tries elsewhere or
 * reports the line busy.  Registration outcomes are logged and reported by
 * STATUS; a refused password is a clear log line, never a silent retry loop.
 */
#include "ua.h"

#include <re.h>
#include <string.h>

#include "identity.h"
#include "log.h"

#define UA_EXPIRES 600

typedef struct {
	Ua *ua;
	char *line;
	struct sipreg *reg;
	guint16 last_code; /* last final response to REGISTER, 0 = none yet */
	char *last_reason;
} UaLine;

struct Ua {
	struct sip *sip;
	struct sipsess_sock *sock;
	struct dnsc *dnsc;
	struct sa laddr;
	char *registrar; /* "host:port" */
	char *domain;
	char *password;
	guint16 rtp_min, rtp_max;
	char **codecs;
	GPtrArray *lines; /* UaLine* */
	UaInvite invite;
	gpointer data;
};

static void line_free(gpointer data)
{
	UaLine *l = data;

	l->reg = mem_deref(l->reg);
	g_free(l->line);
	g_free(l->last_reason);
	g_free(l);
}

gpointer ua_line(const Ua *ua, const char *line)
{
	for (guint i = 0; line && i < ua->lines->len; i++) {
		UaLine *l = g_ptr_array_index(ua->lines, i);

		if (strcmp(l->line, line) == 0)
			return l;
	}
	return NULL;
}

int ua_auth(char **username, char **password, const char *realm, void *arg)
{
	UaLine *l = arg;
	int err = str_dup(username, l->line);

	return err ? err : str_dup(password, l->ua->password);
}

static void reg_resp(int err, const struct sip_msg *msg, void *arg)
{
	UaLine *l = arg;
	guint16 code = msg ? msg->scode : 0;

	g_free(l->last_reason);
	if (err) {
		l->last_code = 0;
		l->last_reason = g_strdup(g_strerror(err));
		log_warning("line %s: registration failed: %s", l->line, l->last_reason);
		return;
	}
	if (code < 200) {
		l->last_reason = g_strdup("trying");
		return;
	}
	l->last_code = code;
	l->last_reason = g_strdup_printf("%u %.*s", code, (int)msg->reason.l, msg->reason.p);
	if (code < 300)
		log_info("line %s: registered at %s (%s)", l->line, l->ua->registrar,
		         l->last_reason);
	else
		log_warning("line %s: registration refused by %s: %s%s", l->line, l->ua->registrar,
		            l->last_reason,
		            code == 401 || code == 403 || code == 407 ? " (check [media] password)"
		                                                      : "");
}

static gboolean register_line(Ua *ua, const char *line, GError **error)
{
	UaLine *l = g_new0(UaLine, 1);
	g_autofree char *reg_uri = g_strdup_printf("sip:%s;transport=udp", ua->registrar);
	g_autofree char *aor = ua_aor(ua, line);
	int err;

	l->ua = ua;
	l->line = g_strdup(line);
	g_ptr_array_add(ua->lines, l);
	err = sipreg_register(&l->reg, ua->sip, reg_uri, aor, NULL, aor, UA_EXPIRES, line, NULL, 0,
	                      0, ua_auth, l, false, reg_resp, l, NULL, NULL);
	if (err) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "line %s: cannot register to %s: %s", line, reg_uri, g_strerror(err));
		return FALSE;
	}
	return TRUE;
}

static void on_conn(const struct sip_msg *msg, void *arg)
{
	Ua *ua = arg;
	g_autofree char *user = NULL;

	if (msg->uri.user.l > 0)
		user = g_strndup(msg->uri.user.p, msg->uri.user.l);
	else
		user = g_strndup(msg->to.uri.user.p, msg->to.uri.user.l);
	if (ua_line(ua, user) == NULL) {
		log_info("INVITE for %s: not one of our lines: 404", user);
		sip_treply(NULL, ua->sip, msg, 404, "Not Found");
		return;
	}
	if (!ua->invite(user, msg, ua->data)) {
		log_info("INVITE for line %s: no session armed: 480", user);
		sip_treply(NULL, ua->sip, msg, 480, "Temporarily Unavailable");
	}
}

static gboolean ua_bind(Ua *ua, const CtiConfig *c, GError **error)
{
	struct sa nsv[4];
	uint32_t nsn = G_N_ELEMENTS(nsv);
	int err;

	if (sa_set_str(&ua->laddr, c->media_local_address, c->media_sip_port) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "[media] local_address %s is not an IP address",
		            c->media_local_address);
		return FALSE;
	}
	if (dns_srv_get(NULL, 0, nsv, &nsn) != 0 || nsn == 0) {
		sa_set_str(&nsv[0], "127.0.0.1", 53);
		nsn = 1;
	}
	err = dnsc_alloc(&ua->dnsc, NULL, nsv, nsn);
	if (!err)
		err = sip_alloc(&ua->sip, ua->dnsc, 32, 32, 32, "mailcti cti-media", NULL, NULL);
	if (!err)
		err = sip_transp_add(ua->sip, SIP_TRANSP_UDP, &ua->laddr);
	if (!err)
		err = sipsess_listen(&ua->sock, ua->sip, 32, on_conn, ua);
	if (err) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		            "cannot listen for SIP on %s:%d: %s", c->media_local_address,
		            c->media_sip_port, g_strerror(err));
		return FALSE;
	}
	return TRUE;
}

Ua *ua_new(const CtiConfig *c, UaInvite invite, gpointer data, GError **error)
{
	g_auto(GStrv) lines = identity_split_list(c->media_lines);
	Ua *ua = g_new0(Ua, 1);
	unsigned lo = 0, hi = 0;
	const char *colon = strrchr(c->media_registrar, ':');

	ua->lines = g_ptr_array_new_with_free_func(line_free);
	ua->invite = invite;
	ua->data = data;
	ua->registrar = g_strdup(c->media_registrar);
	ua->domain = c->media_domain[0] ? g_strdup(c->media_domain)
	                                : g_strndup(c->media_registrar, colon - c->media_registrar);
	ua->password = g_strdup(c->media_password);
	ua->codecs = identity_split_list(c->media_codecs);
	sscanf(c->media_rtp_ports, "%u-%u", &lo, &hi);
	ua->rtp_min = lo;
	ua->rtp_max = hi;
	if (!ua_bind(ua, c, error)) {
		ua_free(ua);
		return NULL;
	}
	for (guint i = 0; lines[i]; i++) {
		if (!register_line(ua, lines[i], error)) {
			ua_free(ua);
			return NULL;
		}
	}
	return ua;
}

void ua_free(Ua *ua)
{
	if (ua == NULL)
		return;
	g_clear_pointer(&ua->lines, g_ptr_array_unref);
	if (ua->sock)
		sipsess_close_all(ua->sock);
	ua->sock = mem_deref(ua->sock);
	if (ua->sip)
		sip_close(ua->sip, true);
	ua->sip = mem_deref(ua->sip);
	ua->dnsc = mem_deref(ua->dnsc);
	g_free(ua->registrar);
	g_free(ua->domain);
	g_free(ua->password);
	g_strfreev(ua->codecs);
	g_free(ua);
}

void ua_status(const Ua *ua, CtiIpcFrame *reply)
{
	ipc_frame_addf(reply, "Lines", "%u", ua->lines->len);
	for (guint i = 0; i < ua->lines->len; i++) {
		UaLine *l = g_ptr_array_index(ua->lines, i);
		gboolean ok = l->reg && sipreg_registered(l->reg) && l->last_code >= 200 &&
		              l->last_code < 300;

		ipc_frame_addf(reply, "Line", "%s %s%s%s", l->line,
		               ok ? "registered" : "unregistered", l->last_reason ? " " : "",
		               l->last_reason ? l->last_reason : "");
	}
}

struct sipsess_sock *ua_sock(const Ua *ua)
{
	return ua->sock;
}

const struct sa *ua_laddr(const Ua *ua)
{
	return &ua->laddr;
}

char *ua_aor(const Ua *ua, const char *line)
{
	return g_strdup_printf("sip:%s@%s", line, ua->domain);
}

void ua_rtp_range(const Ua *ua, guint16 *min, guint16 *max)
{
	*min = ua->rtp_min;
	*max = ua->rtp_max;
}

char *const *ua_codecs(const Ua *ua)
{
	return ua->codecs;
}
