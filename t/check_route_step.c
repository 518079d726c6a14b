/* check_route_step - unit tests of the milter's routing step (filter/route-step.c):
 * what is looked up (Destination, recipient, default), the milter actions of
 * a relay, the refusals (loop, too many hops, no route) and their SMTP
 * answers, a missing routes DB, route changes seen without a restart, and a
 * whole message through filter.c with a router: relayed without a SUBMIT.
 *
 * Every test works on a fresh routes DB in its own temporary directory.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <string.h>

#include "../filter/filter.h"
#include "../filter/reply.h"
#include "../filter/route-step.h"
#include "policy.h"

#define DATE "Wed, 25 Nov 2026 12:00:00 +0000"

static char *tmp_dir;
static char *db_path;

static void setup(void)
{
	tmp_dir = g_dir_make_tmp("check-route-step-XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmp_dir);
	db_path = g_build_filename(tmp_dir, "routes.db", NULL);
}

static void remove_tree(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_unlink(path);
	}
	g_rmdir(dir);
}

static void teardown(void)
{
	remove_tree(tmp_dir);
	g_clear_pointer(&db_path, g_free);
	g_clear_pointer(&tmp_dir, g_free);
}

static void add_gateway(CtiRouteDb *db, const char *name, const char *address)
{
	g_autoptr(GError) error = NULL;

	ck_assert_msg(route_gateway_add(db, name, address, NULL, &error), "gateway %s: %s", name,
	              error ? error->message : "?");
}

static void add_route(CtiRouteDb *db, const char *dest, const char *gateway)
{
	g_autoptr(GError) error = NULL;

	ck_assert_msg(route_add(db, dest, gateway, NULL, &error), "route %s: %s", dest,
	              error ? error->message : "?");
}

/* the routing table of gateway gw-a used by the table tests */
static CtiRouteDb *open_fixture_db(void)
{
	g_autoptr(GError) error = NULL;
	CtiRouteDb *db = route_open(db_path, TRUE, &error);

	ck_assert_msg(db != NULL, "route_open: %s", error ? error->message : "?");
	add_gateway(db, "gw-b", "call@gw-b.example");
	add_gateway(db, "gw-c", "cti@gw-c.example");
	add_route(db, "06", "gw-b");
	add_route(db, "0699", "local");
	add_route(db, "07", "gw-c");
	add_route(db, "vip@pbx.example", "gw-c");
	add_route(db, "@front.example", "gw-c");
	return db;
}

static CtiRequest *request_for(const char *destination)
{
	g_autofree char *text = g_strdup_printf("Source: 2001\nDestination: %s\n", destination);
	g_autoptr(GError) error = NULL;
	CtiRequest *req = request_parse(text, strlen(text), &error);

	ck_assert_msg(req != NULL, "request_parse: %s", error ? error->message : "?");
	return req;
}

/* ---- route_step_run over a table ---- */

#define NO_ERROR (-1)

typedef struct {
	const char *destination;
	const char *recipient;
	const char *hops[5];
	CtiRelayDefault no_route;
	int error_code; /* NO_ERROR or a FilterError */
	CtiRelayAction action;
	const char *gateway;   /* FORWARD */
	const char *del_rcpt;  /* FORWARD */
	const char *add_rcpt;  /* FORWARD */
	const char *looked_up; /* what decided */
	const char *text;      /* substring of the text or the error message */
} StepCase;

