/* jobs-admit - how jobs enter ctid and how a user trigger fires them.
 *
 * SUBMIT: the request text is parsed again (ctid trusts no header it did not
 * write), the job row and the message are made durable by store_submit_batch()
 * (jobs_submit_prepare, then jobs_submit_commit for every SUBMIT of one main-loop
 * turn: a group commit), and only then is the job adopted and scheduled; the
 * caller answers OK only for a job that commit stored.  A SUBMIT repeating a Job-Id we already
 * hold is answered OK again (the milter may retry after a timeout).
 * Every SUBMIT is authorized again against the policy DB (jobs-authz.c),
 * whatever the frame claims; the job's rate key is the identity ctid
 * established.  RETRIEVED: only the job's mailbox owner (full address or its
 * local part, case-insensitively) fires a WAITING_USER job, and only if the
 * job is still authorized (else it fails with the reason); firing twice is
 * harmless.
 * Errors: CTI_STORE_ERROR_TEMP = try again later; anything else is permanent.
 */
#include <string.h>

#include "jobs-private.h"
#include "log.h"

static gboolean valid_job_id(const char *id)
{
	if (strlen(id) != CTI_JOB_ID_LEN)
		return FALSE;
	for (const char *p = id; *p; p++)
		if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
			return FALSE;
	return TRUE;
}

static char *opt(const CtiIpcFrame *frame, const char *name)
{
	const char *v = ipc_frame_get(frame, name);

	return v != NULL && v[0] != '\0' ? g_strdup(v) : NULL;
}

/* job_from_frame - a new job for the fields of FRAME and the parsed REQ (transfer full) */
static CtiJob *job_from_frame(CtidJobs *jobs, const CtiIpcFrame *frame, const CtiRequest *req)
{
	CtiJob *job = g_new0(CtiJob, 1);
	gint64 now = jobs_now();

	job->id = opt(frame, "Job-Id");
	if (job->id == NULL)
		job->id = store_new_job_id();
	job->request = request_format(req);
	job->sender = g_strdup(ipc_frame_get(frame, "Sender"));
	job->recipient = g_strdup(ipc_frame_get(frame, "Recipient"));
	job->auth_authen = opt(frame, "Auth-Authen");
	job->client_addr = opt(frame, "Client-Addr");
	job->queue_id = opt(frame, "Queue-Id");
	job->message_id = opt(frame, "Message-Id");
	job->mailbox = opt(frame, "Mailbox");
	if (job->mailbox == NULL && req->trigger == CTI_TRIGGER_USER)
		job->mailbox = g_strdup(req->mailbox ? req->mailbox : job->recipient);
	job->created = now;
	job->due_at = MAX(now, req->not_before);
	if (req->trigger == CTI_TRIGGER_USER) {
		job->state = CTI_JOB_WAITING_USER;
		job->deadline = now + jobs->config->user_trigger_expiry;
		/* a mail read after its Not-After could not be acted on: expire then */
		if (req->not_after != 0 && req->not_after < job->deadline)
			job->deadline = req->not_after;
	} else {
		job->state = CTI_JOB_QUEUED;
		job->deadline = req->not_after;
	}
	return job;
}

static gboolean check_submit(CtidJobs *jobs, const CtiIpcFrame *frame, CtiRequest **req_out,
                             GError **error)
{
	const char *text = ipc_frame_get(frame, "Request");
	const char *job_id = ipc_frame_get(frame, "Job-Id");
	g_autoptr(GError) perr = NULL;

	if (text == NULL)
		return store_perm_error(error, "%s", "SUBMIT without Request");
	if (ipc_frame_get(frame, "Sender") == NULL || ipc_frame_get(frame, "Recipient") == NULL)
		return store_perm_error(error, "%s", "SUBMIT without Sender or Recipient");
	if (frame->body == NULL || g_bytes_get_size(frame->body) == 0)
		return store_perm_error(error, "%s", "SUBMIT without the message");
	if (job_id != NULL && job_id[0] != '\0' && !valid_job_id(job_id))
		return store_perm_error(error, "Job-Id '%s' is not 32 lower-case hex digits",
		                        job_id);
	*req_out = request_parse(text, strlen(text), &perr);
	if (*req_out == NULL)
		return store_perm_error(error, "request: %s", perr->message);
	return TRUE;
}

