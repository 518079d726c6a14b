/* cmd-metrics - "ctictl metrics [--output FILE]": ctid's health in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * One run asks ctid for STATUS (link, live queue, unconfirmed
 * notifications), STATS (jobs by state and attempts by outcome in the job
 * store) and METRICS (refusals by reason and the time-to-answer histogram
 * since ctid started), and prints the families below.  A file for
 * node_exporter's textfile collector is written whole or not at all
 * (--output: a temporary file in the same directory, then rename), so the
 * collector never reads half a file.  When ctid cannot be asked, the output
 * is mailcti_ctid_up 0 alone and the exit status 1: an alert rather than
 * stale numbers.  A scrape endpoint of our own was not added: the textfile
 * collector needs no new listening port, no access control of its own and
 * no long-running process beyond ctid.
 */
#include <string.h>

#include "ctl-ctid.h"

/* the live states STATUS counts in memory: the queue */
static const char *const queue_states[] = {"queued", "waiting-user", "running", "retry-wait"};

/* prom_label - VALUE escaped for a label value (backslash, quote, newline) */
static void prom_label(GString *out, const char *name, const char *value)
{
	g_string_append_printf(out, "{%s=\"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			g_string_append_c(out, '\\');
		if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
	g_string_append(out, "\"}");
}

static void prom_family(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* prom_value - a sample whose value is FIELD of FRAME (0 when absent) */
static void prom_value(GString *out, const char *name, const CtiIpcFrame *frame, const char *field)
{
	const char *v = ipc_frame_get(frame, field);

	g_string_append_printf(out, "%s %s\n", name, v && v[0] ? v : "0");
}

/* prom_by_prefix - one sample per field of FRAME named PREFIX<label>, labelled LABEL */
static void prom_by_prefix(GString *out, const char *name, const char *label,
                           const CtiIpcFrame *frame, const char *prefix)
{
	for (guint i = 0; i < frame->names->len; i++) {
		const char *field = g_ptr_array_index(frame->names, i);

		if (!g_str_has_prefix(field, prefix) || field[strlen(prefix)] == '\0')
			continue;
		g_string_append(out, name);
		prom_label(out, label, field + strlen(prefix));
		g_string_append_printf(out, " %s\n",
		                       (const char *)g_ptr_array_index(frame->values, i));
	}
}

static void metrics_jobs(GString *out, const CtiIpcFrame *status, const CtiIpcFrame *stats)
{
	prom_family(out, "mailcti_jobs", "gauge", "Jobs in the job store by state.");
	prom_by_prefix(out, "mailcti_jobs", "state", stats, "Jobs-");
	prom_family(out, "mailcti_queue_jobs", "gauge",
	            "Live jobs in ctid's queue by state (not yet finished).");
	for (gsize i = 0; i < G_N_ELEMENTS(queue_states); i++) {
		g_autofree char *field = g_strdup_printf("Jobs-%s", queue_states[i]);

		g_string_append(out, "mailcti_queue_jobs");
		prom_label(out, "state", queue_states[i]);
		g_string_append_printf(out, " %s\n",
		                       ipc_frame_get(status, field) ? ipc_frame_get(status, field)
		                                                    : "0");
	}
	prom_family(out, "mailcti_attempts", "gauge", "Call attempts in the job store by outcome.");
	prom_by_prefix(out, "mailcti_attempts", "outcome", stats, "Outcome-");
	prom_family(out, "mailcti_notifications_unconfirmed", "gauge",
	            "Notifications sent that cti-milter has not confirmed yet.");
	prom_value(out, "mailcti_notifications_unconfirmed", status, "Notify-Unconfirmed");
	prom_family(out, "mailcti_notifications_unconfirmed_age_seconds", "gauge",
	            "Seconds since the oldest job with an unconfirmed notification ended.");
	prom_value(out, "mailcti_notifications_unconfirmed_age_seconds", status,
	           "Notify-Unconfirmed-Age");
}

static void metrics_link(GString *out, const CtiIpcFrame *status)
{
	prom_family(out, "mailcti_pbx_link_up", "gauge", "Whether the CSTA link to the PBX is up.");
	g_string_append_printf(out, "mailcti_pbx_link_up %d\n",
	                       g_strcmp0(ipc_frame_get(status, "Link"), "up") == 0);
	prom_family(out, "mailcti_pbx_link_reconnects", "counter",
	            "Times the PBX link came up again after it was lost, since ctid started.");
	prom_value(out, "mailcti_pbx_link_reconnects_total", status, "Link-Reconnects");
	prom_family(out, "mailcti_ctid_uptime_seconds", "gauge", "Seconds ctid has been running.");
	prom_value(out, "mailcti_ctid_uptime_seconds", status, "Uptime");
}

/* metrics_answer - the histogram: Answer-Le-<ms> buckets become le="<seconds>" */
static void metrics_answer(GString *out, const CtiIpcFrame *counters)
{
	const char *sum = ipc_frame_get(counters, "Answer-Sum-Ms");
	char le[G_ASCII_DTOSTR_BUF_SIZE];

	prom_family(out, "mailcti_answer_seconds", "histogram",
	            "Time from the start of a call attempt to its answer, since ctid started.");
	for (guint i = 0; i < counters->names->len; i++) {
		const char *field = g_ptr_array_index(counters->names, i);
		const char *bound = field + strlen("Answer-Le-");

		if (!g_str_has_prefix(field, "Answer-Le-"))
			continue;
		if (strcmp(bound, "inf") == 0)
			g_strlcpy(le, "+Inf", sizeof le);
		else
			g_ascii_dtostr(le, sizeof le, g_ascii_strtod(bound, NULL) / 1000.0);
		g_string_append(out, "mailcti_answer_seconds_bucket");
		prom_label(out, "le", le);
		g_string_append_printf(out, " %s\n",
		                       (const char *)g_ptr_array_index(counters->values, i));
	}
	g_ascii_dtostr(le, sizeof le, (sum ? g_ascii_strtod(sum, NULL) : 0) / 1000.0);
	g_string_append_printf(out, "mailcti_answer_seconds_sum %s\n", le);
	prom_value(out, "mailcti_answer_seconds_count", counters, "Answer-Count");
	prom_family(out, "mailcti_refusals", "counter",
	            "Requests refused, by reason, since ctid started.");
	prom_by_prefix(out, "mailcti_refusals_total", "reason", counters, "Refused-");
}

/* metrics_collect - the exposition text, or NULL after ctid failed to answer (*RC set) */
static GString *metrics_collect(CtlContext *ctx, int *rc)
{
	g_autoptr(CtiIpcFrame) status_req = ipc_frame_new("STATUS");
	g_autoptr(CtiIpcFrame) stats_req = ipc_frame_new("STATS");
	g_autoptr(CtiIpcFrame) metrics_req = ipc_frame_new("METRICS");
	g_autoptr(CtiIpcFrame) status = ctl_ctid_call(ctx, status_req, rc);
	g_autoptr(CtiIpcFrame) stats = status ? ctl_ctid_call(ctx, stats_req, rc) : NULL;
	g_autoptr(CtiIpcFrame) counters = stats ? ctl_ctid_call(ctx, metrics_req, rc) : NULL;
	GString *out;

	if (counters == NULL)
		return NULL;
	out = g_string_new(NULL);
	prom_family(out, "mailcti_ctid_up", "gauge", "Whether ctid answered ctictl.");
	g_string_append(out, "mailcti_ctid_up 1\n");
	metrics_jobs(out, status, stats);
	metrics_link(out, status);
	metrics_answer(out, counters);
	return out;
}

static int cmd_metrics(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *output = NULL;
	const GOptionEntry entries[] = {
	    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "write FILE atomically", "FILE"},
	    {NULL},
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) text = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 1)
		return ctl_usage(ctx, cmd, "metrics: unexpected argument '%s'", argv[1]);
	text = metrics_collect(ctx, &rc);
	if (text == NULL) {
		if (rc == CTL_EXIT_USAGE)
			return rc;
		text = g_string_new(NULL);
		prom_family(text, "mailcti_ctid_up", "gauge", "Whether ctid answered ctictl.");
		g_string_append(text, "mailcti_ctid_up 0\n");
	}
	if (output == NULL)
		fputs(text->str, ctx->out);
	else if (!g_file_set_contents_full(output, text->str, (gssize)text->len,
	                                   G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error))
		return ctl_fail(ctx, "metrics: %s", error->message);
	return rc;
}

const CtlCommand cmd_metrics_command = {
    "metrics",
    cmd_metrics,
    "  metrics [--output FILE]",
};
