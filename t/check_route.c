/* check_route - unit tests of the routing DB (route.c, route-admin.c,
 * route-csv.c, route-schema.c) and the relay decision (relay.c).
 *
 * Every test works on a fresh DB in its own temporary directory, removed at
 * teardown.  Tables of cases drive the parsing, longest-prefix and relay tests.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "route.h"

static char *tmp_dir;
static char *db_path;

static void setup(void)
{
	tmp_dir = g_dir_make_tmp("check-route-XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmp_dir);
	db_path = g_build_filename(tmp_dir, "routes.db", NULL);
}

static void teardown(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", ".csv"};

	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *f = g_strconcat(db_path, suffixes[i], NULL);
		g_unlink(f);
	}
	g_rmdir(tmp_dir);
	g_clear_pointer(&db_path, g_free);
	g_clear_pointer(&tmp_dir, g_free);
}

static CtiRouteDb *open_rw(void)
{
	g_autoptr(GError) error = NULL;
	CtiRouteDb *db = route_open(db_path, TRUE, &error);

	ck_assert_msg(db != NULL, "route_open: %s", error ? error->message : "?");
	return db;
}

static void add_ok(CtiRouteDb *db, const char *dest, const char *gateway)
{
	g_autoptr(GError) error = NULL;

	ck_assert_msg(route_add(db, dest, gateway, NULL, &error), "route_add %s: %s", dest,
	              error ? error->message : "?");
}

/* ---- the embedded schema is the text of schema/routes-001.sql ---- */

extern const char *const route_schema[];

START_TEST(test_schema_matches_file)
{
	g_autofree char *path = g_build_filename(SRCDIR, "..", "schema", "routes-001.sql", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRouteDb) db = NULL;

	ck_assert_msg(g_file_get_contents(path, &text, NULL, &error), "%s",
	              error ? error->message : "");
	ck_assert_str_eq(route_schema[0], text);
	db = open_rw();
	ck_assert_int_eq(route_schema_version(db), 1);
}
END_TEST

/* ---- route_parse_destination ---- */

typedef struct {
	const char *text;
	const char *intl;
	gboolean ok;
	CtiRouteKind kind;
	const char *key; /* canonical key, or a fragment of the error */
} ParseCase;

static const ParseCase parse_cases[] = {
    {"+49 (30) 123-45.67/8", NULL, TRUE, CTI_ROUTE_PREFIX, "+493012345678"},
    {"+49 30", "00", TRUE, CTI_ROUTE_PREFIX, "004930"},
    {"0049 30", "00", TRUE, CTI_ROUTE_PREFIX, "004930"},
    {"030", NULL, TRUE, CTI_ROUTE_PREFIX, "030"},
    {"", NULL, TRUE, CTI_ROUTE_PREFIX, ""},
    {"  ", NULL, TRUE, CTI_ROUTE_PREFIX, ""},
    {"Default", NULL, TRUE, CTI_ROUTE_PREFIX, ""},
    {"+", NULL, TRUE, CTI_ROUTE_PREFIX, "+"},
    {"@Example.COM", NULL, TRUE, CTI_ROUTE_DOMAIN, "example.com"},
    {"Bob@Example.com", NULL, TRUE, CTI_ROUTE_ADDRESS, "bob@example.com"},
    {"12a4", NULL, FALSE, 0, "invalid character 'a' at position 3"},
    {"4+9", NULL, FALSE, 0, "invalid character '+' at position 2"},
    {"123456789012345678901", NULL, FALSE, 0, "21 digits"},
    {"1\n2", NULL, FALSE, 0, "\\n at position 2"},
    {"@bad_domain", NULL, FALSE, 0, "bad domain"},
    {"@", NULL, FALSE, 0, "bad domain"},
    {"a b@example.com", NULL, FALSE, 0, "position 2"},
    {"@x..y", NULL, FALSE, 0, "bad domain"},
};

