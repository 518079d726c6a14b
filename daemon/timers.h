/* timers - ctid's job timers: one ordered queue and a single GLib source.
 *
 * GLib walks every source of a context on each loop iteration, so one GLib
 * timeout per live job made every event cost O(live jobs).  These timers keep
 * the same calling convention as g_timeout_add() (a GSourceFunc; returning
 * G_SOURCE_CONTINUE re-arms it with the same interval) but live in one
 * GSequence ordered by due time, behind one GSource whose ready time is the
 * earliest deadline.  Ids are never 0 and never reused within a run; they are
 * not GLib source ids: remove them with timers_remove(), never g_source_remove().
 * For the one thread that runs the default main context.
 */
#ifndef CTID_TIMERS_H
#define CTID_TIMERS_H

#include <glib.h>

/* timers_add - call FUNC(DATA) in MS milliseconds; the timer's id */
guint timers_add(guint ms, GSourceFunc func, gpointer data);
/* timers_add_seconds - timers_add(S * 1000, ...) */
guint timers_add_seconds(guint s, GSourceFunc func, gpointer data);
/* timers_remove - cancel timer ID (a timer that fired and ended is unknown: no-op) */
void timers_remove(guint id);
/* timers_count - live timers, for tests and STATUS */
guint timers_count(void);
/* timers_shutdown - drop every timer and the GLib source (at exit, for leak checkers) */
void timers_shutdown(void);

#endif
