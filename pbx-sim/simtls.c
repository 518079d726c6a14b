/* simtls.c - TLS on pbx-sim's CSTA listener, through GIO's
 * GTlsServerConnection (backend: glib-networking), so that CTI clients can be
 * tested against a TLS-only switch as Avaya AES (4722) or MX-ONE run them.
 *
 * Owns the server certificate, the optional client CA (when given, a client
 * must present a certificate issued by it), and the handshakes in progress.
 * A handshake that fails or takes more than SIMTLS_HANDSHAKE_S is logged as a
 * "session" "tls-failed" line with the peer and the reason, and the connection
 * is closed; a good one is logged as "tls" with the client certificate's
 * subject, if any, and handed on.
 */
#include "simtls.h"

#include "simlog.h"

#define SIMTLS_HANDSHAKE_S 10

typedef struct {
	GIOStream *tls;
	GSocket *sock;
	char *peer;
	SimTlsReady ready;
	GTlsCertificateFlags errors; /* why the client's certificate was refused */
} SimHandshake;

static struct {
	GTlsCertificate *cert;
	GTlsDatabase *client_ca; /* NULL: no client certificate asked for */
	GCancellable *cancel;
	guint pending; /* handshakes in progress */
} tls;

static void
handshake_free(SimHandshake *hs)
{
	tls.pending--;
	g_clear_object(&hs->tls);
	g_clear_object(&hs->sock);
	g_free(hs->peer);
	g_free(hs);
}

/* simtls_init - load CERT and KEY (and CLIENT_CA, may be NULL); FALSE + error naming the file */
gboolean
simtls_init(const char *cert, const char *key, const char *client_ca, GError **error)
{
	if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "--tls-cert: GIO has no TLS backend (is glib-networking installed?)");
		return FALSE;
	}
	tls.cert = g_tls_certificate_new_from_files(cert, key, error);
	if (tls.cert == NULL) {
		g_prefix_error(error, "--tls-cert %s / --tls-key %s: ", cert, key);
		return FALSE;
	}
	if (client_ca != NULL) {
		tls.client_ca = g_tls_file_database_new(client_ca, error);
		if (tls.client_ca == NULL) {
			g_prefix_error(error, "--tls-client-ca %s: ", client_ca);
			g_clear_object(&tls.cert);
			return FALSE;
		}
	}
	tls.cancel = g_cancellable_new();
	return TRUE;
}

/* simtls_enabled - TRUE when the listener serves TLS */
gboolean
simtls_enabled(void)
{
	return tls.cert != NULL;
}

static void
log_client_cert(SimHandshake *hs)
{
	GTlsCertificate *peer = g_tls_connection_get_peer_certificate(G_TLS_CONNECTION(hs->tls));
	g_autofree char *subject = NULL;
#if GLIB_CHECK_VERSION(2, 70, 0)
	if (peer != NULL)
		subject = g_tls_certificate_get_subject_name(peer);
#endif
	simlog_kv("session", "event", "tls", "peer", hs->peer, "client_cert",
		  peer == NULL ? "none" : subject != NULL ? subject : "present", NULL);
}

/* on_accept_certificate - the client's certificate, verified against --tls-client-ca:
 * a GTlsServerConnection asks here for every client certificate, good or bad, and
 * refuses it when nobody answers; accept it only when verification found nothing */
static gboolean
on_accept_certificate(GTlsConnection *conn, GTlsCertificate *peer, GTlsCertificateFlags errors,
		      gpointer data)
{
	SimHandshake *hs = data;
	hs->errors = errors;
	return errors == 0;
}

/* describe - the verification flags in words */
static GString *
describe(GTlsCertificateFlags flags)
{
	static const struct {
		GTlsCertificateFlags flag;
		const char *text;
	} names[] = {
		{ G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown CA" },
		{ G_TLS_CERTIFICATE_BAD_IDENTITY, "name mismatch" },
		{ G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet" },
		{ G_TLS_CERTIFICATE_EXPIRED, "expired" },
		{ G_TLS_CERTIFICATE_REVOKED, "revoked" },
		{ G_TLS_CERTIFICATE_INSECURE, "insecure algorithm" },
		{ G_TLS_CERTIFICATE_GENERIC_ERROR, "unusable" },
	};
	GString *out = g_string_new("client certificate refused:");
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		if (flags & names[i].flag)
			g_string_append_printf(out, " %s", names[i].text);
	return out;
}

static void
on_handshake(GObject *source, GAsyncResult *res, gpointer data)
{
	SimHandshake *hs = data;
	g_autoptr(GError) err = NULL;
	if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &err)) {
		if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			g_autoptr(GString) why = hs->errors ? describe(hs->errors)
							    : g_string_new(err->message);
			g_printerr("pbx-sim: %s: TLS handshake failed: %s\n", hs->peer, why->str);
			simlog_kv("session", "event", "tls-failed", "peer", hs->peer, "reason",
				  why->str, NULL);
			hs->ready(NULL, hs->sock, hs->peer);
		}
		handshake_free(hs);
		return;
	}
	g_socket_set_timeout(hs->sock, 0);
	log_client_cert(hs);
	hs->ready(hs->tls, hs->sock, hs->peer);
	handshake_free(hs);
}

/* simtls_accept - start the server handshake on CONN; READY hears the outcome */
void
simtls_accept(GSocketConnection *conn, const char *peer, SimTlsReady ready)
{
	g_autoptr(GError) err = NULL;
	GIOStream *stream = g_tls_server_connection_new(G_IO_STREAM(conn), tls.cert, &err);
	if (stream == NULL) {
		g_printerr("pbx-sim: %s: TLS: %s\n", peer, err->message);
		ready(NULL, g_socket_connection_get_socket(conn), peer);
		return;
	}
	SimHandshake *hs = g_new0(SimHandshake, 1);
	tls.pending++;
	hs->tls = stream;
	hs->sock = g_object_ref(g_socket_connection_get_socket(conn));
	hs->peer = g_strdup(peer);
	hs->ready = ready;
	if (tls.client_ca != NULL) {
		g_tls_connection_set_database(G_TLS_CONNECTION(stream), tls.client_ca);
		g_object_set(stream, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED, NULL);
	}
	g_tls_connection_set_require_close_notify(G_TLS_CONNECTION(stream), FALSE);
	g_signal_connect(stream, "accept-certificate", G_CALLBACK(on_accept_certificate), hs);
	/* a peer that never completes the handshake is not waited for */
	g_socket_set_timeout(hs->sock, SIMTLS_HANDSHAKE_S);
	g_tls_connection_handshake_async(G_TLS_CONNECTION(stream), G_PRIORITY_DEFAULT, tls.cancel,
					 on_handshake, hs);
}

/* simtls_shutdown - abandon the handshakes in progress, free the certificates */
void
simtls_shutdown(void)
{
	if (tls.cancel != NULL)
		g_cancellable_cancel(tls.cancel);
	/* let the cancelled handshakes end and free themselves */
	while (tls.pending > 0)
		g_main_context_iteration(NULL, TRUE);
	g_clear_object(&tls.cancel);
	g_clear_object(&tls.cert);
	g_clear_object(&tls.client_ca);
}
