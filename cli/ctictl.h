/* ctictl - shared declarations of the operator CLI's main and its subcommand
 * modules (cmd-*.c).  A subcommand is one row of the table in ctictl.c:
 * { name, handler, usage } with a handler that gets the argv after its name,
 * or { name, NULL, usage, verbs, n_verbs } with a table of verbs. */
#ifndef MAILCTI_CTICTL_H
#define MAILCTI_CTICTL_H

#include <glib.h>
#include <stdio.h>

#include "config.h"

/* exit statuses of every subcommand */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,  /* the operation failed or found nothing */
	CTL_EXIT_USAGE = 2, /* bad command line or configuration */
	CTL_EXIT_LINK_DOWN = 3, /* status: ctid answered, but its PBX link is down */
};

typedef struct {
	const char *config_path; /* -c */
	CtiConfig *config;       /* loaded by ctl_config() on first use */
	FILE *out;               /* results */
	FILE *err;               /* diagnostics */
} CtlContext;

typedef struct CtlCommand CtlCommand;
/* a handler: ARGV[0] is the subcommand's name, the rest its arguments */
typedef int (*CtlHandler)(CtlContext *ctx, const CtlCommand *cmd, int argc, char **argv);

/* a verb of a subcommand ("route add"): the handler gets the whole argv,
 * ARGV[0] the command word, ARGV[1] the verb */
typedef struct {
	const char *name;
	CtlHandler handler;
} CtlVerb;

struct CtlCommand {
	const char *name;
	CtlHandler handler; /* NULL: run the row of VERBS named by ARGV[1] */
	const char *usage;  /* one or more lines, "name args..." */
	const CtlVerb *verbs;
	gsize n_verbs;
};

/* ctl_config - the configuration, loaded on first use; NULL after printing why */
const CtiConfig *ctl_config(CtlContext *ctx);
/* ctl_fail - print "ctictl: TEXT" on ctx->err; returns CTL_EXIT_FAIL */
int ctl_fail(CtlContext *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* ctl_usage - print "ctictl: TEXT" and the usage of CMD; returns CTL_EXIT_USAGE */
int ctl_usage(CtlContext *ctx, const CtlCommand *cmd, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* ctl_parse_options - GOption parsing of ARGV (after the subcommand words); CTL_EXIT_OK or usage */
int ctl_parse_options(CtlContext *ctx, const CtlCommand *cmd, const GOptionEntry *entries,
                      int *argc, char ***argv);

/* ctl_read_input - the whole of file PATH ("-": stdin) (transfer full) */
gboolean ctl_read_input(const char *path, char **text, gsize *len, GError **error);

/* CTL_JSON_OPTION - the --json/-j option of a verb that can print JSON, setting VAR */
/* clang-format off */
#define CTL_JSON_OPTION(var) {"json", 'j', 0, G_OPTION_ARG_NONE, &(var), "JSON output", NULL}
/* clang-format on */

/* ctl_verb_args - the words of a verb: parse ENTRIES (NULL: the verb takes no options),
 * then expect WANT words in ARGV (command, verb, arguments); otherwise print usage with
 * "command verb: EXPECTED", or, with EXPECTED NULL, name the first unexpected argument */
int ctl_verb_args(CtlContext *ctx, const CtlCommand *cmd, const GOptionEntry *entries, int *argc,
                  char ***argv, int want, const char *expected);
/* ctl_verb_fail - print "command verb: ERROR's message"; returns CTL_EXIT_FAIL */
int ctl_verb_fail(CtlContext *ctx, char **argv, const GError *error);

/* ctl_json_string - append S as a JSON string literal (NULL: null) */
void ctl_json_string(GString *out, const char *s);
/* ctl_json_field - append "NAME":VALUE (a string or null) to the object OUT ends with,
 * after a ',' unless it is the object's first field */
void ctl_json_field(GString *out, const char *name, const char *value);
/* ctl_json_changed_end - append an object's last fields, changed and changed_at, and its '}' */
void ctl_json_changed_end(GString *out, gint64 changed);
/* a row of a JSON array: append ROW as one JSON object */
typedef void (*CtlJsonRow)(GString *out, gconstpointer row);
/* ctl_print_json_array - ROWS as a JSON array on ctx->out, one object a line */
void ctl_print_json_array(CtlContext *ctx, GPtrArray *rows, CtlJsonRow row_json);
/* ctl_time_text - unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (transfer full) */
char *ctl_time_text(gint64 unix_seconds);

/* the subcommands, one row each, listed in ctictl.c's table */
extern const CtlCommand cmd_route_command;   /* cmd-route.c */
extern const CtlCommand cmd_gateway_command; /* cmd-route.c */
extern const CtlCommand cmd_sender_command;  /* cmd-sender.c */
extern const CtlCommand cmd_policy_command;  /* cmd-policy.c */
extern const CtlCommand cmd_jobs_command;    /* cmd-jobs.c */
extern const CtlCommand cmd_status_command;  /* cmd-status.c */
extern const CtlCommand cmd_stats_command;   /* cmd-status.c */
extern const CtlCommand cmd_config_command;  /* cmd-status.c */
extern const CtlCommand cmd_watch_command;   /* cmd-status.c */
extern const CtlCommand cmd_metrics_command; /* cmd-metrics.c */
extern const CtlCommand cmd_explain_command; /* cmd-explain.c */

#endif
