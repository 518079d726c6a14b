/* ratelimit - per-sender and global request limits, as pure logic.
 *
 * ctid owns the jobs and so the counters; this module only decides.  A
 * CtiRateLog remembers submission times per key (a sender identity, or
 * CTI_RATE_GLOBAL) for the last hour and counts them per window; the caller
 * adds the number of unfinished jobs.  ratelimit_check() compares the counts
 * with the [limits] settings (0 = no limit) and says which limit is exceeded,
 * with the SMTP reply class to use: 450 4.7.1 (over_limit=tempfail, the
 * sending MTA retries later) or 550 5.7.1 (over_limit=reject).  The
 * notification budget (per_sender_notifications_per_hour) is decided the same
 * way.  No I/O, no clock of its own: NOW is always passed in.
 */
#ifndef MAILCTI_RATELIMIT_H
#define MAILCTI_RATELIMIT_H

#include <glib.h>

#include "config.h"

#define CTI_RATE_GLOBAL "" /* the key of the global counters */

typedef struct {
	int per_sender_per_minute;
	int per_sender_per_hour;
	int global_per_minute;
	int global_per_hour;
	int per_sender_concurrent;
	int global_concurrent;
	int notify_per_hour;
	gboolean reject; /* over_limit=reject */
} CtiLimits;

typedef struct {
	guint sender_minute; /* the sender's submissions in the last 60 s */
	guint sender_hour;   /* ... in the last 3600 s */
	guint global_minute;
	guint global_hour;
	guint sender_active; /* the sender's unfinished jobs */
	guint global_active;
} CtiRateCounts;

typedef struct {
	gboolean ok;
	int smtp_code;        /* 0 when ok, else 450 or 550 */
	const char *enhanced; /* "4.7.1" or "5.7.1", NULL when ok */
	char *text; /* which limit, e.g. "rate limit: at most 6 requests per minute per sender" */
} CtiRateVerdict;

/* A refusal as a GError: ctid answers TEMPFAIL (TEMP) or REJECT (REJECT) with
 * "Enhanced-Status: 4.7.1" or "5.7.1" and the text as Reason. */
#define CTI_RATELIMIT_ERROR (ratelimit_error_quark())
typedef enum {
	CTI_RATELIMIT_ERROR_TEMP,   /* over a limit, over_limit=tempfail: 450 4.7.1 */
	CTI_RATELIMIT_ERROR_REJECT, /* over a limit, over_limit=reject: 550 5.7.1 */
} CtiRateLimitErrorCode;
GQuark ratelimit_error_quark(void);
/* ratelimit_set_error - ERROR for the refusing VERDICT */
void ratelimit_set_error(const CtiRateVerdict *verdict, GError **error);
/* ratelimit_error_status - "4.7.1" / "5.7.1" for a CTI_RATELIMIT_ERROR, else NULL */
const char *ratelimit_error_status(const GError *error);

/* ratelimit_limits_from_config - the [limits] settings of CONFIG */
void ratelimit_limits_from_config(const CtiConfig *config, CtiLimits *limits);
/* ratelimit_check - may one more request be accepted with COUNTS? (VERDICT->text transfer full) */
void ratelimit_check(const CtiLimits *limits, const CtiRateCounts *counts, CtiRateVerdict *verdict);
/* ratelimit_verdict_clear - free the text */
void ratelimit_verdict_clear(CtiRateVerdict *verdict);
/* ratelimit_notify_allowed - may one more notification go to a sender that got SENT_LAST_HOUR? */
gboolean ratelimit_notify_allowed(const CtiLimits *limits, guint sent_last_hour);

typedef struct CtiRateLog CtiRateLog;
/* ratelimit_log_new - an empty log (transfer full) */
CtiRateLog *ratelimit_log_new(void);
/* ratelimit_log_free - free; NULL is a no-op */
void ratelimit_log_free(CtiRateLog *log);
/* ratelimit_log_add - record one event of KEY at NOW (unix seconds) */
void ratelimit_log_add(CtiRateLog *log, const char *key, gint64 now);
/* ratelimit_log_count - events of KEY in (NOW - WINDOW, NOW] */
guint ratelimit_log_count(CtiRateLog *log, const char *key, gint64 now, int window);
/* ratelimit_log_prune - forget events older than an hour before NOW, and empty keys */
void ratelimit_log_prune(CtiRateLog *log, gint64 now);
/* ratelimit_log_counts - fill the windowed fields of COUNTS for SENDER (active counts untouched) */
void ratelimit_log_counts(CtiRateLog *log, const char *sender, gint64 now, CtiRateCounts *counts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiRateLog, ratelimit_log_free)

#endif
