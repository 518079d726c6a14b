/* ipc - the small, versioned, line-based protocol between cti-milter, ctictl,
 * cti-send --direct, the Dovecot plugin and ctid, over UNIX stream sockets.
 *
 * A frame:
 *   MCTI/1 <VERB>\n
 *   <Name>: <value>\n          zero or more; value escaped: \\ \n \r \t
 *   \n
 *   <N raw bytes>              only when a "Body-Length: N" field is present
 * Requests:  SUBMIT (fields of CtiJob + Body-Length with the message),
 *            RETRIEVED (User, Job, Mailbox, Uid, Trigger), STATUS, JOBS, JOB,
 *            CANCEL, RETRY, PING.
 * Replies:   OK, TEMPFAIL (retry later: 4xx), REJECT (permanent: 5xx), each
 *            with an optional "Reason" and verb-specific fields.
 * A frame's header part is bounded (CTI_IPC_MAX_HEADER bytes, 128 fields); the
 * body by the reader's limit.  A bad frame is an error, never a crash.
 */
#ifndef MAILCTI_IPC_H
#define MAILCTI_IPC_H

#include <glib.h>

#define CTI_IPC_VERSION "MCTI/1"
#define CTI_IPC_MAX_HEADER 65536
#define CTI_IPC_MAX_FIELDS 128

typedef struct {
	char *verb;                /* "SUBMIT", "OK", ... */
	GPtrArray *names;          /* char*, in wire order */
	GPtrArray *values;         /* char*, unescaped */
	GBytes *body;              /* NULL when no Body-Length */
} CtiIpcFrame;

/* ipc_frame_new - an empty frame with VERB (transfer full) */
CtiIpcFrame *ipc_frame_new(const char *verb);
void ipc_frame_free(CtiIpcFrame *frame);
/* ipc_frame_add - append a field; VALUE may hold any bytes but NUL */
void ipc_frame_add(CtiIpcFrame *frame, const char *name, const char *value);
void ipc_frame_addf(CtiIpcFrame *frame, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* ipc_frame_get - first value of NAME (case-insensitive) or NULL; (transfer none) */
const char *ipc_frame_get(const CtiIpcFrame *frame, const char *name);
/* ipc_frame_set_body - attach a body; sets Body-Length when encoded */
void ipc_frame_set_body(CtiIpcFrame *frame, GBytes *body);
/* ipc_frame_encode - wire bytes of the frame (transfer full) */
GBytes *ipc_frame_encode(const CtiIpcFrame *frame);

/* Incremental decoder: feed bytes as they arrive, take frames as they complete. */
typedef struct CtiIpcDecoder CtiIpcDecoder;
CtiIpcDecoder *ipc_decoder_new(gsize max_body);
void ipc_decoder_free(CtiIpcDecoder *dec);
/* ipc_decoder_feed - append LEN bytes; FALSE + error on a malformed or oversized frame */
gboolean ipc_decoder_feed(CtiIpcDecoder *dec, const void *data, gsize len, GError **error);
/* ipc_decoder_next - the next complete frame or NULL (transfer full); FALSE + error if malformed */
gboolean ipc_decoder_next(CtiIpcDecoder *dec, CtiIpcFrame **frame_out, GError **error);
/* ipc_read_frame - the next frame of the stream on FD through DEC, which lives as long as
 * the stream (a frame may share a read with the one before) (transfer full); a failed
 * read or the stream's end is G_IO_ERROR_CONNECTION_CLOSED "PREFIX<strerror or CLOSED>" */
CtiIpcFrame *ipc_read_frame(int fd, CtiIpcDecoder *dec, const char *prefix, const char *closed,
                            GError **error);

/* Blocking client helpers for the milter and the CLIs. */
/* ipc_connect - connect to the UNIX socket PATH, with a send/receive timeout in ms; fd or -1 + error */
int ipc_connect(const char *path, int timeout_ms, GError **error);
/* ipc_send - write the whole frame */
gboolean ipc_send(int fd, const CtiIpcFrame *frame, GError **error);
/* ipc_recv - read exactly one frame (transfer full) */
CtiIpcFrame *ipc_recv(int fd, gsize max_body, GError **error);
/* ipc_call - connect, send REQUEST, receive one reply, close (transfer full) */
CtiIpcFrame *ipc_call(const char *path, const CtiIpcFrame *request, int timeout_ms, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiIpcFrame, ipc_frame_free)

#endif
