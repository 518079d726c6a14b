/* ctid - the mailcti job daemon: owns the durable jobs, the PBX link and
 * the notifications (doc/design.md section 1).
 *
 * main() wires the modules on one GMainLoop: config -> sockets (server.c,
 * created before the drop to [ctid] user) -> store -> jobs (jobs*.c) -> PBX
 * link (link.c); nothing is served before the loop runs.  Start-up problems (bad config, unusable
 * store or socket) are logged once and exit 1.  SIGTERM/SIGINT drain: stop accepting, forget the
 * in-memory jobs (the store keeps every live job as it is), end the PBX
 * session politely, exit 0.  SIGHUP retries the PBX link at once.
 * Logging: with -f (foreground) to stderr only; otherwise to syslog, facility
 * mail ([log] syslog_socket), and to stderr as well when that is a terminal.
 */
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "jobs.h"
#include "link.h"
#include "log.h"
#include "privs.h"
#include "server.h"
#include "store.h"

#define CTID_STOP_GRACE_S 5
#define CTID_PURGE_EVERY_S 3600 /* [ctid] keep_finished is applied this often */

typedef struct {
	CtiConfig *config;
	CtiStore *store;
	CtidJobs *jobs;
	CtidLink *link;
	CtidServer *server;
	GMainLoop *loop;
	guint sigterm_id, sigint_id, sighup_id, grace_id, purge_id;
	gboolean stopping;
} Ctid;

static void on_link_stopped(gpointer data)
{
	Ctid *ctid = data;

	g_main_loop_quit(ctid->loop);
}

static gboolean on_grace_expired(gpointer data)
{
	Ctid *ctid = data;

	ctid->grace_id = 0;
	log_warning("the PBX did not confirm the end of the session in %d s; exiting anyway",
	            CTID_STOP_GRACE_S);
	g_main_loop_quit(ctid->loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_terminate(gpointer data)
{
	Ctid *ctid = data;

	if (ctid->stopping)
		return G_SOURCE_CONTINUE;
	ctid->stopping = TRUE;
	log_info("stopping: live jobs stay in the store");
	server_stop(ctid->server);
	g_clear_handle_id(&ctid->purge_id, g_source_remove);
	jobs_stop(ctid->jobs);
	ctid->grace_id = g_timeout_add_seconds(CTID_STOP_GRACE_S, on_grace_expired, ctid);
	link_shutdown(ctid->link, on_link_stopped, ctid);
	return G_SOURCE_CONTINUE;
}

static gboolean on_purge(gpointer data)
{
	Ctid *ctid = data;

	jobs_purge_expired(ctid->jobs);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hangup(gpointer data)
{
	Ctid *ctid = data;

	log_info("SIGHUP: retrying the PBX link now if it is down");
	link_kick(ctid->link);
	return G_SOURCE_CONTINUE;
}

static gboolean ctid_start(Ctid *ctid, GError **error)
{
	const CtiConfig *c = ctid->config;

	g_autoptr(LinkTls) tls = NULL;
	ctid->server = server_new(c);
	if (!server_listen(ctid->server, error))
		return FALSE;
	/* the client key may be readable by root only: load it before the drop */
	if (g_strcmp0(c->pbx_tls, "yes") == 0 && (tls = link_tls_new(c, error)) == NULL)
		return FALSE;
	if (!privs_become(c->ctid_user, error)) {
		g_prefix_error(error, "[ctid] user: ");
		return FALSE;
	}
	ctid->store = store_open(c->jobs_db, c->spool_dir, error);
	if (ctid->store == NULL)
		return FALSE;
	ctid->jobs = jobs_new(c, ctid->store);
	ctid->link = link_new(c, g_steal_pointer(&tls), &jobs_link_hooks, ctid->jobs);
	jobs_set_link(ctid->jobs, ctid->link);
	server_attach(ctid->server, ctid->jobs, ctid->link);
	if (!jobs_resume(ctid->jobs, error))
		return FALSE;
	jobs_purge_expired(ctid->jobs);
	ctid->purge_id = g_timeout_add_seconds(CTID_PURGE_EVERY_S, on_purge, ctid);
	link_start(ctid->link);
	return TRUE;
}

static void ctid_cleanup(Ctid *ctid)
{
	g_clear_handle_id(&ctid->sigterm_id, g_source_remove);
	g_clear_handle_id(&ctid->sigint_id, g_source_remove);
	g_clear_handle_id(&ctid->sighup_id, g_source_remove);
	g_clear_handle_id(&ctid->grace_id, g_source_remove);
	g_clear_handle_id(&ctid->purge_id, g_source_remove);
	g_clear_pointer(&ctid->server, server_free);
	if (ctid->jobs != NULL)
		jobs_stop(ctid->jobs);
	g_clear_pointer(&ctid->link, link_free);
	g_clear_pointer(&ctid->jobs, jobs_free);
	g_clear_pointer(&ctid->store, store_close);
	g_clear_pointer(&ctid->loop, g_main_loop_unref);
	g_clear_pointer(&ctid->config, config_free);
}

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	gboolean debug = FALSE, foreground = FALSE, version = FALSE;
	const GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "mailcti.conf to read",
	     "CONFIG"},
	    {"debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "log every CSTA frame and event", NULL},
	    {"foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground,
	     "log to stderr (with timestamps) instead of syslog", NULL},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version and exit", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) opts = g_option_context_new("- mailcti job daemon");
	g_autoptr(GError) error = NULL;
	Ctid ctid = {0};

	log_init("ctid", FALSE);
	g_option_context_add_main_entries(opts, entries, NULL);
	if (!g_option_context_parse(opts, &argc, &argv, &error)) {
		log_error("%s", error->message);
		return 2;
	}
	if (version) {
		printf("ctid (mailcti) %s\n", PACKAGE_VERSION);
		return 0;
	}
	log_set_debug(debug);
	if (!foreground)
		log_set_syslog(LOG_DEFAULT_SYSLOG_SOCKET, isatty(2));
	ctid.config = config_load(config_path, &error);
	if (ctid.config == NULL) {
		log_error("%s", error->message);
		return 1;
	}
	if (!foreground)
		log_set_syslog(ctid.config->syslog_socket, isatty(2));
	ctid.loop = g_main_loop_new(NULL, FALSE);
	if (!ctid_start(&ctid, &error)) {
		log_error("cannot start: %s", error->message);
		ctid_cleanup(&ctid);
		return 1;
	}
	ctid.sigterm_id = g_unix_signal_add(SIGTERM, on_terminate, &ctid);
	ctid.sigint_id = g_unix_signal_add(SIGINT, on_terminate, &ctid);
	ctid.sighup_id = g_unix_signal_add(SIGHUP, on_hangup, &ctid);
	log_info("started, PBX %s:%d, %s session", ctid.config->pbx_host, ctid.config->pbx_port,
	         ctid.config->session_style == CTI_SESSION_ECMA354 ? "ecma354" : "system-status");
	g_main_loop_run(ctid.loop);
	log_info("stopped");
	ctid_cleanup(&ctid);
	return 0;
}