/* jobs_submit_prepare - see jobs.h.  The rate limit counts the submission here, before the
 * commit, so that SUBMITs waiting for the same group commit cannot pass it together. */
CtiJob *jobs_submit_prepare(CtidJobs *jobs, const CtiIpcFrame *frame,
                            const char *direct_identity, char **known_id_out, GError **error)
{
	g_autoptr(CtiRequest) req = NULL;
	const char *given = ipc_frame_get(frame, "Job-Id");
	g_autofree char *identity = NULL;
	g_autofree char *key = NULL;
	CtiJob *job;

	*known_id_out = NULL;
	if (!check_submit(jobs, frame, &req, error))
		return NULL;
	if (given != NULL && given[0] != '\0') {
		g_autoptr(CtiJob) known = store_get(jobs->store, given, NULL);

		if (known != NULL) {
			*known_id_out = g_strdup(known->id);
			return NULL;
		}
	}
	identity = jobs_authorize(jobs, frame, req, direct_identity, error);
	if (identity == NULL)
		return NULL;
	key = jobs_rate_key(identity, req->dry_run);
	if (!jobs_rate_admit(jobs, key, error))
		return NULL;
	jobs_rate_count(jobs, key);
	job = job_from_frame(jobs, frame, req);
	job->rate_key = g_steal_pointer(&key);
	return job;
}

/* jobs_submit_commit - see jobs.h */
void jobs_submit_commit(CtidJobs *jobs, CtiStoreSubmit *items, gsize n)
{
	store_submit_batch(jobs->store, items, n);
	for (gsize i = 0; i < n; i++) {
		LiveJob *lj;

		if (items[i].error != NULL)
			continue;
		lj = jobs_adopt(jobs, g_steal_pointer(&items[i].job));
		if (lj == NULL)
			continue; /* durable, but its request is broken: logged, it stays in the store */
		jobs_log(lj, "state=%s identity=%s from=<%s> to=<%s> action=%s source=%s "
		         "destination=%s",
		         job_state_name(lj->job->state),
		         lj->job->rate_key ? lj->job->rate_key : "-", lj->job->sender,
		         lj->job->recipient,
		         request_action_name(lj->req->action), lj->req->source,
		         lj->req->destination ? lj->req->destination : "-");
		jobs_schedule(lj);
	}
}

/* jobs_submit - a SUBMIT frame made durable on its own (a group commit of one); TRUE + job id */
gboolean jobs_submit(CtidJobs *jobs, const CtiIpcFrame *frame, char **job_id_out, GError **error)
{
	CtiStoreSubmit item = {NULL, NULL, 0, NULL};

	item.job = jobs_submit_prepare(jobs, frame, NULL, job_id_out, error);
	if (item.job == NULL)
		return *job_id_out != NULL;
	item.message = g_bytes_get_data(frame->body, &item.len);
	*job_id_out = g_strdup(item.job->id);
	jobs_submit_commit(jobs, &item, 1);
	if (item.error == NULL)
		return TRUE;
	g_clear_pointer(job_id_out, g_free);
	g_clear_pointer(&item.job, job_free);
	g_propagate_error(error, item.error);
	return FALSE;
}

/* owner_matches - USER is OWNER, or OWNER's local part */
static gboolean owner_matches(const char *user, const char *owner)
{
	const char *at;

	if (user == NULL || owner == NULL || user[0] == '\0')
		return FALSE;
	if (g_ascii_strcasecmp(user, owner) == 0)
		return TRUE;
	at = strrchr(owner, '@');
	return at != NULL && strchr(user, '@') == NULL && strlen(user) == (gsize)(at - owner) &&
	       g_ascii_strncasecmp(user, owner, strlen(user)) == 0;
}

static const char *owner_of(const CtiJob *job)
{
	return job->mailbox ? job->mailbox : job->recipient;
}

