/* main.c - pbx-sim: a PBX simulator speaking CSTA Phase III XML (ECMA-323) over
 * TCP, for testing CTI clients without a real switch.
 *
 * Parses the options, loads the configuration (tier 2: a bad option or file
 * ends the program with one line on stderr and exit status 1), starts the log,
 * the CSTA listener and the control socket, and runs one GMainLoop until SIGTERM
 * or SIGINT, then closes every client and removes the control socket.
 * "pbx-sim --ctl PATH COMMAND..." is the control client instead.
 */
#include "build-config.h" /* PACKAGE_VERSION */
#include <glib-unix.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "model.h"
#include "session.h"
#include "simconf.h"
#include "simlog.h"
#include "sip.h"
#include "simtls.h"
#include "xml.h"

typedef struct {
	char *config, *listen, *log, *control, *ctl;
	char *style, *ns, *media_dir, *prefix;
	char *sip, *sip_password;
	char *tls_cert, *tls_key, *tls_client_ca;
	double time_scale;
	double talk_time; /* < 0: not given */
	gboolean version;
} Options;

static void
options_clear(Options *o)
{
	g_free(o->config);
	g_free(o->listen);
	g_free(o->log);
	g_free(o->control);
	g_free(o->ctl);
	g_free(o->style);
	g_free(o->ns);
	g_free(o->media_dir);
	g_free(o->prefix);
	g_free(o->sip);
	g_free(o->sip_password);
	g_free(o->tls_cert);
	g_free(o->tls_key);
	g_free(o->tls_client_ca);
}

static gboolean
on_signal(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_CONTINUE;
}

static gboolean
parse_style(const char *text, SessStyle *style)
{
	static const struct {
		const char *name;
		SessStyle style;
	} styles[] = {
		{ "both", SESS_STYLE_BOTH },
		{ "ecma354", SESS_STYLE_ECMA354 },
		{ "system-status", SESS_STYLE_SYSTEM_STATUS },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(styles); i++) {
		if (strcmp(text, styles[i].name) == 0) {
			*style = styles[i].style;
			return TRUE;
		}
	}
	return FALSE;
}