START_TEST(test_parse_destination)
{
	const ParseCase *c = &parse_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autofree char *key = NULL;
	CtiRouteKind kind = CTI_ROUTE_PREFIX;
	gboolean ok = route_parse_destination(c->text, c->intl, &kind, &key, &error);

	ck_assert_msg(ok == c->ok, "case %d '%s': %s", _i, c->text, error ? error->message : "ok");
	if (ok) {
		ck_assert_int_eq(kind, c->kind);
		ck_assert_str_eq(key, c->key);
	} else {
		ck_assert_msg(strstr(error->message, c->key), "case %d: '%s' lacks '%s'", _i,
		              error->message, c->key);
		ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID));
	}
}
END_TEST

/* ---- longest prefix match ---- */

typedef struct {
	const char *number;
	const char *winner; /* key of the winning row, NULL: no route */
	const char *gateway;
	guint n_matches;
} PrefixCase;

/* table: "" -> local, 49 -> gw-a, 4930 -> gw-b, 493012 -> local,
 *        +49 -> gw-b, + -> gw-a, 0049 -> gw-a */
static const PrefixCase prefix_cases[] = {
    {"4930123456", "493012", "local", 4},
    {"4930 99", "4930", "gw-b", 3},
    {"4931", "49", "gw-a", 2},
    {"49", "49", "gw-a", 2},
    {"4", "", "local", 1},
    {"12345", "", "local", 1},
    {"+4930123", "+49", "gw-b", 3}, /* '+' only matches '+' prefixes */
    {"+33 1 23", "+", "gw-a", 2},
    {"0049 30 1", "0049", "gw-a", 2}, /* without intl, 0049 is not +49 */
    {"12345678901234567890", "", "local", 1},
};

static void fill_prefix_table(CtiRouteDb *db)
{
	g_autoptr(GError) error = NULL;

	ck_assert(route_gateway_add(db, "gw-a", "call@gw-a.example", "A", &error));
	ck_assert(route_gateway_add(db, "GW-B", "call@gw-b.example", NULL, &error));
	add_ok(db, "", "local");
	add_ok(db, "49", "gw-a");
	add_ok(db, "49 30", "gw-b");
	add_ok(db, "49-30-12", "local");
	add_ok(db, "+49", "gw-b");
	add_ok(db, "+", "gw-a");
	add_ok(db, "0049", "gw-a");
}

START_TEST(test_longest_prefix)
{
	const PrefixCase *c = &prefix_cases[_i];
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(CtiRouteResult) r = NULL;
	g_autoptr(CtiRouteResult) fast = NULL;
	g_autoptr(GError) error = NULL;

	fill_prefix_table(db);
	fast = route_lookup(db, c->number, &error);
	ck_assert_msg(fast != NULL, "lookup %s: %s", c->number, error ? error->message : "?");
	ck_assert_str_eq(fast->winner->key, c->winner);
	ck_assert_uint_eq(fast->matches->len, 1);
	ck_assert_uint_eq(fast->tried->len, strlen(fast->query) - strlen(c->winner) + 1);
	r = route_explain(db, c->number, &error);
	ck_assert_msg(r != NULL, "explain %s: %s", c->number, error ? error->message : "?");
	ck_assert_ptr_nonnull(r->winner);
	ck_assert_msg(strcmp(r->winner->key, c->winner) == 0, "case %d %s: won by '%s', not '%s'",
	              _i, c->number, r->winner->key, c->winner);
	ck_assert_str_eq(r->winner->gateway, c->gateway);
	ck_assert_uint_eq(r->matches->len, c->n_matches);
	ck_assert_uint_eq(r->tried->len, strlen(r->query) + 1);
	if (strcmp(c->gateway, "local") == 0)
		ck_assert_ptr_null(r->winner->address);
	else
		ck_assert_str_eq(r->winner->address, strcmp(c->gateway, "gw-a") == 0
		                                         ? "call@gw-a.example"
		                                         : "call@gw-b.example");
}
END_TEST

