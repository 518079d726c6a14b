/* link-tls - TLS for ctid's PBX link, through GIO's GTlsClientConnection
 * (the backend is glib-networking).
 *
 * The CA file and the client certificate are read once, at start-up and
 * before ctid gives up root, so that the key may stay readable by root only;
 * a missing or unusable file is a start-up error (tier 2).  Each connection
 * is verified in full: the chain against [pbx] tls_ca (or the system's CAs
 * when it is empty) and the name against [pbx] tls_server_name (or host).
 * GIO reports a refused certificate only as "Unacceptable TLS certificate",
 * so the accept-certificate signal records the verification flags and the
 * error handed back says in words what was wrong (unknown CA, name
 * mismatch, expired...).  A refused certificate is never accepted.
 */
#include "link-tls.h"

#include <string.h>

struct LinkTls {
	const CtiConfig *config;
	GTlsDatabase *db;
	GTlsCertificate *cert; /* NULL: no client certificate */
};

/* One handshake in progress. */
typedef struct {
	LinkTls *tls;
	GIOStream *conn; /* the GTlsClientConnection */
	GTlsCertificateFlags errors;
	gulong accept_id;
} Handshake;

static void handshake_free(Handshake *hs)
{
	if (hs->accept_id != 0)
		g_signal_handler_disconnect(hs->conn, hs->accept_id);
	g_clear_object(&hs->conn);
	g_free(hs);
}

/* load_ca - the CA(s) of FILE as a database; an empty FILE means the system's */
static GTlsDatabase *load_ca(const char *file, GError **error)
{
	GTlsBackend *backend = g_tls_backend_get_default();
	GList *certs;

	if (!g_tls_backend_supports_tls(backend)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		            "[pbx] tls = yes, but GIO has no TLS backend (is glib-networking "
		            "installed?)");
		return NULL;
	}
	if (*file == '\0') {
		GTlsDatabase *db = g_tls_backend_get_default_database(backend);

		if (db == NULL)
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			            "[pbx] tls_ca is empty and there is no system CA store");
		return db;
	}
	certs = g_tls_certificate_list_new_from_file(file, error);
	if (certs == NULL) {
		if (error != NULL && *error == NULL)
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			            "no PEM certificate in the file");
		g_prefix_error(error, "[pbx] tls_ca %s: ", file);
		return NULL;
	}
	g_list_free_full(certs, g_object_unref);
	{
		GTlsDatabase *db = g_tls_file_database_new(file, error);

		if (db == NULL)
			g_prefix_error(error, "[pbx] tls_ca %s: ", file);
		return db;
	}
}

/* link_tls_new - load the CA(s) and the client certificate of CONFIG */
LinkTls *link_tls_new(const CtiConfig *config, GError **error)
{
	g_autoptr(LinkTls) tls = g_new0(LinkTls, 1);
	const char *key = *config->tls_key != '\0' ? config->tls_key : config->tls_cert;

	tls->config = config;
	tls->db = load_ca(config->tls_ca, error);
	if (tls->db == NULL)
		return NULL;
	if (*config->tls_cert != '\0') {
		tls->cert = g_tls_certificate_new_from_files(config->tls_cert, key, error);
		if (tls->cert == NULL) {
			g_prefix_error(error, "[pbx] tls_cert %s / tls_key %s: ", config->tls_cert,
			               key);
			return NULL;
		}
	}
	return g_steal_pointer(&tls);
}

/* link_tls_free - free what link_tls_new loaded */
void link_tls_free(LinkTls *tls)
{
	if (tls == NULL)
		return;
	g_clear_object(&tls->db);
	g_clear_object(&tls->cert);
	g_free(tls);
}

/* server_name - the name the PBX's certificate must carry */
static const char *server_name(const CtiConfig *c)
{
	return *c->tls_server_name != '\0' ? c->tls_server_name : c->pbx_host;
}

