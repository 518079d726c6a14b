/* timers - many job timers on one GLib source (see timers.h for why).
 *
 * The module owns its Timer records; callers own only the ids.  Timers are
 * kept in a GSequence sorted by (due, seq), seq being the order of arming, so
 * timers due at the same time fire in the order they were armed, as GLib's
 * would.  A hash table maps id -> Timer for timers_remove() in O(log n).  The
 * GSource's ready time is the head's due time.  One dispatch fires at most
 * TIMERS_BATCH timers that were due when it began, so a burst of thousands of
 * due jobs leaves the loop free to read the sockets between batches, and a
 * callback that arms a 0 ms timer cannot keep the dispatch going forever.
 * Nothing here can fail.
 */
#include "timers.h"

#define TIMERS_BATCH 64

typedef struct {
	gint64 due;   /* monotonic microseconds */
	guint64 seq;
	guint id;
	guint interval_ms;
	GSourceFunc func;
	gpointer data;
	GSequenceIter *iter; /* NULL while it runs */
} Timer;

static struct {
	GSequence *queue;  /* Timer*, ordered by (due, seq) */
	GHashTable *by_id; /* id -> Timer* (owned) */
	GSource *source;
	guint next_id;
	guint64 next_seq;
} timers;

static gint timer_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
	const Timer *x = a, *y = b;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* timers_rearm - the source's ready time follows the head of the queue */
static void timers_rearm(void)
{
	GSequenceIter *head = g_sequence_get_begin_iter(timers.queue);

	if (g_sequence_iter_is_end(head))
		g_source_set_ready_time(timers.source, -1);
	else
		g_source_set_ready_time(timers.source, ((Timer *)g_sequence_get(head))->due);
}

static void timer_queue(Timer *t, guint ms)
{
	t->due = g_get_monotonic_time() + (gint64)ms * 1000;
	t->seq = timers.next_seq++;
	t->iter = g_sequence_insert_sorted(timers.queue, t, timer_cmp, NULL);
}

/* timer_fire - run T (already out of the queue); re-queue it or forget it */
static void timer_fire(Timer *t)
{
	guint id = t->id;
	gboolean again = t->func(t->data);

	/* the callback may have removed its own timer: look it up again */
	t = g_hash_table_lookup(timers.by_id, GUINT_TO_POINTER(id));
	if (t == NULL)
		return;
	if (again)
		timer_queue(t, t->interval_ms);
	else
		g_hash_table_remove(timers.by_id, GUINT_TO_POINTER(id));
}

static gboolean timers_dispatch(GSource *source, GSourceFunc unused, gpointer data)
{
	gint64 now = g_get_monotonic_time();
	guint64 seq_limit = timers.next_seq;

	for (int n = 0; n < TIMERS_BATCH; n++) {
		GSequenceIter *head = g_sequence_get_begin_iter(timers.queue);
		Timer *t;

		if (g_sequence_iter_is_end(head))
			break;
		t = g_sequence_get(head);
		if (t->due > now || t->seq >= seq_limit)
			break;
		g_sequence_remove(head);
		t->iter = NULL;
		timer_fire(t);
	}
	timers_rearm();
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs timers_funcs = {NULL, NULL, timers_dispatch, NULL, NULL, NULL};

static void timers_init(void)
{
	if (timers.queue != NULL)
		return;
	timers.queue = g_sequence_new(NULL);
	timers.by_id = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	timers.source = g_source_new(&timers_funcs, sizeof(GSource));
	g_source_set_name(timers.source, "ctid job timers");
	g_source_set_ready_time(timers.source, -1);
	g_source_attach(timers.source, NULL);
	timers.next_id = 1;
}

/* timers_add - see timers.h */
guint timers_add(guint ms, GSourceFunc func, gpointer data)
{
	Timer *t = g_new0(Timer, 1);

	g_return_val_if_fail(func != NULL, 0);
	timers_init();
	t->id = timers.next_id++;
	t->interval_ms = ms;
	t->func = func;
	t->data = data;
	g_hash_table_insert(timers.by_id, GUINT_TO_POINTER(t->id), t);
	timer_queue(t, ms);
	timers_rearm();
	return t->id;
}

/* timers_add_seconds - see timers.h */
guint timers_add_seconds(guint s, GSourceFunc func, gpointer data)
{
	return timers_add(s > G_MAXUINT / 1000 ? G_MAXUINT : s * 1000, func, data);
}

/* timers_remove - see timers.h */
void timers_remove(guint id)
{
	Timer *t = timers.by_id ? g_hash_table_lookup(timers.by_id, GUINT_TO_POINTER(id)) : NULL;

	if (t == NULL)
		return;
	if (t->iter != NULL)
		g_sequence_remove(t->iter);
	g_hash_table_remove(timers.by_id, GUINT_TO_POINTER(id));
	timers_rearm();
}

/* timers_count - see timers.h */
guint timers_count(void)
{
	return timers.by_id ? g_hash_table_size(timers.by_id) : 0;
}

/* timers_shutdown - see timers.h */
void timers_shutdown(void)
{
	if (timers.queue == NULL)
		return;
	g_source_destroy(timers.source);
	g_clear_pointer(&timers.source, g_source_unref);
	g_clear_pointer(&timers.queue, g_sequence_free);
	g_clear_pointer(&timers.by_id, g_hash_table_destroy);
}