START_TEST(test_international_prefix)
{
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(CtiRouteResult) a = NULL;
	g_autoptr(CtiRouteResult) b = NULL;
	g_autoptr(GError) error = NULL;

	route_set_international_prefix(db, "00");
	fill_prefix_table(db); /* "+49" is stored as "0049": the same row as "0049" */
	a = route_lookup(db, "+49 89 1", &error);
	b = route_lookup(db, "0049891", &error);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a->query, "0049891");
	ck_assert_str_eq(a->winner->key, "0049");
	ck_assert_str_eq(b->winner->key, "0049");
	/* the later add of the same canonical key replaced the earlier one: a tie */
	ck_assert_str_eq(a->winner->gateway, "gw-a");
}
END_TEST

START_TEST(test_no_route_and_errors)
{
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(CtiRouteResult) r = NULL;
	g_autoptr(GError) error = NULL;

	add_ok(db, "030", "local");
	r = route_lookup(db, "040123", &error);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(r->winner);
	ck_assert_uint_eq(r->matches->len, 0);
	ck_assert_ptr_nonnull(strstr(r->why, "no route"));
	ck_assert_ptr_null(route_lookup(db, "030-12x", &error));
	ck_assert_int_eq(error->code, CTI_ROUTE_ERROR_INVALID);
	ck_assert_ptr_nonnull(strstr(error->message, "'x' at position 7"));
	g_clear_error(&error);
	ck_assert_ptr_null(route_lookup(db, "", &error));
	g_clear_error(&error);
	ck_assert_ptr_null(route_lookup(db, "@example.com", &error));
}
END_TEST

/* ---- addresses and domains ---- */

typedef struct {
	const char *address;
	const char *winner; /* display key */
	CtiRouteKind kind;
} AddressCase;

static const AddressCase address_cases[] = {
    {"bob@example.com", "bob@example.com", CTI_ROUTE_ADDRESS},
    {"BOB@Example.Com", "bob@example.com", CTI_ROUTE_ADDRESS},
    {"alice@example.com", "example.com", CTI_ROUTE_DOMAIN},
    {"alice@sub.example.com", "", CTI_ROUTE_PREFIX}, /* exact domains only */
    {"carol@other.org", "", CTI_ROUTE_PREFIX},
};

START_TEST(test_address_lookup)
{
	const AddressCase *c = &address_cases[_i];
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(CtiRouteResult) r = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(route_gateway_add(db, "gw-b", "call@gw-b.example", NULL, &error));
	add_ok(db, "@example.com", "gw-b");
	add_ok(db, "bob@example.com", "local");
	add_ok(db, "", "local");
	r = route_lookup(db, c->address, &error);
	ck_assert_msg(r != NULL, "%s", error ? error->message : "?");
	ck_assert_int_eq(r->kind, CTI_ROUTE_ADDRESS);
	ck_assert_ptr_nonnull(r->winner);
	ck_assert_str_eq(r->winner->key, c->winner);
	ck_assert_int_eq(r->winner->kind, c->kind);
	ck_assert_uint_eq(r->tried->len, 3);
}
END_TEST

/* ---- writes: gateways, read-only handles, and a reader seeing changes ---- */

START_TEST(test_gateway_rules)
{
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(GPtrArray) gws = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(!route_add(db, "030", "gw-x", NULL, &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND));
	g_clear_error(&error);
	ck_assert(!route_gateway_add(db, "local", "call@x.example", NULL, &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID));
	g_clear_error(&error);
	ck_assert(!route_gateway_add(db, "gw x", "call@x.example", NULL, &error));
	g_clear_error(&error);
	ck_assert(!route_gateway_add(db, "gw-x", "not-an-address", NULL, &error));
	g_clear_error(&error);
	ck_assert(route_gateway_add(db, "gw-x", "call@x.example", "first", &error));
	ck_assert(route_gateway_add(db, "gw-x", "cti@x.example", "moved", &error));
	add_ok(db, "030", "GW-X");
	ck_assert(!route_gateway_del(db, "gw-x", &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_IN_USE));
	g_clear_error(&error);
	gws = route_gateway_list(db, &error);
	ck_assert_uint_eq(gws->len, 1);
	ck_assert_str_eq(((CtiGateway *)gws->pdata[0])->address, "cti@x.example");
	ck_assert(route_del(db, "0 3 0", &error));
	ck_assert(!route_del(db, "030", &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND));
	g_clear_error(&error);
	ck_assert(route_gateway_del(db, "gw-x", &error));
	ck_assert(!route_gateway_del(db, "gw-x", &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND));
	g_clear_error(&error);
	ck_assert(!route_add(db, "030", "local", "bad\nnote", &error));
	g_clear_error(&error);
	ck_assert(!route_add(db, "030", "local", "bad \xff note", &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_INVALID));
}
END_TEST

