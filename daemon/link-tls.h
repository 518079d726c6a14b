/* link-tls - TLS for ctid's PBX link ([pbx] tls = yes): the trusted CAs and
 * the client certificate, loaded once at start-up, and the client handshake
 * over an established TCP connection, with a refusal explained in words.
 */
#ifndef CTID_LINK_TLS_H
#define CTID_LINK_TLS_H

#include <gio/gio.h>

#include "config.h"

typedef struct LinkTls LinkTls;

/* link_tls_new - load [pbx] tls_ca, tls_cert and tls_key of CONFIG (borrowed, must
 * outlive it); NULL + error naming the file when one cannot be used */
LinkTls *link_tls_new(const CtiConfig *config, GError **error);
/* link_tls_free - free what link_tls_new loaded; NULL is a no-op */
void link_tls_free(LinkTls *tls);
/* link_tls_handshake_async - wrap BASE (a connected stream) in a TLS client
 * connection and start the handshake; CB gets the result for link_tls_handshake_finish */
void link_tls_handshake_async(LinkTls *tls, GIOStream *base, GCancellable *cancel,
                              GAsyncReadyCallback cb, gpointer data);
/* link_tls_handshake_finish - the TLS stream (transfer full) or NULL + an error
 * that names why the server's certificate was refused (unknown CA, name mismatch...) */
GIOStream *link_tls_handshake_finish(GAsyncResult *res, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LinkTls, link_tls_free)

#endif
