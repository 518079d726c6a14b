/* explain - the dry run: what this gateway would do with a request mail,
 * without dialling anything.  Shared by "ctictl explain" and the milter's
 * answer to "Dry-Run: yes" / mail to explain@<domain>.
 *
 * The report walks the path of a real request: the request part and its
 * fields, the sender's identity, its grants, the destination policy, the
 * route (here, relayed, refused), the scenario steps and the media
 * conversions, and ends with one verdict.  Every check reads the same
 * configuration and databases the milter does, read-only.  A check that
 * cannot be made (a DB missing) is reported as such, never guessed.
 */
#ifndef MAILCTI_EXPLAIN_H
#define MAILCTI_EXPLAIN_H

#include <glib.h>

#include "config.h"

#define CTI_EXPLAIN_ADDRESS "explain" /* local part of the dry-run address */

typedef enum {
	CTI_EXPLAIN_EXECUTE, /* would be executed here */
	CTI_EXPLAIN_RELAY,   /* would be relayed to another gateway */
	CTI_EXPLAIN_REFUSE,  /* would be refused (5xx) */
	CTI_EXPLAIN_TEMP,    /* would be deferred (4xx): a DB is unavailable */
	CTI_EXPLAIN_NONE,    /* not a request at all: delivered as ordinary mail */
} CtiExplainVerdict;

/* what the milter knows about the mail besides its bytes; every field may be NULL */
typedef struct {
	const char *sender;      /* envelope sender without <>, "" = null sender */
	const char *recipient;   /* envelope recipient */
	const char *auth_authen; /* SMTP AUTH login */
	const char *client_addr; /* SMTP client address */
} CtiExplainEnvelope;

typedef struct {
	CtiExplainVerdict verdict;
	char *text;       /* the report, LF line ends, UTF-8 */
	char *summary;    /* one line: the verdict and why */
	char *message_id; /* the request's Message-ID without <>, or NULL */
	char *subject;    /* the request's Subject, or NULL */
} CtiExplanation;

/* explain_message - the dry run of the mail DATA (LEN bytes, CRLF or LF) (transfer full) */
CtiExplanation *explain_message(const CtiConfig *config, const void *data, gsize len,
                                const CtiExplainEnvelope *env);
/* explain_compose_reply - the explanation mail to TO from the null sender, a
 * reply to the request (transfer full), or NULL + error when TO is unusable */
GBytes *explain_compose_reply(const CtiConfig *config, const CtiExplanation *ex, const char *to,
                              GError **error);
/* explain_verdict_name - "execute", "relay", "refuse", "defer", "not-a-request" */
const char *explain_verdict_name(CtiExplainVerdict verdict);
/* explain_free - free; NULL is a no-op */
void explain_free(CtiExplanation *ex);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiExplanation, explain_free)

#endif
