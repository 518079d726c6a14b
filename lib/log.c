/* log - Postfix-style logging: "TIME ident[pid]: level: text" on stderr
 * and/or "ident[pid]: text" to syslog, facility mail.
 *
 * State is process-global (ident, outputs, debug flag) and set at start-up
 * by log_init() and log_set_syslog(); a mutex keeps lines from different
 * threads (the milter runs one thread per connection) whole.  Logging
 * cannot fail: a short write to stderr is ignored.  Control characters in
 * the text are escaped so that a log line stays one line.
 *
 * Syslog is spoken here rather than through syslog(3) so that the socket is
 * a setting ([log] syslog_socket, default /dev/log): a chrooted or
 * containerised host, or a test with its own rsyslogd, names its socket.
 * The wire format is what glibc's syslog(3) sends (RFC 3164 over a datagram
 * socket).  Info lines carry no level word, as in Postfix's mail.log; a line
 * that cannot be delivered (no syslog daemon) goes to stderr instead.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define LOG_SYSLOG_MAX 8192 /* bytes of one datagram; longer text is cut */

static char *log_ident;
static char *log_socket_path; /* NULL: no syslog */
static int log_socket_fd = -1;
static gboolean log_to_stderr = TRUE;
static gboolean log_debug_on;
static GMutex log_lock;
static gsize writer_once;

/* log_escape - copy TEXT with control characters as \n, \r, \t, \xHH */
static char *log_escape(const char *text)
{
	GString *out = g_string_sized_new(strlen(text));

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n')
			g_string_append(out, "\\n");
		else if (*p == '\r')
			g_string_append(out, "\\r");
		else if (*p == '\t')
			g_string_append(out, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			g_string_append_printf(out, "\\x%02x", *p);
		else
			g_string_append_c(out, (char)*p);
	}
	return g_string_free(out, FALSE);
}

/* log_format_line - "ident[pid]: level: text" with control characters escaped */
char *log_format_line(const char *level, const char *text)
{
	g_autofree char *safe = log_escape(text);

	return g_strdup_printf("%s[%ld]: %s: %s",
	                       log_ident         ? log_ident
	                       : g_get_prgname() ? g_get_prgname()
	                                         : "mailcti",
	                       (long)getpid(), level, safe);
}

/* log_syslog_connect - (re)open the datagram socket to log_socket_path; FALSE if none */
static gboolean log_syslog_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (log_socket_fd >= 0)
		close(log_socket_fd);
	log_socket_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (log_socket_fd < 0)
		return FALSE;
	g_strlcpy(sun.sun_path, log_socket_path, sizeof sun.sun_path);
	if (connect(log_socket_fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(log_socket_fd);
		log_socket_fd = -1;
		return FALSE;
	}
	return TRUE;
}

/* log_syslog_line - "<PRI>Mmm dd hh:mm:ss ident[pid]: [level: ]text" (transfer full) */
char *log_syslog_line(int priority, const char *level, const char *text)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%b %e %H:%M:%S");
	g_autofree char *safe = log_escape(text);
	char *line = g_strdup_printf("<%d>%s %s[%ld]: %s%s%s", LOG_MAIL | priority, stamp,
	                             log_ident ? log_ident : "mailcti", (long)getpid(),
	                             priority == LOG_INFO ? "" : level,
	                             priority == LOG_INFO ? "" : ": ", safe);

	if (strlen(line) > LOG_SYSLOG_MAX)
		line[LOG_SYSLOG_MAX] = '\0';
	return line;
}

/* log_syslog_send - one datagram; one reconnect when the daemon was restarted */
static gboolean log_syslog_send(const char *line)
{
	gsize len = strlen(line);

	for (int tries = 0; tries < 2; tries++) {
		if (log_socket_fd < 0 && !log_syslog_connect())
			return FALSE;
		if (send(log_socket_fd, line, len, MSG_NOSIGNAL) == (ssize_t)len)
			return TRUE;
		close(log_socket_fd);
		log_socket_fd = -1;
	}
	return FALSE;
}