/* clang-format off */
static const StepCase step_cases[] = {
    /* a number prefix routed to another gateway: relay, rewrite, hop header */
    {"0612345678", "call@pbx.example", {NULL}, CTI_RELAY_DEFAULT_LOCAL, NO_ERROR,
     CTI_RELAY_FORWARD, "gw-b", "<call@pbx.example>", "<call@gw-b.example>", "0612345678",
     "relayed 0612345678 to gateway gw-b"},
    /* the longest prefix wins: 0699 is local */
    {"0699111111", "call@pbx.example", {NULL}, CTI_RELAY_DEFAULT_LOCAL, NO_ERROR,
     CTI_RELAY_LOCAL, NULL, NULL, NULL, "0699111111", "served here"},
    /* no route: the configured default */
    {"0312345678", "call@pbx.example", {NULL}, CTI_RELAY_DEFAULT_LOCAL, NO_ERROR,
     CTI_RELAY_LOCAL, NULL, NULL, NULL, "", "default local"},
    {"0312345678", "call@pbx.example", {NULL}, CTI_RELAY_DEFAULT_REFUSE, FILTER_ERROR_NO_ROUTE,
     0, NULL, NULL, NULL, NULL, "no route to 0312345678"},
    /* the recipient's address route, then its domain route, when the number has none */
    {"0312345678", "vip@pbx.example", {NULL}, CTI_RELAY_DEFAULT_REFUSE, NO_ERROR,
     CTI_RELAY_FORWARD, "gw-c", "<vip@pbx.example>", "<cti@gw-c.example>", "vip@pbx.example",
     "gateway gw-c"},
    {"0312345678", "Call@Front.example", {NULL}, CTI_RELAY_DEFAULT_REFUSE, NO_ERROR,
     CTI_RELAY_FORWARD, "gw-c", "<Call@Front.example>", "<cti@gw-c.example>",
     "Call@Front.example", "gateway gw-c"},
    /* a number route beats the recipient's route, local or not */
    {"0612345678", "vip@pbx.example", {NULL}, CTI_RELAY_DEFAULT_LOCAL, NO_ERROR,
     CTI_RELAY_FORWARD, "gw-b", "<vip@pbx.example>", "<call@gw-b.example>", "0612345678",
     "gw-b"},
    {"0699111111", "vip@pbx.example", {NULL}, CTI_RELAY_DEFAULT_LOCAL, NO_ERROR,
     CTI_RELAY_LOCAL, NULL, NULL, NULL, "0699111111", "served here"},
    /* no recipient: nothing to delete, the gateway's address is still added */
    {"0712345678", "", {NULL}, CTI_RELAY_DEFAULT_LOCAL, NO_ERROR, CTI_RELAY_FORWARD, "gw-c",
     NULL, "<cti@gw-c.example>", "0712345678", "gw-c"},
    /* this gateway is in the trace already (any case): a loop, whatever the route */
    {"0612345678", "call@pbx.example", {"gw-a; " DATE, NULL}, CTI_RELAY_DEFAULT_LOCAL,
     FILTER_ERROR_ROUTE_LOOP, 0, NULL, NULL, NULL, NULL, "already passed gateway gw-a"},
    {"0699111111", "call@pbx.example", {"gw-x; " DATE, "GW-A; " DATE, NULL},
     CTI_RELAY_DEFAULT_LOCAL, FILTER_ERROR_ROUTE_LOOP, 0, NULL, NULL, NULL, NULL,
     "(hop 2 of 2)"},
    /* the next gateway is in the trace: B routes it back to A */
    {"0612345678", "call@pbx.example", {"gw-b; " DATE, NULL}, CTI_RELAY_DEFAULT_LOCAL,
     FILTER_ERROR_ROUTE_LOOP, 0, NULL, NULL, NULL, NULL,
     "routes 0612345678 to gateway gw-b, which the request has already passed"},
    /* received with more than max_hops (3) */
    {"0312345678", "call@pbx.example", {"w; " DATE, "x; " DATE, "y; " DATE, "z; " DATE, NULL},
     CTI_RELAY_DEFAULT_LOCAL, FILTER_ERROR_ROUTE_LOOP, 0, NULL, NULL, NULL, NULL,
     "too many hops (4, at most 3)"},
    /* relaying would make more than max_hops; executing here would not */
    {"0612345678", "call@pbx.example", {"x; " DATE, "y; " DATE, "z; " DATE, NULL},
     CTI_RELAY_DEFAULT_LOCAL, FILTER_ERROR_ROUTE_LOOP, 0, NULL, NULL, NULL, NULL,
     "would make 4 hops, at most 3"},
    {"0699111111", "call@pbx.example", {"x; " DATE, "y; " DATE, "z; " DATE, NULL},
     CTI_RELAY_DEFAULT_LOCAL, NO_ERROR, CTI_RELAY_LOCAL, NULL, NULL, NULL, "0699111111",
     "served here"},
    /* a malformed hop names no gateway: no loop, but it counts */
    {"0612345678", "call@pbx.example", {"gw-a", NULL}, CTI_RELAY_DEFAULT_LOCAL, NO_ERROR,
     CTI_RELAY_FORWARD, "gw-b", "<call@pbx.example>", "<call@gw-b.example>", "0612345678",
     "gw-b"},
};
/* clang-format on */

