/* ctictl - the mailcti operator CLI: "ctictl [-c CONFIG] <command> ...".
 *
 * main() only reads the global options and dispatches through the table of
 * subcommands below; each subcommand lives in its own cmd-*.c module and owns
 * its arguments, output and exit status (0 done, 1 failed or nothing found,
 * 2 usage or configuration error).  The configuration is loaded lazily, so
 * "ctictl help" works without one.  Output goes to stdout, diagnostics to stderr.
 */
#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <string.h>

#include "ctictl.h"
#include "privs.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CTL_DEFAULT_CONFIG SYSCONFDIR "/mailcti/mailcti.conf"

/* Add a subcommand here: one row per command word. */
static const CtlCommand *const ctl_commands[] = {
    &cmd_route_command,
    &cmd_gateway_command,
    &cmd_sender_command,
    &cmd_policy_command,
    &cmd_jobs_command,
    &cmd_status_command,
    &cmd_stats_command,
    &cmd_config_command,
    &cmd_watch_command,
    &cmd_metrics_command,
    &cmd_explain_command,
};

static void ctl_print_usage(FILE *f)
{
	fprintf(f, "usage: ctictl [-c CONFIG] <command> [arguments] | --version\n"
	           "  (CONFIG defaults to " CTL_DEFAULT_CONFIG ")\ncommands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS(ctl_commands); i++)
		fprintf(f, "%s\n", ctl_commands[i]->usage);
	fprintf(f, "  help\n");
}

/* ctl_config - see ctictl.h */
const CtiConfig *ctl_config(CtlContext *ctx)
{
	g_autoptr(GError) error = NULL;

	if (ctx->config == NULL) {
		ctx->config = config_load(ctx->config_path, &error);
		if (ctx->config == NULL) {
			fprintf(ctx->err, "ctictl: %s\n", error->message);
		} else if (!privs_become(ctx->config->ctid_user, &error)) {
			/* root becomes ctid's user: the DBs it creates stay ctid's */
			fprintf(ctx->err, "ctictl: [ctid] user: %s\n", error->message);
			g_clear_pointer(&ctx->config, config_free);
		}
	}
	return ctx->config;
}

/* ctl_fail - see ctictl.h */
int ctl_fail(CtlContext *ctx, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(ctx->err, "ctictl: %s\n", text);
	return CTL_EXIT_FAIL;
}

/* ctl_usage - see ctictl.h */
int ctl_usage(CtlContext *ctx, const CtlCommand *cmd, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(ctx->err, "ctictl: %s\nusage:\n%s\n", text, cmd->usage);
	return CTL_EXIT_USAGE;
}

/* ctl_parse_options - see ctictl.h */
int ctl_parse_options(CtlContext *ctx, const CtlCommand *cmd, const GOptionEntry *entries,
                      int *argc, char ***argv)
{
	g_autoptr(GOptionContext) oc = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;

	g_option_context_set_help_enabled(oc, FALSE);
	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, argc, argv, &error))
		return ctl_usage(ctx, cmd, "%s", error->message);
	return CTL_EXIT_OK;
}

/* ctl_verb_args - see ctictl.h */
int ctl_verb_args(CtlContext *ctx, const CtlCommand *cmd, const GOptionEntry *entries, int *argc,
                  char ***argv, int want, const char *expected)
{
	int rc = entries ? ctl_parse_options(ctx, cmd, entries, argc, argv) : CTL_EXIT_OK;

	if (rc != CTL_EXIT_OK || *argc == want)
		return rc;
	if (expected)
		return ctl_usage(ctx, cmd, "%s %s: %s", cmd->name, (*argv)[1], expected);
	return ctl_usage(ctx, cmd, "%s %s: unexpected argument '%s'", cmd->name, (*argv)[1],
	                 (*argv)[want]);
}

/* ctl_verb_fail - see ctictl.h */
int ctl_verb_fail(CtlContext *ctx, char **argv, const GError *error)
{
	return ctl_fail(ctx, "%s %s: %s", argv[0], argv[1], error->message);
}

/* ctl_read_input - see ctictl.h */
gboolean ctl_read_input(const char *path, char **text, gsize *len, GError **error)
{
	g_autoptr(GIOChannel) in = NULL;

	if (strcmp(path, "-") != 0)
		return g_file_get_contents(path, text, len, error);
	in = g_io_channel_unix_new(0);
	if (g_io_channel_set_encoding(in, NULL, error) == G_IO_STATUS_ERROR)
		return FALSE;
	return g_io_channel_read_to_end(in, text, len, error) == G_IO_STATUS_NORMAL;
}

