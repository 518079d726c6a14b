/* server - the UNIX stream sockets of ctid and the ipc verbs on them.
 *
 * Two listeners: [ctid] socket (cti-milter, ctictl: every verb) and
 * [ctid] retrieval_socket (the Dovecot plugin: RETRIEVED and PING only, so
 * that a mail user can never SUBMIT around the milter).  Both are created
 * mode 0660 and, when the configured group exists, given to that group.
 * Each connection owns an ipc decoder and an output buffer; frames are
 * answered in order, table-driven by verb.  A malformed frame is answered
 * REJECT and the connection is closed once the reply is out.  Replies map
 * errors: CTI_STORE_ERROR_TEMP -> TEMPFAIL, anything else -> REJECT.
 * NOTIFIED (cti-milter, a notification of ours passed Postfix) is jobs.c's.
 * The operator verbs are admin.c's.  Two verbs keep a connection open after
 * their OK: WATCH (an EVENT frame per job change until the client closes)
 * and a direct SUBMIT with "Wait: yes" (one RESULT frame when the job ends,
 * then the connection is closed).  The peer's uid (SO_PEERCRED) is kept for
 * the direct channel (direct.c).
 */
#include "server.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "direct.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "store.h"

#define SERVER_BACKLOG 64
/* The retrieval socket carries RETRIEVED and PING only: no body beyond this. */
#define SERVER_RETRIEVAL_MAX_BODY 4096

typedef struct {
	int fd;
	guint id;
	char *path;
	gboolean retrieval;
	struct CtidServer *server;
} Listener;

typedef struct {
	struct CtidServer *server;
	int fd;
	gboolean retrieval;
	guint in_id, out_id;
	CtiIpcDecoder *dec;
	GByteArray *out;
	gboolean closing; /* close once OUT is flushed */
	uid_t uid;        /* the peer's, SO_PEERCRED */
	gboolean watching; /* WATCH: stream EVENT frames */
	char *wait_job;    /* direct SUBMIT with Wait: yes: send RESULT when it ends */
	gboolean held;     /* a SUBMIT waits for the group commit: take no further frame */
} Client;

/* A SUBMIT waiting for the group commit of this main-loop turn. */
typedef struct {
	Client *client;     /* NULL once the client is gone (the job is still committed) */
	CtiIpcFrame *meta;  /* Queue-Id and Sender, for the log */
	GBytes *body;       /* the message */
	CtiJob *job;        /* NULL for a repeat of an earlier pending Job-Id */
	char *job_id;
	gboolean wait;      /* direct SUBMIT with Wait: yes */
	int same_as;        /* index of the pending SUBMIT with this Job-Id, or -1 */
} Pending;

struct CtidServer {
	const CtiConfig *config;
	CtidJobs *jobs;
	CtidLink *link;
	Listener listeners[2];
	GHashTable *clients; /* Client* set */
	gint64 started;      /* monotonic us, for STATUS Uptime */
	GArray *pending;     /* Pending: SUBMITs for the next group commit */
	guint commit_id;     /* the 0-priority idle source that runs it */
	gboolean at_cap;     /* [ctid] max_connections reached: logged once until below */
};

typedef CtiIpcFrame *(*VerbHandler)(Client *c, const CtiIpcFrame *req);

typedef struct {
	const char *verb;
	gboolean on_retrieval;
	VerbHandler handle;
} VerbRow;

static CtiIpcFrame *reply_error(const GError *error)
{
	gboolean temp = error->domain == CTI_STORE_ERROR && error->code == CTI_STORE_ERROR_TEMP;
	const char *status = ratelimit_error_status(error);
	CtiIpcFrame *reply;

	if (status != NULL) /* a rate limit: the milter answers 450 4.7.1 or 550 5.7.1 */
		temp = error->code == CTI_RATELIMIT_ERROR_TEMP;
	reply = ipc_frame_new(temp ? "TEMPFAIL" : "REJECT");
	ipc_frame_add(reply, "Reason", error->message);
	if (status != NULL)
		ipc_frame_add(reply, "Enhanced-Status", status);
	return reply;
}