/* log_stderr_line - "YYYY-MM-DDThh:mm:ss.mmmZ ident[pid]: level: text" on stderr */
static void log_stderr_line(const char *level, const char *text)
{
	g_autofree char *line = log_format_line(level, text);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");

	fprintf(stderr, "%s.%03dZ %s\n", stamp, g_date_time_get_microsecond(now) / 1000, line);
	fflush(stderr);
}

static void log_emit(int priority, const char *level, const char *text)
{
	gboolean sent = FALSE;

	g_mutex_lock(&log_lock);
	if (log_socket_path != NULL) {
		g_autofree char *line = log_syslog_line(priority, level, text);

		sent = log_syslog_send(line);
	}
	if (log_to_stderr || !sent)
		log_stderr_line(level, text);
	g_mutex_unlock(&log_lock);
}

static void log_emitv(int priority, const char *level, const char *fmt, va_list ap)
    G_GNUC_PRINTF(3, 0);
static void log_emitv(int priority, const char *level, const char *fmt, va_list ap)
{
	g_autofree char *text = g_strdup_vprintf(fmt, ap);

	log_emit(priority, level, text);
}

/* log_glib_handler - route g_log() messages of any domain into our format */
static void log_glib_handler(const char *domain, GLogLevelFlags level, const char *message,
                             gpointer data)
{
	g_autofree char *text =
	    domain ? g_strdup_printf("%s: %s", domain, message) : g_strdup(message);

	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		log_emit(LOG_ERR, level & G_LOG_LEVEL_ERROR ? "fatal" : "error", text);
	else if (level & G_LOG_LEVEL_WARNING)
		log_emit(LOG_WARNING, "warning", text);
	else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		log_emit(LOG_INFO, "info", text);
	else if (log_debug_on)
		log_emit(LOG_DEBUG, "debug", text);
}

/* log_glib_writer - the same for structured logging (GLib and GIO use it internally) */
static GLogWriterOutput log_glib_writer(GLogLevelFlags level, const GLogField *fields,
                                        gsize n_fields, gpointer data)
{
	const char *domain = NULL;
	const char *message = NULL;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
			domain = fields[i].value;
		else if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
			message = fields[i].value;
	}
	if (!message)
		return G_LOG_WRITER_UNHANDLED;
	log_glib_handler(domain, level, message, data);
	return G_LOG_WRITER_HANDLED;
}

/* log_set_syslog - see log.h */
void log_set_syslog(const char *socket_path, gboolean also_stderr)
{
	g_mutex_lock(&log_lock);
	if (log_socket_fd >= 0)
		close(log_socket_fd);
	log_socket_fd = -1;
	g_free(log_socket_path);
	log_socket_path = g_strdup(socket_path);
	log_to_stderr = socket_path == NULL || also_stderr;
	if (log_socket_path != NULL)
		log_syslog_connect(); /* now, before a chroot or a drop of privileges */
	g_mutex_unlock(&log_lock);
}

/* log_init - set the ident and syslog use; route GLib's logging here */
void log_init(const char *ident, gboolean use_syslog)
{
	g_free(log_ident);
	log_ident = g_strdup(ident);
	log_set_syslog(use_syslog ? LOG_DEFAULT_SYSLOG_SOCKET : NULL, TRUE);
	g_log_set_default_handler(log_glib_handler, NULL);
	/* g_log_set_writer_func() may be called only once per process */
	if (g_once_init_enter(&writer_once)) {
		g_log_set_writer_func(log_glib_writer, NULL, NULL);
		g_once_init_leave(&writer_once, 1);
	}
	if (g_getenv("MAILCTI_DEBUG"))
		log_debug_on = TRUE;
}

/* log_set_debug - turn debug lines on or off */
void log_set_debug(gboolean enabled)
{
	log_debug_on = enabled;
}

/* log_get_debug - whether debug lines are on */
gboolean log_get_debug(void)
{
	return log_debug_on;
}

/* log_info - informational line */
void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emitv(LOG_INFO, "info", fmt, ap);
	va_end(ap);
}

/* log_warning - warning line */
void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emitv(LOG_WARNING, "warning", fmt, ap);
	va_end(ap);
}

/* log_error - error line */
void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emitv(LOG_ERR, "error", fmt, ap);
	va_end(ap);
}

/* log_debug - debug line, only when enabled */
void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_emitv(LOG_DEBUG, "debug", fmt, ap);
	va_end(ap);
}
