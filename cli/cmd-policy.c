/* cmd-policy - "ctictl policy ...": the destination rules: add, del, list,
 * move, test, reset.
 *
 * Rules are tried by position; the first whose prefix starts the number
 * decides (see mailcti-policy(5)).  "test" explains the verdict on a number
 * exactly as the milter would reach it, naming the rule.  Each verb is a row
 * of policy_verbs; list and test open the DB read-only.  Also holds
 * ctl_policy_open(), shared with cmd-sender.c.  Failures are printed as one
 * line; see ctictl.h for the exit statuses.
 */
#include <string.h>

#include "cmd-policy.h"
#include "number.h"

/* ctl_policy_open - see cmd-policy.h */
CtiPolicyDb *ctl_policy_open(CtlContext *ctx, gboolean writable, int *rc)
{
	const CtiConfig *config = ctl_config(ctx);
	g_autoptr(GError) error = NULL;
	CtiPolicyDb *db;

	*rc = CTL_EXIT_USAGE;
	if (config == NULL)
		return NULL;
	*rc = CTL_EXIT_FAIL;
	db = policy_open_config(config, writable, &error);
	if (db == NULL && g_error_matches(error, CTI_POLICY_ERROR, CTI_POLICY_ERROR_NOT_FOUND)) {
		ctl_fail(ctx,
		         "policy DB %s does not exist yet: 'sender add', 'policy add' or "
		         "'policy reset' creates it",
		         config->policy_db);
		return NULL;
	}
	if (db == NULL)
		ctl_fail(ctx, "%s", error->message);
	return db;
}

/* policy_parse_position - a rule position >= MIN */
static gboolean policy_parse_position(const char *text, gint64 min, int *out)
{
	gint64 v;

	if (!g_ascii_string_to_signed(text, 10, min, CTI_POLICY_MAX_RULES, &v, NULL))
		return FALSE;
	*out = (int)v;
	return TRUE;
}

/* policy_cli_prefix - "any" and "default" stand for the empty prefix */
static const char *policy_cli_prefix(const char *text)
{
	return strcmp(text, "any") == 0 || strcmp(text, "default") == 0 ? "" : text;
}