static void submit_log_failure(const CtiIpcFrame *req, const GError *error)
{
	log_warning("%s: SUBMIT from=<%s> %s: %s",
	            ipc_frame_get(req, "Queue-Id") ? ipc_frame_get(req, "Queue-Id") : "NOQUEUE",
	            ipc_frame_get(req, "Sender") ? ipc_frame_get(req, "Sender") : "",
	            g_error_matches(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP) ? "tempfail"
	                                                                          : "rejected",
	            error->message);
}

static gboolean on_commit(gpointer data);

static const char *const log_fields[] = {"Queue-Id", "Sender"};

/* submit_hold - queue JOB (transfer full) of REQ for this turn's group commit */
static void submit_hold(Client *c, const CtiIpcFrame *req, CtiJob *job, gboolean wait)
{
	CtidServer *server = c->server;
	Pending p = {c, ipc_frame_new("SUBMIT"), req->body ? g_bytes_ref(req->body) : NULL,
	             job, g_strdup(job->id), wait, -1};

	for (guint i = 0; i < G_N_ELEMENTS(log_fields); i++)
		if (ipc_frame_get(req, log_fields[i]) != NULL)
			ipc_frame_add(p.meta, log_fields[i], ipc_frame_get(req, log_fields[i]));
	for (guint i = 0; i < server->pending->len; i++)
		if (strcmp(g_array_index(server->pending, Pending, i).job_id, p.job_id) == 0) {
			p.same_as = (int)i; /* the milter's retry of a SUBMIT not yet committed */
			g_clear_pointer(&p.job, job_free);
			break;
		}
	g_array_append_val(server->pending, p);
	c->held = TRUE;
	if (server->commit_id == 0)
		server->commit_id = g_idle_add_full(G_PRIORITY_DEFAULT, on_commit, server, NULL);
}

/* count_direct_refusal - a refused direct submission, for METRICS (not a temporary failure) */
static void count_direct_refusal(const GError *error)
{
	g_autoptr(CtiIpcFrame) reply = reply_error(error);

	if (strcmp(reply->verb, "REJECT") == 0)
		metrics_refused(ratelimit_error_status(error) ? "rate-limit" : "direct-refused");
}

/* handle_submit - NULL: the reply follows the group commit (on_commit) */
static CtiIpcFrame *handle_submit(Client *c, const CtiIpcFrame *req)
{
	CtidServer *server = c->server;
	g_autoptr(GError) error = NULL;
	g_autofree char *known_id = NULL;
	g_autoptr(CtiIpcFrame) direct = NULL;
	const char *channel = ipc_frame_get(req, "Channel");
	gboolean wait = g_strcmp0(ipc_frame_get(req, "Wait"), "yes") == 0;
	CtiIpcFrame *reply;
	CtiJob *job;

	if (channel != NULL && g_ascii_strcasecmp(channel, "direct") == 0) {
		direct = direct_prepare(server->config, req, c->uid, &error);
		if (direct == NULL) {
			log_warning("NOQUEUE: direct SUBMIT uid=%u rejected: %s", (unsigned)c->uid,
			            error->message);
			count_direct_refusal(error);
			return reply_error(error);
		}
		req = direct;
	}
	job = jobs_submit_prepare(server->jobs, req,
	                          direct ? ipc_frame_get(direct, "Auth-Authen") : NULL, &known_id,
	                          &error);
	if (job == NULL && known_id == NULL) {
		submit_log_failure(req, error);
		if (direct != NULL) /* cti-milter reports its own refusals (REFUSED) */
			count_direct_refusal(error);
		return reply_error(error);
	}
	if (job != NULL) {
		submit_hold(c, req, job, direct != NULL && wait);
		return NULL;
	}
	reply = ipc_frame_new("OK");
	ipc_frame_add(reply, "Job-Id", known_id);
	if (direct != NULL && wait) {
		g_free(c->wait_job);
		c->wait_job = g_strdup(known_id);
	}
	return reply;
}

