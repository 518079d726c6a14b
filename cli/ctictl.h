/* ctictl - shared declarations of the operator CLI's main and its subcommand
 * modules (cmd-*.c).  A subcommand is one row of the table in ctictl.c:
 * { name, handler, usage }; a handler gets the argv after its name. */
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

struct CtlCommand {
	const char *name;
	CtlHandler handler;
	const char *usage; /* one or more lines, "name args..." */
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

/* a verb of a subcommand ("route add"): the handler gets the whole argv,
 * ARGV[0] the command word, ARGV[1] the verb */
typedef struct {
	const char *name;
	CtlHandler handler;
} CtlVerb;
/* ctl_dispatch_verb - run the row of VERBS named by ARGV[1], or print usage */
int ctl_dispatch_verb(CtlContext *ctx, const CtlCommand *cmd, const CtlVerb *verbs, gsize n_verbs,
                      int argc, char **argv);
/* ctl_read_input - the whole of file PATH ("-": stdin) (transfer full) */
gboolean ctl_read_input(const char *path, char **text, gsize *len, GError **error);

/* ctl_json_string - append S as a JSON string literal (NULL: null) */
void ctl_json_string(GString *out, const char *s);
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
extern const CtlCommand cmd_explain_command; /* cmd-explain.c */

#endif