static void check_step_result(const StepCase *c, RouteStepResult *r, const GError *error)
{
	if (c->error_code != NO_ERROR) {
		ck_assert_msg(r == NULL && error != NULL, "%s: want an error", c->destination);
		ck_assert_int_eq(error->domain, FILTER_ERROR);
		ck_assert_int_eq(error->code, c->error_code);
		ck_assert_msg(strstr(error->message, c->text), "'%s' lacks '%s'", error->message,
		              c->text);
		return;
	}
	ck_assert_msg(r != NULL, "%s: %s", c->destination, error ? error->message : "?");
	ck_assert_int_eq(r->action, c->action);
	ck_assert_str_eq(r->looked_up, c->looked_up);
	ck_assert_msg(strstr(r->text, c->text), "'%s' lacks '%s'", r->text, c->text);
	ck_assert_pstr_eq(r->gateway, c->gateway);
	ck_assert_pstr_eq(r->del_rcpt, c->del_rcpt);
	ck_assert_pstr_eq(r->add_rcpt, c->add_rcpt);
	if (c->action == CTI_RELAY_FORWARD)
		ck_assert_str_eq(r->hop_header, "gw-a; " DATE);
	else
		ck_assert_ptr_null(r->hop_header);
}

START_TEST(test_run_table)
{
	const StepCase *c = &step_cases[_i];
	g_autoptr(CtiRouteDb) rw = open_fixture_db();
	g_autoptr(CtiRouteDb) db = route_open(db_path, FALSE, NULL);
	g_autoptr(CtiRequest) req = request_for(c->destination);
	g_autoptr(RouteStepResult) r = NULL;
	g_autoptr(GError) error = NULL;
	CtiRelayPolicy policy = {"gw-a", 3, c->no_route, DATE};
	RouteStepInput in = {req, c->recipient, c->hops};

	ck_assert_ptr_nonnull(db);
	r = route_step_run(db, &in, &policy, &error);
	check_step_result(c, r, error);
}
END_TEST

/* ---- the default route of the DB beats the configured default ---- */

START_TEST(test_db_default_route)
{
	g_autoptr(CtiRouteDb) db = open_fixture_db();
	g_autoptr(CtiRequest) req = request_for("0312345678");
	g_autoptr(RouteStepResult) r = NULL;
	g_autoptr(GError) error = NULL;
	CtiRelayPolicy policy = {"gw-a", 8, CTI_RELAY_DEFAULT_REFUSE, DATE};
	RouteStepInput in = {req, "call@pbx.example", NULL};

	add_route(db, "default", "gw-b");
	r = route_step_run(db, &in, &policy, &error);
	ck_assert_msg(r != NULL, "%s", error ? error->message : "?");
	ck_assert_int_eq(r->action, CTI_RELAY_FORWARD);
	ck_assert_str_eq(r->gateway, "gw-b");
	ck_assert_str_eq(r->looked_up, "0312345678");
}
END_TEST

/* ---- a gateway whose address is the recipient itself: 451, not a silent local delivery ---- */

START_TEST(test_relay_to_self_address)
{
	g_autoptr(CtiRouteDb) db = open_fixture_db();
	g_autoptr(CtiRequest) req = request_for("0612345678");
	g_autoptr(RouteStepResult) r = NULL;
	g_autoptr(GError) error = NULL;
	CtiRelayPolicy policy = {"gw-a", 8, CTI_RELAY_DEFAULT_LOCAL, DATE};
	RouteStepInput in = {req, "Call@GW-B.example", NULL};

	r = route_step_run(db, &in, &policy, &error);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(error->code, FILTER_ERROR_ROUTE_TEMP);
	ck_assert_msg(strstr(error->message, "gateway gw-b"), "%s", error->message);
}
END_TEST

/* ---- no routes DB at all: the configured default ---- */

START_TEST(test_no_db)
{
	g_autoptr(CtiRequest) req = request_for("0612345678");
	g_autoptr(RouteStepResult) r = NULL;
	g_autoptr(GError) error = NULL;
	CtiRelayPolicy policy = {"gw-a", 8, CTI_RELAY_DEFAULT_LOCAL, DATE};
	RouteStepInput in = {req, "call@pbx.example", NULL};

	r = route_step_run(NULL, &in, &policy, &error);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->action, CTI_RELAY_LOCAL);
	g_clear_pointer(&r, route_step_result_free);
	policy.no_route = CTI_RELAY_DEFAULT_REFUSE;
	r = route_step_run(NULL, &in, &policy, &error);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(error->code, FILTER_ERROR_NO_ROUTE);
}
END_TEST