static CtiIpcFrame *handle_retrieved(Client *c, const CtiIpcFrame *req)
{
	g_autoptr(GError) error = NULL;

	if (!jobs_retrieved(c->server->jobs, ipc_frame_get(req, "User"), ipc_frame_get(req, "Job"),
	                    ipc_frame_get(req, "Trigger"), &error))
		return reply_error(error);
	return ipc_frame_new("OK");
}

/* NOTIFIED (cti-milter): Job, Token, Copy -> OK | DUPLICATE | REJECT | TEMPFAIL */
static CtiIpcFrame *handle_notified(Client *c, const CtiIpcFrame *req)
{
	g_autoptr(GError) error = NULL;
	CtiIpcFrame *reply = NULL;

	switch (jobs_notified(c->server->jobs, ipc_frame_get(req, "Job"), ipc_frame_get(req, "Token"),
	                      ipc_frame_get(req, "Copy"), &error)) {
	case JOBS_NOTIFIED_FIRST:
		return ipc_frame_new("OK");
	case JOBS_NOTIFIED_DUPLICATE:
		return ipc_frame_new("DUPLICATE");
	case JOBS_NOTIFIED_BAD:
		reply = ipc_frame_new("REJECT");
		break;
	case JOBS_NOTIFIED_TEMP:
		reply = ipc_frame_new("TEMPFAIL");
		break;
	}
	ipc_frame_add(reply, "Reason", error ? error->message : "unknown error");
	return reply;
}

static CtiIpcFrame *handle_ping(Client *c, const CtiIpcFrame *req)
{
	return ipc_frame_new("OK");
}

static CtiIpcFrame *handle_status(Client *c, const CtiIpcFrame *req)
{
	CtiIpcFrame *reply = ipc_frame_new("OK");

	link_status(c->server->link, reply);
	admin_status_extra(reply);
	ipc_frame_addf(reply, "Uptime", "%" G_GINT64_FORMAT,
	               (g_get_monotonic_time() - c->server->started) / G_USEC_PER_SEC);
	jobs_status(c->server->jobs, reply);
	return reply;
}

static CtiIpcFrame *handle_jobs(Client *c, const CtiIpcFrame *req)
{
	return admin_jobs(c->server->jobs, req);
}

static CtiIpcFrame *handle_job(Client *c, const CtiIpcFrame *req)
{
	return admin_job(c->server->jobs, req);
}

static CtiIpcFrame *handle_cancel(Client *c, const CtiIpcFrame *req)
{
	log_info("CANCEL job=%s by uid=%u", ipc_frame_get(req, "Job-Id") ? ipc_frame_get(req, "Job-Id") : "-",
	         (unsigned)c->uid);
	return admin_cancel(c->server->jobs, req);
}

static CtiIpcFrame *handle_retry(Client *c, const CtiIpcFrame *req)
{
	log_info("RETRY job=%s by uid=%u", ipc_frame_get(req, "Job-Id") ? ipc_frame_get(req, "Job-Id") : "-",
	         (unsigned)c->uid);
	return admin_retry(c->server->jobs, req);
}

static CtiIpcFrame *handle_stats(Client *c, const CtiIpcFrame *req)
{
	return admin_stats(c->server->jobs, req);
}

static CtiIpcFrame *handle_purge(Client *c, const CtiIpcFrame *req)
{
	log_info("PURGE by uid=%u", (unsigned)c->uid);
	return admin_purge(c->server->jobs, req);
}

/* REFUSED (cti-milter): Reason, a short name; counted for METRICS */
static CtiIpcFrame *handle_refused(Client *c, const CtiIpcFrame *req)
{
	CtiIpcFrame *reply;

	if (metrics_refused(ipc_frame_get(req, "Reason")))
		return ipc_frame_new("OK");
	reply = ipc_frame_new("REJECT");
	ipc_frame_add(reply, "Reason", "Reason must be a short lower-case name");
	return reply;
}

