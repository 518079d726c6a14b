/* simtls.h - TLS on pbx-sim's CSTA listener (--tls-cert, --tls-key,
 * --tls-client-ca): the server certificate and the server-side handshake. */
#pragma once

#include <gio/gio.h>

/* Called once per accepted connection: STREAM (transfer none) is the TLS
 * stream over the TCP socket SOCK after a good handshake, NULL after a failed
 * one (already logged). */
typedef void (*SimTlsReady)(GIOStream *stream, GSocket *sock, const char *peer);

gboolean simtls_init(const char *cert, const char *key, const char *client_ca, GError **error);
gboolean simtls_enabled(void);
void simtls_accept(GSocketConnection *conn, const char *peer, SimTlsReady ready);
void simtls_shutdown(void);
