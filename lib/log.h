/* log - Postfix-style logging for every mailcti program.
 *
 * Lines look like "TIME ident[pid]: info: text" on stderr, and go to syslog
 * (mail facility, "ident[pid]: text") when asked.  GLib's own g_message/g_warning/... are routed here
 * too, so one program has one log format.
 */
#ifndef MAILCTI_LOG_H
#define MAILCTI_LOG_H

#include <glib.h>

/* log_init - set the ident (program name) and whether to also use syslog */
void log_init(const char *ident, gboolean use_syslog);
#define LOG_DEFAULT_SYSLOG_SOCKET "/dev/log"

/* log_set_syslog - send lines to the syslog datagram socket SOCKET_PATH (NULL: no syslog);
 * ALSO_STDERR keeps stderr too.  A line syslog does not take goes to stderr anyway. */
void log_set_syslog(const char *socket_path, gboolean also_stderr);
/* log_set_debug - enable or disable log_debug() output (off by default) */
void log_set_debug(gboolean enabled);
/* log_get_debug - whether debug output is on */
gboolean log_get_debug(void);

/* log_info - an informational line */
void log_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* log_warning - something went wrong but the program goes on */
void log_warning(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* log_error - a failure the operator must see */
void log_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* log_debug - a debug line, only when enabled */
void log_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* log_format_line - the text of one line without the newline (for tests) (transfer full) */
char *log_format_line(const char *level, const char *text);

/* log_syslog_line - the datagram syslog gets for one line (for tests) (transfer full) */
char *log_syslog_line(int priority, const char *level, const char *text);

#endif
