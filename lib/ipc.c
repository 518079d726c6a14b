/* ipc - encode and decode MCTI/1 frames; blocking client helpers.
 *
 * Frames are owned by whoever created or decoded them.  The decoder owns a
 * byte buffer and a queue of complete frames; it accepts input split at any
 * byte and bounds the header part (CTI_IPC_MAX_HEADER bytes, 128 fields) and
 * the body (its max_body).  A malformed frame puts the decoder in a failed
 * state: the peer is broken, the connection should be closed.  All errors
 * are in G_IO_ERROR: INVALID_DATA for bad frames, TIMED_OUT when a socket
 * timeout fires, CONNECTION_CLOSED on a short read, FAILED otherwise.
 */
#include "ipc.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define IPC_MAX_VERB    32
#define IPC_MAX_NAME    64
#define IPC_BODY_LENGTH "Body-Length"

/* ipc_frame_new - empty frame */
CtiIpcFrame *ipc_frame_new(const char *verb)
{
	CtiIpcFrame *frame = g_new0(CtiIpcFrame, 1);

	frame->verb = g_strdup(verb);
	frame->names = g_ptr_array_new_with_free_func(g_free);
	frame->values = g_ptr_array_new_with_free_func(g_free);
	return frame;
}

/* ipc_frame_free - free; NULL is a no-op */
void ipc_frame_free(CtiIpcFrame *frame)
{
	if (!frame)
		return;
	g_free(frame->verb);
	g_ptr_array_unref(frame->names);
	g_ptr_array_unref(frame->values);
	g_clear_pointer(&frame->body, g_bytes_unref);
	g_free(frame);
}

/* ipc_frame_add - append NAME: VALUE */
void ipc_frame_add(CtiIpcFrame *frame, const char *name, const char *value)
{
	g_return_if_fail(frame != NULL && name != NULL);
	g_ptr_array_add(frame->names, g_strdup(name));
	g_ptr_array_add(frame->values, g_strdup(value ? value : ""));
}

/* ipc_frame_addf - append a formatted field */
void ipc_frame_addf(CtiIpcFrame *frame, const char *name, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *value = NULL;

	va_start(ap, fmt);
	value = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	ipc_frame_add(frame, name, value);
}

/* ipc_frame_get - first value of NAME */
const char *ipc_frame_get(const CtiIpcFrame *frame, const char *name)
{
	for (guint i = 0; i < frame->names->len; i++)
		if (g_ascii_strcasecmp(frame->names->pdata[i], name) == 0)
			return frame->values->pdata[i];
	return NULL;
}

/* ipc_frame_set_body - attach BODY (a new reference is taken); NULL removes it */
void ipc_frame_set_body(CtiIpcFrame *frame, GBytes *body)
{
	if (body)
		g_bytes_ref(body);
	g_clear_pointer(&frame->body, g_bytes_unref);
	frame->body = body;
}

static void ipc_escape_into(GString *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			g_string_append_c(out, *p);
		}
	}
}

/* ipc_frame_encode - wire bytes; a caller's own Body-Length field is replaced by the real one */
GBytes *ipc_frame_encode(const CtiIpcFrame *frame)
{
	GString *out = g_string_new(CTI_IPC_VERSION " ");
	gsize body_len = frame->body ? g_bytes_get_size(frame->body) : 0;

	g_string_append_printf(out, "%s\n", frame->verb);
	for (guint i = 0; i < frame->names->len; i++) {
		if (g_ascii_strcasecmp(frame->names->pdata[i], IPC_BODY_LENGTH) == 0)
			continue;
		g_string_append_printf(out, "%s: ", (const char *)frame->names->pdata[i]);
		ipc_escape_into(out, frame->values->pdata[i]);
		g_string_append_c(out, '\n');
	}
	if (frame->body)
		g_string_append_printf(out, IPC_BODY_LENGTH ": %" G_GSIZE_FORMAT "\n", body_len);
	g_string_append_c(out, '\n');
	if (body_len)
		g_string_append_len(out, g_bytes_get_data(frame->body, NULL), (gssize)body_len);
	return g_string_free_to_bytes(out);
}

/* ---- decoder ---- */

