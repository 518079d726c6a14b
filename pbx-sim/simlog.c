/* simlog.c - the simulated clock and the JSON-lines log of everything pbx-sim does.
 *
 * Simulated time is wall time since start multiplied by --time-scale; every
 * behaviour delay is in simulated seconds and becomes a GLib timeout of
 * delay / scale.  The log (one JSON object per line, flushed per line) is what
 * tests read to see what the "PBX" did; this module owns the FILE.  A log that
 * cannot be opened is a start-up error; a failed write is reported once on
 * stderr and otherwise ignored (the PBX keeps running).
 */
#include "simlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static FILE *log_fp;
static gint64 start_us;
static double scale = 1.0;
static gboolean write_failed;

/* simlog_open - start the clock and open the log (NULL path: no log) */
gboolean
simlog_open(const char *path, double time_scale, GError **error)
{
	start_us = g_get_monotonic_time();
	scale = time_scale > 0 ? time_scale : 1.0;
	if (path == NULL)
		return TRUE;
	log_fp = fopen(path, "a");
	if (log_fp == NULL) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
			    g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* simlog_close - flush and close the log */
void
simlog_close(void)
{
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
}

/* simlog_now - simulated seconds since start */
double
simlog_now(void)
{
	return (double)(g_get_monotonic_time() - start_us) * scale / 1e6;
}

/* simlog_time_scale - the --time-scale factor */
double
simlog_time_scale(void)
{
	return scale;
}

/* simlog_timeout_add - run FN after SIM_SECONDS of simulated time; returns the source id */
guint
simlog_timeout_add(double sim_seconds, GSourceFunc fn, gpointer data)
{
	double ms = sim_seconds * 1000.0 / scale;
	ms = CLAMP(ms, 0, (double)(G_MAXINT / 2));
	return g_timeout_add((guint)(ms + 0.5), fn, data);
}

/* simlog_json_str - append S as a JSON string literal ("null" for NULL) */
void
simlog_json_str(GString *out, const char *s)
{
	if (s == NULL) {
		g_string_append(out, "null");
		return;
	}
	/* The log must stay valid JSON whatever a peer sent. */
	g_autofree char *valid = g_utf8_make_valid(s, -1);
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)valid; *p != '\0'; p++) {
		switch (*p) {
		case '"': g_string_append(out, "\\\""); break;
		case '\\': g_string_append(out, "\\\\"); break;
		case '\n': g_string_append(out, "\\n"); break;
		case '\r': g_string_append(out, "\\r"); break;
		case '\t': g_string_append(out, "\\t"); break;
		default:
			if (*p < 0x20)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
			break;
		}
	}
	g_string_append_c(out, '"');
}

/* simlog_write - write one line: ts, wall, type, then FIELDS (",\"k\":v..." or empty) */
void
simlog_write(const char *type, GString *fields)
{
	if (log_fp == NULL)
		return;
	g_autoptr(GString) line = g_string_sized_new(256);
	g_string_append_printf(line, "{\"ts\":%.6f,\"wall\":%.6f,\"type\":", simlog_now(),
			       (double)g_get_real_time() / 1e6);
	simlog_json_str(line, type);
	if (fields != NULL)
		g_string_append_len(line, fields->str, fields->len);
	g_string_append(line, "}\n");
	if ((fwrite(line->str, 1, line->len, log_fp) != line->len || fflush(log_fp) != 0) &&
	    !write_failed) {
		write_failed = TRUE;
		g_printerr("pbx-sim: writing the log failed: %s\n", g_strerror(errno));
	}
}

static void
field(GString *out, const char *key, const char *value)
{
	g_string_append_c(out, ',');
	simlog_json_str(out, key);
	g_string_append_c(out, ':');
	simlog_json_str(out, value);
}

static void
field_len(GString *out, const char *key, const char *value, gsize len)
{
	g_autofree char *copy = g_strndup(value, len);
	field(out, key, copy);
}

/* simlog_rx - log a request received; ARGS_JSON is a JSON object text */
void
simlog_rx(const char *service, const char *invoke, GString *args_json, const char *xml,
	  gsize xml_len)
{
	g_autoptr(GString) f = g_string_new(NULL);
	field(f, "service", service);
	field(f, "invoke", invoke);
	g_string_append(f, ",\"args\":");
	g_string_append_len(f, args_json->str, args_json->len);
	field_len(f, "xml", xml, xml_len);
	simlog_write("rx", f);
}

/* simlog_tx - log a response, error or event sent */
void
simlog_tx(const char *msg, const char *invoke, const char *xml, gsize xml_len)
{
	g_autoptr(GString) f = g_string_new(NULL);
	field(f, "msg", msg);
	field(f, "invoke", invoke);
	field_len(f, "xml", xml, xml_len);
	simlog_write("tx", f);
}

/* simlog_state - log a LocalConnectionState change */
void
simlog_state(const char *call, const char *device, const char *state, const char *cause)
{
	g_autoptr(GString) f = g_string_new(NULL);
	field(f, "call", call);
	field(f, "device", device);
	field(f, "state", state);
	field(f, "cause", cause);
	simlog_write("state", f);
}

/* simlog_kv - log TYPE with string key/value pairs; a key starting with '#' takes
 * a raw JSON value (number, object) and is written without the '#' */
void
simlog_kv(const char *type, ...)
{
	g_autoptr(GString) f = g_string_new(NULL);
	va_list ap;
	va_start(ap, type);
	const char *key;
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		if (key[0] == '#') {
			g_string_append_c(f, ',');
			simlog_json_str(f, key + 1);
			g_string_append_printf(f, ":%s", value ? value : "null");
		} else {
			field(f, key, value);
		}
	}
	va_end(ap);
	simlog_write(type, f);
}
