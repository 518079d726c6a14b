/* cmd-sender - "ctictl sender ...": add, del, list, grant, revoke.
 *
 * Senders are the identities (SMTP AUTH logins or mail addresses, see
 * mailcti.conf(5) [identity]) allowed to send requests; grants say which
 * extensions each may use as Source and which mailboxes it may name for
 * Trigger: user.  Each verb is a row of sender_verbs; writes open the policy
 * DB writable (creating it), list opens it read-only.  Failures are printed
 * as one line; see ctictl.h for the exit statuses.
 */
#include <string.h>

#include "cmd-policy.h"

static int sender_add_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autofree char *note = NULL;
	const GOptionEntry entries[] = {
	    {"note", 'n', 0, G_OPTION_ARG_STRING, &note, "note", "TEXT"},
	    {NULL},
	};
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 3)
		return ctl_usage(ctx, cmd, "sender add: one IDENTITY expected");
	if (!(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_sender_add(db, argv[2], note, &error))
		return ctl_fail(ctx, "sender add: %s", error->message);
	return CTL_EXIT_OK;
}

static int sender_del_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = CTL_EXIT_OK;

	if (argc != 3)
		return ctl_usage(ctx, cmd, "sender del: one IDENTITY expected");
	if (!(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_sender_del(db, argv[2], &error))
		return ctl_fail(ctx, "sender del: %s", error->message);
	return CTL_EXIT_OK;
}

/* sender_grant_args - IDENTITY EXTENSION, or IDENTITY --mailbox PATTERN */
static int sender_grant_args(CtlContext *ctx, const CtlCommand *cmd, int *argc, char ***argv,
                             CtiGrantKind *kind, char **value)
{
	g_autofree char *mailbox = NULL;
	const GOptionEntry entries[] = {
	    {"mailbox", 'm', 0, G_OPTION_ARG_STRING, &mailbox, "mailbox pattern", "PATTERN"},
	    {NULL},
	};
	int rc = ctl_parse_options(ctx, cmd, entries, argc, argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (mailbox && *argc == 3) {
		*kind = CTI_GRANT_MAILBOX;
		*value = g_steal_pointer(&mailbox);
	} else if (!mailbox && *argc == 4) {
		*kind = CTI_GRANT_EXTENSION;
		*value = g_strdup((*argv)[3]);
	} else {
		return ctl_usage(ctx, cmd,
		                 "sender %s: IDENTITY and EXTENSION or --mailbox PATTERN "
		                 "expected",
		                 (*argv)[1]);
	}
	return CTL_EXIT_OK;
}

static int sender_grant_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *value = NULL;
	CtiGrantKind kind = CTI_GRANT_EXTENSION;
	int rc = sender_grant_args(ctx, cmd, &argc, &argv, &kind, &value);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (!(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_grant(db, argv[2], kind, value, &error))
		return ctl_fail(ctx, "sender grant: %s", error->message);
	return CTL_EXIT_OK;
}

static int sender_revoke_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *value = NULL;
	CtiGrantKind kind = CTI_GRANT_EXTENSION;
	int rc = sender_grant_args(ctx, cmd, &argc, &argv, &kind, &value);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (!(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_revoke(db, argv[2], kind, value, &error))
		return ctl_fail(ctx, "sender revoke: %s", error->message);
	return CTL_EXIT_OK;
}

/* sender_join - the strings of LIST joined by ", ", "-" when empty (transfer full) */
static char *sender_join(GPtrArray *list)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < list->len; i++)
		g_string_append_printf(out, "%s%s", i ? "," : "", (const char *)list->pdata[i]);
	if (out->len == 0)
		g_string_append_c(out, '-');
	return g_string_free(out, FALSE);
}

static void sender_print_table(CtlContext *ctx, GPtrArray *senders)
{
	for (guint i = 0; i < senders->len; i++) {
		const CtiSender *s = senders->pdata[i];
		g_autofree char *exts = sender_join(s->extensions);
		g_autofree char *mbs = sender_join(s->mailboxes);

		fprintf(ctx->out, "%-32s extensions %-16s mailboxes %-16s %s\n", s->identity, exts,
		        mbs, s->note);
	}
}

static void sender_json_array(GString *out, GPtrArray *list)
{
	g_string_append_c(out, '[');
	for (guint i = 0; i < list->len; i++) {
		if (i)
			g_string_append_c(out, ',');
		ctl_json_string(out, list->pdata[i]);
	}
	g_string_append_c(out, ']');
}

static void sender_print_json(CtlContext *ctx, GPtrArray *senders)
{
	g_autoptr(GString) out = g_string_new("[");

	for (guint i = 0; i < senders->len; i++) {
		const CtiSender *s = senders->pdata[i];
		g_autofree char *when = ctl_time_text(s->changed);

		g_string_append(out, i ? ",\n  {\"identity\":" : "\n  {\"identity\":");
		ctl_json_string(out, s->identity);
		g_string_append(out, ",\"note\":");
		ctl_json_string(out, s->note);
		g_string_append(out, ",\"extensions\":");
		sender_json_array(out, s->extensions);
		g_string_append(out, ",\"mailboxes\":");
		sender_json_array(out, s->mailboxes);
		g_string_append_printf(
		    out, ",\"changed\":%" G_GINT64_FORMAT ",\"changed_at\":", s->changed);
		ctl_json_string(out, when);
		g_string_append_c(out, '}');
	}
	g_string_append(out, senders->len ? "\n]\n" : "]\n");
	fputs(out->str, ctx->out);
}

static int sender_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "JSON output", NULL},
	    {NULL},
	};
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GPtrArray) senders = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_parse_options(ctx, cmd, entries, &argc, &argv);

	if (rc != CTL_EXIT_OK)
		return rc;
	if (argc != 2)
		return ctl_usage(ctx, cmd, "sender list: unexpected argument '%s'", argv[2]);
	if (!(db = ctl_policy_open(ctx, FALSE, &rc)))
		return rc;
	if (!(senders = policy_sender_list(db, &error)))
		return ctl_fail(ctx, "sender list: %s", error->message);
	if (json)
		sender_print_json(ctx, senders);
	else
		sender_print_table(ctx, senders);
	return CTL_EXIT_OK;
}

static const CtlVerb sender_verbs[] = {
    {"add", sender_add_cmd},     {"del", sender_del_cmd},       {"list", sender_list_cmd},
    {"grant", sender_grant_cmd}, {"revoke", sender_revoke_cmd},
};

static int cmd_sender(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return ctl_dispatch_verb(ctx, cmd, sender_verbs, G_N_ELEMENTS(sender_verbs), argc, argv);
}

const CtlCommand cmd_sender_command = {
    "sender",
    cmd_sender,
    "  sender add IDENTITY [--note TEXT]\n"
    "  sender del IDENTITY\n"
    "  sender list [--json]\n"
    "  sender grant IDENTITY EXTENSION | sender grant IDENTITY --mailbox PATTERN\n"
    "  sender revoke IDENTITY EXTENSION | sender revoke IDENTITY --mailbox PATTERN\n"
    "    IDENTITY: SMTP AUTH login or mail address; PATTERN: self, or a glob (*@example.com)",
};
