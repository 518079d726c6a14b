/* authz-step - the milter's authorization step: once a request is valid,
 * decide whether this sender may have it executed at all.
 *
 * In this order (the first failure refuses the mail):
 *   1. the null sender (<>) and mail with Auto-Submitted other than "no"
 *      are never executed (loops, bounces, auto-replies);
 *   2. the sender is identified ([identity], identity.h); unidentified:
 *      the text says how to authenticate; the login is mapped to its
 *      account (authz_canonical(), authz.h);
 *   3. authz_check() (lib/authz.h), the one decision shared with explain
 *      and ctid: the envelope sender and Notify-To belong to the identity,
 *      Source (and the diverted device of forward-set/forward-clear, and the
 *      Mailbox for Trigger: user) is granted, Destination and Forward-To
 *      pass the destination rules.
 * Refusals are FILTER_ERROR_UNAUTHORIZED (550 5.7.1, text shown); a busy or
 * broken policy DB is FILTER_ERROR_TEMP (451).  A policy DB that does not
 * exist yet registers nobody: every request is refused (logged once).
 *
 * AuthzStep is process-wide: the parsed [identity] settings and one
 * read-only policy DB handle shared by libmilter's threads behind a mutex.
 * ctictl's changes are seen by the next request (no cache).
 */
#ifndef MAILCTI_FILTER_AUTHZ_STEP_H
#define MAILCTI_FILTER_AUTHZ_STEP_H

#include <glib.h>

/* by path: the build tree's autoconf config.h comes first on the include path */
#include "../lib/config.h"
#include "identity.h"
#include "policy.h"
#include "request.h"

typedef struct {
	const CtiRequest *request;  /* the validated request */
	const char *sender;         /* envelope sender without <>, "" for <> */
	const char *recipient;      /* the envelope recipient it is for */
	const char *auth_authen;    /* {auth_authen} or NULL */
	const char *client_addr;    /* {client_addr} or NULL */
	const char *from;           /* the first From: field body or NULL */
	const char *auto_submitted; /* the first Auto-Submitted: field body or NULL */
	const char *const
	    *auth_results; /* Authentication-Results bodies, NULL-terminated, or NULL */
} AuthzInput;

typedef struct AuthzStep AuthzStep;

/* authz_step_new - the step for CONFIG (borrowed, must outlive it); NULL + error on a bad
 * [identity] setting (a start-up error) */
AuthzStep *authz_step_new(const CtiConfig *config, GError **error);
/* authz_step_free - close the DB; NULL is a no-op */
void authz_step_free(AuthzStep *as);
/* authz_step_trusted_relay - CLIENT_ADDR is in [identity] trusted_relays */
gboolean authz_step_trusted_relay(const AuthzStep *as, const char *client_addr);
/* authz_step_identity_possible - a sender could be identified at all (identity_possible) */
gboolean authz_step_identity_possible(const AuthzStep *as, const char *auth_authen,
                                      const char *client_addr);
/* authz_step_check - run the step (thread-safe): the sender's identity (transfer full),
 * or NULL + FILTER_ERROR_UNAUTHORIZED / FILTER_ERROR_TEMP */
char *authz_step_check(AuthzStep *as, const AuthzInput *in, GError **error);

/* authz_step_identify - the sender's canonical identity for an explain@ mail (thread-safe):
 * the checks 1-2 and the envelope sender belonging to it; no grants (transfer full) */
char *authz_step_identify(AuthzStep *as, const AuthzInput *in, GError **error);

/* authz_step_run - the step itself with IC, DB (NULL: no policy DB yet) and CONFIG
 * (transfer full) */
char *authz_step_run(const CtiIdentityConfig *ic, CtiPolicyDb *db, const CtiConfig *config,
                     const AuthzInput *in, GError **error);
/* authz_step_sender - authz_step_identify's work with IC, DB and CONFIG (transfer full) */
char *authz_step_sender(const CtiIdentityConfig *ic, CtiPolicyDb *db, const CtiConfig *config,
                        const AuthzInput *in, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AuthzStep, authz_step_free)

#endif
