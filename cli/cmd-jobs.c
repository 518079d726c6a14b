/* cmd-jobs - "ctictl jobs list|show|cancel|retry|purge": the jobs of ctid.
 *
 * Everything goes through ctid's control socket (JOBS, JOB, CANCEL, RETRY, PURGE),
 * never to the job store directly, so a change is made by the one process
 * that owns the job and its notification.  See ctictl.h for exit statuses;
 * an unknown job or one in the wrong state is 1 with ctid's reason.
 */
#include <string.h>

#include "ctl-ctid.h"
#include "request.h"
#include "store.h"

static void print_jobs_table(CtlContext *ctx, GPtrArray *records)
{
	fprintf(ctx->out, "%-32s  %-12s  %-20s  %-8s  %-28s  %s\n", "JOB", "STATE", "CREATED",
	        "ATTEMPTS", "SENDER", "SOURCE -> DESTINATION");
	for (guint i = 0; i < records->len; i++) {
		const CtiIpcFrame *r = g_ptr_array_index(records, i);
		const char *dest = ipc_frame_get(r, "Destination");

		fprintf(ctx->out, "%-32s  %-12s  %-20s  %-8s  %-28s  %s -> %s\n",
		        ipc_frame_get(r, "Job-Id"), ipc_frame_get(r, "State"),
		        ipc_frame_get(r, "Created") ? ipc_frame_get(r, "Created") : "-",
		        ipc_frame_get(r, "Attempts") ? ipc_frame_get(r, "Attempts") : "0",
		        ipc_frame_get(r, "Sender") ? ipc_frame_get(r, "Sender") : "-",
		        ipc_frame_get(r, "Source") ? ipc_frame_get(r, "Source") : "?",
		        dest ? dest : "-");
	}
}

static void print_jobs_json(CtlContext *ctx, GPtrArray *records)
{
	g_autoptr(GString) out = g_string_new("[");

	for (guint i = 0; i < records->len; i++) {
		if (i > 0)
			g_string_append(out, ",\n ");
		ctl_frame_json(out, g_ptr_array_index(records, i));
	}
	g_string_append(out, "]\n");
	fputs(out->str, ctx->out);
}

/* jobs_list_request - the JOBS frame for the options; FALSE after printing usage */
static gboolean jobs_list_request(CtiIpcFrame *req, const char *state, const char *sender,
                                  const char *age, int limit, GError **error)
{
	gint64 since;

	if (state != NULL) {
		if (job_state_from_name(state) < 0) {
			g_set_error(
			    error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "unknown state '%s' (queued, waiting-user, running, retry-wait, "
			    "success, failed, timeout, cancelled, refused, expired, dry-run)",
			    state);
			return FALSE;
		}
		ipc_frame_add(req, "State", state);
	}
	if (sender != NULL)
		ipc_frame_add(req, "Sender", sender);
	if (age != NULL) {
		if (!ctl_parse_age(age, &since)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			            "--age '%s' is not a duration (90s, 5m, 1h, 2d)", age);
			return FALSE;
		}
		ipc_frame_addf(req, "Since", "%" G_GINT64_FORMAT, since);
	}
	if (limit > 0)
		ipc_frame_addf(req, "Limit", "%d", limit);
	return TRUE;
}

static int jobs_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *state = NULL, *sender = NULL, *age = NULL;
	int limit = 0;
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"state", 's', 0, G_OPTION_ARG_STRING, &state, "state", "STATE"},
	    {"sender", 'f', 0, G_OPTION_ARG_STRING, &sender, "envelope sender", "ADDRESS"},
	    {"age", 'a', 0, G_OPTION_ARG_STRING, &age, "created within", "DURATION"},
	    {"limit", 'n', 0, G_OPTION_ARG_INT, &limit, "at most N jobs", "N"},
	    CTL_JSON_OPTION(json),
	    {NULL},
	};
	g_autoptr(CtiIpcFrame) req = ipc_frame_new("JOBS");
	g_autoptr(CtiIpcFrame) reply = NULL;
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 2)
		return ctl_usage(ctx, cmd, "jobs list: unexpected argument '%s'", argv[2]);
	if (!jobs_list_request(req, state, sender, age, limit, &error))
		return ctl_usage(ctx, cmd, "jobs list: %s", error->message);
	reply = ctl_ctid_call(ctx, req, &rc);
	if (reply == NULL)
		return rc;
	records = ctl_records_parse(reply->body);
	if (json)
		print_jobs_json(ctx, records);
	else
		print_jobs_table(ctx, records);
	return CTL_EXIT_OK;
}