START_TEST(test_open_missing)
{
	g_autoptr(GError) error = NULL;

	ck_assert_ptr_null(route_open(db_path, FALSE, &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_NOT_FOUND));
	ck_assert(!g_file_test(db_path, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST(test_readonly_sees_changes)
{
	g_autoptr(CtiRouteDb) rw = open_rw();
	g_autoptr(CtiRouteDb) ro = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiRouteResult) r1 = NULL;
	g_autoptr(CtiRouteResult) r2 = NULL;
	g_autoptr(CtiRouteResult) r3 = NULL;

	ck_assert(route_gateway_add(rw, "gw-b", "call@gw-b.example", NULL, &error));
	add_ok(rw, "030", "local");
	ro = route_open(db_path, FALSE, &error);
	ck_assert_msg(ro != NULL, "%s", error ? error->message : "?");
	r1 = route_lookup(ro, "0301234", &error);
	ck_assert_str_eq(r1->winner->gateway, "local");
	add_ok(rw, "030", "gw-b"); /* another connection commits */
	r2 = route_lookup(ro, "0301234", &error);
	ck_assert_str_eq(r2->winner->gateway, "gw-b");
	ck_assert(route_del(rw, "030", &error));
	r3 = route_lookup(ro, "0301234", &error);
	ck_assert_ptr_null(r3->winner);
	ck_assert(!route_add(ro, "040", "local", NULL, &error));
	ck_assert(g_error_matches(error, CTI_ROUTE_ERROR, CTI_ROUTE_ERROR_READONLY));
}
END_TEST

START_TEST(test_list_filters)
{
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) by_prefix = NULL;
	g_autoptr(GPtrArray) by_gw = NULL;
	g_autoptr(GError) error = NULL;

	fill_prefix_table(db);
	add_ok(db, "@example.com", "gw-a");
	all = route_list(db, NULL, NULL, &error);
	ck_assert_uint_eq(all->len, 8);
	ck_assert_str_eq(((CtiRoute *)all->pdata[7])->key, "example.com");
	by_prefix = route_list(db, "49", NULL, &error);
	ck_assert_uint_eq(by_prefix->len, 3);
	by_gw = route_list(db, NULL, "GW-A", &error);
	ck_assert_uint_eq(by_gw->len, 4);
	ck_assert_ptr_null(route_list(db, "4x", NULL, &error));
}
END_TEST

/* ---- CSV import and export ---- */

static const char good_csv[] = "# a comment\n"
                               "type,key,target,note,changed\n"
                               "route,+4930,gw-b,\"Berlin, \"\"all\"\"\",100\n"
                               "gateway,gw-b,call@gw-b.example,,50\r\n"
                               "\n"
                               "route,\"\",local,default\n"
                               "route,@example.com,gw-b,,\n";

START_TEST(test_import_export_roundtrip)
{
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	guint nr = 0, ng = 0;

	ck_assert_msg(route_import_csv(db, good_csv, strlen(good_csv), FALSE, &nr, &ng, &error),
	              "%s", error ? error->message : "");
	ck_assert_uint_eq(nr, 3);
	ck_assert_uint_eq(ng, 1);
	first = route_export_csv(db, &error);
	ck_assert_ptr_nonnull(strstr(first, "route,+4930,gw-b,\"Berlin, \"\"all\"\"\",100\n"));
	ck_assert_ptr_nonnull(strstr(first, "gateway,gw-b,call@gw-b.example,\"\",50\n"));
	/* into an empty DB: the same export */
	route_close(g_steal_pointer(&db));
	teardown();
	setup();
	db = open_rw();
	ck_assert(route_import_csv(db, first, strlen(first), FALSE, NULL, NULL, &error));
	second = route_export_csv(db, &error);
	ck_assert_str_eq(first, second);
}
END_TEST

typedef struct {
	const char *csv;
	const char *error; /* fragment of the message */
} BadCsvCase;

static const BadCsvCase bad_csv_cases[] = {
    {"route,030,local,,\nroute,0x0,local,,\n", "line 2: destination '0x0'"},
    {"gateway,gw-c,call@c.example,,\n\nroute,040,nosuch,,\n", "line 3: unknown gateway 'nosuch'"},
    {"route,030,local\n", "line 1: 3 fields"},
    {"# c\nroute,\"030,local,,\n", "line 2: unterminated quoted field"},
    {"route,030,local,,\nrule,030,local,,\n", "line 2: type 'rule'"},
    {"route,030,local,,yesterday\n", "line 1: changed"},
    {"gateway,local,call@x.example,,\n", "line 1: 'local' is reserved"},
};

START_TEST(test_import_bad_line_changes_nothing)
{
	const BadCsvCase *c = &bad_csv_cases[_i];
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(GError) error = NULL;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;

	ck_assert(route_import_csv(db, good_csv, strlen(good_csv), FALSE, NULL, NULL, &error));
	before = route_export_csv(db, &error);
	ck_assert(!route_import_csv(db, c->csv, strlen(c->csv), TRUE, NULL, NULL, &error));
	ck_assert_msg(strstr(error->message, c->error), "case %d: '%s' lacks '%s'", _i,
	              error->message, c->error);
	g_clear_error(&error);
	after = route_export_csv(db, &error);
	ck_assert_str_eq(before, after);
}
END_TEST

START_TEST(test_import_replace)
{
	g_autoptr(CtiRouteDb) db = open_rw();
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	static const char csv[] = "route,040,local,,\n";

	ck_assert(route_import_csv(db, good_csv, strlen(good_csv), FALSE, NULL, NULL, &error));
	ck_assert(route_import_csv(db, csv, strlen(csv), TRUE, NULL, NULL, &error));
	rows = route_list(db, NULL, NULL, &error);
	ck_assert_uint_eq(rows->len, 1);
	ck_assert_str_eq(((CtiRoute *)rows->pdata[0])->key, "040");
}
END_TEST

/* ---- relay decision ---- */

typedef struct {
	const char *name;
	const char *gateway; /* winner's gateway, NULL: no route */
	const char *address; /* the gateway's address */
	const char *hops[6];
	int max_hops;
	CtiRelayDefault no_route;
	CtiRelayAction action;
	const char *status;
	const char *text; /* fragment */
} RelayCase;

/* clang-format off */
static const RelayCase relay_cases[] = {
	{ "local route", "local", NULL, { NULL }, 8, CTI_RELAY_DEFAULT_REFUSE,
	  CTI_RELAY_LOCAL, "2.0.0", "served here" },
	{ "route to self by name", "gw-a", "call@gw-a.example", { NULL }, 8, CTI_RELAY_DEFAULT_REFUSE,
	  CTI_RELAY_LOCAL, "2.0.0", "served here" },
	{ "relay", "gw-b", "call@gw-b.example", { "gw-c; Tue, 24 Nov 2026 10:00:00 +0000", NULL }, 8,
	  CTI_RELAY_DEFAULT_REFUSE, CTI_RELAY_FORWARD, "2.0.0", "relayed 0301 to gateway gw-b" },
	{ "back at self", "local", NULL, { "gw-b; date", "GW-A ; date", NULL }, 8,
	  CTI_RELAY_DEFAULT_LOCAL, CTI_RELAY_REFUSE_LOOP, "5.4.6",
	  "already passed gateway gw-a (hop 2 of 2)" },
	{ "target already passed", "gw-b", "call@gw-b.example", { "gw-c; d", "gw-b; d", NULL }, 8,
	  CTI_RELAY_DEFAULT_LOCAL, CTI_RELAY_REFUSE_LOOP, "5.4.6",
	  "to gateway gw-b, which the request has already passed (hop 2)" },
	{ "too many hops arrived", "local", NULL, { "a; d", "b; d", "c; d", NULL }, 2,
	  CTI_RELAY_DEFAULT_LOCAL, CTI_RELAY_REFUSE_LOOP, "5.4.6", "too many hops (3, at most 2)" },
	{ "relay would exceed", "gw-b", "call@gw-b.example", { "a; d", "b; d", NULL }, 2,
	  CTI_RELAY_DEFAULT_LOCAL, CTI_RELAY_REFUSE_LOOP, "5.4.6", "would make 3 hops, at most 2" },
	{ "at the limit, local", "local", NULL, { "a; d", "b; d", NULL }, 2,
	  CTI_RELAY_DEFAULT_LOCAL, CTI_RELAY_LOCAL, "2.0.0", "served here" },
	{ "no route, refuse", NULL, NULL, { NULL }, 8, CTI_RELAY_DEFAULT_REFUSE,
	  CTI_RELAY_NO_ROUTE, "5.4.4", "no route to 0301" },
	{ "no route, default local", NULL, NULL, { NULL }, 8, CTI_RELAY_DEFAULT_LOCAL,
	  CTI_RELAY_LOCAL, "2.0.0", "default local" },
	{ "dangling gateway", "gw-z", NULL, { NULL }, 8, CTI_RELAY_DEFAULT_LOCAL,
	  CTI_RELAY_NO_ROUTE, "4.3.5", "no CTI address" },
	{ "malformed hops ignored", "gw-b", "call@gw-b.example", { "no semicolon", "; d", NULL }, 8,
	  CTI_RELAY_DEFAULT_LOCAL, CTI_RELAY_FORWARD, "2.0.0", "relayed" },
};
/* clang-format on */

START_TEST(test_relay_decide)
{
	const RelayCase *c = &relay_cases[_i];
	CtiRoute winner = {CTI_ROUTE_PREFIX,   (char *)"030", (char *)c->gateway,
	                   (char *)c->address, (char *)"",    0};
	CtiRouteResult result = {
	    CTI_ROUTE_PREFIX,    (char *)"0301", NULL, NULL, c->gateway ? &winner : NULL,
	    (char *)"test route"};
	CtiRelayPolicy policy = {"gw-a", c->max_hops, c->no_route,
	                         "Wed, 25 Nov 2026 12:00:00 +0000"};
	g_autoptr(CtiRelayDecision) d = relay_decide("0301", &result, c->hops, &policy);

	ck_assert_msg(d->action == c->action, "%s: %s (%s)", c->name, relay_action_name(d->action),
	              d->text);
	ck_assert_str_eq(d->status, c->status);
	ck_assert_msg(strstr(d->text, c->text), "%s: '%s' lacks '%s'", c->name, d->text, c->text);
	ck_assert_int_eq(d->temporary, c->status[0] == '4');
	if (d->action == CTI_RELAY_FORWARD) {
		ck_assert_str_eq(d->address, c->address);
		ck_assert_str_eq(d->gateway, c->gateway);
		ck_assert_str_eq(d->hop_value, "gw-a; Wed, 25 Nov 2026 12:00:00 +0000");
	} else {
		ck_assert_ptr_null(d->hop_value);
	}
}
END_TEST

START_TEST(test_relay_no_result)
{
	CtiRelayPolicy policy = {"gw-a", 0, CTI_RELAY_DEFAULT_REFUSE, "date"};
	g_autoptr(CtiRelayDecision) d = relay_decide("x@example.com", NULL, NULL, &policy);
	CtiRelayDefault def;

	ck_assert_int_eq(d->action, CTI_RELAY_NO_ROUTE);
	relay_decision_free(g_steal_pointer(&d));
	d = relay_decide("x\r\nRCPT TO:<y>", NULL, NULL, &policy);
	ck_assert_ptr_null(strchr(d->text, '\r'));
	ck_assert_ptr_null(strchr(d->text, '\n'));
	ck_assert(relay_default_from_name("refuse", &def) && def == CTI_RELAY_DEFAULT_REFUSE);
	ck_assert(relay_default_from_name("local", &def) && def == CTI_RELAY_DEFAULT_LOCAL);
	ck_assert(!relay_default_from_name("Local", &def));
}
END_TEST

START_TEST(test_relay_policy_from_config)
{
	g_autoptr(CtiConfig) config = config_load(NULL, NULL);
	g_autoptr(GError) error = NULL;
	CtiRelayPolicy policy;

	ck_assert_ptr_nonnull(config);
	g_free(config->hostname);
	config->hostname = g_strdup("gw-host.example");
	ck_assert_msg(relay_policy_from_config(config, &policy, &error), "%s",
	              error ? error->message : "");
	ck_assert_str_eq(policy.self, "gw-host.example"); /* gateway_name empty: hostname */
	ck_assert_int_eq(policy.max_hops, 8);
	ck_assert_int_eq(policy.no_route, CTI_RELAY_DEFAULT_LOCAL);
	g_free(config->gateway_name);
	config->gateway_name = g_strdup("gw-a");
	g_free(config->default_route);
	config->default_route = g_strdup("refuse");
	ck_assert(relay_policy_from_config(config, &policy, &error));
	ck_assert_str_eq(policy.self, "gw-a");
	ck_assert_int_eq(policy.no_route, CTI_RELAY_DEFAULT_REFUSE);
	g_free(config->default_route);
	config->default_route = g_strdup("relay");
	ck_assert(!relay_policy_from_config(config, &policy, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "default_route"));
	g_clear_error(&error);
	g_free(config->default_route);
	config->default_route = g_strdup("local");
	g_free(config->international_prefix);
	config->international_prefix = g_strdup("+00");
	ck_assert(!relay_policy_from_config(config, &policy, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "international_prefix"));
	g_clear_error(&error);
	g_free(config->gateway_name);
	config->gateway_name = g_strdup("local");
	ck_assert(!relay_policy_from_config(config, &policy, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "gateway_name"));
}
END_TEST

typedef struct {
	const char *value;
	const char *gateway; /* NULL: malformed */
} HopCase;

static const HopCase hop_cases[] = {
    {"gw-a; Wed, 25 Nov 2026 12:00:00 +0000", "gw-a"},
    {"  GW.B_2 ;x", "gw.b_2"},
    {"gw-a", NULL},
    {"; date", NULL},
    {"gw a; date", NULL},
    {"g\rw; date", NULL},
};

START_TEST(test_relay_hop_gateway)
{
	g_autofree char *gw = relay_hop_gateway(hop_cases[_i].value);

	if (hop_cases[_i].gateway)
		ck_assert_str_eq(gw, hop_cases[_i].gateway);
	else
		ck_assert_ptr_null(gw);
}
END_TEST

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

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");

	add_case(s, "schema", test_schema_matches_file, 0);
	add_case(s, "parse_destination", test_parse_destination, G_N_ELEMENTS(parse_cases));
	add_case(s, "longest_prefix", test_longest_prefix, G_N_ELEMENTS(prefix_cases));
	add_case(s, "international_prefix", test_international_prefix, 0);
	add_case(s, "no_route", test_no_route_and_errors, 0);
	add_case(s, "address", test_address_lookup, G_N_ELEMENTS(address_cases));
	add_case(s, "gateways", test_gateway_rules, 0);
	add_case(s, "open_missing", test_open_missing, 0);
	add_case(s, "data_version", test_readonly_sees_changes, 0);
	add_case(s, "list", test_list_filters, 0);
	add_case(s, "csv_roundtrip", test_import_export_roundtrip, 0);
	add_case(s, "csv_bad_line", test_import_bad_line_changes_nothing,
	         G_N_ELEMENTS(bad_csv_cases));
	add_case(s, "csv_replace", test_import_replace, 0);
	add_case(s, "relay_decide", test_relay_decide, G_N_ELEMENTS(relay_cases));
	add_case(s, "relay_no_result", test_relay_no_result, 0);
	add_case(s, "relay_policy", test_relay_policy_from_config, 0);
	add_case(s, "relay_hop_gateway", test_relay_hop_gateway, G_N_ELEMENTS(hop_cases));
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(route_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
