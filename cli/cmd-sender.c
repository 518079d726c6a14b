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
	int rc = ctl_verb_args(ctx, cmd, entries, &argc, &argv, 3, "one IDENTITY expected");

	if (rc != CTL_EXIT_OK || !(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_sender_add(db, argv[2], note, &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

static int sender_del_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_verb_args(ctx, cmd, NULL, &argc, &argv, 3, "one IDENTITY expected");

	if (rc != CTL_EXIT_OK || !(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!policy_sender_del(db, argv[2], &error))
		return ctl_verb_fail(ctx, argv, error);
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

/* a change of one grant: policy_grant or policy_revoke */
typedef gboolean (*SenderGrantChange)(CtiPolicyDb *db, const char *identity, CtiGrantKind kind,
                                      const char *value, GError **error);

/* sender_grant_verb - grant and revoke: the same words, one call of CHANGE */
static int sender_grant_verb(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv,
                             SenderGrantChange change)
{
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *value = NULL;
	CtiGrantKind kind = CTI_GRANT_EXTENSION;
	int rc = sender_grant_args(ctx, cmd, &argc, &argv, &kind, &value);

	if (rc != CTL_EXIT_OK || !(db = ctl_policy_open(ctx, TRUE, &rc)))
		return rc;
	if (!change(db, argv[2], kind, value, &error))
		return ctl_verb_fail(ctx, argv, error);
	return CTL_EXIT_OK;
}

static int sender_grant_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return sender_grant_verb(ctx, cmd, argc, argv, policy_grant);
}

static int sender_revoke_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	return sender_grant_verb(ctx, cmd, argc, argv, policy_revoke);
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

/* sender_json - one sender (a CtiSender) with its grants as a JSON object */
static void sender_json(GString *out, gconstpointer row)
{
	const CtiSender *s = row;

	g_string_append_c(out, '{');
	ctl_json_field(out, "identity", s->identity);
	ctl_json_field(out, "note", s->note);
	g_string_append(out, ",\"extensions\":");
	sender_json_array(out, s->extensions);
	g_string_append(out, ",\"mailboxes\":");
	sender_json_array(out, s->mailboxes);
	ctl_json_changed_end(out, s->changed);
}

static int sender_list_cmd(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv)
{
	gboolean json = FALSE;
	const GOptionEntry entries[] = {
	    CTL_JSON_OPTION(json),
	    {NULL},
	};
	g_autoptr(CtiPolicyDb) db = NULL;
	g_autoptr(GPtrArray) senders = NULL;
	g_autoptr(GError) error = NULL;
	int rc = ctl_verb_args(ctx, cmd, entries, &argc, &argv, 2, NULL);

	if (rc != CTL_EXIT_OK || !(db = ctl_policy_open(ctx, FALSE, &rc)))
		return rc;
	if (!(senders = policy_sender_list(db, &error)))
		return ctl_verb_fail(ctx, argv, error);
	if (json)
		ctl_print_json_array(ctx, senders, sender_json);
	else
		sender_print_table(ctx, senders);
	return CTL_EXIT_OK;
}

static const CtlVerb sender_verbs[] = {
    {"add", sender_add_cmd},     {"del", sender_del_cmd},       {"list", sender_list_cmd},
    {"grant", sender_grant_cmd}, {"revoke", sender_revoke_cmd},
};

const CtlCommand cmd_sender_command = {
    "sender",
    NULL,
    "  sender add IDENTITY [--note TEXT]\n"
    "  sender del IDENTITY\n"
    "  sender list [--json]\n"
    "  sender grant IDENTITY EXTENSION | sender grant IDENTITY --mailbox PATTERN\n"
    "  sender revoke IDENTITY EXTENSION | sender revoke IDENTITY --mailbox PATTERN\n"
    "    IDENTITY: SMTP AUTH login or mail address; PATTERN: self, or a glob (*@example.com)",
    sender_verbs,
    G_N_ELEMENTS(sender_verbs),
};