struct CtiIpcDecoder {
	GByteArray *buf;
	gsize max_body;
	gsize scanned;        /* bytes of buf searched for the header end */
	CtiIpcFrame *pending; /* header parsed, waiting for its body */
	gsize body_len;
	GQueue frames;
	GError *failure; /* set once the stream is broken */
};

/* ipc_decoder_new - a decoder accepting bodies up to MAX_BODY bytes */
CtiIpcDecoder *ipc_decoder_new(gsize max_body)
{
	CtiIpcDecoder *dec = g_new0(CtiIpcDecoder, 1);

	dec->buf = g_byte_array_new();
	dec->max_body = max_body;
	g_queue_init(&dec->frames);
	return dec;
}

/* ipc_decoder_free - free with any queued frames */
void ipc_decoder_free(CtiIpcDecoder *dec)
{
	if (!dec)
		return;
	g_byte_array_unref(dec->buf);
	ipc_frame_free(dec->pending);
	g_queue_clear_full(&dec->frames, (GDestroyNotify)ipc_frame_free);
	g_clear_error(&dec->failure);
	g_free(dec);
}

static gboolean ipc_bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean ipc_bad(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad ipc frame: %s", msg);
	return FALSE;
}

static gboolean ipc_is_token(const char *s, gsize len, gsize max, gboolean upper_only)
{
	if (len == 0 || len > max)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		char c = s[i];
		if (!(g_ascii_isupper(c) || g_ascii_isdigit(c) || c == '-' || c == '_' ||
		      (!upper_only && g_ascii_islower(c))))
			return FALSE;
	}
	return TRUE;
}

/* ipc_unescape - VALUE of LEN bytes with \\ \n \r \t undone (transfer full), or NULL */
static char *ipc_unescape(const char *value, gsize len)
{
	GString *out = g_string_sized_new(len);

	for (gsize i = 0; i < len; i++) {
		char c = value[i];

		if (c == '\0' || c == '\r') {
			g_string_free(out, TRUE);
			return NULL;
		}
		if (c != '\\') {
			g_string_append_c(out, c);
			continue;
		}
		if (++i == len) {
			g_string_free(out, TRUE);
			return NULL;
		}
		switch (value[i]) {
		case '\\':
			g_string_append_c(out, '\\');
			break;
		case 'n':
			g_string_append_c(out, '\n');
			break;
		case 'r':
			g_string_append_c(out, '\r');
			break;
		case 't':
			g_string_append_c(out, '\t');
			break;
		default:
			g_string_free(out, TRUE);
			return NULL;
		}
	}
	return g_string_free(out, FALSE);
}

/* ipc_parse_version_line - the first line "MCTI/1 VERB"; returns the verb (transfer full) */
static char *ipc_parse_version_line(const char *line, gsize len, GError **error)
{
	gsize vlen = strlen(CTI_IPC_VERSION);

	if (len < vlen + 1 || memcmp(line, CTI_IPC_VERSION, vlen) != 0 || line[vlen] != ' ') {
		ipc_bad(error, "not an %s frame", CTI_IPC_VERSION);
		return NULL;
	}
	if (!ipc_is_token(line + vlen + 1, len - vlen - 1, IPC_MAX_VERB, TRUE)) {
		ipc_bad(error, "bad verb");
		return NULL;
	}
	return g_strndup(line + vlen + 1, len - vlen - 1);
}

/* ipc_parse_body_length - the decimal Body-Length value */
static gboolean ipc_parse_body_length(CtiIpcDecoder *dec, const char *value, GError **error)
{
	guint64 n = 0;

	if (dec->pending->body ||
	    !g_ascii_string_to_unsigned(value, 10, 0, dec->max_body, &n, NULL) ||
	    !g_ascii_isdigit(value[0]))
		return ipc_bad(error,
		               "bad or oversized Body-Length '%.20s' (limit %" G_GSIZE_FORMAT ")",
		               value, dec->max_body);
	dec->body_len = (gsize)n;
	/* a placeholder marks "a body is expected"; replaced when complete */
	dec->pending->body = g_bytes_new(NULL, 0);
	return TRUE;
}

