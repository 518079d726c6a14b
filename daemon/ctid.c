/* ctid - the mailcti job daemon: owns the durable jobs, the PBX link and
 * the notifications (DESIGN.md section 1).
 *
 * main() wires the modules on one GMainLoop: config -> sockets (server.c,
 * created before the drop to [ctid] user) -> store -> jobs (jobs*.c) -> PBX
 * link (link.c); nothing is served before the loop runs.  Start-up problems (bad config, unusable
 * store or socket) are logged once and exit 1.  SIGTERM/SIGINT drain: stop accepting, forget the
 * in-memory jobs (the store keeps every live job as it is), end the PBX
 * session politely, exit 0.  SIGHUP retries the PBX link at once.
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "jobs.h"
#include "link.h"
#include "log.h"
#include "server.h"
#include "store.h"

#define CTID_STOP_GRACE_S 5

typedef struct {
	CtiConfig *config;
	CtiStore *store;
	CtidJobs *jobs;
	CtidLink *link;
	CtidServer *server;
	GMainLoop *loop;
	guint sigterm_id, sigint_id, sighup_id, grace_id;
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
	jobs_stop(ctid->jobs);
	ctid->grace_id = g_timeout_add_seconds(CTID_STOP_GRACE_S, on_grace_expired, ctid);
	link_shutdown(ctid->link, on_link_stopped, ctid);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hangup(gpointer data)
{
	Ctid *ctid = data;

	log_info("SIGHUP: retrying the PBX link now if it is down");
	link_kick(ctid->link);
	return G_SOURCE_CONTINUE;
}

/* drop_privileges - become [ctid] user when started as root; FALSE + error */
static gboolean drop_privileges(const char *user, GError **error)
{
	struct passwd *pw;

	if (user == NULL || user[0] == '\0' || geteuid() != 0)
		return TRUE;
	pw = getpwnam(user);
	if (pw == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		            "[ctid] user %s does not exist", user);
		return FALSE;
	}
	if (setgid(pw->pw_gid) != 0 || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot become %s: %s",
		            user, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
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
	if (!drop_privileges(c->ctid_user, error))
		return FALSE;
	ctid->store = store_open(c->jobs_db, c->spool_dir, error);
	if (ctid->store == NULL)
		return FALSE;
	ctid->jobs = jobs_new(c, ctid->store);
	ctid->link = link_new(c, g_steal_pointer(&tls), &jobs_link_hooks, ctid->jobs);
	jobs_set_link(ctid->jobs, ctid->link);
	server_attach(ctid->server, ctid->jobs, ctid->link);
	if (!jobs_resume(ctid->jobs, error))
		return FALSE;
	link_start(ctid->link);
	return TRUE;
}

static void ctid_cleanup(Ctid *ctid)
{
	g_clear_handle_id(&ctid->sigterm_id, g_source_remove);
	g_clear_handle_id(&ctid->sigint_id, g_source_remove);
	g_clear_handle_id(&ctid->sighup_id, g_source_remove);
	g_clear_handle_id(&ctid->grace_id, g_source_remove);
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
	gboolean debug = FALSE;
	const GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "mailcti.conf to read",
	     "CONFIG"},
	    {"debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "log every CSTA frame and event", NULL},
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
	log_set_debug(debug);
	ctid.config = config_load(config_path, &error);
	if (ctid.config == NULL) {
		log_error("%s", error->message);
		return 1;
	}
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