static const char *
parse_ns(const char *text)
{
	static const struct {
		const char *name, *uri;
	} editions[] = {
		{ "ed2", NS_ED2 },
		{ "ed3", NS_CSTA_PREFIX "3" },
		{ "ed4", NS_CSTA_PREFIX "4" },
		{ "ed5", NS_CSTA_PREFIX "5" },
		{ "ed6", NS_CSTA_PREFIX "6" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(editions); i++)
		if (strcmp(text, editions[i].name) == 0)
			return editions[i].uri;
	return NULL;
}

static gboolean
parse_options(int *argc, char ***argv, Options *o, GError **error)
{
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config, "configuration file", "FILE" },
		{ "listen", 'l', 0, G_OPTION_ARG_STRING, &o->listen, "CSTA listen address", "127.0.0.1:PORT" },
		{ "log", 0, 0, G_OPTION_ARG_FILENAME, &o->log, "JSON-lines log", "FILE" },
		{ "control", 0, 0, G_OPTION_ARG_FILENAME, &o->control, "control socket", "PATH" },
		{ "time-scale", 0, 0, G_OPTION_ARG_DOUBLE, &o->time_scale, "simulated seconds per wall second", "X" },
		{ "session-style", 0, 0, G_OPTION_ARG_STRING, &o->style, "both|ecma354|system-status", "STYLE" },
		{ "namespace", 0, 0, G_OPTION_ARG_STRING, &o->ns, "default CSTA edition", "ed3|ed4|ed6" },
		{ "prefix", 0, 0, G_OPTION_ARG_STRING, &o->prefix, "answer with NAME: on every element (overrides [sim] prefix)", "NAME" },
		{ "media-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->media_dir, "voice unit files (overrides [sim] media_dir)", "DIR" },
		{ "talk-time", 0, 0, G_OPTION_ARG_DOUBLE, &o->talk_time, "simulated seconds an answered external party talks, 0 = until cleared (overrides [sim] talk_time)", "SECS" },
		{ "sip", 0, 0, G_OPTION_ARG_STRING, &o->sip, "SIP registrar and phones (UDP)", "127.0.0.1:PORT" },
		{ "sip-password", 0, 0, G_OPTION_ARG_STRING, &o->sip_password, "digest password of every extension (overrides [sim] sip_password)", "PW" },
		{ "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_cert, "serve TLS with this PEM certificate", "FILE" },
		{ "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_key, "its PEM key (default: in --tls-cert)", "FILE" },
		{ "tls-client-ca", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_client_ca, "require a client certificate issued by this CA", "FILE" },
		{ "ctl", 0, 0, G_OPTION_ARG_FILENAME, &o->ctl, "send COMMAND to a running pbx-sim", "PATH" },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &o->version, "print the version and exit", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("| --ctl PATH COMMAND...");
	g_option_context_set_summary(ctx, "A PBX simulator speaking CSTA XML (ECMA-323) over TCP.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	o->time_scale = 1.0;
	o->talk_time = -1;
	return g_option_context_parse(ctx, argc, argv, error);
}

static gboolean
start_sip(const char *listen, const SimConf *conf, GError **error)
{
	if (conf->sip_password == NULL || *conf->sip_password == '\0') {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--sip needs a password: --sip-password or [sim] sip_password");
		return FALSE;
	}
	if (!sip_start(conf, listen, conf->sip_password, model_sip_event, NULL, error))
		return FALSE;
	simlog_kv("sip", "event", "listen", "listen", listen, NULL);
	return TRUE;
}

static int
run(Options *o, SessStyle style, const char *ns)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(SimConf) conf = simconf_load(o->config, &err);
	if (conf == NULL || !simlog_open(o->log, o->time_scale, &err)) {
		g_printerr("pbx-sim: %s\n", err->message);
		return 1;
	}
	if (o->media_dir != NULL) {
		g_free(conf->media_dir);
		conf->media_dir = g_strdup(o->media_dir);
	}
	if (o->talk_time >= 0)
		conf->talk_time = o->talk_time;
	const char *prefix = o->prefix != NULL ? o->prefix : conf->prefix;
	if (prefix != NULL && *prefix != '\0' && !xml_prefix_valid(prefix)) {
		g_printerr("pbx-sim: bad element prefix \"%s\"\n", prefix);
		simlog_close();
		return 1;
	}
	xml_set_prefix(prefix);
	if (o->tls_cert != NULL &&
	    !simtls_init(o->tls_cert, o->tls_key ? o->tls_key : o->tls_cert, o->tls_client_ca, &err)) {
		g_printerr("pbx-sim: %s\n", err->message);
		simlog_close();
		xml_set_prefix(NULL);
		return 1;
	}
	model_init(conf);
	if (o->sip_password != NULL) {
		g_free(conf->sip_password);
		conf->sip_password = g_strdup(o->sip_password);
	}
	/* SIP first: once the CSTA port accepts, phones can register too. */
	if ((o->sip != NULL && !start_sip(o->sip, conf, &err)) ||
	    !session_listen(o->listen, conf, style, ns, &err) ||
	    (o->control != NULL && !control_listen(o->control, &err))) {
		g_printerr("pbx-sim: %s\n", err->message);
		sip_stop();
		control_shutdown();
		session_shutdown();
		simtls_shutdown();
		model_shutdown();
		simlog_close();
		xml_set_prefix(NULL);
		return 1;
	}
	simlog_kv("session", "event", "start", "listen", o->listen, "style", o->style, "tls",
		  simtls_enabled() ? (o->tls_client_ca ? "client-cert-required" : "yes") : "no",
		  NULL);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	guint term = g_unix_signal_add(SIGTERM, on_signal, loop);
	guint intr = g_unix_signal_add(SIGINT, on_signal, loop);
	g_main_loop_run(loop);
	g_clear_handle_id(&term, g_source_remove);
	g_clear_handle_id(&intr, g_source_remove);
	simlog_kv("session", "event", "stop", NULL);
	sip_stop();
	control_shutdown();
	session_shutdown();
	model_shutdown();
	simtls_shutdown();
	simlog_close();
	xml_set_prefix(NULL);
	return 0;
}

static int
dispatch(int argc, char **argv, Options *o)
{
	g_autoptr(GError) err = NULL;
	if (!parse_options(&argc, &argv, o, &err)) {
		g_printerr("pbx-sim: %s\n", err->message);
		return 1;
	}
	if (o->version) {
		g_print("pbx-sim (mailcti) %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (o->ctl != NULL) {
		if (argc < 2) {
			g_printerr("pbx-sim: --ctl needs a command\n");
			return 1;
		}
		return control_client(o->ctl, argc - 1, argv + 1);
	}
	SessStyle style = SESS_STYLE_BOTH;
	const char *ns = parse_ns(o->ns ? o->ns : "ed3");
	if (o->style == NULL)
		o->style = g_strdup("both");
	if (o->config == NULL || o->listen == NULL || !parse_style(o->style, &style) || ns == NULL ||
	    o->time_scale <= 0 || (o->talk_time < 0 && o->talk_time != -1) ||
	    ((o->tls_key || o->tls_client_ca) && !o->tls_cert)) {
		g_printerr("pbx-sim: usage: pbx-sim --config FILE --listen 127.0.0.1:PORT [--log FILE] "
			   "[--control PATH] [--time-scale X] [--session-style both|ecma354|system-status] "
			   "[--namespace ed3|ed4|ed6] [--prefix NAME] [--media-dir DIR] [--talk-time SECS] "
			   "[--sip 127.0.0.1:PORT [--sip-password PW]] "
			   "[--tls-cert FILE [--tls-key FILE] [--tls-client-ca FILE]]\n");
		return 1;
	}
	return run(o, style, ns);
}

int
main(int argc, char **argv)
{
	Options o = { 0 };
	int status = dispatch(argc, argv, &o);
	options_clear(&o);
	return status;
}
