/* cti-milter - the Postfix milter of mailcti: thin libmilter callbacks and main.
 *
 * Each callback fetches the connection context (smfi_getpriv) and calls
 * the plain per-message code in filter.c; the answers are turned into
 * SMTP replies in one place (milter_fail() over reply_from_error()).  The
 * connection context lives from negotiation to close; the message
 * context inside it from MAIL FROM to end of message, abort or close.
 * Start-up failures (config, socket, privileges, tmp_dir) are tier 2: one
 * log line and exit 1.  libmilter runs one thread per SMTP connection and
 * handles SIGTERM/SIGINT itself: smfi_main() returns and we exit 0.
 * Logging: with -f to stderr only; otherwise to syslog, facility mail
 * ([log] syslog_socket), and to stderr as well when that is a terminal.
 */
#include <errno.h>
#include <gmime/gmime.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h" /* PACKAGE_VERSION */
#include "filter.h"       /* and mailcti's config.h, by path */
#include "ipc.h"
#include "log.h"
#include "notified.h"
#include "reply.h"

#define MILTER_NAME "cti-milter"
#define MILTER_REFUSED_TIMEOUT_MS 500

/* Actions we may need: header edits now, recipient rewrites for routing. */
#define MILTER_ACTIONS                                                                             \
	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_SETSYMLIST)
/* Protocol steps we skip, and the ones that never answer. */
#define MILTER_PROTOCOL                                                                            \
	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_MAIL |         \
	 SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC)
/* {client_port} is "0" for mail injected locally (non_smtpd_milters) */
#define MILTER_MAIL_MACROS "{auth_authen} {client_addr} {client_port} i"

typedef struct {
	unsigned long protocol; /* the SMFIP_* flags agreed with the MTA */
	FilterMsg *msg;
	gboolean local;         /* this message was injected locally (sendmail/pickup) */
	char *notif;            /* the first X-CTI-Notification value, NULL = none */
	int notif_count;        /* X-CTI-Notification headers seen (all removed at eom) */
	gboolean notif_pass;    /* decided at eoh: at eom only remove them and accept */
} MilterConn;

static CtiConfig *milter_config;
static gboolean milter_foreground; /* -f: log to stderr, not syslog */
static RouteStep *milter_router; /* shared by every thread; locks inside */
static AuthzStep *milter_authz;  /* shared by every thread; locks inside */

static MilterConn *milter_conn(SMFICTX *ctx)
{
	MilterConn *conn = smfi_getpriv(ctx);

	if (conn == NULL) {
		conn = g_new0(MilterConn, 1);
		smfi_setpriv(ctx, conn);
	}
	return conn;
}

/* milter_msg - the current message context, created if a step came first */
static FilterMsg *milter_msg(MilterConn *conn)
{
	if (conn->msg == NULL) {
		conn->msg = filter_msg_new(milter_config);
		filter_msg_set_router(conn->msg, milter_router);
		filter_msg_set_authz(conn->msg, milter_authz);
	}
	return conn->msg;
}

static void milter_msg_done(MilterConn *conn)
{
	g_clear_pointer(&conn->msg, filter_msg_free);
	g_clear_pointer(&conn->notif, g_free);
	conn->notif_count = 0;
	conn->notif_pass = FALSE;
}

