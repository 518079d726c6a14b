/* cmd-status - "ctictl status|stats|config|watch": the health of a gateway.
 *
 *   status  ctid's STATUS: the PBX link (up/down, since when, session style,
 *           last error), ctid's uptime and the live queue by state
 *   stats   ctid's STATS: jobs by outcome, attempts by outcome, mean and p95
 *           time to answer, over all jobs or those created within --age
 *   config  the effective settings (config_dump); -n only those that differ
 *           from the compiled-in defaults, like postconf -n
 *   watch   one line per job change, streamed by ctid until interrupted
 *           (or until --count changes were seen)
 * status/stats/watch talk to ctid; config only reads the file.  See ctictl.h
 * for exit statuses; status exits 3 (after printing) when the PBX link is down.
 */
#include <string.h>
#include <unistd.h>

#include "ctl-ctid.h"

static int simple_verb(CtlContext *ctx, const CtlCommand *cmd, const char *verb, int argc,
                       char **argv)
{
	gboolean json = FALSE;
	g_autofree char *age = NULL;
	const GOptionEntry entries[] = {
	    CTL_JSON_OPTION(json),
	    {"age", 'a', 0, G_OPTION_ARG_STRING, &age, "created within", "DURATION"},
	    {NULL},
	};
	g_autoptr(CtiIpcFrame) req = ipc_frame_new(verb);
	g_autoptr(CtiIpcFrame) reply = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);
	gint64 since;

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 1)
		return ctl_usage(ctx, cmd, "%s: unexpected argument '%s'", argv[0], argv[1]);
	if (age != NULL && strcmp(verb, "STATS") != 0)
		return ctl_usage(ctx, cmd, "%s: --age is for stats", argv[0]);
	if (age != NULL) {
		if (!ctl_parse_age(age, &since))
			return ctl_usage(ctx, cmd, "stats: --age '%s' is not a duration", age);
		ipc_frame_addf(req, "Since", "%" G_GINT64_FORMAT, since);
	}
	reply = ctl_ctid_call(ctx, req, &rc);
	if (reply == NULL)
		return rc;
	ctl_print_frame(ctx, reply, json);
	/* like "postfix status": a script or a monitor tests the exit status */
	if (strcmp(verb, "STATUS") == 0 && g_strcmp0(ipc_frame_get(reply, "Link"), "up") != 0)
		return CTL_EXIT_LINK_DOWN;
	return CTL_EXIT_OK;
}

static int cmd_status(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return simple_verb(ctx, cmd, "STATUS", argc, argv);
}

static int cmd_stats(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return simple_verb(ctx, cmd, "STATS", argc, argv);
}

/* print_non_default - the lines of DUMP that are not in the defaults' dump */
static void print_non_default(CtlContext *ctx, const char *dump)
{
	g_autoptr(CtiConfig) defaults = config_load(NULL, NULL);
	g_autofree char *base = defaults ? config_dump(defaults) : g_strdup("");
	g_auto(GStrv) lines = g_strsplit(dump, "\n", -1);
	g_auto(GStrv) base_lines = g_strsplit(base, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++)
		if (lines[i][0] != '\0' &&
		    !g_strv_contains((const char *const *)base_lines, lines[i]))
			fprintf(ctx->out, "%s\n", lines[i]);
}

static int cmd_config(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean changed = FALSE;
	const GOptionEntry entries[] = {
	    {"non-default", 'n', 0, G_OPTION_ARG_NONE, &changed, "only what differs", NULL},
	    {NULL},
	};
	const CtiConfig *config;
	g_autofree char *text = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 1)
		return ctl_usage(ctx, cmd, "config: unexpected argument '%s'", argv[1]);
	config = ctl_config(ctx);
	if (config == NULL)
		return CTL_EXIT_USAGE;
	text = config_dump(config);
	if (changed)
		print_non_default(ctx, text);
	else
		fputs(text, ctx->out);
	return CTL_EXIT_OK;
}

static void print_event(CtlContext *ctx, const CtiIpcFrame *ev, gboolean json)
{
	if (json) {
		g_autoptr(GString) out = g_string_new(NULL);

		ctl_frame_json(out, ev);
		fprintf(ctx->out, "%s\n", out->str);
	} else {
		fprintf(ctx->out, "%s %s: job=%s %s\n", ipc_frame_get(ev, "Time"),
		        ipc_frame_get(ev, "Queue-Id"), ipc_frame_get(ev, "Job-Id"),
		        ipc_frame_get(ev, "Text"));
	}
	fflush(ctx->out);
}

/* watch_stream - read EVENT frames from FD until ctid closes or COUNT were printed */
static int watch_stream(CtlContext *ctx, int fd, int count, gboolean json)
{
	CtiIpcDecoder *dec = ipc_decoder_new(CTI_IPC_MAX_HEADER);
	int rc = CTL_EXIT_OK;

	for (int seen = 0; count <= 0 || seen < count;) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CtiIpcFrame) frame =
		    ipc_read_frame(fd, dec, "", "ctid closed the connection", &error);

		if (frame == NULL) {
			rc = ctl_fail(ctx, "watch: %s", error ? error->message : "no frame");
			break;
		}
		if (strcmp(frame->verb, "OK") == 0)
			continue; /* WATCH accepted */
		if (strcmp(frame->verb, "EVENT") != 0) {
			rc = ctl_fail(ctx, "watch: %s", ipc_frame_get(frame, "Reason"));
			break;
		}
		print_event(ctx, frame, json);
		seen++;
	}
	ipc_decoder_free(dec);
	return rc;
}

static int cmd_watch(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	int count = 0;
	const GOptionEntry entries[] = {
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "JSON lines", NULL},
	    {"count", 'n', 0, G_OPTION_ARG_INT, &count, "stop after N changes", "N"},
	    {NULL},
	};
	g_autoptr(CtiIpcFrame) req = ipc_frame_new("WATCH");
	g_autoptr(GError) error = NULL;
	const CtiConfig *config;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);
	int fd;

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 1)
		return ctl_usage(ctx, cmd, "watch: unexpected argument '%s'", argv[1]);
	config = ctl_config(ctx);
	if (config == NULL)
		return CTL_EXIT_USAGE;
	fd = ipc_connect(config->ctid_socket, 0, &error);
	if (fd < 0)
		return ctl_fail(ctx, "ctid at %s: %s", config->ctid_socket, error->message);
	if (!ipc_send(fd, req, &error))
		rc = ctl_fail(ctx, "watch: %s", error->message);
	else
		rc = watch_stream(ctx, fd, count, json);
	close(fd);
	return rc;
}

const CtlCommand cmd_status_command = {
    "status",
    cmd_status,
    "  status [--json]",
};

const CtlCommand cmd_stats_command = {
    "stats",
    cmd_stats,
    "  stats [--age DURATION] [--json]",
};

const CtlCommand cmd_config_command = {
    "config",
    cmd_config,
    "  config [-n]",
};

const CtlCommand cmd_watch_command = {
    "watch",
    cmd_watch,
    "  watch [--count N] [--json]",
};
