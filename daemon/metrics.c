/* metrics - counters that exist only while ctid runs, for the METRICS verb.
 *
 * What the job store already holds (jobs by state, attempts by outcome) is
 * counted from it on demand (STATS, STATUS); these are the events the store
 * does not keep: refusals (reported by cti-milter with REFUSED, and ctid's
 * own refusals of direct submissions) and the time to answer, bucketed as a
 * Prometheus histogram.  Counts start at 0 with every start of ctid, which a
 * Prometheus counter allows (a reset).  The set of reasons is bounded so a
 * confused client cannot grow it without end.
 */
#include "metrics.h"

#include <string.h>

#define METRICS_MAX_REASONS    32
#define METRICS_MAX_REASON_LEN 32

/* upper bounds of the time-to-answer buckets, in milliseconds */
static const gint64 answer_le_ms[] = {1000, 2000, 5000, 10000, 20000, 30000, 60000, 120000};

static GHashTable *refusals; /* reason -> count (GUINT_TO_POINTER) */
static guint64 answer_buckets[G_N_ELEMENTS(answer_le_ms)];
static guint64 answer_count;
static gint64 answer_sum_ms;

static gboolean reason_valid(const char *reason)
{
	gsize n = reason ? strlen(reason) : 0;

	if (n == 0 || n > METRICS_MAX_REASON_LEN)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		if (!g_ascii_islower(reason[i]) && !g_ascii_isdigit(reason[i]) && reason[i] != '-')
			return FALSE;
	return TRUE;
}

/* metrics_refused - see metrics.h */
gboolean metrics_refused(const char *reason)
{
	guint n;

	if (!reason_valid(reason))
		return FALSE;
	if (refusals == NULL)
		refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	n = GPOINTER_TO_UINT(g_hash_table_lookup(refusals, reason));
	if (n == 0 && g_hash_table_size(refusals) >= METRICS_MAX_REASONS)
		return FALSE;
	g_hash_table_replace(refusals, g_strdup(reason), GUINT_TO_POINTER(n + 1));
	return TRUE;
}

/* metrics_answered - see metrics.h */
void metrics_answered(gint64 ms)
{
	ms = MAX(ms, 0);
	for (gsize i = 0; i < G_N_ELEMENTS(answer_le_ms); i++)
		if (ms <= answer_le_ms[i])
			answer_buckets[i]++;
	answer_count++;
	answer_sum_ms += ms;
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* metrics_frame - see metrics.h */
void metrics_frame(CtiIpcFrame *reply)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	GHashTableIter it;
	gpointer key;

	if (refusals != NULL) {
		g_hash_table_iter_init(&it, refusals);
		while (g_hash_table_iter_next(&it, &key, NULL))
			g_ptr_array_add(names, key);
	}
	g_ptr_array_sort(names, cmp_names);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *field = g_strdup_printf("Refused-%s", (char *)names->pdata[i]);

		ipc_frame_addf(reply, field, "%u",
		               GPOINTER_TO_UINT(g_hash_table_lookup(refusals, names->pdata[i])));
	}
	for (gsize i = 0; i < G_N_ELEMENTS(answer_le_ms); i++) {
		g_autofree char *field =
		    g_strdup_printf("Answer-Le-%" G_GINT64_FORMAT, answer_le_ms[i]);

		ipc_frame_addf(reply, field, "%" G_GUINT64_FORMAT, answer_buckets[i]);
	}
	ipc_frame_addf(reply, "Answer-Le-inf", "%" G_GUINT64_FORMAT, answer_count);
	ipc_frame_addf(reply, "Answer-Sum-Ms", "%" G_GINT64_FORMAT, answer_sum_ms);
	ipc_frame_addf(reply, "Answer-Count", "%" G_GUINT64_FORMAT, answer_count);
}

/* metrics_reset - see metrics.h */
void metrics_reset(void)
{
	g_clear_pointer(&refusals, g_hash_table_unref);
	memset(answer_buckets, 0, sizeof answer_buckets);
	answer_count = 0;
	answer_sum_ms = 0;
}
