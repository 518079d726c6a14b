/* cti-media - the gateway's SIP/RTP media leg (cti-media(8)).
 *
 * One process, one job: it registers the gateway's line(s) to the PBX, places
 * and answers calls, and plays, speaks, records, gathers digits and faxes
 * over G.711 RTP, as ctid asks over [media] socket.  Wiring: config ->
 * control socket (ctl.c) -> SIP (ua.c) -> drop root -> libre's main loop,
 * which carries SIP, RTP, the RTP clock and the control socket alike.
 * Converting the steps' media (libsndfile, libsamplerate, espeak-ng,
 * Ghostscript, libtiff) runs on a pool of worker threads, never on that loop,
 * so a 20-page PDF never delays another call's packets; results come back
 * through a libre mqueue.  Start-up problems are one log line and exit 1.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <re.h>
#include <unistd.h>

#include "call.h"
#include "config.h"
#include "ctl.h"
#include "log.h"
#include "steps.h"
#include "ua.h"

#define MEDIA_WORKERS 2

typedef struct {
	CtiConfig *config;
	Ctl *ctl;
	Ua *ua;
	GThreadPool *pool;
	struct mqueue *mq;
} Media;

typedef struct {
	Call *call;
	GError *error;
} Job;

/* work - convert a call's media (a worker thread: touches only the call's steps) */
static void work(gpointer data, gpointer user_data)
{
	Job *job = data;
	Media *m = user_data;

	steps_prepare(call_steps(job->call), m->config->media_spool_dir, call_id(job->call),
	              &job->error);
	mqueue_push(m->mq, 0, job);
}

/* on_prepared - back on the loop: the call goes on (or ends with the error) */
static void on_prepared(int id, void *data, void *arg)
{
	Job *job = data;

	call_prepared(job->call, job->error);
	call_set_busy(job->call, FALSE);
	g_clear_error(&job->error);
	g_free(job);
}

static void prepare(Call *call, gpointer data)
{
	Media *m = data;
	Job *job = g_new0(Job, 1);

	job->call = call;
	g_thread_pool_push(m->pool, job, NULL);
}

/* drop_privileges - become [media] user when started as root; FALSE + error */
static gboolean drop_privileges(const char *user, const char *spool_dir, GError **error)
{
	struct passwd *pw;

	if (user == NULL || user[0] == '\0' || geteuid() != 0)
		return TRUE;
	pw = getpwnam(user);
	if (pw == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
		            "[media] user %s does not exist", user);
		return FALSE;
	}
	if (chown(spool_dir, pw->pw_uid, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    initgroups(pw->pw_name, pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot become %s: %s",
		            user, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static gboolean media_start(Media *m, GError **error)
{
	const CtiConfig *c = m->config;
	int err;

	if (g_mkdir_with_parents(c->media_spool_dir, 0750) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "[media] spool_dir %s: %s", c->media_spool_dir, g_strerror(errno));
		return FALSE;
	}
	m->ctl = ctl_new(c, prepare, m, error);
	if (m->ctl == NULL)
		return FALSE;
	m->ua = ua_new(c, ctl_invite, m->ctl, error);
	if (m->ua == NULL)
		return FALSE;
	ctl_set_ua(m->ctl, m->ua);
	if (!drop_privileges(c->media_user, c->media_spool_dir, error))
		return FALSE;
	err = mqueue_alloc(&m->mq, on_prepared, m);
	if (err) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "mqueue: %s", g_strerror(err));
		return FALSE;
	}
	m->pool = g_thread_pool_new(work, m, MEDIA_WORKERS, FALSE, NULL);
	return TRUE;
}

static void media_cleanup(Media *m)
{
	g_clear_pointer(&m->ctl, ctl_free);
	if (m->pool)
		g_thread_pool_free(m->pool, TRUE, TRUE);
	m->pool = NULL;
	g_clear_pointer(&m->ua, ua_free);
	m->mq = mem_deref(m->mq);
	g_clear_pointer(&m->config, config_free);
}

static void on_signal(int sig)
{
	log_info("signal %d: stopping", sig);
	re_cancel();
}

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	gboolean debug = FALSE;
	const GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "mailcti.conf to read",
	     "CONFIG"},
	    {"debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "log more", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) opts = g_option_context_new("- mailcti SIP/RTP media leg");
	g_autoptr(GError) error = NULL;
	Media m = {0};
	int rc = 0;

	log_init("cti-media", FALSE);
	g_option_context_add_main_entries(opts, entries, NULL);
	if (!g_option_context_parse(opts, &argc, &argv, &error)) {
		log_error("%s", error->message);
		return 2;
	}
	log_set_debug(debug);
	m.config = config_load(config_path, &error);
	if (m.config == NULL) {
		log_error("%s", error->message);
		return 1;
	}
	if (libre_init() != 0) {
		log_error("cannot initialise libre");
		return 1;
	}
	if (!media_start(&m, &error)) {
		log_error("cannot start: %s", error->message);
		rc = 1;
	} else {
		log_info("started, SIP %s:%d, registrar %s, lines %s, control %s",
		         m.config->media_local_address, m.config->media_sip_port,
		         m.config->media_registrar, m.config->media_lines, m.config->media_socket);
		re_main(on_signal);
		log_info("stopped");
	}
	media_cleanup(&m);
	libre_close();
	return rc;
}