/* ctl_json_string - see ctictl.h */
void ctl_json_string(GString *out, const char *s)
{
	if (s == NULL) {
		g_string_append(out, "null");
		return;
	}
	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_printf(out, "\\%c", *p);
		else if (*p < 0x20)
			g_string_append_printf(out, "\\u%04x", *p);
		else
			g_string_append_c(out, (char)*p);
	}
	g_string_append_c(out, '"');
}

/* ctl_json_field - see ctictl.h */
void ctl_json_field(GString *out, const char *name, const char *value)
{
	if (out->len == 0 || out->str[out->len - 1] != '{')
		g_string_append_c(out, ',');
	ctl_json_string(out, name);
	g_string_append_c(out, ':');
	ctl_json_string(out, value);
}

/* ctl_json_changed_end - see ctictl.h */
void ctl_json_changed_end(GString *out, gint64 changed)
{
	g_autofree char *when = ctl_time_text(changed);

	g_string_append_printf(out, ",\"changed\":%" G_GINT64_FORMAT ",\"changed_at\":", changed);
	ctl_json_string(out, when);
	g_string_append_c(out, '}');
}

/* ctl_print_json_array - see ctictl.h */
void ctl_print_json_array(CtlContext *ctx, GPtrArray *rows, CtlJsonRow row_json)
{
	g_autoptr(GString) out = g_string_new("[");

	for (guint i = 0; i < rows->len; i++) {
		g_string_append(out, i ? ",\n  " : "\n  ");
		row_json(out, rows->pdata[i]);
	}
	g_string_append(out, rows->len ? "\n]\n" : "]\n");
	fputs(out->str, ctx->out);
}

/* ctl_time_text - see ctictl.h */
char *ctl_time_text(gint64 unix_seconds)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_seconds);

	return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

/* ctl_run - CMD's handler, or the row of its verbs named by ARGV[1] (usage if none) */
static int ctl_run(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	if (cmd->handler)
		return cmd->handler(ctx, cmd, argc, argv);
	if (argc < 2)
		return ctl_usage(ctx, cmd, "%s: what to do?", cmd->name);
	for (gsize i = 0; i < cmd->n_verbs; i++)
		if (strcmp(argv[1], cmd->verbs[i].name) == 0)
			return cmd->verbs[i].handler(ctx, cmd, argc, argv);
	return ctl_usage(ctx, cmd, "%s: unknown verb '%s'", cmd->name, argv[1]);
}

/* ctl_global_options - -c/--config, -h/--help (-1), -V/--version (-3); returns the index of
 * the command word, or -2 after an unknown option */
static int ctl_global_options(CtlContext *ctx, int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc)
			ctx->config_path = argv[++i];
		else if (g_str_has_prefix(argv[i], "--config="))
			ctx->config_path = argv[i] + strlen("--config=");
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return -1;
		else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0)
			return -3;
		else {
			fprintf(ctx->err, "ctictl: unknown option '%s'\n", argv[i]);
			return -2;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	CtlContext ctx = {CTL_DEFAULT_CONFIG, NULL, stdout, stderr};
	int first, rc = -1;

	setlocale(LC_ALL, "");
	first = ctl_global_options(&ctx, argc, argv);
	if (first == -3) {
		printf("ctictl (mailcti) %s\n", PACKAGE_VERSION);
		return CTL_EXIT_OK;
	}
	if (first == -1 || (first > 0 && first < argc && strcmp(argv[first], "help") == 0)) {
		ctl_print_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (first < 0 || first >= argc) {
		ctl_print_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(ctl_commands); i++)
		if (strcmp(argv[first], ctl_commands[i]->name) == 0)
			rc = ctl_run(&ctx, ctl_commands[i], argc - first, argv + first);
	if (rc < 0) {
		fprintf(stderr, "ctictl: unknown command '%s'\n", argv[first]);
		ctl_print_usage(stderr);
		rc = CTL_EXIT_USAGE;
	}
	g_clear_pointer(&ctx.config, config_free);
	fflush(stdout);
	return ferror(stdout) ? CTL_EXIT_FAIL : rc;
}
