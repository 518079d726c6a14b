/* cmd-explain - "ctictl explain [options] [FILE]": the dry run of a request
 * mail read from FILE or standard input, as lib/explain.c reports it:
 * parsed fields, identity, grants, destination policy, route, scenario steps
 * and media conversions, and the verdict.  Nothing is dialled or submitted.
 * The envelope the milter would know is given by options.  Exit status 0
 * when the request would be executed here or relayed, 1 when it would be
 * refused, deferred or is no request at all, 2 on a usage error.
 */
#include <string.h>

#include "ctictl.h"
#include "explain.h"

static int print_explanation(CtlContext *ctx, const CtiExplanation *ex, gboolean json)
{
	if (json) {
		g_autoptr(GString) out = g_string_new("{\"verdict\": ");

		ctl_json_string(out, explain_verdict_name(ex->verdict));
		g_string_append(out, ", \"summary\": ");
		ctl_json_string(out, ex->summary);
		g_string_append(out, ", \"report\": ");
		ctl_json_string(out, ex->text);
		g_string_append(out, "}\n");
		fputs(out->str, ctx->out);
	} else {
		fputs(ex->text, ctx->out);
	}
	switch (ex->verdict) {
	case CTI_EXPLAIN_EXECUTE:
	case CTI_EXPLAIN_RELAY:
		return CTL_EXIT_OK;
	case CTI_EXPLAIN_REFUSE:
	case CTI_EXPLAIN_TEMP:
	case CTI_EXPLAIN_NONE:
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_FAIL;
}

static int cmd_explain(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *sender = NULL, *recipient = NULL, *auth = NULL, *client = NULL;
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"sender", 'f', 0, G_OPTION_ARG_STRING, &sender, "envelope sender", "ADDRESS"},
	    {"recipient", 'r', 0, G_OPTION_ARG_STRING, &recipient, "envelope recipient", "ADDRESS"},
	    {"auth", 'a', 0, G_OPTION_ARG_STRING, &auth, "SMTP AUTH login", "LOGIN"},
	    {"client", 'C', 0, G_OPTION_ARG_STRING, &client, "SMTP client address", "ADDRESS"},
	    CTL_JSON_OPTION(json),
	    {NULL},
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiExplanation) ex = NULL;
	g_autofree char *mail = NULL;
	const CtiConfig *config;
	gsize len;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc > 2)
		return ctl_usage(ctx, cmd, "explain: one FILE at most");
	config = ctl_config(ctx);
	if (config == NULL)
		return CTL_EXIT_USAGE;
	if (!ctl_read_input(argc == 2 ? argv[1] : "-", &mail, &len, &error))
		return ctl_fail(ctx, "explain: %s", error->message);
	ex = explain_message(config, mail, len,
	                     &(CtiExplainEnvelope){sender ? sender : "", recipient, auth, client});
	return print_explanation(ctx, ex, json);
}

const CtlCommand cmd_explain_command = {
    "explain",
    cmd_explain,
    "  explain [--sender ADDRESS] [--recipient ADDRESS] [--auth LOGIN] [--client ADDRESS]\n"
    "          [--json] [FILE]",
};
