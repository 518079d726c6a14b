/* ratelimit - decide whether a request or a notification is over a limit.
 *
 * The checks are a table: one row per limit, naming the count it compares,
 * the limit it compares with and the text a sender reads when it is hit.
 * The first exceeded row decides.  The CtiRateLog owns per-key counts of
 * events per second (oldest first, at most an hour's worth) and their sum, so
 * a count costs the same at any rate; the caller prunes it now and then.
 * Nothing can fail.
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

/* One key's events, one bucket per second that had any (oldest first), and
 * their sum: counting the last hour is the sum less what lies outside the
 * window at either end (normally nothing, as the log is pruned), counting the
 * last minute walks at most 61 buckets, whatever the rate. */
typedef struct {
	gint64 second;
	guint n;
} RateBucket;

typedef struct {
	GQueue buckets; /* RateBucket*, oldest first */
	guint total;    /* the sum of the buckets' n */
} RateKey;

struct CtiRateLog {
	GHashTable *keys; /* char* -> RateKey* */
	gint64 pruned;    /* the last NOW ratelimit_log_prune() swept at */
};

static void rate_key_free(gpointer data)
{
	RateKey *rk = data;

	g_queue_clear_full(&rk->buckets, g_free);
	g_free(rk);
}

/* ratelimit_log_new - see ratelimit.h */
CtiRateLog *ratelimit_log_new(void)
{
	CtiRateLog *log = g_new0(CtiRateLog, 1);

	log->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, rate_key_free);
	log->pruned = G_MININT64;
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

/* rate_key_trim - drop buckets older than an hour before NOW from the head */
static void rate_key_trim(RateKey *rk, gint64 now)
{
	RateBucket *b;

	while ((b = g_queue_peek_head(&rk->buckets)) != NULL && b->second <= now - RATE_HOUR) {
		rk->total -= b->n;
		g_free(g_queue_pop_head(&rk->buckets));
	}
}

/* ratelimit_log_add - see ratelimit.h */
void ratelimit_log_add(CtiRateLog *log, const char *key, gint64 now)
{
	RateKey *rk = g_hash_table_lookup(log->keys, key);
	GList *l;
	RateBucket *b;

	if (!rk) {
		rk = g_new0(RateKey, 1);
		g_queue_init(&rk->buckets);
		g_hash_table_insert(log->keys, g_strdup(key), rk);
	}
	rate_key_trim(rk, now);
	/* events come in time order, except when the log is filled again at start-up */
	for (l = rk->buckets.tail; l && ((RateBucket *)l->data)->second > now; l = l->prev)
		;
	if (l && ((RateBucket *)l->data)->second == now) {
		((RateBucket *)l->data)->n++;
	} else {
		b = g_new(RateBucket, 1);
		b->second = now;
		b->n = 1;
		if (l)
			g_queue_insert_after(&rk->buckets, l, b);
		else
			g_queue_push_head(&rk->buckets, b);
	}
	rk->total++;
}

/* ratelimit_log_count - see ratelimit.h */
guint ratelimit_log_count(CtiRateLog *log, const char *key, gint64 now, int window)
{
	RateKey *rk = g_hash_table_lookup(log->keys, key);
	guint n = 0;
	GList *l;

	if (!rk)
		return 0;
	if (window <= 2 * 60) {
		for (l = rk->buckets.tail; l; l = l->prev) {
			const RateBucket *b = l->data;

			if (b->second <= now - window)
				break;
			if (b->second <= now)
				n += b->n;
		}
		return n;
	}
	n = rk->total;
	for (l = rk->buckets.head; l && ((RateBucket *)l->data)->second <= now - window; l = l->next)
		n -= ((RateBucket *)l->data)->n;
	for (l = rk->buckets.tail; l && ((RateBucket *)l->data)->second > now; l = l->prev)
		n -= ((RateBucket *)l->data)->n;
	return n;
}

static gboolean rate_prune_one(gpointer key, gpointer value, gpointer data)
{
	RateKey *rk = value;

	rate_key_trim(rk, *(gint64 *)data);
	return rk->total == 0;
}

/* ratelimit_log_prune - see ratelimit.h; sweeps every key at most once a second */
void ratelimit_log_prune(CtiRateLog *log, gint64 now)
{
	if (now == log->pruned)
		return;
	log->pruned = now;
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
