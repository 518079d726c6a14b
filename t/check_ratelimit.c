/* check_ratelimit - unit tests of the rate limit decisions (ratelimit.c):
 * each limit at, below and above its value, 0 meaning no limit, the reply
 * class for tempfail and reject, the sliding one-minute and one-hour windows
 * of CtiRateLog, and the notification budget.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

static const CtiLimits limits = {
    .per_sender_per_minute = 3,
    .per_sender_per_hour = 10,
    .global_per_minute = 20,
    .global_per_hour = 100,
    .per_sender_concurrent = 2,
    .global_concurrent = 5,
    .notify_per_hour = 4,
    .reject = FALSE,
};

typedef struct {
	CtiRateCounts counts;
	gboolean ok;
	const char *text; /* part of the refusal text */
} RateCase;

static const RateCase rate_cases[] = {
    {{0, 0, 0, 0, 0, 0}, TRUE, NULL},
    {{2, 9, 19, 99, 1, 4}, TRUE, NULL},
    {{3, 3, 3, 3, 0, 0}, FALSE, "at most 3 requests per minute per sender"},
    {{0, 10, 10, 10, 0, 0}, FALSE, "at most 10 requests per hour per sender"},
    {{0, 0, 20, 20, 0, 0}, FALSE, "at most 20 requests per minute on this gateway"},
    {{0, 0, 0, 100, 0, 0}, FALSE, "at most 100 requests per hour on this gateway"},
    {{0, 0, 0, 0, 2, 2}, FALSE, "at most 2 unfinished requests per sender"},
    {{0, 0, 0, 0, 0, 5}, FALSE, "at most 5 unfinished requests on this gateway"},
    /* several exceeded: the sender's own limit is named first */
    {{5, 50, 50, 500, 5, 50}, FALSE, "per sender"},
};

START_TEST(test_check)
{
	const RateCase *c = &rate_cases[_i];
	CtiRateVerdict v;

	ratelimit_check(&limits, &c->counts, &v);
	ck_assert_int_eq(v.ok, c->ok);
	if (c->ok) {
		ck_assert_int_eq(v.smtp_code, 0);
		ck_assert_ptr_null(v.text);
	} else {
		ck_assert_int_eq(v.smtp_code, 450);
		ck_assert_str_eq(v.enhanced, "4.7.1");
		ck_assert_msg(strstr(v.text, c->text), "'%s' lacks '%s'", v.text, c->text);
		ck_assert(g_str_has_prefix(v.text, "rate limit: "));
	}
	ratelimit_verdict_clear(&v);
	ck_assert_ptr_null(v.text);
}
END_TEST

START_TEST(test_reject_and_unlimited)
{
	CtiLimits l = limits;
	CtiLimits none = {0};
	CtiRateCounts many = {1000, 1000, 1000, 1000, 1000, 1000};
	CtiRateVerdict v;

	l.reject = TRUE;
	ratelimit_check(&l, &many, &v);
	ck_assert_int_eq(v.smtp_code, 550);
	ck_assert_str_eq(v.enhanced, "5.7.1");
	ratelimit_verdict_clear(&v);
	ratelimit_check(&none, &many, &v);
	ck_assert(v.ok);
	ck_assert(ratelimit_notify_allowed(&none, 1000));
}
END_TEST

START_TEST(test_from_config)
{
	g_autoptr(CtiConfig) config = config_load(NULL, NULL);
	CtiLimits l;

	ratelimit_limits_from_config(config, &l);
	ck_assert_int_eq(l.per_sender_per_minute, config->per_sender_per_minute);
	ck_assert_int_eq(l.global_concurrent, config->global_concurrent);
	ck_assert(!l.reject);
	g_free(config->over_limit);
	config->over_limit = g_strdup("reject");
	ratelimit_limits_from_config(config, &l);
	ck_assert(l.reject);
}
END_TEST

START_TEST(test_notify_budget)
{
	ck_assert(ratelimit_notify_allowed(&limits, 0));
	ck_assert(ratelimit_notify_allowed(&limits, 3));
	ck_assert(!ratelimit_notify_allowed(&limits, 4));
}
END_TEST

START_TEST(test_log_windows)
{
	g_autoptr(CtiRateLog) log = ratelimit_log_new();
	CtiRateCounts c = {0};
	const gint64 t0 = 1700000000;

	ratelimit_log_add(log, "alice", t0);
	ratelimit_log_add(log, "alice", t0 + 30);
	ratelimit_log_add(log, "alice", t0 + 59);
	ratelimit_log_add(log, "bob", t0 + 59);
	ratelimit_log_add(log, CTI_RATE_GLOBAL, t0);
	ratelimit_log_add(log, CTI_RATE_GLOBAL, t0 + 59);
	ratelimit_log_counts(log, "alice", t0 + 59, &c);
	ck_assert_uint_eq(c.sender_minute, 3);
	ck_assert_uint_eq(c.sender_hour, 3);
	ck_assert_uint_eq(c.global_minute, 2);
	/* 60 s after the first: it has left the minute, not the hour */
	ratelimit_log_counts(log, "alice", t0 + 60, &c);
	ck_assert_uint_eq(c.sender_minute, 2);
	ck_assert_uint_eq(c.sender_hour, 3);
	ck_assert_uint_eq(ratelimit_log_count(log, "carol", t0 + 60, 60), 0);
	/* an hour later everything is gone, and pruning drops the keys */
	ratelimit_log_counts(log, "alice", t0 + 3659, &c);
	ck_assert_uint_eq(c.sender_hour, 0);
	ratelimit_log_prune(log, t0 + 3659);
	ck_assert_uint_eq(ratelimit_log_count(log, "alice", t0 + 3659, 3600), 0);
	ratelimit_log_add(log, "alice", t0 + 3700);
	ck_assert_uint_eq(ratelimit_log_count(log, "alice", t0 + 3700, 3600), 1);
}
END_TEST

/* the limits a user would hit: the 4th request in a minute is refused */
START_TEST(test_log_and_check)
{
	g_autoptr(CtiRateLog) log = ratelimit_log_new();
	const gint64 t0 = 1700000000;
	int accepted = 0;

	for (int i = 0; i < 6; i++) {
		CtiRateCounts c = {0};
		CtiRateVerdict v;
		ratelimit_log_counts(log, "alice", t0 + i, &c);
		ratelimit_check(&limits, &c, &v);
		if (v.ok) {
			accepted++;
			ratelimit_log_add(log, "alice", t0 + i);
			ratelimit_log_add(log, CTI_RATE_GLOBAL, t0 + i);
		}
		ratelimit_verdict_clear(&v);
	}
	ck_assert_int_eq(accepted, 3);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit_check");

	tcase_add_loop_test(tc, test_check, 0, G_N_ELEMENTS(rate_cases));
	tcase_add_test(tc, test_reject_and_unlimited);
	tcase_add_test(tc, test_from_config);
	tcase_add_test(tc, test_notify_budget);
	suite_add_tcase(s, tc);
	tc = tcase_create("ratelimit_log");
	tcase_add_test(tc, test_log_windows);
	tcase_add_test(tc, test_log_and_check);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ratelimit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