/* ipc_parse_field - one "Name: value" line into the pending frame */
static gboolean ipc_parse_field(CtiIpcDecoder *dec, const char *line, gsize len, GError **error)
{
	const char *colon = memchr(line, ':', len);
	gsize nlen, voff;
	char *value;

	if (!colon || !ipc_is_token(line, (gsize)(colon - line), IPC_MAX_NAME, FALSE))
		return ipc_bad(error, "bad field line");
	nlen = (gsize)(colon - line);
	voff = nlen + 1;
	if (voff < len && line[voff] == ' ')
		voff++;
	value = ipc_unescape(line + voff, len - voff);
	if (!value)
		return ipc_bad(error, "bad escape or byte in a field value");
	if (nlen == strlen(IPC_BODY_LENGTH) &&
	    g_ascii_strncasecmp(line, IPC_BODY_LENGTH, nlen) == 0) {
		gboolean ok = ipc_parse_body_length(dec, value, error);
		g_free(value);
		return ok;
	}
	if (dec->pending->names->len >= CTI_IPC_MAX_FIELDS) {
		g_free(value);
		return ipc_bad(error, "more than %d fields", CTI_IPC_MAX_FIELDS);
	}
	g_ptr_array_add(dec->pending->names, g_strndup(line, nlen));
	g_ptr_array_add(dec->pending->values, value);
	return TRUE;
}

/* ipc_parse_header - the header part buf[0..hlen) ending with the blank line */
static gboolean ipc_parse_header(CtiIpcDecoder *dec, gsize hlen, GError **error)
{
	const char *data = (const char *)dec->buf->data;
	const char *nl = memchr(data, '\n', hlen);
	char *verb = ipc_parse_version_line(data, (gsize)(nl - data), error);
	gsize pos = (gsize)(nl - data) + 1;

	if (!verb)
		return FALSE;
	dec->pending = ipc_frame_new(verb);
	g_free(verb);
	dec->body_len = 0;
	while (pos < hlen - 1) {
		const char *end = memchr(data + pos, '\n', hlen - pos);
		if (!ipc_parse_field(dec, data + pos, (gsize)(end - (data + pos)), error))
			return FALSE;
		pos = (gsize)(end - data) + 1;
	}
	g_byte_array_remove_range(dec->buf, 0, (guint)hlen);
	dec->scanned = 0;
	return TRUE;
}

/* ipc_find_header_end - length of the header part including "\n\n", or 0 */
static gsize ipc_find_header_end(CtiIpcDecoder *dec)
{
	const guint8 *data = dec->buf->data;
	gsize len = dec->buf->len;
	gsize i = dec->scanned ? dec->scanned - 1 : 0;

	for (; i + 1 < len; i++)
		if (data[i] == '\n' && data[i + 1] == '\n')
			return i + 2;
	dec->scanned = len;
	return 0;
}

/* ipc_check_early - reject a stream that cannot become a frame before it completes */
static gboolean ipc_check_early(CtiIpcDecoder *dec, GError **error)
{
	gsize vlen = strlen(CTI_IPC_VERSION);
	gsize n = MIN(dec->buf->len, vlen);

	if (memcmp(dec->buf->data, CTI_IPC_VERSION, n) != 0)
		return ipc_bad(error, "not an %s frame", CTI_IPC_VERSION);
	return TRUE;
}

/* ipc_step - make progress; TRUE if a frame was completed */
static gboolean ipc_step(CtiIpcDecoder *dec, gboolean *progress, GError **error)
{
	*progress = FALSE;
	if (!dec->pending) {
		gsize hlen;

		if (dec->buf->len == 0)
			return TRUE;
		if (!ipc_check_early(dec, error))
			return FALSE;
		hlen = ipc_find_header_end(dec);
		if (hlen == 0 && dec->buf->len <= CTI_IPC_MAX_HEADER)
			return TRUE;
		if (hlen == 0 || hlen > CTI_IPC_MAX_HEADER)
			return ipc_bad(error, "header part larger than %d bytes",
			               CTI_IPC_MAX_HEADER);
		if (!ipc_parse_header(dec, hlen, error))
			return FALSE;
	}
	if (dec->pending->body) {
		if (dec->buf->len < dec->body_len)
			return TRUE;
		g_bytes_unref(dec->pending->body);
		dec->pending->body = g_bytes_new(dec->buf->data, dec->body_len);
		g_byte_array_remove_range(dec->buf, 0, (guint)dec->body_len);
	}
	g_queue_push_tail(&dec->frames, g_steal_pointer(&dec->pending));
	*progress = TRUE;
	return TRUE;
}