/* one_job_verb - VERB with Job-Id ARGV[2] (and REASON); the reply or NULL + *RC */
static CtiIpcFrame *one_job_verb(CtlContext *ctx, const CtlCommand *cmd, const char *verb, int argc,
                                 char **argv, const char *reason, int *rc)
{
	g_autoptr(CtiIpcFrame) req = ipc_frame_new(verb);

	if (argc != 3) {
		*rc = ctl_usage(ctx, cmd, "jobs %s: one JOB-ID expected", argv[1]);
		return NULL;
	}
	if (!store_job_id_valid(argv[2])) {
		*rc =
		    ctl_usage(ctx, cmd, "jobs %s: '%s' is not a job id (32 lower-case hex digits)",
		              argv[1], argv[2]);
		return NULL;
	}
	ipc_frame_add(req, "Job-Id", argv[2]);
	if (reason != NULL)
		ipc_frame_add(req, "Reason", reason);
	return ctl_ctid_call(ctx, req, rc);
}

static int jobs_show_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    CTL_JSON_OPTION(json),
	    {NULL},
	};
	g_autoptr(CtiIpcFrame) reply = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	reply = one_job_verb(ctx, cmd, "JOB", argc, argv, NULL, &rc);
	if (reply == NULL)
		return rc;
	ctl_print_frame(ctx, reply, json);
	return CTL_EXIT_OK;
}

static int jobs_cancel_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *reason = NULL;
	const GOptionEntry entries[] = {
	    {"reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "why", "TEXT"},
	    {NULL},
	};
	g_autoptr(CtiIpcFrame) reply = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	reply = one_job_verb(ctx, cmd, "CANCEL", argc, argv, reason, &rc);
	if (reply == NULL)
		return rc;
	fprintf(ctx->out, "%s: %s\n", argv[2], ipc_frame_get(reply, "State"));
	return CTL_EXIT_OK;
}

static int jobs_retry_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiIpcFrame) reply = NULL;
	int rc = CTL_EXIT_OK;

	reply = one_job_verb(ctx, cmd, "RETRY", argc, argv, NULL, &rc);
	if (reply == NULL)
		return rc;
	fprintf(ctx->out, "%s: %s, attempt %s next\n", argv[2], ipc_frame_get(reply, "State"),
	        ipc_frame_get(reply, "Attempt"));
	return CTL_EXIT_OK;
}

static int jobs_purge_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *older = NULL;
	const GOptionEntry entries[] = {
	    {"older-than", 'o', 0, G_OPTION_ARG_STRING, &older, "ended before", "DURATION"},
	    {NULL},
	};
	g_autoptr(CtiIpcFrame) req = ipc_frame_new("PURGE");
	g_autoptr(CtiIpcFrame) reply = NULL;
	int seconds;
	int rc = ctl_verb_args(ctx, cmd, entries, &argc, &argv, 2, NULL);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (older != NULL) {
		if (!parse_duration(older, &seconds))
			return ctl_usage(ctx, cmd,
			                 "jobs purge: --older-than '%s' is not a duration (90s, 5m, 1h, 30d)",
			                 older);
		ipc_frame_addf(req, "Older-Than", "%d", seconds);
	}
	reply = ctl_ctid_call(ctx, req, &rc);
	if (reply == NULL)
		return rc;
	fprintf(ctx->out, "%s finished jobs removed (ended more than %s s ago)\n",
	        ipc_frame_get(reply, "Removed"), ipc_frame_get(reply, "Older-Than"));
	return CTL_EXIT_OK;
}

static const CtlVerb jobs_verbs[] = {
    {"list", jobs_list_cmd},
    {"show", jobs_show_cmd},
    {"cancel", jobs_cancel_cmd},
    {"retry", jobs_retry_cmd},
    {"purge", jobs_purge_cmd},
};

const CtlCommand cmd_jobs_command = {
    "jobs",
    NULL,
    "  jobs list [--state STATE] [--sender ADDRESS] [--age DURATION] [--limit N] [--json]\n"
    "  jobs show JOB-ID [--json]\n"
    "  jobs cancel JOB-ID [--reason TEXT]\n"
    "  jobs retry JOB-ID\n"
    "  jobs purge [--older-than DURATION]",
    jobs_verbs,
    G_N_ELEMENTS(jobs_verbs),
};
