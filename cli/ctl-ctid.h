/* ctl-ctid - what the ctictl subcommands that talk to ctid share: one
 * request/reply over the [ctid] socket, and printing reply fields and the
 * record lists of JOBS as text or JSON. */
#ifndef MAILCTI_CTL_CTID_H
#define MAILCTI_CTL_CTID_H

#include "ctictl.h"
#include "ipc.h"

#define CTL_CTID_TIMEOUT_MS 30000

/* ctl_ctid_call - REQUEST to ctid, its OK reply (transfer full); NULL with *RC set
 * after printing why (ctid unreachable, REJECT or TEMPFAIL with its Reason) */
CtiIpcFrame *ctl_ctid_call(CtlContext *ctx, const CtiIpcFrame *request, int *rc);
/* ctl_frame_json - the fields of FRAME as one JSON object; repeated names become arrays */
void ctl_frame_json(GString *out, const CtiIpcFrame *frame);
/* ctl_frame_text - the fields of FRAME as "Name: value" lines */
void ctl_frame_text(CtlContext *ctx, const CtiIpcFrame *frame);
/* ctl_print_frame - FRAME on ctx->out: one JSON object line when JSON, else ctl_frame_text */
void ctl_print_frame(CtlContext *ctx, const CtiIpcFrame *frame, gboolean json);
/* ctl_records_parse - a JOBS body ("Name: value" lines, blank-line separated) as
 * CtiIpcFrame records named "JOB" (transfer full) */
GPtrArray *ctl_records_parse(GBytes *body);
/* ctl_parse_age - "90s", "5m", "1h", "2d" to a Since value (unix seconds); FALSE if malformed */
gboolean ctl_parse_age(const char *age, gint64 *since_out);

#endif