/* jobs_retrieved - the mailbox owner USER retrieved the mail of JOB_ID */
gboolean jobs_retrieved(CtidJobs *jobs, const char *user, const char *job_id, const char *trigger,
                        GError **error)
{
	LiveJob *lj = job_id ? g_hash_table_lookup(jobs->live, job_id) : NULL;
	g_autoptr(CtiJob) stored = NULL;
	GError *refused = NULL;

	if (lj == NULL) {
		stored = job_id ? store_get(jobs->store, job_id, NULL) : NULL;
		if (stored == NULL) {
			g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_NOT_FOUND,
			            "unknown job %s", job_id ? job_id : "(none)");
			return FALSE;
		}
		if (!owner_matches(user, owner_of(stored)))
			return store_perm_error(error,
			                        "user %s is not the mailbox owner of this job",
			                        user ? user : "(none)");
		return TRUE; /* fired (or finished) already */
	}
	if (!owner_matches(user, owner_of(lj->job))) {
		log_warning("%s: job=%s retrieval by user=%s refused: the owner is %s",
		            lj->job->queue_id ? lj->job->queue_id : "NOQUEUE", lj->job->id,
		            user ? user : "(none)",
		            owner_of(lj->job) ? owner_of(lj->job) : "(none)");
		return store_perm_error(error, "user %s is not the mailbox owner of this job",
		                        user ? user : "(none)");
	}
	if (lj->job->state != CTI_JOB_WAITING_USER)
		return TRUE;
	if (!jobs_reauthorize(lj, &refused)) {
		jobs_log(lj, "retrieval by user=%s: %s", user, refused->message);
		if (!g_error_matches(refused, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP))
			jobs_finish(lj, CTI_JOB_FAILED, refused->message);
		g_propagate_error(error, refused);
		return FALSE;
	}
	lj->job->state = CTI_JOB_QUEUED;
	lj->job->due_at = MAX(jobs_now(), lj->req->not_before);
	if (!jobs_save(lj)) {
		lj->job->state = CTI_JOB_WAITING_USER;
		g_set_error(error, CTI_STORE_ERROR, CTI_STORE_ERROR_TEMP, "job store unavailable");
		return FALSE;
	}
	jobs_active_sync(lj, FALSE);
	jobs_log(lj, "state=queued fired by user=%s trigger=\"%s\"", user, trigger ? trigger : "");
	jobs_schedule(lj);
	return TRUE;
}

/* jobs_status - add Jobs-<state> counts to REPLY, and with notify_confirm the
 * notifications sent but not confirmed by cti-milter (Notify-Unconfirmed, and
 * Notify-Unconfirmed-Age: seconds since the oldest of them finished) */
void jobs_status(CtidJobs *jobs, CtiIpcFrame *reply)
{
	int counts[CTI_JOB_LAST + 1] = {0};
	int stored[CTI_JOB_LAST + 1] = {0};
	int unconfirmed = 0;
	gint64 oldest = 0;
	GHashTableIter it;
	LiveJob *lj;

	g_hash_table_iter_init(&it, jobs->live);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&lj))
		if (!job_state_is_terminal(lj->job->state))
			counts[lj->job->state]++;
	if (!store_count_states(jobs->store, stored, NULL))
		memset(stored, 0, sizeof stored);
	for (int s = CTI_JOB_QUEUED; s <= CTI_JOB_LAST; s++) {
		g_autofree char *name = g_strdup_printf("Jobs-%s", job_state_name(s));

		ipc_frame_addf(reply, name, "%d", job_state_is_terminal(s) ? stored[s] : counts[s]);
	}
	if (!jobs_confirm_notifications(jobs) ||
	    !store_unconfirmed(jobs->store, &unconfirmed, &oldest, NULL))
		return;
	ipc_frame_addf(reply, "Notify-Unconfirmed", "%d", unconfirmed);
	if (unconfirmed > 0)
		ipc_frame_addf(reply, "Notify-Unconfirmed-Age", "%" G_GINT64_FORMAT,
		               MAX(0, jobs_now() - oldest));
}