static int policy_add_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *note = NULL;
	int position = 0;
	const GOptionEntry entries[] = {
	    {"note", 'n', 0, G_OPTION_ARG_STRING, &note, "note", "TEXT"},
	    {"position", 'p', 0, G_OPTION_ARG_INT, &position, "insert at", "N"},
	    {NULL},
	};
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);
	gboolean allow;

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 4 || (strcmp(argv[2], "allow") != 0 && strcmp(argv[2], "deny") != 0))
		return ctl_usage(ctx, cmd, "policy add: allow|deny and PREFIX expected");
	if (position < 0)
		return ctl_usage(ctx, cmd, "policy add: --position must be 1 or more");
	allow = strcmp(argv[2], "allow") == 0;
	if (!(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_rule_add(db, position, allow, policy_cli_prefix(argv[3]), note, &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

static int policy_del_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = CTL_EXIT_OK, position;

	if (argc != 3 || !policy_parse_position(argv[2], 1, &position))
		return ctl_usage(ctx, cmd, "policy del: one POSITION expected");
	if (!(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_rule_del(db, position, &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

static int policy_move_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = CTL_EXIT_OK, from, to;

	if (argc != 4 || !policy_parse_position(argv[2], 1, &from) ||
	    !policy_parse_position(argv[3], 1, &to))
		return ctl_usage(ctx, cmd, "policy move: FROM and TO positions expected");
	if (!(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_rule_move(db, from, to, &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

static int policy_reset_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_verb_args(ctx, cmd, NULL, &argc, &argv, 2, "no argument expected");

	if (rc != CTL_EXIT_OK || !(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	rules = policy_rules_parse(ctl_config(ctx)->default_rules, &error);
	if (!rules || !policy_rules_replace(db, rules, &error))
		return ctl_verb_fail(ctx, argv, error);
	fprintf(ctx->out, "%u rule(s) from [policy] default_rules\n", rules->len);
	return CTL_EXIT_OK;
}

/* policy_rule_json - one rule (a CtiPolicyRule) as a JSON object */
static void policy_rule_json(GString *out, gconstpointer row)
{
	const CtiPolicyRule *r = row;

	g_string_append_printf(out, "{\"position\":%d,\"verdict\":\"%s\"", r->position,
	                       r->allow ? "allow" : "deny");
	ctl_json_field(out, "prefix", r->prefix);
	ctl_json_field(out, "note", r->note);
	ctl_json_changed_end(out, r->changed);
}

static void policy_print_rules(CtlContext *ctx, GPtrArray *rules, gboolean json)
{
	if (json) {
		ctl_print_json_array(ctx, rules, policy_rule_json);
		return;
	}
	for (guint i = 0; i < rules->len; i++) {
		const CtiPolicyRule *r = rules->pdata[i];

		fprintf(ctx->out, "%4d  %-5s  %-16s  %s\n", r->position,
		        r->allow ? "allow" : "deny", *r->prefix ? r->prefix : "any", r->note);
	}
}

static int policy_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    CTL_JSON_OPTION(json),
	    {NULL},
	};
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GPtrArray) rules = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_verb_args(ctx, cmd, entries, &argc, &argv, 2, NULL);

	if (rc != CTL_EXIT_OK || !(db = ctl_policy_open(ctx, FALSE, &rc)))
		return rc;
	if (!(rules = policy_rule_list(db, &error)))
		return ctl_verb_fail(ctx, argv, error);
	policy_print_rules(ctx, rules, json);
	return CTL_EXIT_OK;
}

static void policy_print_verdict(CtlContext *ctx, const char *asked, const CtiPolicyVerdict *v,
                                 gboolean json)
{
	g_autoptr(GString) out = g_string_new(NULL);

	if (!json) {
		fprintf(ctx->out, "%s: %s\n%s\n", asked, v->allowed ? "allowed" : "denied", v->why);
		return;
	}
	g_string_append(out, "{\"number\":");
	ctl_json_string(out, asked);
	g_string_append_printf(out, ",\"allowed\":%s,\"rule\":", v->allowed ? "true" : "false");
	if (v->rule)
		policy_rule_json(out, v->rule);
	else
		g_string_append(out, "null");
	g_string_append(out, ",\"why\":");
	ctl_json_string(out, v->why);
	g_string_append(out, "}\n");
	fputs(out->str, ctx->out);
}

static int policy_test_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    CTL_JSON_OPTION(json),
	    {NULL},
	};
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(CtiPolicyVerdict) v = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *number = NULL;
	int rc = ctl_verb_args(ctx, cmd, entries, &argc, &argv, 3, "one NUMBER expected");

	if (rc != CTL_EXIT_OK)
		return rc;
	/* the milter checks the number as the request parser left it: normalised */
	if (!number_normalise(argv[2], &number, &error))
		return ctl_fail(ctx, "policy test: %s: denied, not a number: %s", argv[2],
		                error->message);
	if (!(db = ctl_policy_open(ctx, FALSE, &rc)))
		return rc;
	if (!(v = policy_explain(db, number, &error)))
		return ctl_verb_fail(ctx, argv, error);
	policy_print_verdict(ctx, number, v, json);
	return v->allowed ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static const CtlVerb policy_verbs[] = {
    {"add", policy_add_cmd},   {"del", policy_del_cmd},   {"list", policy_list_cmd},
    {"move", policy_move_cmd}, {"test", policy_test_cmd}, {"reset", policy_reset_cmd},
};

const CtlCommand cmd_policy_command = {
    "policy",
    NULL,
    "  policy add allow|deny PREFIX [--position N] [--note TEXT]\n"
    "  policy del POSITION\n"
    "  policy list [--json]\n"
    "  policy move FROM TO\n"
    "  policy test NUMBER [--json]\n"
    "  policy reset\n"
    "    PREFIX: digits with an optional leading '+'; any (or \"\") matches every number",
    policy_verbs,
    G_N_ELEMENTS(policy_verbs),
};