/* ipc_decoder_feed - append and decode what is complete */
gboolean ipc_decoder_feed(CtiIpcDecoder *dec, const void *data, gsize len, GError **error)
{
	gboolean progress = TRUE;

	if (dec->failure) {
		g_propagate_error(error, g_error_copy(dec->failure));
		return FALSE;
	}
	g_byte_array_append(dec->buf, data, (guint)len);
	while (progress) {
		if (!ipc_step(dec, &progress, &dec->failure)) {
			g_propagate_error(error, g_error_copy(dec->failure));
			return FALSE;
		}
	}
	return TRUE;
}

/* ipc_decoder_next - pop a complete frame; *FRAME_OUT NULL when none is complete */
gboolean ipc_decoder_next(CtiIpcDecoder *dec, CtiIpcFrame **frame_out, GError **error)
{
	*frame_out = g_queue_pop_head(&dec->frames);
	if (!*frame_out && dec->failure) {
		g_propagate_error(error, g_error_copy(dec->failure));
		return FALSE;
	}
	return TRUE;
}

/* ---- blocking client helpers ---- */

static void ipc_set_errno_error(GError **error, int err, const char *what)
{
	if (err == EAGAIN || err == EWOULDBLOCK)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s: timed out", what);
	else
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", what,
		            g_strerror(err));
}

/* ipc_connect - UNIX stream connection with SO_RCVTIMEO/SO_SNDTIMEO */
int ipc_connect(const char *path, int timeout_ms, GError **error)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ipc_set_errno_error(error, errno, "socket");
		return -1;
	}
	if (timeout_ms > 0 && (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	                       setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)) {
		ipc_set_errno_error(error, errno, "setsockopt");
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		g_autofree char *what = g_strdup_printf("connect to %s", path);
		ipc_set_errno_error(error, err, what);
		close(fd);
		return -1;
	}
	return fd;
}

/* ipc_send - write the whole encoded frame (no SIGPIPE) */
gboolean ipc_send(int fd, const CtiIpcFrame *frame, GError **error)
{
	g_autoptr(GBytes) bytes = ipc_frame_encode(frame);
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ipc_set_errno_error(error, errno, "ipc send");
			return FALSE;
		}
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* ipc_recv - read until one frame is complete (bytes after it are dropped) */
CtiIpcFrame *ipc_recv(int fd, gsize max_body, GError **error)
{
	CtiIpcDecoder *dec = ipc_decoder_new(max_body);
	CtiIpcFrame *frame = NULL;
	char buf[8192];

	while (!frame) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ipc_set_errno_error(error, errno, "ipc receive");
			break;
		}
		if (n == 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
			            "ipc receive: connection closed before a complete frame");
			break;
		}
		if (!ipc_decoder_feed(dec, buf, (gsize)n, error) ||
		    !ipc_decoder_next(dec, &frame, error))
			break;
	}
	ipc_decoder_free(dec);
	return frame;
}

/* ipc_read_frame - see ipc.h */
CtiIpcFrame *ipc_read_frame(int fd, CtiIpcDecoder *dec, const char *prefix, const char *closed,
                            GError **error)
{
	CtiIpcFrame *frame = NULL;
	char buf[8192];

	while (ipc_decoder_next(dec, &frame, error) && frame == NULL) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "%s%s", prefix,
			            n < 0 ? g_strerror(errno) : closed);
			return NULL;
		}
		if (!ipc_decoder_feed(dec, buf, (gsize)n, error))
			return NULL;
	}
	return frame;
}

/* ipc_call - one request, one reply */
CtiIpcFrame *ipc_call(const char *path, const CtiIpcFrame *request, int timeout_ms, GError **error)
{
	int fd = ipc_connect(path, timeout_ms, error);
	CtiIpcFrame *reply = NULL;

	if (fd < 0)
		return NULL;
	if (ipc_send(fd, request, error))
		reply = ipc_recv(fd, 16 * 1024 * 1024, error);
	close(fd);
	return reply;
}