static CtiIpcFrame *handle_metrics(Client *c, const CtiIpcFrame *req)
{
	CtiIpcFrame *reply = ipc_frame_new("OK");

	metrics_frame(reply);
	return reply;
}

static CtiIpcFrame *handle_watch(Client *c, const CtiIpcFrame *req)
{
	c->watching = TRUE;
	return ipc_frame_new("OK");
}

static const VerbRow verb_rows[] = {
    {"SUBMIT", FALSE, handle_submit},
    {"RETRIEVED", TRUE, handle_retrieved},
    {"NOTIFIED", FALSE, handle_notified},
    {"PING", TRUE, handle_ping},
    {"STATUS", FALSE, handle_status},
    {"JOBS", FALSE, handle_jobs},
    {"JOB", FALSE, handle_job},
    {"CANCEL", FALSE, handle_cancel},
    {"RETRY", FALSE, handle_retry},
    {"STATS", FALSE, handle_stats},
    {"WATCH", FALSE, handle_watch},
    {"PURGE", FALSE, handle_purge},
    {"REFUSED", FALSE, handle_refused},
    {"METRICS", FALSE, handle_metrics},
};

static CtiIpcFrame *dispatch(Client *c, const CtiIpcFrame *req)
{
	CtiIpcFrame *reply;

	for (guint i = 0; i < G_N_ELEMENTS(verb_rows); i++) {
		if (strcmp(verb_rows[i].verb, req->verb) != 0)
			continue;
		if (c->retrieval && !verb_rows[i].on_retrieval)
			break;
		return verb_rows[i].handle(c, req);
	}
	reply = ipc_frame_new("REJECT");
	ipc_frame_addf(reply, "Reason", "verb %s is not served on this socket", req->verb);
	return reply;
}

/* ---- connections ---- */

static void client_free(Client *c)
{
	for (guint i = 0; c->held && i < c->server->pending->len; i++)
		if (g_array_index(c->server->pending, Pending, i).client == c)
			g_array_index(c->server->pending, Pending, i).client = NULL;
	g_clear_handle_id(&c->in_id, g_source_remove);
	g_clear_handle_id(&c->out_id, g_source_remove);
	if (c->fd >= 0)
		close(c->fd);
	ipc_decoder_free(c->dec);
	g_byte_array_unref(c->out);
	g_free(c->wait_job);
	g_free(c);
}

static void client_close(Client *c)
{
	g_hash_table_remove(c->server->clients, c);
}

static gboolean on_client_writable(int fd, GIOCondition cond, gpointer data);

/* client_flush - FALSE when the client was closed */
static gboolean client_flush(Client *c)
{
	while (c->out->len > 0) {
		ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (c->out_id == 0)
				c->out_id = g_unix_fd_add(c->fd, G_IO_OUT, on_client_writable, c);
			return TRUE;
		}
		if (n < 0) {
			client_close(c);
			return FALSE;
		}
		g_byte_array_remove_range(c->out, 0, (guint)n);
	}
	if (c->closing) {
		client_close(c);
		return FALSE;
	}
	return TRUE;
}

static gboolean on_client_writable(int fd, GIOCondition cond, gpointer data)
{
	Client *c = data;

	c->out_id = 0;
	client_flush(c);
	return G_SOURCE_REMOVE;
}

static void client_queue(Client *c, const CtiIpcFrame *reply)
{
	g_autoptr(GBytes) wire = ipc_frame_encode(reply);
	gsize len;
	const guint8 *data = g_bytes_get_data(wire, &len);

	g_byte_array_append(c->out, data, (guint)len);
}

/* client_take_frames - answer every complete frame; FALSE when the client is gone */
static gboolean client_take_frames(Client *c)
{
	CtiIpcFrame *frame = NULL;
	g_autoptr(GError) error = NULL;

	while (!c->held && ipc_decoder_next(c->dec, &frame, &error) && frame != NULL) {
		g_autoptr(CtiIpcFrame) req = frame;
		g_autoptr(CtiIpcFrame) reply = dispatch(c, req);

		if (reply != NULL) /* NULL: held for the group commit, answered by on_commit */
			client_queue(c, reply);
		frame = NULL;
	}
	if (error != NULL) {
		g_autoptr(CtiIpcFrame) reply = ipc_frame_new("REJECT");

		ipc_frame_addf(reply, "Reason", "bad frame: %s", error->message);
		client_queue(c, reply);
		c->closing = TRUE;
	}
	return client_flush(c);
}