/* ---- RouteStep: a missing DB, then one that appears and changes, no restart ---- */

static CtiConfig *router_config(const char *default_route)
{
	g_autoptr(GError) error = NULL;
	CtiConfig *config = config_load(NULL, &error);

	ck_assert_ptr_nonnull(config);
	g_free(config->routes_db);
	config->routes_db = g_strdup(db_path);
	g_free(config->gateway_name);
	config->gateway_name = g_strdup("gw-a");
	g_free(config->default_route);
	config->default_route = g_strdup(default_route);
	return config;
}

static RouteStepResult *decide(RouteStep *rs, const char *destination, GError **error)
{
	g_autoptr(CtiRequest) req = request_for(destination);
	RouteStepInput in = {req, "call@pbx.example", NULL};

	return route_step_decide(rs, &in, error);
}

START_TEST(test_router_sees_changes)
{
	g_autoptr(CtiConfig) config = router_config("local");
	g_autoptr(RouteStep) rs = route_step_new(config, NULL);
	g_autoptr(RouteStepResult) r = NULL;
	g_autoptr(CtiRouteDb) rw = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *now = route_step_date(g_get_real_time() / G_USEC_PER_SEC);

	ck_assert_ptr_nonnull(rs);
	r = decide(rs, "0612345678", &error); /* no DB file yet */
	ck_assert_msg(r != NULL, "%s", error ? error->message : "?");
	ck_assert_int_eq(r->action, CTI_RELAY_LOCAL);
	g_clear_pointer(&r, route_step_result_free);

	rw = open_fixture_db(); /* the operator creates it: used at once */
	r = decide(rs, "0612345678", &error);
	ck_assert_msg(r != NULL, "%s", error ? error->message : "?");
	ck_assert_int_eq(r->action, CTI_RELAY_FORWARD);
	ck_assert_msg(g_str_has_prefix(r->hop_header, "gw-a; "), "%s", r->hop_header);
	/* stamped now (the same day at least) */
	ck_assert_msg(strncmp(r->hop_header + 6, now, 16) == 0, "%s vs %s", r->hop_header, now);
	g_clear_pointer(&r, route_step_result_free);

	add_route(rw, "06", "local"); /* and changes it: seen at the next mail */
	r = decide(rs, "0612345678", &error);
	ck_assert_msg(r != NULL, "%s", error ? error->message : "?");
	ck_assert_int_eq(r->action, CTI_RELAY_LOCAL);
}
END_TEST

START_TEST(test_router_bad_config)
{
	g_autoptr(CtiConfig) config = router_config("sometimes");
	g_autoptr(GError) error = NULL;
	RouteStep *rs = route_step_new(config, &error);

	ck_assert_ptr_null(rs);
	ck_assert_msg(strstr(error->message, "default_route"), "%s", error->message);
}
END_TEST

/* ---- the SMTP answers of the refusals ---- */

typedef struct {
	int code;
	ReplyKind kind;
	const char *rcode;
	const char *xcode;
	gboolean shows_message;
} ReplyCase;

static const ReplyCase reply_cases[] = {
    {FILTER_ERROR_ROUTE_LOOP, REPLY_REJECT, "550", "5.4.6", TRUE},
    {FILTER_ERROR_NO_ROUTE, REPLY_REJECT, "550", "5.4.4", TRUE},
    {FILTER_ERROR_ROUTE_TEMP, REPLY_TEMPFAIL, "451", "4.3.5", FALSE},
};

START_TEST(test_reply)
{
	const ReplyCase *c = &reply_cases[_i];
	g_autoptr(GError) error = g_error_new_literal(FILTER_ERROR, c->code, "routing loop: x");
	g_autoptr(FilterReply) reply = reply_from_error(error);

	ck_assert_int_eq(reply->kind, c->kind);
	ck_assert_str_eq(reply->rcode, c->rcode);
	ck_assert_str_eq(reply->xcode, c->xcode);
	ck_assert_int_eq(strstr(reply->text, "routing loop: x") != NULL, c->shows_message);
}
END_TEST

