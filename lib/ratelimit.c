/* ratelimit - decide whether a request or a notification is over a limit.
 *
 * The checks are a table: one row per limit, naming the count it compares,
 * the limit it compares with and the text a sender reads when it is hit.
 * The first exceeded row decides.  The CtiRateLog owns per-key queues of
 * times (oldest first, at most an hour's worth), so counting is a walk from
 * the newest end; the caller prunes it now and then.  Nothing can fail.
 */
#include "ratelimit.h"

#include <stddef.h>

#define RATE_HOUR 3600

/* ratelimit_limits_from_config - see ratelimit.h */
void ratelimit_limits_from_config(const CtiConfig *config, CtiLimits *limits)
{
	limits->per_sender_per_minute = config->per_sender_per_minute;
	limits->per_sender_per_hour = config->per_sender_per_hour;
	limits->global_per_minute = config->global_per_minute;
	limits->global_per_hour = config->global_per_hour;
	limits->per_sender_concurrent = config->per_sender_concurrent;
	limits->global_concurrent = config->global_concurrent;
	limits->notify_per_hour = config->notify_per_hour;
	limits->reject = g_strcmp0(config->over_limit, "reject") == 0;
}

typedef struct {
	size_t limit;     /* offset in CtiLimits (int) */
	size_t count;     /* offset in CtiRateCounts (guint) */
	const char *what; /* what is limited, for the text */
} RateRule;

static const RateRule rate_rules[] = {
    {offsetof(CtiLimits, per_sender_concurrent), offsetof(CtiRateCounts, sender_active),
     "unfinished requests per sender"},
    {offsetof(CtiLimits, per_sender_per_minute), offsetof(CtiRateCounts, sender_minute),
     "requests per minute per sender"},
    {offsetof(CtiLimits, per_sender_per_hour), offsetof(CtiRateCounts, sender_hour),
     "requests per hour per sender"},
    {offsetof(CtiLimits, global_concurrent), offsetof(CtiRateCounts, global_active),
     "unfinished requests on this gateway"},
    {offsetof(CtiLimits, global_per_minute), offsetof(CtiRateCounts, global_minute),
     "requests per minute on this gateway"},
    {offsetof(CtiLimits, global_per_hour), offsetof(CtiRateCounts, global_hour),
     "requests per hour on this gateway"},
};

/* ratelimit_check - see ratelimit.h */
void ratelimit_check(const CtiLimits *limits, const CtiRateCounts *counts, CtiRateVerdict *verdict)
{
	*verdict = (CtiRateVerdict){TRUE, 0, NULL, NULL};
	for (gsize i = 0; i < G_N_ELEMENTS(rate_rules); i++) {
		int limit = *(const int *)((const char *)limits + rate_rules[i].limit);
		guint count = *(const guint *)((const char *)counts + rate_rules[i].count);

		if (limit <= 0 || count < (guint)limit)
			continue;
		verdict->ok = FALSE;
		verdict->smtp_code = limits->reject ? 550 : 450;
		verdict->enhanced = limits->reject ? "5.7.1" : "4.7.1";
		verdict->text =
		    g_strdup_printf("rate limit: at most %d %s", limit, rate_rules[i].what);
		return;
	}
}

/* ratelimit_verdict_clear - see ratelimit.h */
void ratelimit_verdict_clear(CtiRateVerdict *verdict)
{
	g_clear_pointer(&verdict->text, g_free);
}

G_DEFINE_QUARK(mailcti - ratelimit - error, ratelimit_error)

/* ratelimit_set_error - see ratelimit.h */
void ratelimit_set_error(const CtiRateVerdict *verdict, GError **error)
{
	g_return_if_fail(!verdict->ok);
	g_set_error_literal(error, CTI_RATELIMIT_ERROR,
	                    verdict->smtp_code == 550 ? CTI_RATELIMIT_ERROR_REJECT
	                                              : CTI_RATELIMIT_ERROR_TEMP,
	                    verdict->text);
}

/* ratelimit_error_status - see ratelimit.h */
const char *ratelimit_error_status(const GError *error)
{
	if (error == NULL || error->domain != CTI_RATELIMIT_ERROR)
		return NULL;
	return error->code == CTI_RATELIMIT_ERROR_REJECT ? "5.7.1" : "4.7.1";
}

/* ratelimit_notify_allowed - see ratelimit.h */
gboolean ratelimit_notify_allowed(const CtiLimits *limits, guint sent_last_hour)
{
	return limits->notify_per_hour <= 0 || sent_last_hour < (guint)limits->notify_per_hour;
}

struct CtiRateLog {
	GHashTable *keys; /* char* -> GQueue* of gint64 times, GINT_TO_POINTER-free: boxed */
};

static void rate_queue_free(gpointer q)
{
	g_queue_free_full(q, g_free);
}

/* ratelimit_log_new - see ratelimit.h */
CtiRateLog *ratelimit_log_new(void)
{
	CtiRateLog *log = g_new0(CtiRateLog, 1);

	log->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, rate_queue_free);
	return log;
}

/* ratelimit_log_free - see ratelimit.h */
void ratelimit_log_free(CtiRateLog *log)
{
	if (!log)
		return;
	g_hash_table_unref(log->keys);
	g_free(log);
}

/* rate_queue_trim - drop times older than an hour before NOW from the head */
static void rate_queue_trim(GQueue *q, gint64 now)
{
	while (!g_queue_is_empty(q) && *(gint64 *)g_queue_peek_head(q) <= now - RATE_HOUR)
		g_free(g_queue_pop_head(q));
}

/* ratelimit_log_add - see ratelimit.h */
void ratelimit_log_add(CtiRateLog *log, const char *key, gint64 now)
{
	GQueue *q = g_hash_table_lookup(log->keys, key);

	if (!q) {
		q = g_queue_new();
		g_hash_table_insert(log->keys, g_strdup(key), q);
	}
	rate_queue_trim(q, now);
	g_queue_push_tail(q, g_memdup2(&now, sizeof now));
}

/* ratelimit_log_count - see ratelimit.h */
guint ratelimit_log_count(CtiRateLog *log, const char *key, gint64 now, int window)
{
	GQueue *q = g_hash_table_lookup(log->keys, key);
	guint n = 0;

	for (GList *l = q ? q->tail : NULL; l; l = l->prev) {
		gint64 t = *(gint64 *)l->data;
		if (t <= now - window)
			break;
		if (t <= now)
			n++;
	}
	return n;
}

static gboolean rate_prune_one(gpointer key, gpointer value, gpointer data)
{
	rate_queue_trim(value, *(gint64 *)data);
	return g_queue_is_empty(value);
}

/* ratelimit_log_prune - see ratelimit.h */
void ratelimit_log_prune(CtiRateLog *log, gint64 now)
{
	g_hash_table_foreach_remove(log->keys, rate_prune_one, &now);
}

/* ratelimit_log_counts - see ratelimit.h */
void ratelimit_log_counts(CtiRateLog *log, const char *sender, gint64 now, CtiRateCounts *counts)
{
	counts->sender_minute = ratelimit_log_count(log, sender, now, 60);
	counts->sender_hour = ratelimit_log_count(log, sender, now, RATE_HOUR);
	counts->global_minute = ratelimit_log_count(log, CTI_RATE_GLOBAL, now, 60);
	counts->global_hour = ratelimit_log_count(log, CTI_RATE_GLOBAL, now, RATE_HOUR);
}