/* describe - FLAGS in words, for the log and ctictl status (transfer full) */
static char *describe(const LinkTls *tls, GTlsCertificateFlags flags)
{
	const CtiConfig *c = tls->config;
	g_autoptr(GString) out = g_string_new(NULL);
	const char *ca = *c->tls_ca != '\0' ? c->tls_ca : "the system's CA store";

	if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
		g_string_append_printf(out, "; unknown CA (not issued by a CA in %s)", ca);
	if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
		g_string_append_printf(out, "; name mismatch (not issued for %s)", server_name(c));
	if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
		g_string_append(out, "; not valid yet");
	if (flags & G_TLS_CERTIFICATE_EXPIRED)
		g_string_append(out, "; expired");
	if (flags & G_TLS_CERTIFICATE_REVOKED)
		g_string_append(out, "; revoked");
	if (flags & G_TLS_CERTIFICATE_INSECURE)
		g_string_append(out, "; insecure algorithm");
	if (flags & G_TLS_CERTIFICATE_GENERIC_ERROR || out->len == 0)
		g_string_append(out, "; unusable");
	return g_strdup(out->str + 2);
}

/* on_accept_certificate - verification failed: note why and refuse */
static gboolean on_accept_certificate(GTlsConnection *conn, GTlsCertificate *peer,
                                      GTlsCertificateFlags errors, gpointer data)
{
	Handshake *hs = data;

	hs->errors = errors;
	return FALSE;
}

static void on_handshake(GObject *source, GAsyncResult *res, gpointer data)
{
	g_autoptr(GTask) task = data;
	Handshake *hs = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (g_task_return_error_if_cancelled(task))
		return; /* the link may be gone, and HS->tls with it */
	if (g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error)) {
		g_task_return_pointer(task, g_object_ref(hs->conn), g_object_unref);
		return;
	}
	if (hs->errors != 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_autofree char *why = describe(hs->tls, hs->errors);

		g_clear_error(&error);
		g_set_error(&error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
		            "the PBX's TLS certificate was refused: %s", why);
	} else {
		g_prefix_error(&error, "TLS handshake: ");
	}
	g_task_return_error(task, g_steal_pointer(&error));
}

/* link_tls_handshake_async - wrap BASE in a verified TLS client connection */
void link_tls_handshake_async(LinkTls *tls, GIOStream *base, GCancellable *cancel,
                              GAsyncReadyCallback cb, gpointer data)
{
	const CtiConfig *c = tls->config;
	g_autoptr(GTask) task = g_task_new(NULL, cancel, cb, data);
	g_autoptr(GSocketConnectable) identity =
	    g_network_address_new(server_name(c), (guint16)c->pbx_port);
	g_autoptr(GError) error = NULL;
	GIOStream *conn = g_tls_client_connection_new(base, identity, &error);
	Handshake *hs;

	if (conn == NULL) {
		g_prefix_error(&error, "TLS: ");
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	hs = g_new0(Handshake, 1);
	hs->tls = tls;
	hs->conn = conn;
	g_task_set_task_data(task, hs, (GDestroyNotify)handshake_free);
	g_tls_connection_set_database(G_TLS_CONNECTION(conn), tls->db);
	if (tls->cert != NULL)
		g_tls_connection_set_certificate(G_TLS_CONNECTION(conn), tls->cert);
	/* a PBX that just closes TCP is a dropped link, not a TLS attack */
	g_tls_connection_set_require_close_notify(G_TLS_CONNECTION(conn), FALSE);
	hs->accept_id =
	    g_signal_connect(conn, "accept-certificate", G_CALLBACK(on_accept_certificate), hs);
	g_tls_connection_handshake_async(G_TLS_CONNECTION(conn), G_PRIORITY_DEFAULT, cancel,
	                                 on_handshake, g_steal_pointer(&task));
}

/* link_tls_handshake_finish - the TLS stream or NULL + why */
GIOStream *link_tls_handshake_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}