/* ---- route_step_date ---- */

static const struct {
	gint64 t;
	const char *want;
} date_cases[] = {
    {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
    {1795608000, "Wed, 25 Nov 2026 12:00:00 +0000"},
    {951782400, "Tue, 29 Feb 2000 00:00:00 +0000"},
    {1709164799, "Wed, 28 Feb 2024 23:59:59 +0000"},
};

START_TEST(test_date)
{
	g_autofree char *got = route_step_date(date_cases[_i].t);

	ck_assert_str_eq(got, date_cases[_i].want);
}
END_TEST

/* ---- a whole message through filter.c with a router ---- */

static const char request_body[] =
    "--b1\r\nContent-Type: text/plain\r\n\r\nCall.\r\n--b1\r\nContent-Type: "
    "application/x-cti\r\n\r\nSource: 2001\r\nDestination: 0612345678\r\n--b1--\r\n";

/* run one request mail with HOPS through a FilterMsg routed by RS; ctid does
 * not exist, so a SUBMIT would fail with FILTER_ERROR_TEMP */
static gboolean filter_run_from(CtiConfig *config, RouteStep *rs, AuthzStep *as,
                                const char *client_addr, const char *const *hops,
                                FilterOutcome *outcome, GError **error)
{
	g_autoptr(FilterMsg) msg = filter_msg_new(config);

	filter_msg_set_router(msg, rs);
	filter_msg_set_authz(msg, as);
	filter_msg_envelope(msg, "<alice@pbx.example>", "alice", client_addr);
	filter_msg_recipient(msg, "<call@pbx.example>");
	for (guint i = 0; hops && hops[i]; i++)
		filter_msg_header(msg, "X-CTI-Hop", hops[i]);
	filter_msg_header(msg, "Message-ID", " <r1@pbx.example>");
	filter_msg_header(msg, "Content-Type", " multipart/mixed; boundary=\"b1\"");
	ck_assert_int_eq(filter_msg_eoh(msg, NULL), FILTER_EOH_CONTINUE);
	filter_msg_body(msg, request_body, sizeof request_body - 1);
	return filter_msg_eom(msg, outcome, error);
}

static gboolean filter_run(CtiConfig *config, RouteStep *rs, const char *const *hops,
                           FilterOutcome *outcome, GError **error)
{
	return filter_run_from(config, rs, NULL, "127.0.0.1", hops, outcome, error);
}

static CtiConfig *filter_config(void)
{
	CtiConfig *config = router_config("local");

	g_free(config->tmp_dir);
	config->tmp_dir = g_strdup(tmp_dir);
	g_free(config->ctid_socket);
	config->ctid_socket = g_build_filename(tmp_dir, "no-ctid.sock", NULL);
	config->ctid_timeout_ms = 500;
	return config;
}

START_TEST(test_filter_relays_without_submit)
{
	g_autoptr(CtiConfig) config = filter_config();
	g_autoptr(RouteStep) rs = route_step_new(config, NULL);
	g_autoptr(CtiRouteDb) rw = open_fixture_db();
	g_autoptr(GError) error = NULL;
	static const char *const hops[] = {" gw-x; " DATE, NULL};
	FilterOutcome outcome;

	ck_assert_msg(filter_run(config, rs, hops, &outcome, &error), "%s",
	              error ? error->message : "?");
	ck_assert_ptr_nonnull(outcome.route);
	ck_assert_int_eq(outcome.route->action, CTI_RELAY_FORWARD);
	ck_assert_str_eq(outcome.route->del_rcpt, "<call@pbx.example>");
	ck_assert_str_eq(outcome.route->add_rcpt, "<call@gw-b.example>");
	ck_assert(!outcome.is_request);
	ck_assert_ptr_null(outcome.job_id);
	filter_outcome_clear(&outcome);
}
END_TEST

START_TEST(test_filter_loop_rejected)
{
	g_autoptr(CtiConfig) config = filter_config();
	g_autoptr(RouteStep) rs = route_step_new(config, NULL);
	g_autoptr(CtiRouteDb) rw = open_fixture_db();
	g_autoptr(GError) error = NULL;
	g_autoptr(FilterReply) reply = NULL;
	static const char *const hops[] = {" gw-b; " DATE, NULL};
	FilterOutcome outcome;

	ck_assert(!filter_run(config, rs, hops, &outcome, &error));
	filter_outcome_clear(&outcome);
	reply = reply_from_error(error);
	ck_assert_int_eq(reply->kind, REPLY_REJECT);
	ck_assert_str_eq(reply->xcode, "5.4.6");
	ck_assert_msg(strstr(reply->text, "gateway gw-b"), "%s", reply->text);
}
END_TEST

START_TEST(test_filter_local_submits)
{
	g_autoptr(CtiConfig) config = filter_config();
	g_autoptr(RouteStep) rs = route_step_new(config, NULL);
	g_autoptr(CtiRouteDb) rw = open_fixture_db();
	g_autoptr(GError) error = NULL;
	FilterOutcome outcome;

	add_route(rw, "06", "local");
	/* executed here: the SUBMIT is tried, and fails for want of a ctid */
	ck_assert(!filter_run(config, rs, NULL, &outcome, &error));
	filter_outcome_clear(&outcome);
	ck_assert_int_eq(error->code, FILTER_ERROR_TEMP);
	ck_assert_msg(strstr(error->message, "no-ctid.sock"), "%s", error->message);
}
END_TEST

/* with the authorization step: a trace from a client that is no trusted relay is
 * removed from the mail but still stops a loop */
START_TEST(test_filter_untrusted_hop_loop)
{
	g_autoptr(CtiConfig) config = filter_config();
	g_autoptr(RouteStep) rs = route_step_new(config, NULL);
	g_autoptr(CtiRouteDb) rw = open_fixture_db();
	g_autoptr(CtiPolicyDb) policy = NULL;
	g_autoptr(AuthzStep) as = NULL;
	g_autoptr(GError) error = NULL;
	static const char *const hops[] = {" gw-b; " DATE, NULL};
	FilterOutcome outcome;

	g_free(config->policy_db);
	config->policy_db = g_build_filename(tmp_dir, "policy.db", NULL);
	policy = policy_open_config(config, TRUE, &error);
	ck_assert_msg(policy != NULL, "%s", error ? error->message : "?");
	ck_assert(policy_sender_add(policy, "alice", NULL, &error));
	ck_assert(policy_grant(policy, "alice", CTI_GRANT_EXTENSION, "2001", &error));
	as = authz_step_new(config, &error);
	ck_assert_msg(as != NULL, "%s", error ? error->message : "?");

	ck_assert(!filter_run_from(config, rs, as, "192.0.2.1", hops, &outcome, &error));
	ck_assert_uint_eq(outcome.remove_hop_headers, 1);
	filter_outcome_clear(&outcome);
	ck_assert_int_eq(error->code, FILTER_ERROR_ROUTE_LOOP);
	g_clear_error(&error);
	/* without the trace the same request is relayed */
	ck_assert_msg(filter_run_from(config, rs, as, "192.0.2.1", NULL, &outcome, &error), "%s",
	              error ? error->message : "?");
	ck_assert_int_eq(outcome.route->action, CTI_RELAY_FORWARD);
	ck_assert_str_eq(outcome.identity, "alice");
	filter_outcome_clear(&outcome);
}
END_TEST

/* ---- the suite ---- */

static void add_case(Suite *s, const char *name, const TTest *test, int n)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	if (n > 0)
		tcase_add_loop_test(tc, test, 0, n);
	else
		tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

static Suite *route_step_suite(void)
{
	Suite *s = suite_create("route_step");

	add_case(s, "route_step_run", test_run_table, G_N_ELEMENTS(step_cases));
	add_case(s, "db_default_route", test_db_default_route, 0);
	add_case(s, "relay_to_self_address", test_relay_to_self_address, 0);
	add_case(s, "no_db", test_no_db, 0);
	add_case(s, "route_step_decide", test_router_sees_changes, 0);
	add_case(s, "route_step_new", test_router_bad_config, 0);
	add_case(s, "reply", test_reply, G_N_ELEMENTS(reply_cases));
	add_case(s, "route_step_date", test_date, G_N_ELEMENTS(date_cases));
	add_case(s, "filter_relay", test_filter_relays_without_submit, 0);
	add_case(s, "filter_loop", test_filter_loop_rejected, 0);
	add_case(s, "filter_local", test_filter_local_submits, 0);
	add_case(s, "filter_untrusted_hop", test_filter_untrusted_hop_loop, 0);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(route_step_suite());
	int failed;

	g_mime_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
