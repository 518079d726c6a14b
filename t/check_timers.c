/* check_timers - ctid's job timers (daemon/timers.c): they fire in due order on one
 * GLib source, a removed timer never fires, G_SOURCE_CONTINUE re-arms, a callback may
 * remove its own timer or arm new ones, and 10,000 armed timers cost one source. */
#include <check.h>

#include "../daemon/timers.h"

static GMainLoop *loop;
static GString *order;

static gboolean append_cb(gpointer data)
{
	g_string_append(order, data);
	return G_SOURCE_REMOVE;
}

static gboolean quit_cb(gpointer data)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void run_until_quit(void)
{
	g_main_loop_run(loop);
}

static void setup(void)
{
	loop = g_main_loop_new(NULL, FALSE);
	order = g_string_new(NULL);
}

static void teardown(void)
{
	timers_shutdown();
	g_clear_pointer(&loop, g_main_loop_unref);
	g_string_free(order, TRUE);
}

/* timers fire by due time, and in arming order when due together */
START_TEST(test_order)
{
	timers_add(40, append_cb, "c");
	timers_add(10, append_cb, "a");
	timers_add(20, append_cb, "b1");
	timers_add(20, append_cb, "b2");
	timers_add(0, append_cb, "0");
	timers_add(60, quit_cb, NULL);
	run_until_quit();
	ck_assert_str_eq(order->str, "0ab1b2c");
	ck_assert_uint_eq(timers_count(), 0);
}
END_TEST

/* a removed timer never fires; removing an unknown id is harmless */
START_TEST(test_remove)
{
	guint gone = timers_add(10, append_cb, "x");
	guint first = timers_add(5, append_cb, "y");

	timers_add(30, quit_cb, NULL);
	timers_remove(gone);
	timers_remove(first); /* the head: the source must follow the next deadline */
	timers_remove(gone);
	timers_remove(987654);
	timers_add(15, append_cb, "z");
	run_until_quit();
	ck_assert_str_eq(order->str, "z");
}
END_TEST

static int ticks;
static guint self_id;

static gboolean tick_cb(gpointer data)
{
	ticks++;
	if (ticks == 3)
		timers_remove(self_id); /* removes itself while running: no fourth tick */
	return G_SOURCE_CONTINUE;
}

static gboolean rearm_cb(gpointer data)
{
	g_string_append(order, "r");
	timers_add(0, append_cb, "n"); /* armed from a callback: fires on a later dispatch */
	return G_SOURCE_REMOVE;
}

/* G_SOURCE_CONTINUE re-arms with the same interval; self-removal and arming inside a
 * callback work */
START_TEST(test_continue_and_reentry)
{
	ticks = 0;
	self_id = timers_add(5, tick_cb, NULL);
	timers_add(1, rearm_cb, NULL);
	timers_add(80, quit_cb, NULL);
	run_until_quit();
	ck_assert_int_eq(ticks, 3);
	ck_assert_str_eq(order->str, "rn");
	ck_assert_uint_eq(timers_count(), 0);
}
END_TEST

static int fired;

static gboolean count_cb(gpointer data)
{
	fired++;
	return G_SOURCE_REMOVE;
}

/* 10,000 timers are one GLib source, and all of them fire */
START_TEST(test_many)
{
	GMainContext *ctx = g_main_context_default();

	fired = 0;
	for (int i = 0; i < 10000; i++)
		timers_add((guint)(i % 50), count_cb, NULL);
	ck_assert_uint_eq(timers_count(), 10000);
	while (fired < 10000)
		g_main_context_iteration(ctx, TRUE);
	ck_assert_uint_eq(timers_count(), 0);
	/* nothing is left armed: the loop would block with no source ready */
	ck_assert(!g_main_context_pending(ctx));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timers");
	TCase *tc = tcase_create("timers");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_continue_and_reentry);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