static gboolean on_client_readable(int fd, GIOCondition cond, gpointer data)
{
	Client *c = data;
	char buf[65536];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	g_autoptr(GError) error = NULL;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0 || c->closing) {
		c->in_id = 0;
		if (n <= 0 && (c->out->len > 0 || c->held)) {
			c->closing = TRUE; /* peer half-closed: finish writing first */
			return G_SOURCE_REMOVE;
		}
		client_close(c);
		return G_SOURCE_REMOVE;
	}
	if (!ipc_decoder_feed(c->dec, buf, (gsize)n, &error)) {
		g_autoptr(CtiIpcFrame) reply = ipc_frame_new("REJECT");

		log_warning("ipc peer uid %ld%s: bad frame, closing: %s", (long)c->uid,
		            c->retrieval ? " (retrieval)" : "", error->message);

		ipc_frame_addf(reply, "Reason", "bad frame: %s", error->message);
		client_queue(c, reply);
		c->closing = TRUE;
		c->in_id = 0;
		client_flush(c);
		return G_SOURCE_REMOVE;
	}
	return client_take_frames(c) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* peer_uid - the connecting process's uid; an unknown peer is treated as nobody */
static uid_t peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return (uid_t)-2;
	return cred.uid;
}

/* push - queue FRAME for C and let the loop write it (never closes C here) */
static void push(Client *c, const CtiIpcFrame *frame)
{
	client_queue(c, frame);
	if (c->out_id == 0)
		c->out_id = g_unix_fd_add(c->fd, G_IO_OUT, on_client_writable, c);
}

/* on_job_change - the jobs observer: EVENT to watchers, RESULT to a waiting direct caller */
static void on_job_change(const CtiJob *job, const char *text, gpointer data)
{
	CtidServer *server = data;
	GHashTableIter it;
	Client *c;

	g_hash_table_iter_init(&it, server->clients);
	while (g_hash_table_iter_next(&it, (gpointer *)&c, NULL)) {
		if (c->closing)
			continue;
		if (c->watching) {
			g_autoptr(CtiIpcFrame) ev = admin_event_frame(job, text);

			push(c, ev);
		}
		if (c->wait_job != NULL && strcmp(c->wait_job, job->id) == 0 &&
		    job_state_is_terminal(job->state)) {
			g_autoptr(CtiIpcFrame) res = admin_result_frame(job);

			push(c, res);
			c->closing = TRUE;
		}
	}
}

/* server_admit - FALSE (CFD closed) when [ctid] max_connections are open:
 * one warning when the cap is reached, one line when it is left again */
static gboolean server_admit(CtidServer *server, const Listener *l, int cfd)
{
	guint open = g_hash_table_size(server->clients);

	if (open < (guint)server->config->max_connections) {
		if (server->at_cap)
			log_info("ipc connections below [ctid] max_connections=%d again",
			         server->config->max_connections);
		server->at_cap = FALSE;
		return TRUE;
	}
	if (!server->at_cap)
		log_warning("ipc connection cap hit: %u open, [ctid] max_connections=%d; "
		            "refusing new connections on %s until one closes",
		            open, server->config->max_connections, l->path);
	server->at_cap = TRUE;
	close(cfd);
	return FALSE;
}

