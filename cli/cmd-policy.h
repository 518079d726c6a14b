/* cmd-policy - what the sender and policy subcommands of ctictl share:
 * opening the policy DB named by [policy] db. */
#ifndef MAILCTI_CMD_POLICY_H
#define MAILCTI_CMD_POLICY_H

#include "ctictl.h"
#include "policy.h"

/* ctl_policy_open - the DB of [policy] db; NULL with *RC set after printing why */
CtiPolicyDb *ctl_policy_open(CtlContext *ctx, gboolean writable, int *rc);

#endif
