/* metrics - ctid's counters since start for monitoring (ctictl metrics):
 * refusals by reason and the time to answer as a histogram.  Process-wide,
 * touched only from the main loop. */
#ifndef MAILCTI_METRICS_H
#define MAILCTI_METRICS_H

#include <glib.h>

#include "ipc.h"

/* metrics_refused - count one refused request; FALSE for a reason that is not a short
 * lower-case name ([a-z0-9-], at most 32) or one too many distinct reasons */
gboolean metrics_refused(const char *reason);
/* metrics_answered - count one answered attempt that took MS milliseconds to answer */
void metrics_answered(gint64 ms);
/* metrics_frame - add Refused-<reason>, Answer-Le-<ms> (cumulative), Answer-Le-inf,
 * Answer-Sum-Ms and Answer-Count to REPLY */
void metrics_frame(CtiIpcFrame *reply);
/* metrics_reset - forget every count (tests) */
void metrics_reset(void);

#endif