static gboolean on_accept(int fd, GIOCondition cond, gpointer data)
{
	Listener *l = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	Client *c;

	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warning("accept on %s: %s", l->path, g_strerror(errno));
		return G_SOURCE_CONTINUE;
	}
	if (!server_admit(l->server, l, cfd))
		return G_SOURCE_CONTINUE;
	c = g_new0(Client, 1);
	c->server = l->server;
	c->fd = cfd;
	c->retrieval = l->retrieval;
	c->dec = ipc_decoder_new(l->retrieval
	                             ? SERVER_RETRIEVAL_MAX_BODY
	                             : l->server->config->max_message_size + CTI_IPC_MAX_HEADER);
	c->out = g_byte_array_new();
	c->uid = peer_uid(cfd);
	c->in_id = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_readable, c);
	g_hash_table_add(l->server->clients, c);
	return G_SOURCE_CONTINUE;
}

/* ---- listeners ---- */

static void give_to_group(const char *path, const char *group)
{
	struct group *gr;

	if (group == NULL || group[0] == '\0')
		return;
	gr = getgrnam(group);
	if (gr == NULL) {
		log_warning(
		    "%s: group %s does not exist; socket left mode 0660 with its current group",
		    path, group);
		return;
	}
	if (chown(path, (uid_t)-1, gr->gr_gid) != 0)
		log_warning("%s: cannot give the socket to group %s: %s", path, group,
		            g_strerror(errno));
}

/* listen_on - listen on L's path.  The socket is bound under a temporary name,
 * given its mode and group and put into the listening state, and only then
 * renamed into place: a client never finds a socket that refuses connections
 * or has the wrong permissions, and a stale socket is replaced atomically. */
static gboolean listen_on(Listener *l, const char *group, GError **error)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	g_autofree char *tmp = g_strdup_printf("%s.%d.tmp", l->path, (int)getpid());
	mode_t old_mask;
	int rc;

	if (strlen(tmp) >= sizeof sun.sun_path) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
		            "%s: socket path too long", l->path);
		return FALSE;
	}
	strcpy(sun.sun_path, tmp);
	unlink(tmp);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socket: %s",
		            g_strerror(errno));
		return FALSE;
	}
	old_mask = umask(0117);
	rc = bind(l->fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old_mask);
	if (rc == 0)
		give_to_group(tmp, group);
	if (rc != 0 || chmod(tmp, 0660) != 0 || listen(l->fd, SERVER_BACKLOG) != 0 ||
	    rename(tmp, l->path) != 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", l->path,
		            g_strerror(errno));
		close(l->fd);
		l->fd = -1;
		unlink(tmp);
		return FALSE;
	}
	l->id = g_unix_fd_add(l->fd, G_IO_IN, on_accept, l);
	log_info("listening on %s%s", l->path, l->retrieval ? " (retrieval)" : "");
	return TRUE;
}

/* ---- group commit ---- */

static void pending_clear(Pending *p)
{
	g_clear_pointer(&p->meta, ipc_frame_free);
	g_clear_pointer(&p->body, g_bytes_unref);
	g_clear_pointer(&p->job, job_free);
	g_clear_pointer(&p->job_id, g_free);
}

/* commit_reply - the answer to pending SUBMIT P whose commit ended with ERROR (NULL: stored) */
static CtiIpcFrame *commit_reply(Client *c, const Pending *p, const GError *error)
{
	CtiIpcFrame *reply;

	if (error != NULL) {
		submit_log_failure(p->meta, error);
		return reply_error(error);
	}
	reply = ipc_frame_new("OK");
	ipc_frame_add(reply, "Job-Id", p->job_id);
	if (c != NULL && p->wait) {
		g_free(c->wait_job);
		c->wait_job = g_strdup(p->job_id);
	}
	return reply;
}

/* commit_answer - queue every pending SUBMIT's reply, then let its client go on */
static void commit_answer(GArray *batch, CtiStoreSubmit *items, const int *item_of)
{
	for (guint i = 0; i < batch->len; i++) {
		Pending *p = &g_array_index(batch, Pending, i);
		int first = p->same_as >= 0 ? p->same_as : (int)i;
		g_autoptr(CtiIpcFrame) reply = commit_reply(p->client, p, items[item_of[first]].error);

		if (p->client == NULL)
			continue; /* gone: the MTA retries with the same Job-Id, which dedups */
		client_queue(p->client, reply);
		p->client->held = FALSE;
	}
	for (guint i = 0; i < batch->len; i++) {
		Client *c = g_array_index(batch, Pending, i).client;

		if (c != NULL && !c->held)
			client_take_frames(c); /* frames that came behind the SUBMIT; flushes */
	}
}