/* milter_noreply - SMFIS_NOREPLY when FLAG was agreed, else SMFIS_CONTINUE */
static sfsistat milter_noreply(const MilterConn *conn, unsigned long flag)
{
	return (conn->protocol & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void milter_queue_id(SMFICTX *ctx, FilterMsg *msg)
{
	filter_msg_set_queue_id(msg, smfi_getsymval(ctx, "i"));
}

/* milter_count_refusal - tell ctid (REFUSED) so that "ctictl metrics" counts refusals by
 * reason; best effort, a short wait, a failure only logged at debug level */
static void milter_count_refusal(const char *reason)
{
	g_autoptr(CtiIpcFrame) req = ipc_frame_new("REFUSED");
	g_autoptr(CtiIpcFrame) reply = NULL;
	g_autoptr(GError) error = NULL;

	if (reason == NULL)
		return;
	ipc_frame_add(req, "Reason", reason);
	reply = ipc_call(milter_config->ctid_socket, req, MILTER_REFUSED_TIMEOUT_MS, &error);
	if (reply == NULL)
		log_debug("refusal not counted by ctid: %s", error->message);
}

/* milter_fail - the single mapping of an error to a reply and verdict */
static sfsistat milter_fail(SMFICTX *ctx, MilterConn *conn, const GError *error)
{
	g_autoptr(FilterReply) reply = reply_from_error(error);
	const char *qid = filter_msg_queue_id(conn->msg);

	if (smfi_setreply(ctx, (char *)reply->rcode, (char *)reply->xcode, reply->milter_text) !=
	    MI_SUCCESS)
		log_warning("%s: cannot set the reply text", qid);
	switch (reply->kind) {
	case REPLY_REJECT:
		log_info("%s: rejected: %s %s %s; from=<%s> to=<%s>", qid, reply->rcode,
		         reply->xcode, reply->text, filter_msg_sender(conn->msg),
		         filter_msg_first_recipient(conn->msg));
		milter_count_refusal(reply->reason);
		milter_msg_done(conn);
		return SMFIS_REJECT;
	case REPLY_TEMPFAIL:
		log_warning("%s: tempfail: %s %s: %s; from=<%s>", qid, reply->rcode, reply->xcode,
		            error->message, filter_msg_sender(conn->msg));
		milter_msg_done(conn);
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_TEMPFAIL;
}

static sfsistat milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                                 unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                                 unsigned long *pf2, unsigned long *pf3)
{
	MilterConn *conn = milter_conn(ctx);

	if ((f0 & MILTER_ACTIONS) != MILTER_ACTIONS)
		log_warning("the MTA offers actions 0x%lx, not all of 0x%lx", f0,
		            (unsigned long)MILTER_ACTIONS);
	*pf0 = f0 & MILTER_ACTIONS;
	*pf1 = f1 & MILTER_PROTOCOL;
	/* With request addresses the DATA step decides, once every recipient is known,
	 * whether the mail can be a request at all; without, it is never sent. */
	if (*milter_config->request_addresses != '\0')
		*pf1 &= ~(unsigned long)SMFIP_NODATA;
	*pf2 = 0;
	*pf3 = 0;
	conn->protocol = *pf1;
	if (f0 & SMFIF_SETSYMLIST)
		smfi_setsymlist(ctx, SMFIM_ENVFROM, MILTER_MAIL_MACROS);
	return SMFIS_CONTINUE;
}

static sfsistat milter_envfrom(SMFICTX *ctx, char **argv)
{
	MilterConn *conn = milter_conn(ctx);
	FilterMsg *msg;

	milter_msg_done(conn);
	conn->local = g_strcmp0(smfi_getsymval(ctx, "{client_port}"), "0") == 0;
	msg = milter_msg(conn);
	filter_msg_envelope(msg, argv[0], smfi_getsymval(ctx, "{auth_authen}"),
	                    smfi_getsymval(ctx, "{client_addr}"));
	milter_queue_id(ctx, msg);
	return milter_noreply(conn, SMFIP_NR_MAIL);
}

static sfsistat milter_envrcpt(SMFICTX *ctx, char **argv)
{
	MilterConn *conn = milter_conn(ctx);

	filter_msg_recipient(milter_msg(conn), argv[0]);
	return milter_noreply(conn, SMFIP_NR_RCPT);
}

/* milter_data - after the last recipient: accept at once what cannot be a request
 * (filter_msg_may_be_request), so Postfix drops the milter for this message; the
 * header defences for such mail are Postfix's header_checks (cti-milter(8)) */
static sfsistat milter_data(SMFICTX *ctx)
{
	MilterConn *conn = milter_conn(ctx);
	FilterMsg *msg = milter_msg(conn);

	if (filter_msg_may_be_request(msg, conn->local))
		return SMFIS_CONTINUE;
	milter_queue_id(ctx, msg);
	log_debug("%s: no request possible (no identity, no request address): accepted at DATA",
	          filter_msg_queue_id(msg));
	milter_msg_done(conn);
	return SMFIS_ACCEPT;
}

static sfsistat milter_header(SMFICTX *ctx, char *name, char *value)
{
	MilterConn *conn = milter_conn(ctx);
	g_autofree char *spaced = NULL;

	/* Without SMFIP_HDR_LEADSPC the MTA ate the space after the colon. */
	if (!(conn->protocol & SMFIP_HDR_LEADSPC))
		value = spaced = g_strconcat(" ", value, NULL);
	if (g_ascii_strcasecmp(name, NOTIFIED_HEADER) == 0 && conn->notif_count++ == 0)
		conn->notif = g_strdup(value);
	filter_msg_header(milter_msg(conn), name, value);
	return milter_noreply(conn, SMFIP_NR_HDR);
}

/* milter_notification - a message with X-CTI-Notification (notified.c): the
 * verdict to return at eoh, or SMFIS_CONTINUE to go on as ordinary mail */
static sfsistat milter_notification(MilterConn *conn, const char *qid)
{
	g_autoptr(GError) error = NULL;
	NotifiedVerdict verdict = notified_check(milter_config, conn->local, conn->notif, &error);

	switch (verdict) {
	case NOTIFIED_CONFIRMED:
		log_info("%s: notification %s confirmed", qid, g_strstrip(conn->notif));
		conn->notif_pass = TRUE;
		return SMFIS_CONTINUE;
	case NOTIFIED_DUPLICATE:
		log_info("%s: notification %s: duplicate copy discarded", qid, g_strstrip(conn->notif));
		milter_msg_done(conn);
		return SMFIS_DISCARD;
	case NOTIFIED_TEMPFAIL:
		log_warning("%s: notification %s: tempfail: %s", qid, g_strstrip(conn->notif),
		            error->message);
		milter_msg_done(conn);
		return SMFIS_TEMPFAIL;
	case NOTIFIED_FORGED:
		log_info("%s: %s header removed, not trusted: %s", qid, NOTIFIED_HEADER, error->message);
		return SMFIS_CONTINUE;
	}
	return SMFIS_TEMPFAIL;
}

static sfsistat milter_eoh(SMFICTX *ctx)
{
	MilterConn *conn = milter_conn(ctx);
	FilterMsg *msg = milter_msg(conn);
	g_autoptr(GError) error = NULL;

	milter_queue_id(ctx, msg);
	if (conn->notif_count > 0) {
		sfsistat verdict = milter_notification(conn, filter_msg_queue_id(msg));

		if (verdict != SMFIS_CONTINUE || conn->notif_pass)
			return verdict;
	}
	switch (filter_msg_eoh(msg, &error)) {
	case FILTER_EOH_ACCEPT:
		if (conn->notif_count > 0) {
			/* the header must still go: that needs eom */
			conn->notif_pass = TRUE;
			return SMFIS_CONTINUE;
		}
		log_debug("%s: no request possible: accepted at end of headers",
		          filter_msg_queue_id(msg));
		milter_msg_done(conn);
		return SMFIS_ACCEPT;
	case FILTER_EOH_CONTINUE:
		return SMFIS_CONTINUE;
	case FILTER_EOH_FAIL:
		return milter_fail(ctx, conn, error);
	}
	return SMFIS_TEMPFAIL;
}

static sfsistat milter_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	MilterConn *conn = milter_conn(ctx);

	filter_msg_body(milter_msg(conn), data, len);
	return milter_noreply(conn, SMFIP_NR_BODY);
}

/* milter_edit_headers - drop X-CTI-Job headers from outside, add ours */
static void milter_edit_headers(SMFICTX *ctx, const char *qid, gboolean leadspc,
                                const FilterOutcome *outcome)
{
	/* From the last to the first, so that the indexes stay valid. */
	for (guint i = outcome->remove_job_headers; i >= 1; i--) {
		if (smfi_chgheader(ctx, FILTER_JOB_HEADER, (int)i, NULL) == MI_SUCCESS)
			log_info("%s: removed %s header #%u that came from outside", qid,
			         FILTER_JOB_HEADER, i);
		else
			log_warning("%s: cannot remove %s header #%u", qid, FILTER_JOB_HEADER, i);
	}
	for (guint i = outcome->remove_hop_headers; i >= 1; i--) {
		if (smfi_chgheader(ctx, CTI_RELAY_HOP_HEADER, (int)i, NULL) == MI_SUCCESS)
			log_info("%s: removed %s header #%u from a client that is no trusted relay",
			         qid, CTI_RELAY_HOP_HEADER, i);
		else
			log_warning("%s: cannot remove %s header #%u", qid, CTI_RELAY_HOP_HEADER, i);
	}
	if (outcome->add_job_header != NULL) {
		/* With SMFIP_HDR_LEADSPC the MTA adds no space after the colon either. */
		g_autofree char *value =
		    g_strconcat(leadspc ? " " : "", outcome->add_job_header, NULL);

		if (smfi_addheader(ctx, FILTER_JOB_HEADER, value) != MI_SUCCESS)
			log_error("%s: cannot add %s: %s; the job will not fire on retrieval", qid,
			          FILTER_JOB_HEADER, outcome->add_job_header);
	}
}

static void milter_log_accepted(const char *qid, const FilterOutcome *outcome)
{
	const CtiRequest *req = outcome->request;

	log_info("%s: accepted job=%s identity=%s action=%s source=%s destination=%s trigger=%s",
	         qid, outcome->job_id, outcome->identity ? outcome->identity : "-",
	         request_action_name(req->action), req->source ? req->source : "",
	         req->destination ? req->destination : "",
	         req->trigger == CTI_TRIGGER_USER ? "user" : "system");
}

/* milter_relay - rewrite the recipient to the next gateway and insert the hop
 * header; FALSE if the MTA refused an edit (the mail must then not go on) */
static gboolean milter_relay(SMFICTX *ctx, const char *qid, gboolean leadspc,
                             const RouteStepResult *route)
{
	g_autofree char *hop = g_strconcat(leadspc ? " " : "", route->hop_header, NULL);

	if (route->del_rcpt != NULL && smfi_delrcpt(ctx, route->del_rcpt) != MI_SUCCESS) {
		log_error("%s: cannot delete recipient %s to relay it", qid, route->del_rcpt);
		return FALSE;
	}
	if (smfi_addrcpt(ctx, route->add_rcpt) != MI_SUCCESS ||
	    smfi_insheader(ctx, 0, CTI_RELAY_HOP_HEADER, hop) != MI_SUCCESS) {
		log_error("%s: cannot add recipient %s or the %s header to relay it", qid,
		          route->add_rcpt, CTI_RELAY_HOP_HEADER);
		return FALSE;
	}
	log_info("%s: %s; recipient %s replaced, no job here; %s: %s", qid, route->text,
	         route->del_rcpt ? route->del_rcpt : "<>", CTI_RELAY_HOP_HEADER, route->hop_header);
	return TRUE;
}

/* milter_explained - a dry run for an explain address: drop those recipients (the
 * explanation is ctid's answer) or, when no other is left, the whole mail */
static sfsistat milter_explained(SMFICTX *ctx, const char *qid, const FilterOutcome *outcome)
{
	log_info("%s: explain job=%s action=%s source=%s destination=%s: dry run, the "
	         "explanation goes to the sender",
	         qid, outcome->job_id, request_action_name(outcome->request->action),
	         outcome->request->source ? outcome->request->source : "",
	         outcome->request->destination ? outcome->request->destination : "");
	if (outcome->discard)
		return SMFIS_DISCARD;
	for (char **r = outcome->explain_rcpts; *r; r++)
		if (smfi_delrcpt(ctx, *r) != MI_SUCCESS)
			log_warning("%s: cannot delete recipient %s: the mail reaches its mailbox",
			            qid, *r);
	return SMFIS_CONTINUE;
}

static sfsistat milter_eom(SMFICTX *ctx)
{
	MilterConn *conn = milter_conn(ctx);
	FilterMsg *msg = milter_msg(conn);
	g_autoptr(GError) error = NULL;
	FilterOutcome outcome;

	milter_queue_id(ctx, msg);
	for (int i = conn->notif_count; i > 0; i--)
		if (smfi_chgheader(ctx, NOTIFIED_HEADER, i, NULL) != MI_SUCCESS)
			log_warning("%s: %s header not removed", filter_msg_queue_id(msg),
			            NOTIFIED_HEADER);
	if (conn->notif_pass) {
		milter_msg_done(conn);
		return SMFIS_ACCEPT;
	}
	if (!filter_msg_eom(msg, &outcome, &error)) {
		filter_outcome_clear(&outcome);
		return milter_fail(ctx, conn, error);
	}
	milter_edit_headers(ctx, filter_msg_queue_id(msg),
	                    (conn->protocol & SMFIP_HDR_LEADSPC) != 0, &outcome);
	if (outcome.route != NULL && outcome.route->action == CTI_RELAY_FORWARD &&
	    !milter_relay(ctx, filter_msg_queue_id(msg), (conn->protocol & SMFIP_HDR_LEADSPC) != 0,
	                  outcome.route)) {
		filter_outcome_clear(&outcome);
		g_set_error(&error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "the MTA refused the relay edits");
		return milter_fail(ctx, conn, error);
	}
	if (outcome.explain) {
		sfsistat verdict = milter_explained(ctx, filter_msg_queue_id(msg), &outcome);

		filter_outcome_clear(&outcome);
		milter_msg_done(conn);
		return verdict;
	}
	if (outcome.is_request)
		milter_log_accepted(filter_msg_queue_id(msg), &outcome);
	else if (outcome.ordinary != NULL)
		log_info("%s: from=<%s> to=<%s>: delivered as ordinary mail: %s",
		         filter_msg_queue_id(msg), filter_msg_sender(msg),
		         filter_msg_first_recipient(msg), outcome.ordinary);
	else if (outcome.route == NULL)
		log_debug("%s: no request part: passed", filter_msg_queue_id(msg));
	filter_outcome_clear(&outcome);
	milter_msg_done(conn);
	return SMFIS_CONTINUE;
}

static sfsistat milter_abort(SMFICTX *ctx)
{
	MilterConn *conn = smfi_getpriv(ctx);

	if (conn != NULL)
		milter_msg_done(conn);
	return SMFIS_CONTINUE;
}

static sfsistat milter_close(SMFICTX *ctx)
{
	MilterConn *conn = smfi_getpriv(ctx);

	if (conn != NULL) {
		milter_msg_done(conn);
		g_free(conn);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
    .xxfi_name = MILTER_NAME,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = MILTER_ACTIONS,
    .xxfi_connect = NULL,
    .xxfi_helo = NULL,
    .xxfi_envfrom = milter_envfrom,
    .xxfi_envrcpt = milter_envrcpt,
    .xxfi_header = milter_header,
    .xxfi_eoh = milter_eoh,
    .xxfi_body = milter_body,
    .xxfi_eom = milter_eom,
    .xxfi_abort = milter_abort,
    .xxfi_close = milter_close,
    .xxfi_unknown = NULL,
    .xxfi_data = milter_data,
    .xxfi_negotiate = milter_negotiate,
};

/* milter_socket_path - the file of a "unix:" / "local:" spec, or NULL */
static const char *milter_socket_path(const char *spec)
{
	if (g_str_has_prefix(spec, "unix:"))
		return spec + 5;
	if (g_str_has_prefix(spec, "local:"))
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* milter_lookup_user - the account to run as, or NULL to stay as we are */
static struct passwd *milter_lookup_user(const char *user, gboolean *ok)
{
	struct passwd *pw;

	*ok = TRUE;
	if (user == NULL || *user == '\0' || geteuid() != 0)
		return NULL;
	pw = getpwnam(user);
	if (pw == NULL) {
		log_error("[milter] user: no such user '%s'", user);
		*ok = FALSE;
	}
	return pw;
}

/* milter_prepare_dir - create DIR if missing, owned by PW when we run as root */
static gboolean milter_prepare_dir(const char *dir, int mode, const struct passwd *pw)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return TRUE;
	if (g_mkdir_with_parents(dir, mode) != 0) {
		log_error("cannot create %s: %s", dir, g_strerror(errno));
		return FALSE;
	}
	if (pw != NULL && chown(dir, pw->pw_uid, pw->pw_gid) != 0) {
		log_error("cannot chown %s to %s: %s", dir, pw->pw_name, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* milter_give_socket - give the socket at PATH to PW.  In a setgid directory
 * (e.g. the packaged /var/spool/postfix/mailcti, group postfix) it keeps the
 * directory's group, mode 0660, so that Postfix connects and no one else. */
static gboolean milter_give_socket(const char *path, const struct passwd *pw)
{
	g_autofree char *dir = g_path_get_dirname(path);
	struct stat st;
	gboolean setgid_dir = stat(dir, &st) == 0 && (st.st_mode & S_ISGID) != 0;

	if (chown(path, pw->pw_uid, setgid_dir ? (gid_t)-1 : pw->pw_gid) != 0 ||
	    (setgid_dir && chmod(path, 0660) != 0)) {
		log_error("cannot give %s to %s: %s", path, pw->pw_name, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* milter_open_socket - bind the libmilter socket (removing a stale one) and give it to PW */
static gboolean milter_open_socket(const char *spec, const struct passwd *pw)
{
	const char *path = milter_socket_path(spec);

	if (path != NULL) {
		g_autofree char *dir = g_path_get_dirname(path);
		if (!milter_prepare_dir(dir, 0755, pw))
			return FALSE;
	}
	if (smfi_setconn((char *)spec) != MI_SUCCESS || smfi_register(milter_desc) != MI_SUCCESS ||
	    smfi_opensocket(TRUE) != MI_SUCCESS) {
		log_error(
		    "cannot open the milter socket %s (the directory must exist and be writable)",
		    spec);
		return FALSE;
	}
	if (path != NULL && pw != NULL && !milter_give_socket(path, pw))
		return FALSE;
	return TRUE;
}

/* milter_drop_privileges - become PW for good */
static gboolean milter_drop_privileges(const struct passwd *pw)
{
	if (pw == NULL)
		return TRUE;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_error("cannot drop privileges to %s: %s", pw->pw_name, g_strerror(errno));
		return FALSE;
	}
	if (setuid(0) == 0) {
		log_error("still root after dropping privileges to %s", pw->pw_name);
		return FALSE;
	}
	return TRUE;
}

/* milter_start - everything before smfi_main(); FALSE after logging why */
static gboolean milter_start(const char *config_path)
{
	g_autoptr(GError) error = NULL;
	struct passwd *pw;
	gboolean ok;

	milter_config = config_load(config_path, &error);
	if (milter_config == NULL) {
		log_error("%s", error->message);
		return FALSE;
	}
	if (!milter_foreground)
		log_set_syslog(milter_config->syslog_socket, isatty(2));
	milter_router = route_step_new(milter_config, &error);
	if (milter_router == NULL) {
		log_error("%s: %s", config_path, error->message);
		return FALSE;
	}
	milter_authz = authz_step_new(milter_config, &error);
	if (milter_authz == NULL) {
		log_error("%s: %s", config_path, error->message);
		return FALSE;
	}
	pw = milter_lookup_user(milter_config->milter_user, &ok);
	if (!ok || !milter_prepare_dir(milter_config->tmp_dir, 0700, pw))
		return FALSE;
	if (!milter_open_socket(milter_config->milter_socket, pw) || !milter_drop_privileges(pw))
		return FALSE;
	if (access(milter_config->tmp_dir, W_OK | X_OK) != 0) {
		log_error("[milter] tmp_dir %s is not writable: %s", milter_config->tmp_dir,
		          g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	gboolean debug = FALSE, version = FALSE;
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "mailcti.conf to read", "FILE"},
	    {"debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "log debug lines", NULL},
	    {"foreground", 'f', 0, G_OPTION_ARG_NONE, &milter_foreground,
	     "log to stderr (with timestamps) instead of syslog", NULL},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version and exit", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_autoptr(GOptionContext) options = g_option_context_new("- the mailcti milter");
	g_autoptr(GError) error = NULL;
	int rc;

	log_init(MILTER_NAME, FALSE);
	g_option_context_add_main_entries(options, entries, NULL);
	g_option_context_parse(options, &argc, &argv, &error);
	if (version && error == NULL) {
		printf("%s (mailcti) %s\n", MILTER_NAME, PACKAGE_VERSION);
		return 0;
	}
	if (error != NULL || config_path == NULL) {
		log_error("%s", error ? error->message : "usage: cti-milter -c CONFIG");
		return 2;
	}
	log_set_debug(debug || log_get_debug());
	if (!milter_foreground)
		log_set_syslog(LOG_DEFAULT_SYSLOG_SOCKET, isatty(2));
	g_mime_init();
	if (!milter_start(config_path))
		return 1;
	log_info("listening on %s, running as uid %ld", milter_config->milter_socket,
	         (long)getuid());
	rc = smfi_main();
	log_info("stopped");
	g_clear_pointer(&milter_router, route_step_free);
	g_clear_pointer(&milter_authz, authz_step_free);
	g_clear_pointer(&milter_config, config_free);
	g_mime_shutdown();
	return rc == MI_SUCCESS ? 0 : 1;
}
