/* filter - what cti-milter does with one message, without libmilter.
 *
 * The libmilter callbacks in cti-milter.c only fetch the context and call
 * these functions, so Check can drive a whole message through them.
 * One FilterMsg per message (envelope to end of message): it owns the
 * envelope strings, the headers as received, the scanner and the spool file.
 *
 * The path of a message:
 *   headers -> filter_msg_eoh():  not multipart, not application/x-cti, no
 *              *.cti file name and no X-CTI-Job header to remove: ACCEPT
 *              (the body is never seen); otherwise go on: the mail (a request
 *              or any multipart mail) is held in memory (256 KiB at most), and
 *              spooled to an unlinked temp file in [milter] tmp_dir only when it
 *              grows past that.
 *   body    -> filter_msg_body(): hold or spool, and scan for request part headers.
 *   end     -> filter_msg_eom():  parse a candidate with GMime, find and
 *              validate the request, SUBMIT it to ctid, report the job.
 * A Trigger: system request runs only when a recipient is a CTI address
 * ([milter] cti_address); mail to other addresses (a forward, a reply that
 * keeps the attachment) is delivered as it is, and so is mail to them whose
 * request part is not valid.  Trigger: user runs for its mailbox owner.
 * A request sent to an explain address ([milter] explain_address) is a dry
 * run whatever it says: it skips the authorization and routing steps (the
 * explanation reports them) and goes to ctid with Dry-Run: yes forced, so
 * ctid mails the explanation to the envelope sender and nothing is dialled.
 * Failures come back as GErrors for reply_from_error().
 */
#ifndef MAILCTI_FILTER_FILTER_H
#define MAILCTI_FILTER_FILTER_H

#include <glib.h>

/* by path: the build tree's autoconf config.h comes first on the include path */
#include "../lib/config.h"
#include "request.h"
#include "route-step.h"
#include "authz-step.h"

/* The header ctid's Dovecot plugin looks for (Trigger: user). */
#define FILTER_JOB_HEADER "X-CTI-Job"

typedef struct FilterMsg FilterMsg;

typedef enum {
	FILTER_EOH_ACCEPT,   /* not a request: accept, skip the body */
	FILTER_EOH_CONTINUE, /* send the body */
	FILTER_EOH_FAIL,     /* see the error */
} FilterEoh;

typedef struct {
	gboolean is_request;      /* a request was found and ctid took it */
	char *job_id;             /* ctid's Job-Id, when is_request */
	CtiRequest *request;      /* the parsed request, when is_request */
	char *add_job_header;     /* value for a new X-CTI-Job header (Trigger: user), or NULL */
	guint remove_job_headers; /* X-CTI-Job headers from outside to delete (indexes 1..n) */
	guint remove_hop_headers; /* X-CTI-Hop headers from a client that is no trusted relay */
	char *identity;           /* the sender's identity when an authz step ran */
	RouteStepResult *route;   /* the routing decision when a router is set; FORWARD: relay
	                           * (rewrite the recipient, insert the hop header), no job */
	gboolean explain;         /* sent to an explain address: a dry-run job, nothing dialled */
	char **explain_rcpts;     /* explain: those recipients ("<addr>") to delete, NULL-ended */
	gboolean discard;         /* explain: no other recipient is left, discard the mail */
	char *ordinary;           /* a request part, but not for this gateway: delivered as it
	                           * is, nothing run; why (for the log), else NULL */
} FilterOutcome;

/* filter_msg_new - a message context reading settings from CONFIG (borrowed, must outlive it) */
FilterMsg *filter_msg_new(const CtiConfig *config);
/* filter_msg_set_router - route requests with ROUTER (borrowed); none: every request is local */
void filter_msg_set_router(FilterMsg *msg, RouteStep *router);
/* filter_msg_set_authz - authorize requests with AUTHZ (borrowed); without one every sender
 * may use everything and every X-CTI-Hop header is believed */
void filter_msg_set_authz(FilterMsg *msg, AuthzStep *authz);
/* filter_msg_free - free, closing the spool file; NULL is a no-op */
void filter_msg_free(FilterMsg *msg);

/* filter_msg_envelope - the sender ("<>" or "<a@b>" as given) and optional macros */
void filter_msg_envelope(FilterMsg *msg, const char *sender, const char *auth_authen,
                         const char *client_addr);
/* filter_msg_recipient - one envelope recipient, as given */
void filter_msg_recipient(FilterMsg *msg, const char *rcpt);
/* filter_msg_set_queue_id - the MTA's queue id once known (NULL ignored) */
void filter_msg_set_queue_id(FilterMsg *msg, const char *queue_id);
/* filter_msg_queue_id - the queue id, or "NOQUEUE" */
const char *filter_msg_queue_id(const FilterMsg *msg);
/* filter_msg_sender - the envelope sender without <>, "" for the null sender */
const char *filter_msg_sender(const FilterMsg *msg);
/* filter_msg_first_recipient - the first envelope recipient without <>, or "" */
const char *filter_msg_first_recipient(const FilterMsg *msg);
/* filter_msg_header - one header; VALUE is everything after the colon, leading space included */
void filter_msg_header(FilterMsg *msg, const char *name, const char *value);
/* filter_msg_eoh - end of headers: decide the fast path; FILTER_EOH_FAIL + error */
FilterEoh filter_msg_eoh(FilterMsg *msg, GError **error);
/* filter_msg_body - one body chunk (errors are kept for filter_msg_eom) */
void filter_msg_body(FilterMsg *msg, const void *data, gsize len);
/* filter_msg_eom - end of message: find, validate and submit the request; FALSE + error */
gboolean filter_msg_eom(FilterMsg *msg, FilterOutcome *outcome, GError **error);

/* filter_is_explain_address - RCPT (with or without <>) is one of CONFIG's [milter]
 * explain_address entries: a local part on any domain, or a whole address (no case) */
gboolean filter_is_explain_address(const CtiConfig *config, const char *rcpt);

/* filter_is_request_address - RCPT is an explain address, a CTI address ([milter]
 * cti_address) or one of [milter] request_addresses: a local part, a whole address or
 * "@domain" (e.g. a peer gateway's domain) */
gboolean filter_is_request_address(const CtiConfig *config, const char *rcpt);
/* filter_msg_may_be_request - after the last recipient: FALSE when nothing in this
 * message can become a request here, so the milter may accept it unseen.  That needs
 * [milter] request_addresses (empty: any recipient may take requests), mail from
 * smtpd (LOCAL: injected by sendmail, e.g. ctid's notifications, always goes on), no
 * identity possible (authz_step_identity_possible) and no recipient that is a
 * request address.  Without an authz step every sender may use everything: TRUE. */
gboolean filter_msg_may_be_request(const FilterMsg *msg, gboolean local);

/* filter_outcome_clear - free what OUTCOME holds */
void filter_outcome_clear(FilterOutcome *outcome);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FilterMsg, filter_msg_free)

#endif
