/* simlog.h - simulated clock, sim-time timers and the JSON-lines log. */
#pragma once

#include <glib.h>

gboolean simlog_open(const char *path, double time_scale, GError **error);
void simlog_close(void);
double simlog_now(void);
double simlog_time_scale(void);
guint simlog_timeout_add(double sim_seconds, GSourceFunc fn, gpointer data);

void simlog_json_str(GString *out, const char *s);
void simlog_write(const char *type, GString *fields);
void simlog_rx(const char *service, const char *invoke, GString *args_json, const char *xml,
	       gsize xml_len);
void simlog_tx(const char *msg, const char *invoke, const char *xml, gsize xml_len);
void simlog_state(const char *call, const char *device, const char *state, const char *cause);
void simlog_kv(const char *type, ...) G_GNUC_NULL_TERMINATED;
