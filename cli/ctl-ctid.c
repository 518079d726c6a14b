/* ctl-ctid - ctictl's side of the ipc protocol with ctid (lib/ipc.h).
 *
 * One blocking call per command; ctid's REJECT/TEMPFAIL replies are printed
 * as "ctictl: <verb>: <Reason>" and give exit status 1.  A ctid that cannot
 * be reached is exit status 1 too, naming the socket.
 */
#include "ctl-ctid.h"

#include <string.h>

#include "request.h"

/* ctl_ctid_call - see ctl-ctid.h */
CtiIpcFrame *ctl_ctid_call(CtlContext *ctx, const CtiIpcFrame *request, int *rc)
{
	const CtiConfig *config = ctl_config(ctx);
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiIpcFrame) reply = NULL;
	g_autofree char *verb = g_ascii_strdown(request->verb, -1);
	const char *reason;

	*rc = CTL_EXIT_USAGE;
	if (config == NULL)
		return NULL;
	reply = ipc_call(config->ctid_socket, request, CTL_CTID_TIMEOUT_MS, &error);
	*rc = CTL_EXIT_FAIL;
	if (reply == NULL) {
		ctl_fail(ctx, "ctid at %s: %s", config->ctid_socket, error->message);
		return NULL;
	}
	if (strcmp(reply->verb, "OK") != 0) {
		reason = ipc_frame_get(reply, "Reason");
		ctl_fail(ctx, "%s: %s%s", verb,
		         strcmp(reply->verb, "TEMPFAIL") == 0 ? "(temporary) " : "",
		         reason ? reason : reply->verb);
		return NULL;
	}
	*rc = CTL_EXIT_OK;
	return g_steal_pointer(&reply);
}

/* fields whose values are counts or seconds: JSON numbers, not strings */
static const char *const numeric_names[] = {
    "Count",          "Jobs",           "Attempts",           "Answered",
    "Answer-Mean-Ms", "Answer-P95-Ms",  "Uptime",             "Link-Uptime",
    "Link-Reconnects", "Notify-Unconfirmed", "Notify-Unconfirmed-Age", NULL,
};
static const char *const numeric_prefixes[] = {"Jobs-", "Outcome-"};

/* json_value - VALUE of field NAME: a number when NAME is numeric and VALUE an integer */
static void json_value(GString *out, const char *name, const char *value)
{
	gboolean numeric = g_strv_contains(numeric_names, name);
	gint64 n;

	for (gsize i = 0; !numeric && i < G_N_ELEMENTS(numeric_prefixes); i++)
		numeric = g_str_has_prefix(name, numeric_prefixes[i]);
	if (numeric && g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &n, NULL))
		g_string_append_printf(out, "%" G_GINT64_FORMAT, n);
	else
		ctl_json_string(out, value);
}

static gboolean is_list_name(const char *name)
{
	return g_ascii_strcasecmp(name, "Attempt") == 0;
}

/* ctl_frame_json - see ctl-ctid.h */
void ctl_frame_json(GString *out, const CtiIpcFrame *frame)
{
	gboolean first = TRUE, list_done = FALSE;

	g_string_append_c(out, '{');
	for (guint i = 0; i < frame->names->len; i++) {
		const char *name = g_ptr_array_index(frame->names, i);

		if (is_list_name(name) && list_done)
			continue;
		if (!first)
			g_string_append(out, ", ");
		first = FALSE;
		ctl_json_string(out, name);
		g_string_append(out, ": ");
		if (!is_list_name(name)) {
			json_value(out, name, g_ptr_array_index(frame->values, i));
			continue;
		}
		list_done = TRUE;
		g_string_append_c(out, '[');
		for (guint j = i, n = 0; j < frame->names->len; j++) {
			if (g_ascii_strcasecmp(g_ptr_array_index(frame->names, j), name) != 0)
				continue;
			if (n++ > 0)
				g_string_append(out, ", ");
			ctl_json_string(out, g_ptr_array_index(frame->values, j));
		}
		g_string_append_c(out, ']');
	}
	g_string_append_c(out, '}');
}

/* ctl_frame_text - see ctl-ctid.h */
void ctl_frame_text(CtlContext *ctx, const CtiIpcFrame *frame)
{
	for (guint i = 0; i < frame->names->len; i++) {
		const char *value = g_ptr_array_index(frame->values, i);

		if (strchr(value, '\n') == NULL) {
			fprintf(ctx->out, "%s: %s\n",
			        (const char *)g_ptr_array_index(frame->names, i), value);
			continue;
		}
		/* a multi-line value (the request text): indented continuation lines */
		g_auto(GStrv) lines = g_strsplit(value, "\n", -1);

		fprintf(ctx->out, "%s:\n", (const char *)g_ptr_array_index(frame->names, i));
		for (guint j = 0; lines[j] != NULL; j++)
			if (lines[j][0] != '\0')
				fprintf(ctx->out, "    %s\n", lines[j]);
	}
}

/* ctl_records_parse - see ctl-ctid.h */
GPtrArray *ctl_records_parse(GBytes *body)
{
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)ipc_frame_free);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	CtiIpcFrame *cur = NULL;
	gsize len;
	const char *data;

	if (body == NULL)
		return records;
	data = g_bytes_get_data(body, &len);
	if (len == 0)
		return records;
	text = g_strndup(data, len);
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		char *colon = strstr(lines[i], ": ");

		if (lines[i][0] == '\0' || colon == NULL) {
			cur = NULL;
			continue;
		}
		if (cur == NULL) {
			cur = ipc_frame_new("JOB");
			g_ptr_array_add(records, cur);
		}
		*colon = '\0';
		ipc_frame_add(cur, lines[i], colon + 2);
	}
	return records;
}

/* ctl_parse_age - see ctl-ctid.h */
gboolean ctl_parse_age(const char *age, gint64 *since_out)
{
	int seconds;

	if (!parse_duration(age, &seconds))
		return FALSE;
	*since_out = g_get_real_time() / G_USEC_PER_SEC - seconds;
	return TRUE;
}

/* ctl_print_frame - see ctl-ctid.h */
void ctl_print_frame(CtlContext *ctx, const CtiIpcFrame *frame, gboolean json)
{
	g_autoptr(GString) out = NULL;

	if (!json) {
		ctl_frame_text(ctx, frame);
		return;
	}
	out = g_string_new(NULL);
	ctl_frame_json(out, frame);
	fprintf(ctx->out, "%s\n", out->str);
}
