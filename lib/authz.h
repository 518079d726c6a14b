/* authz - the one authorization decision of a request: may this identity
 * have it executed?  cti-milter (filter/authz-step.c), the dry run
 * (lib/explain.c: ctictl explain and mail to explain@) and ctid (every job it
 * accepts, jobs-admit.c and direct.c) call authz_check() and nothing else,
 * so the three cannot disagree.
 *
 * Identity is an account, not a spelling: authz_canonical() maps the login
 * as typed ("carol", "Carol@PBX.example") to the one name the policy DB
 * knows the account by, so that grants, rate limits and logs key on it:
 *   - with [identity] default_domain D, "carol" and "carol@D" are the same
 *     account: the form that has a sender row wins (the address when both
 *     have one), and without a row the address "carol@D";
 *   - without it, the login is kept as typed (lower-cased).
 * An address belongs to an identity (authz_owns()) when it is the identity
 * itself, or, for a bare login L, "L@D"; without a default domain a bare
 * login owns the addresses whose local part is L.
 *
 * authz_check() authorizes every device the action touches, in this order
 * (the first refusal decides; the later checks are still listed in lines):
 *   1. the envelope sender and Notify-To belong to the identity (the
 *      results are mailed there: reject_sender_login_mismatch in Postfix);
 *   2. Source is granted to the identity (every action: the device the
 *      sender calls from, holds the call on, or intrudes with);
 *   3. Trigger: user: the Mailbox (default: the envelope recipient) is
 *      granted;
 *   4. forward-set, forward-clear: Destination, the diverted device, is
 *      granted (a sender diverts only its own extensions);
 *   5. Destination (the party called or added, or the diverted device)
 *      and Forward-To pass the destination rules.
 * It reads the policy DB and nothing else; no I/O besides, no logging.
 */
#ifndef MAILCTI_AUTHZ_H
#define MAILCTI_AUTHZ_H

#include <glib.h>

#include "config.h"
#include "policy.h"
#include "request.h"

typedef enum {
	CTI_AUTHZ_ALLOW,  /* may be executed */
	CTI_AUTHZ_REFUSE, /* permanent: 550 5.7.1 with text */
	CTI_AUTHZ_TEMP,   /* the policy DB is busy or broken: 451 */
} CtiAuthzVerdict;

typedef struct {
	const char *identity;      /* canonical (authz_canonical), never NULL */
	const CtiRequest *request; /* the validated request */
	const char *recipient;     /* envelope recipient: the Mailbox default; may be NULL */
	const char *sender;        /* envelope sender; NULL or "": not checked */
} CtiAuthzInput;

typedef struct {
	CtiAuthzVerdict verdict;
	char *text;       /* ALLOW: NULL; else the first refusal, for the sender */
	GPtrArray *lines; /* char*: one line per check made, in order */
} CtiAuthzResult;

/* authz_check - the verdict on IN with DB (NULL: no policy DB yet, nobody is registered)
 * and CONFIG (transfer full) */
CtiAuthzResult *authz_check(const CtiAuthzInput *in, CtiPolicyDb *db, const CtiConfig *config);
/* authz_canonical - the account LOGIN stands for, lower case (transfer full); NULL + a
 * policy error only when DB (may be NULL) fails */
char *authz_canonical(CtiPolicyDb *db, const CtiConfig *config, const char *login,
                      GError **error);
/* authz_owns - ADDRESS (a mail address) belongs to IDENTITY (canonical) */
gboolean authz_owns(const CtiConfig *config, const char *identity, const char *address);
/* authz_result_free - free; NULL is a no-op */
void authz_result_free(CtiAuthzResult *res);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiAuthzResult, authz_result_free)

#endif