/* server_commit - store every pending SUBMIT in one group commit and answer each */
static void server_commit(CtidServer *server)
{
	g_autoptr(GArray) batch = server->pending;
	g_autofree CtiStoreSubmit *items = g_new0(CtiStoreSubmit, batch->len);
	g_autofree int *item_of = g_new0(int, batch->len);
	gsize n = 0;

	server->pending = g_array_new(FALSE, FALSE, sizeof(Pending));
	g_array_set_clear_func(server->pending, (GDestroyNotify)pending_clear);
	for (guint i = 0; i < batch->len; i++) {
		Pending *p = &g_array_index(batch, Pending, i);

		if (p->same_as >= 0)
			continue;
		item_of[i] = (int)n;
		items[n].job = g_steal_pointer(&p->job);
		items[n].message = p->body ? g_bytes_get_data(p->body, &items[n].len) : "";
		n++;
	}
	jobs_submit_commit(server->jobs, items, n);
	commit_answer(batch, items, item_of);
	for (gsize k = 0; k < n; k++) {
		g_clear_pointer(&items[k].job, job_free);
		g_clear_error(&items[k].error);
	}
}

static gboolean on_commit(gpointer data)
{
	CtidServer *server = data;

	server->commit_id = 0;
	server_commit(server);
	return G_SOURCE_REMOVE;
}

/* server_attach - answer with JOBS and LINK */
void server_attach(CtidServer *server, CtidJobs *jobs, CtidLink *link)
{
	server->jobs = jobs;
	server->link = link;
	jobs_set_observer(jobs, on_job_change, server);
}

/* server_new - a server for CONFIG; attach jobs and link before the loop runs */
CtidServer *server_new(const CtiConfig *config)
{
	CtidServer *server = g_new0(CtidServer, 1);

	server->config = config;
	server->started = g_get_monotonic_time();
	server->pending = g_array_new(FALSE, FALSE, sizeof(Pending));
	g_array_set_clear_func(server->pending, (GDestroyNotify)pending_clear);
	server->clients =
	    g_hash_table_new_full(g_direct_hash, g_direct_equal, (GDestroyNotify)client_free, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(server->listeners); i++) {
		server->listeners[i].fd = -1;
		server->listeners[i].server = server;
	}
	server->listeners[0].path = g_strdup(config->ctid_socket);
	server->listeners[1].path = g_strdup(config->retrieval_socket);
	server->listeners[1].retrieval = TRUE;
	return server;
}

/* server_listen - create, chmod/chown and listen on both sockets */
gboolean server_listen(CtidServer *server, GError **error)
{
	return listen_on(&server->listeners[0], server->config->socket_group, error) &&
	       listen_on(&server->listeners[1], server->config->retrieval_group, error);
}

/* server_stop - stop accepting, close every connection, remove the sockets */
void server_stop(CtidServer *server)
{
	if (server->commit_id != 0) { /* answer what is already queued before closing */
		g_clear_handle_id(&server->commit_id, g_source_remove);
		server_commit(server);
	}
	if (server->jobs != NULL)
		jobs_set_observer(server->jobs, NULL, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(server->listeners); i++) {
		Listener *l = &server->listeners[i];

		g_clear_handle_id(&l->id, g_source_remove);
		if (l->fd >= 0) {
			close(l->fd);
			l->fd = -1;
			unlink(l->path);
		}
	}
	g_hash_table_remove_all(server->clients);
}

/* server_free - server_stop and free; NULL is a no-op */
void server_free(CtidServer *server)
{
	if (server == NULL)
		return;
	server_stop(server);
	g_hash_table_destroy(server->clients);
	g_array_unref(server->pending);
	for (guint i = 0; i < G_N_ELEMENTS(server->listeners); i++)
		g_free(server->listeners[i].path);
	g_free(server);
}
